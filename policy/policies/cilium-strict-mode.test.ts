import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import { baseline, ciliumConfigMap, ciliumValues, COMPLIANT_CM, get } from "../test/baseline";
import { runStackPolicy } from "../test/harness";
import { ciliumStrictMode as policy } from "./cilium-strict-mode";

const messages = async (s = baseline(), config = {}) => (await runStackPolicy(policy, s, config)).violations.map((v) => v.message).join("\n");

describe("cilium-strict-mode (advisory)", () => {
  it("is advisory by default and passes the flat 1.17/1.18 keys", async () => {
    expect(policy.enforcementLevel).toBe("advisory");
    expect(await runStackPolicy(policy, baseline())).toEqual({ violations: [] });
  });

  it("passes the 1.19+ egress keys on 1.19 and 1.20 charts, and the flat keys on 1.19", async () => {
    for (const version of ["1.19.6", "1.20.0"]) {
      const s = baseline();
      get(s, "cilium").props.version = version;
      ciliumValues(s).encryption.strictMode = { egress: { enabled: true, cidr: "10.244.0.0/16", allowRemoteNodeIdentities: true } };
      expect({ version, out: await runStackPolicy(policy, s) }).toEqual({ version, out: { violations: [] } });
    }
    const flat = baseline();
    get(flat, "cilium").props.version = "1.19.6";
    expect(await runStackPolicy(policy, flat)).toEqual({ violations: [] });
  });

  it("rejects strict-mode keys the pinned chart line ignores: egress keys on 1.18, flat keys on 1.20", async () => {
    const egressOn118 = baseline();
    ciliumValues(egressOn118).encryption.strictMode = { egress: { enabled: true, cidr: "10.244.0.0/16" } };
    expect(await messages(egressOn118)).toMatch(/'cilium' .*values\.encryption\.strictMode\.enabled is unset, not true/);
    const flatOn120 = baseline();
    get(flatOn120, "cilium").props.version = "1.20.0";
    expect(await messages(flatOn120)).toMatch(/'cilium' .*values\.encryption\.strictMode\.egress\.enabled is unset, not true/);
  });

  it("rejects strict mode off", async () => {
    const s = baseline();
    ciliumValues(s).encryption.strictMode.enabled = false;
    expect(await messages(s)).toMatch(/values\.encryption\.strictMode\.enabled is false, not true/);
    const unset = baseline();
    delete ciliumValues(unset).encryption.strictMode;
    delete get(unset, "cilium").props.version;
    expect(await messages(unset)).toMatch(/values\.encryption\.strictMode\.egress\.enabled \(1\.19\+\) or .* is unset, not true/);
  });

  it("rejects a missing CIDR and a CIDR that misses the pod CIDR", async () => {
    const s = baseline();
    delete ciliumValues(s).encryption.strictMode.cidr;
    expect(await messages(s)).toContain("is unset; set it to the pod CIDR");
    const t = baseline();
    ciliumValues(t).encryption.strictMode.cidr = "10.244.0.0/17";
    expect(await messages(t)).toContain("'10.244.0.0/17' does not cover pod CIDR(s) 10.244.0.0/16");
  });

  it("reads cilium-config and configured pod CIDRs", async () => {
    const cm = ciliumConfigMap(COMPLIANT_CM);
    expect(await runStackPolicy(policy, [cm])).toEqual({ violations: [] });
    expect(await messages([cm], { podCidrs: ["10.245.0.0/16"] })).toContain("10.245.0.0/16");
  });

  it("reports unknown strict-mode values as unchecked", async () => {
    const s = baseline();
    ciliumValues(s).encryption.strictMode.enabled = UNKNOWN_SENTINEL;
    expect(await runStackPolicy(policy, s)).toMatchObject({ violations: [], unchecked: expect.stringContaining("strictMode") });
  });
});
