// The pure heart of the agent: (local node, cluster nodes, device state, settings) -> the
// ip rules and routes that must exist. The number of rules never depends on cluster size;
// destinations live as routes in two tables behind single rules.
//
// Rule layout per family, P = settings.rulePriority (fixed slots so that a role change or a
// new exempt range only adds or removes its own rules):
//   P+0      fwmark MARK/MASK lookup main          WireGuard's encrypted packets use the underlay
//   P+10+i   ipproto tcp sport R_i lookup main     control-plane nodes only: replies from exempt ports
//   P+30     lookup STEERING                       remote pod CIDRs and worker addresses -> device
//   P+40+i   ipproto tcp dport R_i lookup main     what is left of exempt-port traffic: control-plane addresses
//   P+60     lookup CONTROL_PLANE                  control-plane addresses (all other ports) -> device
// Control-plane addresses are absent from STEERING, so TCP to their exempt ports misses it and
// meets the dport rule before the control-plane table; a worker listening on 6443 is in
// STEERING and stays encrypted.
//
// Every prefix gets a device route and, with a higher metric, a blackhole for the same prefix:
// when the device goes away the kernel deletes the device routes and the blackhole drops the
// traffic instead of letting it fall through to the main table (fail closed).
import type { ClusterNode, Family, Problem, Route, Rule } from "./model";
import { familyOf } from "./nodes";
import ipaddr from "ipaddr.js";
import type { Settings } from "./settings";

export const SLOT = { wgMark: 0, exemptReply: 10, steering: 30, exemptRequest: 40, controlPlane: 60 } as const;
export const DEVICE_METRIC = 100;
export const FALLBACK_METRIC = 10000;

export interface DesiredInput {
  localNodeName: string;
  nodes: ClusterNode[];
  /** The device exists and is administratively up; routes through it can be installed. */
  deviceUp: boolean;
  settings: Settings;
}

export interface Desired {
  rules: Rule[];
  routes: Route[];
  problems: Problem[];
  /** Remote nodes with at least one steered prefix. */
  remoteNodesCovered: number;
}

const hostPrefix = (a: string) => `${a}/${familyOf(a) === 4 ? 32 : 128}`;

// Steps run on every cluster event; with thousands of nodes the same prefixes and routes come
// back each time. Reusing the Route objects lets diff.ts reuse their keys (see keyOf there).
const routeMemo = new Map<string, Map<string, Route>>();
// Whether a prefix overlaps the local node's own prefixes, valid while those stay the same.
let overlapCache = { localKey: "", results: new Map<string, boolean>() };
const cidrMemo = new Map<string, [ipaddr.IPv4 | ipaddr.IPv6, number]>();
function parseCidr(c: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  let hit = cidrMemo.get(c);
  if (!hit) {
    if (cidrMemo.size > 1_000_000) cidrMemo.clear();
    hit = ipaddr.parseCIDR(c);
    cidrMemo.set(c, hit);
  }
  return hit;
}
function memoRoutes(variant: string): (r: Route) => Route {
  let byDst = routeMemo.get(variant);
  if (!byDst) routeMemo.set(variant, (byDst = new Map()));
  if (byDst.size > 1_000_000) byDst.clear();
  const memo = byDst;
  return (r) => {
    const hit = memo.get(r.dst);
    if (hit) return hit;
    memo.set(r.dst, r);
    return r;
  };
}

