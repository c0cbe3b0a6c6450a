import { applyPlanTo, diff, planSize } from "../../src/diff";
import type { KernelState, Route, Rule } from "../../src/model";

const rule = (priority: number, extra: Partial<Rule> = {}): Rule => ({ family: 4, priority, table: 51871, protocol: 211, ...extra });
const route = (dst: string, extra: Partial<Route> = {}): Route => ({ family: 4, table: 51871, dst, type: "unicast", metric: 100, protocol: 211, dev: "cilium_wg0", ...extra });

describe("diff", () => {
  const desired: KernelState = { rules: [rule(1030), rule(1040, { ipproto: "tcp", dport: { start: 6443, end: 6443 }, table: "main" })], routes: [route("198.18.0.1/32"), route("198.18.0.1/32", { type: "blackhole", metric: 10000, dev: undefined })] };

  it("adds everything to an empty kernel and nothing the second time", () => {
    const plan = diff(desired, { rules: [], routes: [] });
    expect(planSize(plan)).toBe(4);
    expect(plan.remove).toEqual({ rules: [], routes: [] });
    const after = applyPlanTo({ rules: [], routes: [] }, plan);
    expect(planSize(diff(desired, after))).toBe(0);
  });

  it("compares full identity: a changed selector or source is add + remove", () => {
    const current: KernelState = { rules: [rule(1030), rule(1040, { ipproto: "tcp", dport: { start: 6444, end: 6444 }, table: "main" })], routes: [...desired.routes] };
    const plan = diff(desired, current);
    expect(plan.add.rules).toEqual([desired.rules[1]]);
    expect(plan.remove.rules).toEqual([current.rules[1]]);
  });

  it("does not delete a route whose kernel slot an added route replaces", () => {
    const current: KernelState = { rules: desired.rules, routes: [route("198.18.0.1/32", { src: "198.51.100.9" }), desired.routes[1]] };
    const plan = diff(desired, current);
    expect(plan.add.routes).toEqual([desired.routes[0]]);
    expect(plan.remove.routes).toEqual([]);
  });

  it("removes stale owned items only when pruning", () => {
    const current: KernelState = { rules: [...desired.rules, rule(1099)], routes: [...desired.routes, route("198.18.0.2/32")] };
    expect(diff(desired, current).remove).toEqual({ rules: [rule(1099)], routes: [route("198.18.0.2/32")] });
    expect(diff(desired, current, { prune: false }).remove).toEqual({ rules: [], routes: [] });
  });

  it("treats the same rule in another family as a different rule", () => {
    const plan = diff({ rules: [rule(1030, { family: 6 })], routes: [] }, { rules: [rule(1030)], routes: [] });
    expect(plan.add.rules).toEqual([rule(1030, { family: 6 })]);
    expect(plan.remove.rules).toEqual([rule(1030)]);
  });
});
