import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import { baseline, ciliumConfigMap, ciliumValues, COMPLIANT_CM, get } from "../test/baseline";
import { runResourcePolicy } from "../test/harness";
import { ciliumHostLegacyRouting as policy } from "./cilium-host-legacy-routing";

const run = (stack = baseline()) => runResourcePolicy(policy, get(stack, "cilium"));

describe("cilium-host-legacy-routing", () => {
  it("passes bpf.hostLegacyRouting: true", async () => {
    expect(await run()).toEqual({ violations: [] });
  });

  it("rejects eBPF host routing set explicitly", async () => {
    const s = baseline();
    ciliumValues(s).bpf.hostLegacyRouting = false;
    expect((await run(s)).violations[0].message).toMatch(/values\.bpf\.hostLegacyRouting is false \(eBPF host routing\).*set it to true/);
  });

  it("rejects the chart default (unset: eBPF host routing on capable kernels)", async () => {
    const s = baseline();
    delete ciliumValues(s).bpf;
    expect((await run(s)).violations[0].message).toContain("unset (default: eBPF host routing");
  });

  it("reads enable-host-legacy-routing from cilium-config", async () => {
    expect(await runResourcePolicy(policy, ciliumConfigMap(COMPLIANT_CM))).toEqual({ violations: [] });
    const off = await runResourcePolicy(policy, ciliumConfigMap({ ...COMPLIANT_CM, "enable-host-legacy-routing": "false" }));
    expect(off.violations[0].message).toContain('data["enable-host-legacy-routing"]');
  });

  it("reports an unknown value as unchecked", async () => {
    const s = baseline();
    ciliumValues(s).bpf = UNKNOWN_SENTINEL;
    const out = await run(s);
    expect(out).toMatchObject({ violations: [], unchecked: expect.stringContaining("values.bpf.hostLegacyRouting") });
  });
});

describe("cilium-host-legacy-routing: how Helm renders it, and overrides", () => {
  const resource = (type: string, name: string, props: Record<string, unknown>) => ({ type, name, urn: `urn:pulumi:dev::p::${type}::${name}`, props });

  it('reads the value as the chart renders it (| quote) and Cilium parses it: "false" is false, "true" is true', async () => {
    const off = baseline();
    ciliumValues(off).bpf.hostLegacyRouting = "false";
    expect((await run(off)).violations[0].message).toContain('"false" (a string');
    const on = baseline();
    ciliumValues(on).bpf.hostLegacyRouting = "true";
    expect(await run(on)).toEqual({ violations: [] });
  });

  it("rejects eBPF host routing turned back on by extraConfig or by a CiliumNodeConfig for some nodes", async () => {
    const cfg = baseline();
    ciliumValues(cfg).extraConfig = { "enable-host-legacy-routing": "false" };
    expect((await run(cfg)).violations[0].message).toContain('values.extraConfig["enable-host-legacy-routing"]');
    const cnc = resource("kubernetes:cilium.io/v2alpha1:CiliumNodeConfig", "fast-path", {
      spec: { nodeSelector: {}, defaults: { "enable-host-legacy-routing": "false" } },
    });
    expect((await runResourcePolicy(policy, cnc)).violations[0].message).toMatch(
      /spec\.defaults\["enable-host-legacy-routing"\] is false .*for nodes matching/,
    );
    const unrelated = resource("kubernetes:cilium.io/v2:CiliumNodeConfig", "mtu", { spec: { defaults: { mtu: "1400" } } });
    expect(await runResourcePolicy(policy, unrelated)).toEqual({ violations: [] });
  });
});
