import { baseline, ciliumConfigMap, ciliumValues, COMPLIANT_CM, get } from "../test/baseline";
import { runResourcePolicy } from "../test/harness";
import { ciliumNoXdpAcceleration as policy } from "./cilium-no-xdp-acceleration";

const run = (s = baseline()) => runResourcePolicy(policy, get(s, "cilium"));

describe("cilium-no-xdp-acceleration", () => {
  it('passes no acceleration, "disabled", and Geneve-dispatch DSR', async () => {
    expect(await run()).toEqual({ violations: [] });
    const off = baseline();
    ciliumValues(off).loadBalancer = { acceleration: "disabled" };
    expect(await run(off)).toEqual({ violations: [] });
    const dsr = baseline();
    ciliumValues(dsr).loadBalancer = { mode: "dsr", dsrDispatch: "geneve", acceleration: "disabled" };
    expect(await run(dsr)).toEqual({ violations: [] });
  });

  it("rejects native and best-effort XDP acceleration, naming the release and the field", async () => {
    for (const mode of ["native", "best-effort"]) {
      const s = baseline();
      ciliumValues(s).loadBalancer = { acceleration: mode };
      const { violations } = await run(s);
      expect(violations).toEqual([
        { message: expect.stringMatching(new RegExp(`^'cilium' \\(urn:.*\\): values\\.loadBalancer\\.acceleration is '${mode}'`)), urn: undefined },
      ]);
    }
  });

  it("reads every other road: extraConfig, cilium-config, a CiliumNodeConfig", async () => {
    const s = baseline();
    ciliumValues(s).extraConfig = { "bpf-lb-acceleration": "native" };
    expect((await run(s)).violations[0].message).toContain("values.extraConfig[\"bpf-lb-acceleration\"] is 'native'");
    expect((await runResourcePolicy(policy, ciliumConfigMap({ ...COMPLIANT_CM, "bpf-lb-acceleration": "best-effort" }))).violations).toHaveLength(1);
    const cnc = {
      type: "kubernetes:cilium.io/v2:CiliumNodeConfig",
      name: "xdp",
      urn: "urn:pulumi:dev::p::kubernetes:cilium.io/v2:CiliumNodeConfig::xdp",
      props: { spec: { nodeSelector: { matchLabels: { pool: "edge" } }, defaults: { "bpf-lb-acceleration": "native" } } },
    };
    expect((await runResourcePolicy(policy, cnc)).violations[0].message).toMatch(/for nodes matching .*edge/);
  });
});
