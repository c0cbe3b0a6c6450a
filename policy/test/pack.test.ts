// Whole-pack behaviour without gRPC: the compliant baseline passes every mandatory policy and each
// insecure variant is rejected by the policy named in the variant.
import { join } from "node:path";
import { policies } from "../policies/all";
import { loadStack, parseStack } from "./fixtures/load";
import { variants } from "./fixtures/variants";
import { runAll } from "./harness";
import { scaleStack } from "./scale";

const baseline = loadStack(join(__dirname, "fixtures", "stacks", "handwritten.json"));

describe("wg-mesh-encryption pack over fixtures", () => {
  it("finds no violation and nothing unchecked in the compliant stack", async () => {
    const outcomes = await runAll(policies, baseline);
    const problems = [...outcomes].filter(([, o]) => o.violations.length > 0 || o.unchecked);
    expect(problems).toEqual([]);
  });

  it.each(variants.map((v) => [v.name, v] as const))("rejects the variant '%s' with the right policy", async (_name, variant) => {
    const outcomes = await runAll(policies, variant.apply(baseline));
    const hit = outcomes.get(variant.rejectedBy);
    expect(hit?.violations.length).toBeGreaterThan(0);
  });

  it("rejects malformed captured stacks with a message naming the field", () => {
    expect(() => parseStack([{ type: "x", name: "n", props: {} }], "stack.json")).toThrow(/stack\.json: resource 0\.urn/);
  });
});

describe("in-process evaluation time", () => {
  it("evaluates a 1,000-resource stack (time printed, not asserted)", async () => {
    const big = scaleStack(baseline, 1000);
    const t0 = performance.now();
    const outcomes = await runAll(policies, big);
    console.log(`1,000 resources in-process (all 11 policies): ${(performance.now() - t0).toFixed(0)} ms`);
    expect([...outcomes.values()].every((o) => o.violations.length === 0)).toBe(true);
  });
});
