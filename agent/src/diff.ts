// Pure diff between desired and current (owned) kernel state. Items are compared by their
// full identity, so any change of a selector, type, device or source address is an add of
// the new item plus a removal of the old one. Adds are applied before removals (see kernel.ts)
// so a destination is never without a route during a change.
import type { KernelState, Plan, Route, Rule } from "./model";

const range = (r?: { start: number; end: number }) => (r ? `${r.start}-${r.end}` : "");

export function ruleKey(r: Rule): string {
  return [r.family, r.priority, r.table, r.protocol, r.fwmark ?? "", r.fwmask ?? "", r.ipproto ?? "", range(r.sport), range(r.dport), r.extra ?? ""].join("|");
}

// Keys are cached per object: desired.ts reuses Route objects between steps and the cached
// kernel view holds the same objects, so a step over thousands of routes builds few strings.
const keyCache = new WeakMap<Route, string>();
export function routeKey(r: Route): string {
  let k = keyCache.get(r);
  if (k === undefined) {
    k = `${r.family}|${r.table}|${r.dst}|${r.type}|${r.metric}|${r.protocol}|${r.dev ?? ""}|${r.src ?? ""}`;
    keyCache.set(r, k);
  }
  return k;
}

/** What the kernel treats as the same route: `ip route replace` overwrites this slot. */
export function routeSlot(r: Route): string {
  return [r.family, r.table, r.dst, r.metric].join("|");
}

export interface DiffOptions {
  /** False until the cluster view is complete: then nothing is removed, only added. */
  prune: boolean;
}

export function diff(desired: KernelState, current: KernelState, options: DiffOptions = { prune: true }): Plan {
  const currentRules = new Set(current.rules.map(ruleKey));
  const currentRoutes = new Set(current.routes.map(routeKey));
  const desiredRules = new Set(desired.rules.map(ruleKey));
  const desiredRoutes = new Set(desired.routes.map(routeKey));

  const addRules = dedupe(desired.rules.filter((r) => !currentRules.has(ruleKey(r))), ruleKey);
  const addRoutes = dedupe(desired.routes.filter((r) => !currentRoutes.has(routeKey(r))), routeKey);
  if (options.prune && addRoutes.length === 0 && currentRoutes.size === desiredRoutes.size && current.routes.length === desired.routes.length) {
    // Same size and nothing to add: nothing to remove either (the common resync case).
    const removeRules = current.rules.filter((r) => !desiredRules.has(ruleKey(r)));
    return { add: { rules: addRules, routes: [] }, remove: { rules: removeRules, routes: [] } };
  }
  // A route whose slot is taken over by an added route is gone once the add (a replace) ran;
  // deleting it afterwards could delete the replacement instead.
  const replacedSlots = new Set(addRoutes.map(routeSlot));
  const removeRules = options.prune ? current.rules.filter((r) => !desiredRules.has(ruleKey(r))) : [];
  const removeRoutes = options.prune
    ? current.routes.filter((r) => !desiredRoutes.has(routeKey(r)) && !replacedSlots.has(routeSlot(r)))
    : [];
  return { add: { rules: addRules, routes: addRoutes }, remove: { rules: removeRules, routes: removeRoutes } };
}

export function planSize(plan: Plan): number {
  return plan.add.rules.length + plan.add.routes.length + plan.remove.rules.length + plan.remove.routes.length;
}

function dedupe<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const k = key(i);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Applies a plan to a state snapshot: the agent's view of the kernel after a clean apply. */
export function applyPlanTo(state: KernelState, plan: Plan): KernelState {
  const removedRules = new Set(plan.remove.rules.map(ruleKey));
  const gone = new Set([...plan.remove.routes.map(routeKey)]);
  const replaced = new Set(plan.add.routes.map(routeSlot));
  return {
    rules: [...state.rules.filter((r) => !removedRules.has(ruleKey(r))), ...plan.add.rules],
    routes: [...state.routes.filter((r) => !gone.has(routeKey(r)) && !replaced.has(routeSlot(r))), ...plan.add.routes],
  };
}
