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
    const s = baseline(); ciliumValues(s).bpf.hostLegacyRouting = false;
    expect((await run(s)).violations[0].message).toMatch(/values\.bpf\.hostLegacyRouting is false \(eBPF host routing\).*set it to true/);
  });

  it("rejects the chart default (unset: eBPF host routing on capable kernels)", async () => {
    const s = baseline(); delete ciliumValues(s).bpf;
    expect((await run(s)).violations[0].message).toContain("unset (default: eBPF host routing");
  });

  it("reads enable-host-legacy-routing from cilium-config", async () => {
    expect(await runResourcePolicy(policy, ciliumConfigMap(COMPLIANT_CM))).toEqual({ violations: [] });
    const off = await runResourcePolicy(policy, ciliumConfigMap({ ...COMPLIANT_CM, "enable-host-legacy-routing": "false" }));
    expect(off.violations[0].message).toContain('data["enable-host-legacy-routing"]');
  });

  it("reports an unknown value as unchecked", async () => {
    const s = baseline(); ciliumValues(s).bpf = UNKNOWN_SENTINEL;
    const out = await run(s);
    expect(out).toMatchObject({ violations: [], unchecked: expect.stringContaining("values.bpf.hostLegacyRouting") });
  });
});
