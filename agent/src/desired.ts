// The pure heart of the agent: (local node, cluster nodes, device state, settings) -> the
// ip rules and routes that must exist. The number of rules never depends on cluster size;
// destinations live as routes in two tables behind single rules.
//
// Rule layout per family, P = settings.rulePriority (fixed slots so that a role change or a
// new exempt range only adds or removes its own rules):
//   P+0      fwmark MARK/MASK ipproto udp sport W dport W lookup main
//                                                  WireGuard's encrypted packets use the underlay
//   P+10+i   fwmark R/R ipproto tcp sport R_i lookup main
//                                                  control-plane nodes only: replies from exempt ports
// (W = the WireGuard port; R = the exempt-reply mark, which only the guard's route chain sets, on
// conntrack replies: a mark or a source port alone, which CAP_NET_RAW or a bound free port can
// produce, does not reach main.)
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
//
// With a node table (clusterPodCidrs given), the cluster's WHOLE pod CIDRs are steered, so a pod
// CIDR allocated to a new node is encrypted before anyone learns of it; this node's own pod
// CIDRs get `throw` routes in the steering table (their traffic goes on to the main table, i.e.
// to the local pods), and per-node pod CIDRs are no longer routes at all.
import type { ClusterNode, Family, Problem, Route, Rule } from "./model";
import { familyOf } from "./nodes";
import { contains, overlaps, PrefixCache, type Prefix } from "./prefix";
import type { Settings } from "./settings";

export const SLOT = { wgMark: 0, exemptReply: 10, steering: 30, exemptRequest: 40, controlPlane: 60 } as const;
export const DEVICE_METRIC = 100;
/** Throw routes (this node's own pod CIDRs) never share a kernel slot with a device route. */
export const THROW_METRIC = 50;
export const FALLBACK_METRIC = 10000;

export interface DesiredInput {
  localNodeName: string;
  nodes: ClusterNode[];
  /** The device exists and is administratively up; routes through it can be installed. */
  deviceUp: boolean;
  settings: Settings;
  /** Node-table mode: the cluster's pod CIDRs, steered whole (local pod CIDRs thrown back). */
  clusterPodCidrs?: string[];
}

export interface Desired {
  rules: Rule[];
  routes: Route[];
  problems: Problem[];
  /** Remote nodes with at least one steered prefix. */
  remoteNodesCovered: number;
}

export const hostPrefix = (a: string) => (a.includes(":") ? `${a}/128` : `${a}/32`);

/**
 * What one step hands the next, owned by the reconciler. Steps run on every cluster event; with
 * thousands of nodes the same prefixes and routes come back each time. Reusing the Route
 * objects lets diff.ts match them by identity (see diff there), and keeps one copy of each
 * route between the desired state and the cached kernel view. One map per route variant
 * (table, type, device, source); a variant no longer produced is dropped at the end of the
 * step, so the memo never holds more than the current state. ClusterNode objects are reused
 * while their Kubernetes objects do not change (nodes.ts), so a node's part is computed once
 * per local-node context: a node joining costs one part.
 */
export class DesiredMemo {
  routes = new Map<string, Map<string, Route>>();
  parts = { localKey: "", byNode: new Map<ClusterNode, NodePart>() };
  readonly prefixes = new PrefixCache();
}

