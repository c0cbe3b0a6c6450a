// Pure diff between desired and current (owned) kernel state. Items are compared by their
// full identity, so any change of a selector, type, device or source address is an add of
// the new item plus a removal of the old one. Adds are applied before removals (see kernel.ts)
// so a destination is never without a route during a change.
import type { KernelState, Plan, Route, Rule } from "./model";

const range = (r?: { start: number; end: number }) => (r ? `${r.start}-${r.end}` : "");

export function ruleKey(r: Rule): string {
  return [r.family, r.priority, r.table, r.protocol, r.fwmark ?? "", r.fwmask ?? "", r.ipproto ?? "", range(r.sport), range(r.dport), r.extra ?? ""].join("|");
}

/** Same route: every field that is part of a route's identity is equal. */
export function sameRoute(a: Route, b: Route): boolean {
  return (
    a.dst === b.dst &&
    a.table === b.table &&
    a.family === b.family &&
    a.type === b.type &&
    a.metric === b.metric &&
    a.protocol === b.protocol &&
    (a.dev ?? "") === (b.dev ?? "") &&
    (a.src ?? "") === (b.src ?? "")
  );
}

/** What the kernel treats as the same route: `ip route replace` overwrites this slot. */
export function sameSlot(a: Route, b: Route): boolean {
  return a.dst === b.dst && a.table === b.table && a.family === b.family && a.metric === b.metric;
}

/**
 * A set of routes bucketed by destination, compared field by field. Text keys for 20,000
 * routes cost ~10 MB of short-lived strings per full comparison (template strings are built
 * as ropes, then flattened for hashing); the prefix strings here already exist.
 */
export class RouteSet {
  private readonly byDst = new Map<string, Route[]>();

  constructor(
    routes: Iterable<Route> = [],
    private readonly same: (a: Route, b: Route) => boolean = sameRoute,
  ) {
    for (const r of routes) this.add(r);
  }

  add(r: Route): void {
    const bucket = this.byDst.get(r.dst);
    if (bucket) bucket.push(r);
    else this.byDst.set(r.dst, [r]);
  }

  has(r: Route): boolean {
    const bucket = this.byDst.get(r.dst);
    return bucket !== undefined && bucket.some((x) => this.same(x, r));
  }
}

export interface DiffOptions {
  /** False until the cluster view is complete: then nothing is removed, only added. */
  prune: boolean;
}

export function diff(desired: KernelState, current: KernelState, options: DiffOptions = { prune: true }): Plan {
  // desired.ts hands out the same Route object for an unchanged route, and the cached kernel
  // view holds the objects that were applied; so in a step after a clean apply almost every
  // route matches by identity and only the few others need their text keys. After a kernel
  // read nothing matches by identity and every route is compared by key.
  const unmatchedCurrentSet = new Set(current.routes);
  const unmatchedDesired: Route[] = [];
  for (const r of desired.routes) if (!unmatchedCurrentSet.delete(r)) unmatchedDesired.push(r);
  const unmatchedCurrent = [...unmatchedCurrentSet];
  const currentByValue = new RouteSet(unmatchedCurrent);
  const added = new RouteSet();
  const addRoutes: Route[] = [];
  for (const r of unmatchedDesired) {
    if (currentByValue.has(r) || added.has(r)) continue;
    added.add(r);
    addRoutes.push(r);
  }
  const currentRules = new Set(current.rules.map(ruleKey));
  const desiredRules = new Set(desired.rules.map(ruleKey));
  const addRules = dedupe(
    desired.rules.filter((r) => !currentRules.has(ruleKey(r))),
    ruleKey,
  );
  if (!options.prune) return { add: { rules: addRules, routes: addRoutes }, remove: { rules: [], routes: [] } };
  const removeRules = current.rules.filter((r) => !desiredRules.has(ruleKey(r)));
  if (unmatchedCurrent.length === 0) return { add: { rules: addRules, routes: addRoutes }, remove: { rules: removeRules, routes: [] } };
  // Something current is not desired as that object: compare with every desired route by value.
  const desiredByValue = new RouteSet(desired.routes);
  // A route whose slot is taken over by an added route is gone once the add (a replace) ran;
  // deleting it afterwards could delete the replacement instead.
  const replacedSlots = new RouteSet(addRoutes, sameSlot);
  const removeRoutes = unmatchedCurrent.filter((r) => !desiredByValue.has(r) && !replacedSlots.has(r));
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
