import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import { baseline, ciliumConfigMap, ciliumValues, COMPLIANT_CM, get } from "../test/baseline";
import { runResourcePolicy } from "../test/harness";
import { ciliumWireguardEncryption as policy } from "./cilium-wireguard-encryption";

const run = (stack = baseline()) => runResourcePolicy(policy, get(stack, "cilium"));

describe("cilium-wireguard-encryption", () => {
  it("passes the compliant Helm release", async () => {
    expect(await run()).toEqual({ violations: [] });
  });

  it("rejects encryption turned off, naming the release and the field", async () => {
    const s = baseline();
    ciliumValues(s).encryption.enabled = false;
    const { violations } = await run(s);
    expect(violations).toHaveLength(1);
    expect(violations[0].message).toMatch(/'cilium' \(urn:pulumi:.*\): values\.encryption\.enabled is false.*encryption\.type: wireguard/);
  });

  it("rejects a release without any encryption values (chart default off)", async () => {
    const s = baseline();
    delete ciliumValues(s).encryption;
    expect((await run(s)).violations[0].message).toContain("unset (default off)");
  });

  it("rejects IPsec", async () => {
    const s = baseline();
    ciliumValues(s).encryption.type = "ipsec";
    expect((await run(s)).violations[0].message).toMatch(/values\.encryption\.type is 'ipsec'/);
  });

  it("rejects enabled encryption without a type (chart default is ipsec)", async () => {
    const s = baseline();
    delete ciliumValues(s).encryption.type;
    expect((await run(s)).violations[0].message).toContain("chart default ipsec");
  });

  it("checks Helm v4 Chart components from an OCI reference", async () => {
    const s = baseline();
    const r = get(s, "cilium");
    r.type = "kubernetes:helm.sh/v4:Chart";
    r.props.chart = "oci://quay.io/cilium/charts/cilium";
    (r.props.values as { encryption: { type: string } }).encryption.type = "ipsec";
    expect((await runResourcePolicy(policy, r)).violations).toHaveLength(1);
  });

  it("ignores charts that are not Cilium", async () => {
    const s = baseline();
    const r = get(s, "cilium");
    r.props.chart = "ingress-nginx";
    ciliumValues(s).encryption.enabled = false;
    expect(await runResourcePolicy(policy, r)).toEqual({ violations: [] });
  });

  it("reads a rendered cilium-config ConfigMap", async () => {
    expect(await runResourcePolicy(policy, ciliumConfigMap(COMPLIANT_CM))).toEqual({ violations: [] });
    const ipsec = await runResourcePolicy(policy, ciliumConfigMap({ ...COMPLIANT_CM, "enable-wireguard": "false", "enable-ipsec": "true" }));
    expect(ipsec.violations.map((v) => v.message).join()).toContain('data["enable-ipsec"]');
    const off = await runResourcePolicy(policy, ciliumConfigMap({ "routing-mode": "native" }));
    expect(off.violations[0].message).toContain('data["enable-wireguard"]');
  });

  it("reports an unknown encryption type as unchecked, not as a violation", async () => {
    const s = baseline();
    ciliumValues(s).encryption.type = UNKNOWN_SENTINEL;
    const out = await run(s);
    expect(out.violations).toEqual([]);
    expect(out.unchecked).toMatch(/could not be checked because values\.encryption\.type of 'cilium'.*unknown at preview/);
  });

  it("still reports what is known when other values are unknown", async () => {
    const s = baseline();
    ciliumValues(s).encryption.enabled = false;
    ciliumValues(s).encryption.type = UNKNOWN_SENTINEL;
    const out = await run(s);
    expect(out.violations).toHaveLength(1);
    expect(out.unchecked).toBeUndefined(); // type is irrelevant once encryption is off
  });

  it("treats keys missing from values as unknown when valueYamlFiles may set them", async () => {
    const s = baseline();
    delete ciliumValues(s).encryption;
    get(s, "cilium").props.valueYamlFiles = [{ path: "values.yaml" }];
    const out = await run(s);
    expect(out.violations).toEqual([]);
    expect(out.unchecked).toContain("values.encryption.enabled");
  });
});

