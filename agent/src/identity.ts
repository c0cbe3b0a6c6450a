// Who is a node, with a node table: identity (names, roles, addresses) comes from the table
// alone; the API contributes only pod CIDRs, and only inside the table's pod CIDRs. Anything an
// API object says that contradicts the table is a "claim": reported with the object's name and
// ignored. A claim can never remove steering or add an exemption: a table node missing from the
// API is still steered, and an address is a control plane's only because the table says so.
import type { ClusterNode, Problem } from "./model";
import type { NodeTable, TableNode } from "./nodeTable";
import ipaddr from "ipaddr.js";
import { contains, parseCanonicalIPv4Prefix, parsePrefix, PrefixCache } from "./prefix";

export interface Identity {
  /** One entry per table node, roles and addresses from the table, pod CIDRs from the API. */
  nodes: ClusterNode[];
  problems: Problem[];
  /** Pod CIDRs claimed by more than one node: none of them is any node's own, except an
   * established holder's (it held the CIDR alone before the other claim appeared). */
  contested: Set<string>;
  /** Pod CIDR -> its holder, for the next step. */
  established: Map<string, string>;
}

/** What a pod CIDR's text tells, for a given set of cluster pod CIDRs (cached per text). */
interface PodCidr extends Span {
  /** Inside one of the cluster's pod CIDRs, and not one of them whole. */
  usable: boolean;
  /** Its place in the last step's sorted claims: a hint that makes the next sort ~linear. */
  rank?: number;
}

/**
 * Resolves identity on every step. Owned by the reconciler: it reuses the ClusterNode of a
 * table node whose pod CIDRs did not change (desired.ts caches per-node work by object), and
 * what it learnt about each pod CIDR text (its span, whether it lies in the cluster's pod CIDRs)
 * while the cluster's pod CIDRs stay the same. A node joining then costs hash lookups per node
 * and one nearly sorted sort, not a parse of every prefix.
 */
export class IdentityResolver {
  private readonly nodeCache = new WeakMap<object, ClusterNode>();
  private podCidrs = new Map<string, PodCidr>();
  private clusterPods?: string[];
  private readonly prefixes = new PrefixCache();
  /** Pod CIDR -> the node that held it alone: a later claim on it is the contradicting one. */
  private established = new Map<string, string>();
  /** How many claims the last step sorted (the ranks in the PodCidr entries refer to them). */
  private sorted = 0;

  /**
   * What a delta step (reconciler.ts) tells of one table node whose claims it resolved without
   * contest: the node now holds `now` alone (and no longer `before`), as the next full resolve
   * must know to keep an established holder's pod CIDR when a later claim contradicts it.
   */
  hold(name: string, before: readonly string[], now: readonly string[]): void {
    for (const c of before) if (this.established.get(c) === name) this.established.delete(c);
    for (const c of now) this.established.set(c, name);
  }

  /** The span of a pod CIDR the last resolve saw (cached), or computed. */
  spanOf(cidr: string): Span {
    return this.podCidrs.get(cidr) ?? span(cidr);
  }

  resolve(table: NodeTable, apiNodes: ClusterNode[]): Identity {
    if (this.clusterPods !== table.podCidrs || this.podCidrs.size > 4 * apiNodes.length + 1000) {
      this.clusterPods = table.podCidrs;
      this.podCidrs = new Map();
    }
    const clusterPods = table.podCidrs.map((c) => this.prefixes.parse(c));
    const podCidrOf = (c: string) => {
      let p = this.podCidrs.get(c);
      if (!p) {
        const prefix = this.prefixes.parse(c);
        p = { ...span(c), usable: clusterPods.some((cp) => contains(cp, prefix)) && !table.podCidrs.includes(c) };
        this.podCidrs.set(c, p);
      }
      return p;
    };
    const identity = resolveIdentity(table, apiNodes, { podCidrOf, established: this.established, sorted: this.sorted });
    this.established = identity.established;
    this.sorted = identity.sorted;
    identity.nodes = identity.nodes.map((n, i) => {
      const t = table.nodes[i];
      const hit = this.nodeCache.get(t);
      if (hit && sameStrings(hit.podCidrs, n.podCidrs)) return hit;
      this.nodeCache.set(t, n);
      return n;
    });
    return identity;
  }
}

const sameStrings = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

interface Claim {
  p: PodCidr;
  name: string;
  c: string;
}

export interface ResolveCaches {
  podCidrOf?: (cidr: string) => PodCidr;
  established?: Map<string, string>;
  /** How many claims the previous step sorted (podCidrOf's entries carry their rank then). */
  sorted?: number;
}

