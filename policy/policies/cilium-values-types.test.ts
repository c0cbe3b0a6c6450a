import { baseline, ciliumValues, get } from "../test/baseline";
import { runResourcePolicy } from "../test/harness";
import { ciliumValuesTypes as policy } from "./cilium-values-types";

const run = (s = baseline()) => runResourcePolicy(policy, get(s, "cilium"));

describe("cilium-values-types (advisory)", () => {
  it("is advisory and passes booleans", async () => {
    expect(policy.enforcementLevel).toBe("advisory");
    expect(await run()).toEqual({ violations: [] });
  });

  it("reports a string or number where the chart expects a boolean, naming each", async () => {
    const s = baseline();
    ciliumValues(s).encryption.enabled = "false";
    ciliumValues(s).bpf.hostLegacyRouting = 1;
    const { violations } = await run(s);
    expect(violations).toHaveLength(1);
    expect(violations[0].message).toMatch(/values\.encryption\.enabled is "false" \(string\); values\.bpf\.hostLegacyRouting is 1 \(number\)/);
  });

  it("ignores other resources", async () => {
    expect(await runResourcePolicy(policy, get(baseline(), "node-router"))).toEqual({ violations: [] });
  });
});
