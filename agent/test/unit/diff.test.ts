import { diff, planSize } from "../../src/diff";
import { applyPlanTo } from "../fixtures";
import type { KernelState, Route, Rule } from "../../src/model";

const rule = (priority: number, extra: Partial<Rule> = {}): Rule => ({ family: 4, priority, table: 51871, protocol: 211, ...extra });
const route = (dst: string, extra: Partial<Route> = {}): Route => ({
  family: 4,
  table: 51871,
  dst,
  type: "unicast",
  metric: 100,
  protocol: 211,
  dev: "cilium_wg0",
  ...extra,
});

describe("diff", () => {
  const desired: KernelState = {
    rules: [rule(1030), rule(1040, { ipproto: "tcp", dport: { start: 6443, end: 6443 }, table: "main" })],
    routes: [route("198.18.0.1/32"), route("198.18.0.1/32", { type: "blackhole", metric: 10000, dev: undefined })],
  };

  it("adds everything to an empty kernel and nothing the second time", () => {
    const plan = diff(desired, { rules: [], routes: [] });
    expect(planSize(plan)).toBe(4);
    expect(plan.remove).toEqual({ rules: [], routes: [] });
    const after = applyPlanTo({ rules: [], routes: [] }, plan);
    expect(planSize(diff(desired, after))).toBe(0);
  });

  it("compares full identity: a changed selector or source is add + remove", () => {
    const current: KernelState = {
      rules: [rule(1030), rule(1040, { ipproto: "tcp", dport: { start: 6444, end: 6444 }, table: "main" })],
      routes: [...desired.routes],
    };
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

describe("diff: identity first, then value", () => {
  const routes = Array.from({ length: 50 }, (_, i) => route(`198.18.${i}.0/24`));
  const desired: KernelState = { rules: [rule(1030)], routes };

  it("finds nothing to do when the current view holds the same objects or equal copies", () => {
    expect(planSize(diff(desired, { rules: [rule(1030)], routes }))).toBe(0);
    expect(planSize(diff(desired, { rules: [rule(1030)], routes: routes.map((r) => ({ ...r })) }))).toBe(0);
  });

  it("mixes both: a departed route is removed even when the rest match by identity", () => {
    const stale = route("198.19.0.0/24");
    const plan = diff({ rules: desired.rules, routes: routes.slice(1) }, { rules: desired.rules, routes: [...routes, stale] });
    expect(plan.add.routes).toEqual([]);
    expect(plan.remove.routes).toEqual([routes[0], stale]);
  });

  it("never removes a current route that an equal desired route stands for, whatever object it is", () => {
    const copy = { ...routes[3] };
    const plan = diff(desired, { rules: desired.rules, routes: [...routes.filter((_, i) => i !== 3), copy, route("198.19.1.0/24")] });
    expect(plan.add.routes).toEqual([]);
    expect(plan.remove.routes).toEqual([route("198.19.1.0/24")]);
  });
});