export function resolveIdentity(table: NodeTable, apiNodes: ClusterNode[], caches: ResolveCaches = {}): Identity & { sorted: number } {
  const established = caches.established ?? new Map<string, string>();
  const podCidrOf =
    caches.podCidrOf ??
    ((c: string) => {
      const p = parsePrefix(c);
      return { ...span(c), usable: table.podCidrs.some((cp) => contains(parsePrefix(cp), p)) && !table.podCidrs.includes(c) };
    });
  const problems: Problem[] = [];
  const claim = (object: string, message: string) => problems.push({ object, kind: "claim", message });
  // Who owns an address is needed only for an address outside its node's own entry (rare).
  let owners: Map<string, TableNode> | undefined;
  const ownerOf = (a: string) => {
    if (!owners) {
      owners = new Map();
      for (const t of table.nodes) for (const x of t.addresses) owners.set(x, t);
    }
    return owners.get(a);
  };
  const inTable = new Map(table.nodes.map((t) => [t.name, t]));

  const podCidrs = new Map<string, string[]>();
  const sourceOf = new Map<string, string>();
  const claims: Claim[] = [];
  for (const n of apiNodes) {
    const entry = inTable.get(n.name);
    n.addresses.forEach((a, i) => {
      if (entry?.addresses.includes(a)) return;
      const object = n.addressSources?.[i] ?? `Node/${n.name}`;
      const real = ownerOf(a);
      if (real) claim(object, `claims address ${a} of ${real.role} node ${real.name} (node table); ignored`);
      else if (!entry) claim(object, `node is not in the node table; its address ${a} is ignored`);
      else claim(object, `address ${a} is not in this node's node-table entry; ignored`);
    });
    const object = n.podCidrSource ?? `Node/${n.name}`;
    sourceOf.set(n.name, object);
    const kept: string[] = [];
    for (const c of n.podCidrs) {
      const p = podCidrOf(c);
      if (p.usable) {
        kept.push(c);
        claims.push({ p, name: n.name, c });
      } else if (table.podCidrs.includes(c)) {
        // A node's pod CIDR is a part of the cluster's, never all of it (it would unsteer every pod).
        claim(object, `pod CIDR ${c} is the whole cluster pod CIDR, not one node's part of it; ignored`);
      } else {
        claim(object, `pod CIDR ${c} lies outside the cluster's pod CIDRs (${table.podCidrs.join(", ")}); ignored`);
      }
    }
    if (entry) podCidrs.set(n.name, kept);
  }

  // Two objects claiming overlapping pod CIDRs: at least one lies. Neither CIDR is trusted as
  // anyone's own (so no node stops steering it), and both objects are named. Sorted by start, a
  // prefix overlaps an earlier one exactly when it starts before the furthest end seen so far
  // (prefixes nest or are disjoint): one pass, not a comparison of every pair. The claims are
  // first put in last step's order, so the (stable, run-aware) sort has little left to do.
  const contested = new Set<string>();
  const all = inPreviousOrder(claims, caches.sorted ?? 0);
  all.sort((a, b) => a.p.family - b.p.family || (a.p.start < b.p.start ? -1 : a.p.start > b.p.start ? 1 : 0));
  all.forEach((x, i) => (x.p.rank = i));
  let widest: Claim | undefined;
  for (const { p: x, name, c } of all) {
    if (widest && widest.p.family === x.family && x.start <= widest.p.end && widest.name !== name) {
      contested.add(widest.c);
      contested.add(c);
      claim(
        sourceOf.get(name) ?? `Node/${name}`,
        `pod CIDR ${c} overlaps ${widest.c} of ${sourceOf.get(widest.name) ?? widest.name}; neither is trusted as a node's own`,
      );
    }
    if (!widest || widest.p.family !== x.family || x.end > widest.p.end) widest = { p: x, name, c };
  }

  const held = new Map<string, string>();
  const nodes = table.nodes.map((t): ClusterNode => {
    const claimed = podCidrs.get(t.name) ?? [];
    const own = contested.size === 0 ? claimed : claimed.filter((c) => !contested.has(c) || established.get(c) === t.name);
    for (const c of own) held.set(c, t.name);
    return { name: t.name, addresses: t.addresses, podCidrs: own, controlPlane: t.role === "control-plane" };
  });
  return { nodes, problems, contested, established: held, sorted: all.length };
}

/** The claims in the order of their ranks from the last step (a claim without one goes last). */
function inPreviousOrder(claims: Claim[], sorted: number): Claim[] {
  const ranked: (Claim | undefined)[] = new Array<Claim | undefined>(sorted);
  const rest: Claim[] = [];
  for (const x of claims) {
    const r = x.p.rank;
    if (r !== undefined && r < sorted && ranked[r] === undefined) ranked[r] = x;
    else rest.push(x);
  }
  const ordered: Claim[] = [];
  for (const x of ranked) if (x) ordered.push(x);
  return rest.length > 0 ? ordered.concat(rest) : ordered;
}

export interface Span {
  family: number;
  start: bigint | number;
  end: bigint | number;
}

/** First and last address of a prefix as integers, for ordering (numbers for IPv4). */
export function span(cidr: string): Span {
  const v4 = parseCanonicalIPv4Prefix(cidr);
  if (v4) return { family: 32, start: v4.n, end: v4.n + 2 ** (32 - v4.len) - 1 };
  const [addr, len] = ipaddr.parseCIDR(cidr);
  const bits = addr.kind() === "ipv4" ? 32 : 128;
  const start = addr.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n);
  const end = start + (1n << BigInt(bits - len)) - 1n;
  return bits === 32 ? { family: bits, start: Number(start), end: Number(end) } : { family: bits, start, end };
}