export function computeDesired(input: DesiredInput): Desired {
  const { settings, localNodeName } = input;
  const problems: Problem[] = [];
  const local = input.nodes.find((n) => n.name === localNodeName);
  if (!local) {
    problems.push({ object: `Node/${localNodeName}`, kind: "local-node", message: "local node not found: steering all remote nodes without a source-address hint and without control-plane reply exemptions" });
  }
  const localAddresses = new Set(local?.addresses ?? []);
  const localPrefixes = [...(local?.addresses ?? []).map(hostPrefix), ...(local?.podCidrs ?? [])].map(parseCidr);
  const localKey = [...(local?.addresses ?? []), ...(local?.podCidrs ?? [])].join(",");
  if (overlapCache.localKey !== localKey || overlapCache.results.size > 1_000_000) overlapCache = { localKey, results: new Map() };
  const overlapMemo = overlapCache.results;
  const overlapsLocal = (cidr: string) => {
    if (localPrefixes.length === 0) return false;
    const known = overlapMemo.get(cidr);
    if (known !== undefined) return known;
    const result = overlapsLocalUncached(cidr);
    overlapMemo.set(cidr, result);
    return result;
  };
  const overlapsLocalUncached = (cidr: string) => {
    const [addr, len] = parseCidr(cidr);
    return localPrefixes.some(([la, ll]) => la.kind() === addr.kind() && (addr.match(la, ll) || la.match(addr, len)));
  };

  // An address claimed by several nodes is a control-plane address only if every claimant is
  // one: the exemption is the only clear path, so it is granted only when unambiguous.
  const claimedByWorker = new Set<string>();
  for (const n of input.nodes) if (n !== local && !n.controlPlane) n.addresses.forEach((a) => claimedByWorker.add(a));

  const steering: Record<Family, string[]> = { 4: [], 6: [] };
  const controlPlane: Record<Family, string[]> = { 4: [], 6: [] };
  let remoteNodesCovered = 0;
  for (const n of input.nodes) {
    if (n === local) continue;
    let covered = false;
    for (const a of n.addresses) {
      if (localAddresses.has(a)) continue; // reported as a duplicate by nodes.ts; ours wins
      const p = hostPrefix(a);
      if (overlapsLocal(p)) {
        problems.push({ object: `Node/${n.name}`, kind: "overlap", message: `address ${a} lies inside a local pod CIDR; not steered` });
        continue;
      }
      (n.controlPlane && !claimedByWorker.has(a) ? controlPlane : steering)[familyOf(a)].push(p);
      covered = true;
    }
    for (const c of n.podCidrs) {
      if (overlapsLocal(c)) {
        problems.push({ object: `Node/${n.name}`, kind: "overlap", message: `pod CIDR ${c} overlaps this node's own addresses or pod CIDRs; not steered` });
        continue;
      }
      steering[familyOf(c)].push(c);
      covered = true;
    }
    if (covered) remoteNodesCovered++;
  }

  const families = familiesToSteer(local, steering, controlPlane);
  const rules: Rule[] = [];
  const routes: Route[] = [];
  for (const family of families) {
    rules.push(...rulesFor(family, local?.controlPlane ?? false, settings));
    const src = local?.addresses.find((a) => familyOf(a) === family);
    const steered = [...new Set(steering[family])];
    const cp = [...new Set(controlPlane[family])];
    reportShadowedControlPlane(cp, steered, problems);
    routes.push(...routesFor(family, settings.steeringTable, steered, src, input.deviceUp, settings));
    routes.push(...routesFor(family, settings.controlPlaneTable, cp, src, input.deviceUp, settings));
  }
  return { rules, routes, problems, remoteNodesCovered };
}

/** Each family only where this node has an address of it (or, if unknown, where peers do). */
function familiesToSteer(local: ClusterNode | undefined, ...sets: Record<Family, string[]>[]): Family[] {
  const all: Family[] = [4, 6];
  if (local) return all.filter((f) => local.addresses.some((a) => familyOf(a) === f));
  return all.filter((f) => sets.some((s) => s[f].length > 0));
}

function rulesFor(family: Family, localIsControlPlane: boolean, s: Settings): Rule[] {
  const base = { family, protocol: s.routeProtocol };
  const p = s.rulePriority;
  const rules: Rule[] = [{ ...base, priority: p + SLOT.wgMark, fwmark: s.wgMark, fwmask: s.wgMask, table: "main" }];
  if (localIsControlPlane) {
    s.exemptPorts.forEach((r, i) => rules.push({ ...base, priority: p + SLOT.exemptReply + i, ipproto: "tcp", sport: r, table: "main" }));
  }
  rules.push({ ...base, priority: p + SLOT.steering, table: s.steeringTable });
  s.exemptPorts.forEach((r, i) => rules.push({ ...base, priority: p + SLOT.exemptRequest + i, ipproto: "tcp", dport: r, table: "main" }));
  rules.push({ ...base, priority: p + SLOT.controlPlane, table: s.controlPlaneTable });
  return rules;
}

function routesFor(family: Family, table: number, prefixes: string[], src: string | undefined, deviceUp: boolean, s: Settings): Route[] {
  const routes: Route[] = [];
  const device = memoRoutes(`${family}|${table}|unicast|${s.routeProtocol}|${s.device}|${src ?? ""}`);
  const fallback = memoRoutes(`${family}|${table}|blackhole|${s.routeProtocol}`);
  for (const dst of prefixes) {
    if (deviceUp) {
      routes.push(device({ family, table, dst, type: "unicast", metric: DEVICE_METRIC, protocol: s.routeProtocol, dev: s.device, ...(src ? { src } : {}) }));
    }
    routes.push(fallback({ family, table, dst, type: "blackhole", metric: FALLBACK_METRIC, protocol: s.routeProtocol }));
  }
  return routes;
}

/** The steering table is consulted first: a control-plane address inside it loses its exemption. */
function reportShadowedControlPlane(cp: string[], steered: string[], problems: Problem[]): void {
  if (cp.length === 0 || steered.length === 0) return;
  // Host prefixes cannot contain another address; only pod CIDRs can shadow.
  const parsed = steered.filter((c) => !c.endsWith("/32") && !c.endsWith("/128")).map(parseCidr);
  for (const c of cp) {
    const [addr] = parseCidr(c);
    if (parsed.some(([sa, sl]) => sa.kind() === addr.kind() && addr.match(sa, sl))) {
      problems.push({ object: `prefix/${c}`, kind: "overlap", message: `control-plane address ${c} lies inside a steered pod CIDR: its exempt ports stay encrypted` });
    }
  }
}