const resource = (type: string, name: string, props: Record<string, unknown>) => ({ type, name, urn: `urn:pulumi:dev::p::${type}::${name}`, props });

describe("cilium-wireguard-encryption: Helm's own reading of encryption.enabled", () => {
  const withEnabled = (v: unknown) => {
    const s = baseline();
    ciliumValues(s).encryption.enabled = v;
    return s;
  };

  it('accepts what Helm and Cilium read as true: true, "true", "True", "t", "1", 1', async () => {
    for (const v of [true, "true", "True", "t", "1", 1]) expect({ v, out: await run(withEnabled(v)) }).toEqual({ v, out: { violations: [] } });
  });

  it('rejects "false": the chart\'s `if` lets it in, then renders enable-wireguard: "false", so WireGuard stays off', async () => {
    const { violations } = await run(withEnabled("false"));
    expect(violations).toHaveLength(1);
    expect(violations[0].message).toContain(
      'values.encryption.enabled is "false" (a string: Helm\'s `if` reads it as true, and the chart renders it as text, which Cilium reads as false)',
    );
  });

  it('rejects 0, "" and text Cilium cannot parse; null removes the key (chart default: off)', async () => {
    for (const v of [0, "", "yes"]) expect({ v, n: (await run(withEnabled(v))).violations.length }).toEqual({ v, n: 1 });
    expect((await run(withEnabled(null))).violations[0].message).toContain("unset (default off)");
  });
});

describe("cilium-wireguard-encryption: overrides of what the values say", () => {
  it("rejects extraConfig and extraArgs that turn WireGuard off or pick IPsec, naming the override", async () => {
    const cfg = baseline();
    ciliumValues(cfg).extraConfig = { "enable-wireguard": "false" };
    expect((await run(cfg)).violations[0].message).toContain('values.extraConfig["enable-wireguard"] is false');
    const args = baseline();
    ciliumValues(args).extraArgs = ["--enable-wireguard=false"];
    expect((await run(args)).violations[0].message).toContain("values.extraArgs[0] is false");
    const bare = baseline();
    ciliumValues(bare).extraArgs = ["--enable-ipsec"];
    expect((await run(bare)).violations.map((v) => v.message).join()).toContain("values.extraArgs[0] is 'ipsec'");
    const harmless = baseline();
    ciliumValues(harmless).extraConfig = { "enable-wireguard": "true", debug: "true" };
    expect(await run(harmless)).toEqual({ violations: [] });
  });

  it("rejects a ConfigMapPatch of cilium-config that turns WireGuard off, and ignores one that leaves it alone", async () => {
    const patch = (data: Record<string, unknown>) =>
      resource("kubernetes:core/v1:ConfigMapPatch", "cilium-config-patch", { metadata: { name: "cilium-config", namespace: "kube-system" }, data });
    expect((await runResourcePolicy(policy, patch({ "enable-wireguard": "false" }))).violations[0].message).toContain('data["enable-wireguard"] is false');
    expect(await runResourcePolicy(policy, patch({ debug: "true" }))).toEqual({ violations: [] });
  });

  it("rejects a CiliumNodeConfig that turns WireGuard off for some nodes", async () => {
    const cnc = resource("kubernetes:cilium.io/v2:CiliumNodeConfig", "no-wg", {
      spec: { nodeSelector: { matchLabels: { pool: "gpu" } }, defaults: { "enable-wireguard": "false" } },
    });
    expect((await runResourcePolicy(policy, cnc)).violations[0].message).toMatch(/spec\.defaults\["enable-wireguard"\] is false for nodes matching .*gpu/);
  });

  it("rejects agent flags and CILIUM_* environment on the cilium DaemonSet or a patch of it", async () => {
    const ds = (container: Record<string, unknown>) =>
      resource("kubernetes:apps/v1:DaemonSetPatch", "cilium-patch", {
        metadata: { name: "cilium", namespace: "kube-system" },
        spec: { template: { spec: { containers: [{ name: "cilium-agent", ...container }] } } },
      });
    expect((await runResourcePolicy(policy, ds({ args: ["--config-dir=/tmp/cilium/config-map", "--enable-wireguard=false"] }))).violations).toHaveLength(1);
    expect((await runResourcePolicy(policy, ds({ env: [{ name: "CILIUM_ENABLE_WIREGUARD", value: "false" }] }))).violations[0].message).toContain(
      "CILIUM_ENABLE_WIREGUARD",
    );
    expect(await runResourcePolicy(policy, ds({ args: ["--config-dir=/tmp/cilium/config-map"] }))).toEqual({ violations: [] });
  });
});

