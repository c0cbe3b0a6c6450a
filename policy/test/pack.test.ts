// Whole-pack behaviour without gRPC, in every phase the CLI runs the pack (phases.ts): the
// compliant baseline draws no finding at all after `up`, and no mandatory one in any phase; each
// variant draws what it expects in each phase (expectations.ts).
import { join } from "node:path";
import { policies } from "../policies/all";
import { asFindings, compliantProblems, variantProblems } from "./expectations";
import { loadStack, parseStack } from "./fixtures/load";
import { variants } from "./fixtures/variants";
import { runAll } from "./harness";
import { asPhase, PHASES } from "./phases";
import { scaleStack } from "./scale";

const baseline = loadStack(join(__dirname, "fixtures", "stacks", "handwritten.json"));

describe("wg-mesh-encryption pack over fixtures", () => {
  it("finds no violation and nothing unchecked in the compliant stack after `up` and in a later preview", async () => {
    for (const phase of ["up", "later-preview"] as const) {
      const outcomes = await runAll(policies, asPhase(baseline, phase));
      expect({ phase, problems: [...outcomes].filter(([, o]) => o.violations.length > 0 || o.unchecked) }).toEqual({ phase, problems: [] });
    }
  });

  it("finds no mandatory violation in a first preview, and says what it could not check", async () => {
    const findings = asFindings(await runAll(policies, asPhase(baseline, "first-preview")), policies);
    expect(compliantProblems(findings)).toEqual([]);
    expect(findings.map((f) => f.policy)).toEqual(expect.arrayContaining(["wireguard-port-between-pools", "etcd-from-control-plane-only"]));
  });

  const cases = variants.flatMap((v) => PHASES.map((phase) => [v.name, phase, v] as const));
  it.each(cases)("variant '%s' in %s", async (_name, phase, variant) => {
    const stack = asPhase(baseline, phase, variant.apply);
    expect(variantProblems(variant, phase, asFindings(await runAll(policies, stack), policies))).toEqual([]);
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
    console.log(`1,000 resources in-process (all ${policies.length} policies): ${(performance.now() - t0).toFixed(0)} ms`);
    expect([...outcomes.values()].every((o) => o.violations.length === 0 && o.unchecked === undefined)).toBe(true);
  });
});