export function computeDesired(input: DesiredInput, memo: DesiredMemo = new DesiredMemo()): Desired {
  const { settings, localNodeName } = input;
  const problems: Problem[] = [];
  const local = input.nodes.find((n) => n.name === localNodeName);
  if (!local) {
    problems.push({
      object: `Node/${localNodeName}`,
      kind: "local-node",
      message: "local node not found: steering all remote nodes without a source-address hint and without control-plane reply exemptions",
    });
  }
  const tableMode = input.clusterPodCidrs !== undefined;
  const parts = partsFor(memo, local, tableMode);

  // An address claimed by several nodes is a control-plane address only if every claimant is
  // one: the exemption is the only clear path, so it is granted only when unambiguous.
  const cpAddresses = new Set<string>();
  for (const n of input.nodes) if (n !== local && n.controlPlane) n.addresses.forEach((a) => cpAddresses.add(a));
  const claimedByWorker = new Set<string>();
  if (cpAddresses.size > 0) {
    for (const n of input.nodes) if (n !== local && !n.controlPlane) for (const a of n.addresses) if (cpAddresses.has(a)) claimedByWorker.add(a);
  }

  const steering: Record<Family, string[]> = { 4: [], 6: [] };
  const controlPlane: Record<Family, string[]> = { 4: [], 6: [] };
  let remoteNodesCovered = 0;
  for (const n of input.nodes) {
    if (n === local) continue;
    const part = parts.of(n);
    if (part.problems.length > 0) problems.push(...part.problems);
    part.hostPrefixes.forEach((p, i) => (n.controlPlane && !claimedByWorker.has(part.hostAddresses[i]) ? controlPlane : steering)[familyOf(p)].push(p));
    for (const c of part.podCidrs) steering[familyOf(c)].push(c);
    if (part.hostPrefixes.length + part.podCidrs.length > 0 || tableMode) remoteNodesCovered++;
  }
  parts.prune(input.nodes.length);
  for (const c of input.clusterPodCidrs ?? []) steering[familyOf(c)].push(c);

  const families = familiesToSteer(local, steering, controlPlane);
  const rules: Rule[] = [];
  const routes: Route[] = [];
  const usedVariants = new Map<string, Map<string, Route>>();
  for (const family of families) {
    rules.push(...rulesFor(family, local?.controlPlane ?? false, settings));
    const src = local?.addresses.find((a) => familyOf(a) === family);
    const steered = [...new Set(steering[family])];
    const cp = [...new Set(controlPlane[family])];
    reportShadowedControlPlane(cp, steered, problems, memo.prefixes);
    routesFor(routes, usedVariants, memo, family, settings.steeringTable, steered, src, input.deviceUp, settings);
    routesFor(routes, usedVariants, memo, family, settings.controlPlaneTable, cp, src, input.deviceUp, settings);
    // Local pods: leave the steering table, continue to main (Cilium's route to cilium_host).
    if (tableMode) for (const c of local?.podCidrs ?? []) if (familyOf(c) === family) routes.push(throwRoute(usedVariants, memo, family, c, settings));
  }
  memo.routes = usedVariants;
  return { rules, routes, problems, remoteNodesCovered };
}

/** What one remote node contributes, given the local node: prefixes to steer and problems. */
interface NodePart {
  /** Host prefixes of its addresses, and the addresses themselves, index for index. */
  hostPrefixes: string[];
  hostAddresses: string[];
  podCidrs: string[];
  problems: readonly Problem[];
}

/** Shared by every part without problems (nearly all); never mutated. */
const NO_PROBLEMS: readonly Problem[] = [];