describe("cilium-wireguard-encryption: the effective configuration (values files, extraEnv)", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { StringAsset, FileAsset } = (require("@pulumi/pulumi") as typeof import("@pulumi/pulumi")).asset;

  it("reads StringAsset values files under `values`: a file can turn WireGuard off, `values` win over files", async () => {
    const off = baseline();
    get(off, "cilium").props.valueYamlFiles = [new StringAsset('extraConfig:\n  enable-wireguard: "false"\n')];
    const { violations } = await run(off);
    expect(violations).toHaveLength(1);
    expect(violations[0].message).toMatch(/^'cilium' \(urn:.*\): valueYamlFiles\[0\] extraConfig\["enable-wireguard"\] is false/);
    const fileOff = baseline();
    get(fileOff, "cilium").props.valueYamlFiles = [new StringAsset("encryption:\n  enabled: false\n")];
    expect(await run(fileOff)).toEqual({ violations: [] }); // `values` set encryption.enabled: true over the file
  });

  it("passes the whole configuration moved into a values file, and judges what the file says", async () => {
    const s = baseline();
    const r = get(s, "cilium");
    r.props.valueYamlFiles = [new StringAsset(JSON.stringify(r.props.values))];
    r.props.values = {};
    expect(await run(s)).toEqual({ violations: [] });
    const ipsec = baseline();
    const ri = get(ipsec, "cilium");
    const v = structuredClone(ri.props.values) as any;
    v.encryption.type = "ipsec";
    ri.props.valueYamlFiles = [new StringAsset(JSON.stringify(v))];
    ri.props.values = {};
    expect((await run(ipsec)).violations[0].message).toContain("valueYamlFiles[0] encryption.type is 'ipsec'");
  });

  it("treats keys missing from readable values as unknown while a FileAsset may set them", async () => {
    const s = baseline();
    delete ciliumValues(s).encryption;
    get(s, "cilium").props.valueYamlFiles = [new FileAsset("./v.yaml")];
    expect(await run(s)).toMatchObject({ violations: [], unchecked: expect.stringContaining("values.encryption.enabled") });
  });

  it("rejects CILIUM_* in Helm extraEnv (the agent's environment beats cilium-config), and extraArgs beat extraEnv", async () => {
    const s = baseline();
    ciliumValues(s).extraEnv = [{ name: "CILIUM_ENABLE_WIREGUARD", value: "false" }];
    const { violations } = await run(s);
    expect(violations).toHaveLength(1);
    expect(violations[0].message).toContain("values.extraEnv[0] (CILIUM_ENABLE_WIREGUARD) is false");
    const flagWins = baseline();
    ciliumValues(flagWins).extraEnv = [{ name: "CILIUM_ENABLE_WIREGUARD", value: "false" }];
    ciliumValues(flagWins).extraArgs = ["--enable-wireguard=true"];
    expect(await run(flagWins)).toEqual({ violations: [] });
    const harmless = baseline();
    ciliumValues(harmless).extraEnv = [{ name: "GOMEMLIMIT", value: "500MiB" }];
    expect(await run(harmless)).toEqual({ violations: [] });
  });
});
