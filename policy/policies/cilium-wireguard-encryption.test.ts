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
    const s = baseline(); ciliumValues(s).encryption.enabled = false;
    const { violations } = await run(s);
    expect(violations).toHaveLength(1);
    expect(violations[0].message).toMatch(/'cilium' \(urn:pulumi:.*\): values\.encryption\.enabled is false.*encryption\.type: wireguard/);
  });

  it("rejects a release without any encryption values (chart default off)", async () => {
    const s = baseline(); delete ciliumValues(s).encryption;
    expect((await run(s)).violations[0].message).toContain("unset (default off)");
  });

  it("rejects IPsec", async () => {
    const s = baseline(); ciliumValues(s).encryption.type = "ipsec";
    expect((await run(s)).violations[0].message).toMatch(/values\.encryption\.type is 'ipsec'/);
  });

  it("rejects enabled encryption without a type (chart default is ipsec)", async () => {
    const s = baseline(); delete ciliumValues(s).encryption.type;
    expect((await run(s)).violations[0].message).toContain("chart default ipsec");
  });

  it("checks Helm v4 Chart components from an OCI reference", async () => {
    const s = baseline(); const r = get(s, "cilium");
    r.type = "kubernetes:helm.sh/v4:Chart"; r.props.chart = "oci://quay.io/cilium/charts/cilium";
    (r.props.values as { encryption: { type: string } }).encryption.type = "ipsec";
    expect((await runResourcePolicy(policy, r)).violations).toHaveLength(1);
  });

  it("ignores charts that are not Cilium", async () => {
    const s = baseline(); const r = get(s, "cilium");
    r.props.chart = "ingress-nginx"; ciliumValues(s).encryption.enabled = false;
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
    const s = baseline(); ciliumValues(s).encryption.type = UNKNOWN_SENTINEL;
    const out = await run(s);
    expect(out.violations).toEqual([]);
    expect(out.unchecked).toMatch(/could not be checked because values\.encryption\.type of 'cilium'.*unknown at preview/);
  });

  it("still reports what is known when other values are unknown", async () => {
    const s = baseline(); ciliumValues(s).encryption.enabled = false; ciliumValues(s).encryption.type = UNKNOWN_SENTINEL;
    const out = await run(s);
    expect(out.violations).toHaveLength(1);
    expect(out.unchecked).toBeUndefined(); // type is irrelevant once encryption is off
  });

  it("treats keys missing from values as unknown when valueYamlFiles may set them", async () => {
    const s = baseline(); delete ciliumValues(s).encryption; get(s, "cilium").props.valueYamlFiles = [{ path: "values.yaml" }];
    const out = await run(s);
    expect(out.violations).toEqual([]);
    expect(out.unchecked).toContain("values.encryption.enabled");
  });
});