function partsFor(memo: DesiredMemo, local: ClusterNode | undefined, tableMode: boolean): { of(n: ClusterNode): NodePart; prune(nodeCount: number): void } {
  const localKey = `${tableMode}|${local ? `${local.addresses.join(",")}|${local.podCidrs.join(",")}` : ""}`;
  if (memo.parts.localKey !== localKey) memo.parts = { localKey, byNode: new Map() };
  const cache = memo.parts.byNode;
  const localAddresses = new Set(local?.addresses ?? []);
  const localPrefixes = [...(local?.addresses ?? []).map(hostPrefix), ...(local?.podCidrs ?? [])].map((c) => memo.prefixes.parse(c));
  const overlapsLocal = (cidr: string) => {
    if (localPrefixes.length === 0) return false;
    const p = memo.prefixes.parse(cidr);
    return localPrefixes.some((l) => overlaps(l, p));
  };
  const build = (n: ClusterNode): NodePart => {
    const part: NodePart = { hostPrefixes: [], hostAddresses: [], podCidrs: [], problems: NO_PROBLEMS };
    for (const a of n.addresses) {
      if (localAddresses.has(a)) continue; // reported as a duplicate by nodes.ts; ours wins
      const p = hostPrefix(a);
      if (overlapsLocal(p)) {
        part.problems = [...part.problems, { object: `Node/${n.name}`, kind: "overlap", message: `address ${a} lies inside a local pod CIDR; not steered` }];
        continue;
      }
      part.hostPrefixes.push(p);
      part.hostAddresses.push(a);
    }
    // With a node table, pod CIDRs are covered by the cluster-wide routes, not per node.
    for (const c of tableMode ? [] : n.podCidrs) {
      if (overlapsLocal(c)) {
        part.problems = [
          ...part.problems,
          { object: `Node/${n.name}`, kind: "overlap", message: `pod CIDR ${c} overlaps this node's own addresses or pod CIDRs; not steered` },
        ];
        continue;
      }
      part.podCidrs.push(c);
    }
    return part;
  };
  return {
    of(n) {
      let part = cache.get(n);
      if (!part) cache.set(n, (part = build(n)));
      return part;
    },
    // Parts of departed or changed nodes linger; start over once they outnumber the live ones.
    prune(nodeCount) {
      if (cache.size > 2 * nodeCount + 100) memo.parts = { localKey, byNode: new Map() };
    },
  };
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
  const wgPort = { start: s.wgPort, end: s.wgPort };
  const rules: Rule[] = [
    { ...base, priority: p + SLOT.wgMark, fwmark: s.wgMark, fwmask: s.wgMask, ipproto: "udp", sport: wgPort, dport: wgPort, table: "main" },
  ];
  if (localIsControlPlane) {
    const reply = { fwmark: s.exemptReplyMark, fwmask: s.exemptReplyMark };
    s.exemptPorts.forEach((r, i) => rules.push({ ...base, priority: p + SLOT.exemptReply + i, ...reply, ipproto: "tcp", sport: r, table: "main" }));
  }
  rules.push({ ...base, priority: p + SLOT.steering, table: s.steeringTable });
  s.exemptPorts.forEach((r, i) => rules.push({ ...base, priority: p + SLOT.exemptRequest + i, ipproto: "tcp", dport: r, table: "main" }));
  rules.push({ ...base, priority: p + SLOT.controlPlane, table: s.controlPlaneTable });
  return rules;
}

/** The memo's map of one route variant for this step (kept in `used`), started over once departed prefixes dominate it. */
function variantRoutes(used: Map<string, Map<string, Route>>, m: DesiredMemo, variant: string, live: number): Map<string, Route> {
  let byDst = used.get(variant) ?? m.routes.get(variant) ?? new Map<string, Route>();
  if (byDst.size > 2 * live + 10_000) byDst = new Map();
  used.set(variant, byDst);
  return byDst;
}

const deviceVariant = (family: Family, table: number, s: Settings, src: string | undefined) =>
  `${family}|${table}|unicast|${s.routeProtocol}|${s.device}|${src ?? ""}`;
const fallbackVariant = (family: Family, table: number, s: Settings) => `${family}|${table}|blackhole|${s.routeProtocol}`;

/** The device route (when the device is up) and the blackhole of one prefix, the memo's objects. */
function prefixRoutes(
  out: Route[],
  device: Map<string, Route>,
  fallback: Map<string, Route>,
  family: Family,
  table: number,
  dst: string,
  src: string | undefined,
  deviceUp: boolean,
  s: Settings,
): void {
  if (deviceUp) {
    let r = device.get(dst);
    if (!r)
      device.set(dst, (r = { family, table, dst, type: "unicast", metric: DEVICE_METRIC, protocol: s.routeProtocol, dev: s.device, ...(src ? { src } : {}) }));
    out.push(r);
  }
  let b = fallback.get(dst);
  if (!b) fallback.set(dst, (b = { family, table, dst, type: "blackhole", metric: FALLBACK_METRIC, protocol: s.routeProtocol }));
  out.push(b);
}

