// Who is a node, with a node table: identity (names, roles, addresses) comes from the table
// alone; the API contributes only pod CIDRs, and only inside the table's pod CIDRs. Anything an
// API object says that contradicts the table is a "claim": reported with the object's name and
// ignored. A claim can never remove steering or add an exemption: a table node missing from the
// API is still steered, and an address is a control plane's only because the table says so.
import type { ClusterNode, Problem } from "./model";
import type { NodeTable } from "./nodeTable";
import ipaddr from "ipaddr.js";
import { contains, parsePrefix, PrefixCache, type Prefix } from "./prefix";

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

/**
 * Resolves identity on every step. Owned by the reconciler: it reuses the ClusterNode of a
 * table node whose pod CIDRs did not change (desired.ts caches per-node work by object), and
 * the parsed spans and prefixes of pod CIDRs seen before.
 */
export class IdentityResolver {
  private readonly nodeCache = new WeakMap<object, { key: string; node: ClusterNode }>();
  private spans = new Map<string, Span>();
  private readonly prefixes = new PrefixCache();
  /** Pod CIDR -> the node that held it alone: a later claim on it is the contradicting one. */
  private established = new Map<string, string>();

  resolve(table: NodeTable, apiNodes: ClusterNode[]): Identity {
    if (this.spans.size > 4 * apiNodes.length + 1000) this.spans = new Map();
    const spanOf = (c: string) => {
      let s = this.spans.get(c);
      if (!s) this.spans.set(c, (s = span(c)));
      return s;
    };
    const identity = resolveIdentity(table, apiNodes, spanOf, this.established, (c) => this.prefixes.parse(c));
    this.established = identity.established;
    identity.nodes = identity.nodes.map((n, i) => {
      const t = table.nodes[i];
      const key = n.podCidrs.join(",");
      const hit = this.nodeCache.get(t);
      if (hit && hit.key === key) return hit.node;
      this.nodeCache.set(t, { key, node: n });
      return n;
    });
    return identity;
  }
}

export function resolveIdentity(
  table: NodeTable,
  apiNodes: ClusterNode[],
  spanOf: (cidr: string) => Span = span,
  established = new Map<string, string>(),
  parse: (cidr: string) => Prefix = parsePrefix,
): Identity {
  const problems: Problem[] = [];
  const claim = (object: string, message: string) => problems.push({ object, kind: "claim", message });
  const owner = new Map<string, { name: string; role: string }>();
  for (const t of table.nodes) for (const a of t.addresses) owner.set(a, t);
  const inTable = new Map(table.nodes.map((t) => [t.name, t]));
  const clusterPods = table.podCidrs.map(parse);

  const podCidrs = new Map<string, string[]>();
  const sourceOf = new Map<string, string>();
  for (const n of apiNodes) {
    const entry = inTable.get(n.name);
    n.addresses.forEach((a, i) => {
      if (entry?.addresses.includes(a)) return;
      const object = n.addressSources?.[i] ?? `Node/${n.name}`;
      const real = owner.get(a);
      if (real) claim(object, `claims address ${a} of ${real.role} node ${real.name} (node table); ignored`);
      else if (!entry) claim(object, `node is not in the node table; its address ${a} is ignored`);
      else claim(object, `address ${a} is not in this node's node-table entry; ignored`);
    });
    const object = n.podCidrSource ?? `Node/${n.name}`;
    sourceOf.set(n.name, object);
    const kept: string[] = [];
    for (const c of n.podCidrs) {
      const p = parse(c);
      if (!clusterPods.some((cp) => contains(cp, p))) claim(object, `pod CIDR ${c} lies outside the cluster's pod CIDRs (${table.podCidrs.join(", ")}); ignored`);
      // A node's pod CIDR is a part of the cluster's, never all of it (it would unsteer every pod).
      else if (table.podCidrs.includes(c)) claim(object, `pod CIDR ${c} is the whole cluster pod CIDR, not one node's part of it; ignored`);
      else kept.push(c);
    }
    if (entry) podCidrs.set(n.name, kept);
    else if (kept.length > 0) podCidrs.set(`\0${n.name}`, kept); // not a node, but its claims still contest
  }

  // Two objects claiming overlapping pod CIDRs: at least one lies. Neither CIDR is trusted as
  // anyone's own (so no node stops steering it), and both objects are named.
  const contested = new Set<string>();
  const all = [...podCidrs].flatMap(([name, cs]) => cs.map((c) => ({ name: name.replace("\0", ""), c, ...spanOf(c) })));
  // Sorted by start, a prefix overlaps an earlier one exactly when it starts before the furthest
  // end seen so far (prefixes nest or are disjoint): one pass, not a comparison of every pair.
  all.sort((a, b) => (a.family - b.family) || (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  let widest: (typeof all)[number] | undefined;
  for (const x of all) {
    if (widest && widest.family === x.family && x.start <= widest.end && widest.name !== x.name) {
      contested.add(widest.c);
      contested.add(x.c);
      claim(sourceOf.get(x.name) ?? `Node/${x.name}`, `pod CIDR ${x.c} overlaps ${widest.c} of ${sourceOf.get(widest.name) ?? widest.name}; neither is trusted as a node's own`);
    }
    if (!widest || widest.family !== x.family || x.end > widest.end) widest = x;
  }

  const held = new Map<string, string>();
  const nodes = table.nodes.map((t): ClusterNode => {
    const own = (podCidrs.get(t.name) ?? []).filter((c) => !contested.has(c) || established.get(c) === t.name);
    for (const c of own) held.set(c, t.name);
    return { name: t.name, addresses: t.addresses, podCidrs: own, controlPlane: t.role === "control-plane" };
  });
  return { nodes, problems, contested, established: held };
}

interface Span { family: number; start: bigint; end: bigint }

/** First and last address of a prefix as integers, for ordering. */
function span(cidr: string): Span {
  const [addr, len] = ipaddr.parseCIDR(cidr);
  const bits = addr.kind() === "ipv4" ? 32 : 128;
  const start = addr.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n);
  return { family: bits, start, end: start + (1n << BigInt(bits - len)) - 1n };
}