function routesFor(
  out: Route[],
  used: Map<string, Map<string, Route>>,
  m: DesiredMemo,
  family: Family,
  table: number,
  prefixes: string[],
  src: string | undefined,
  deviceUp: boolean,
  s: Settings,
): void {
  const device = variantRoutes(used, m, deviceVariant(family, table, s, src), prefixes.length);
  const fallback = variantRoutes(used, m, fallbackVariant(family, table, s), prefixes.length);
  for (const dst of prefixes) prefixRoutes(out, device, fallback, family, table, dst, src, deviceUp, s);
}

/**
 * What one remote node adds to computeDesired's routes, as the same memo objects: its host
 * prefixes (in the control-plane table when it is one) and, without a table (`podCidrs`), its
 * pod CIDRs (with a table the cluster-wide routes cover them). For a delta step, which calls it
 * only when none of the node's prefixes overlaps another covered node's (computeDesired then
 * places each exactly so); undefined when the node has a problem (an address of this node's own,
 * or something inside its prefixes): the full step judges and reports it.
 */
export function remoteNodeRoutes(memo: DesiredMemo, local: ClusterNode, n: ClusterNode, deviceUp: boolean, s: Settings, podCidrs = false): Route[] | undefined {
  const out: Route[] = [];
  const localPrefixes = [...local.addresses.map(hostPrefix), ...local.podCidrs].map((c) => memo.prefixes.parse(c));
  const variant = (key: string) => {
    let byDst = memo.routes.get(key);
    if (!byDst) memo.routes.set(key, (byDst = new Map()));
    return byDst;
  };
  const prefixes = [...n.addresses.map((a) => ({ dst: hostPrefix(a), host: a })), ...(podCidrs ? n.podCidrs.map((c) => ({ dst: c, host: undefined })) : [])];
  for (const { dst, host } of prefixes) {
    const family = familyOf(dst);
    const p = memo.prefixes.parse(dst);
    if ((host !== undefined && local.addresses.includes(host)) || localPrefixes.some((l) => overlaps(l, p))) return undefined;
    if (!local.addresses.some((x) => familyOf(x) === family)) continue; // a family this node does not steer
    const table = host !== undefined && n.controlPlane ? s.controlPlaneTable : s.steeringTable;
    const src = local.addresses.find((x) => familyOf(x) === family);
    prefixRoutes(out, variant(deviceVariant(family, table, s, src)), variant(fallbackVariant(family, table, s)), family, table, dst, src, deviceUp, s);
  }
  return out;
}

function throwRoute(used: Map<string, Map<string, Route>>, m: DesiredMemo, family: Family, dst: string, s: Settings): Route {
  const variant = `${family}|${s.steeringTable}|throw|${s.routeProtocol}`;
  const byDst = used.get(variant) ?? m.routes.get(variant) ?? new Map<string, Route>();
  used.set(variant, byDst);
  let r = byDst.get(dst);
  if (!r) byDst.set(dst, (r = { family, table: s.steeringTable, dst, type: "throw", metric: THROW_METRIC, protocol: s.routeProtocol }));
  return r;
}

/** The steering table is consulted first: a control-plane address inside it loses its exemption. */
function reportShadowedControlPlane(cp: string[], steered: string[], problems: Problem[], prefixes: PrefixCache): void {
  if (cp.length === 0 || steered.length === 0) return;
  // Host prefixes cannot contain another address; only pod CIDRs can shadow.
  const parsed: Prefix[] = steered.filter((c) => !c.endsWith("/32") && !c.endsWith("/128")).map((c) => prefixes.parse(c));
  for (const c of cp) {
    const addr = prefixes.parse(c);
    if (parsed.some((p) => contains(p, addr))) {
      problems.push({
        object: `prefix/${c}`,
        kind: "overlap",
        message: `control-plane address ${c} lies inside a steered pod CIDR: its exempt ports stay encrypted`,
      });
    }
  }
}
