// Renders cloud-agnostic firewall intents into AWS security-group ingress rules whose count
// grows by one per hundred nodes: every intent whose source is a set of nodes admits that set's
// managed prefix lists (the nodes' /32s), so adding a node edits a list, and a group only when a
// list of a hundred is full. A hundred because EC2 takes at most 100 entries to add (and 100 to
// remove) per CreateManagedPrefixList or ModifyManagedPrefixList request and the provider sends a
// list's entries in one request (terraform-provider-aws #17191, #35371): a list that never holds
// more than 100 is created and changed within that, however many nodes a run adds or removes.
// AWS counts a referenced prefix list as its max entries against the group's rule quota;
// `weight` is that count, which infra/quotas.ts checks before anything is registered.
import type { FirewallIntent } from "../core/firewallIntents";

/** Entries EC2 accepts in one request to create or modify a managed prefix list. */
export const PREFIX_LIST_MAX_ENTRIES = 100;

/** Part of a set of nodes some intent admits, rendered as one managed prefix list. */
export interface NodeList {
  /** Resource-name suffix: the set's key (`nodes`: every node, `control-planes`, or `set-<i>`) for its first hundred nodes, `<set>-part<n>` for the n-th hundred. */
  readonly key: string;
  /** The key of the whole set (its first part's key). */
  readonly set: string;
  /** At most PREFIX_LIST_MAX_ENTRIES nodes, in the cluster's order. */
  readonly nodes: readonly string[];
}

export type IngressSource = { readonly kind: "prefixList"; readonly list: NodeList } | { readonly kind: "cidr"; readonly cidr: string };

export interface AwsIngressRule {
  /** Suffix for the resource name: `<intent>`, `<intent>-part<n>` or `<intent>-cidr<i>`. */
  readonly key: string;
  /** The id of the intent it renders. */
  readonly intent: string;
  readonly description: string;
  readonly ipProtocol: "tcp" | "udp" | "icmp";
  /** For ICMP AWS reads fromPort as the type and toPort as the code. */
  readonly fromPort: number;
  readonly toPort: number;
  readonly source: IngressSource;
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((n) => b.includes(n));

/**
 * The distinct node sets the intents admit, named after what they hold, each in parts of at most
 * a hundred nodes in the cluster's order. A node removed from the middle moves each later part's
 * boundary by one: every part still changes by at most a hundred entries either way.
 */
export function nodeLists(intents: readonly FirewallIntent[], allNodes: readonly string[], controlPlanes: readonly string[]): NodeList[] {
  const sets: { key: string; nodes: readonly string[] }[] = [];
  for (const intent of intents) {
    if (intent.source.kind !== "nodes") continue;
    const nodes = intent.source.nodes;
    if (sets.some((l) => sameSet(l.nodes, nodes))) continue;
    const key = sameSet(nodes, allNodes) ? "nodes" : sameSet(nodes, controlPlanes) ? "control-planes" : `set-${sets.length}`;
    sets.push({ key, nodes: [...nodes] });
  }
  return sets.flatMap(({ key, nodes }) =>
    Array.from({ length: Math.max(1, Math.ceil(nodes.length / PREFIX_LIST_MAX_ENTRIES)) }, (_, i) => ({
      key: i === 0 ? key : `${key}-part${i + 1}`,
      set: key,
      nodes: nodes.slice(i * PREFIX_LIST_MAX_ENTRIES, (i + 1) * PREFIX_LIST_MAX_ENTRIES),
    })),
  );
}

/** The parts of the set that holds exactly these nodes. */
function partsOf(lists: readonly NodeList[], nodes: readonly string[]): NodeList[] {
  for (const set of new Set(lists.map((l) => l.set))) {
    const parts = lists.filter((l) => l.set === set);
    if (
      sameSet(
        parts.flatMap((l) => l.nodes),
        nodes,
      )
    )
      return parts;
  }
  return [];
}

export function renderAwsIngress(intents: readonly FirewallIntent[], lists: readonly NodeList[]): AwsIngressRule[] {
  return intents.flatMap((intent): AwsIngressRule[] => {
    const [fromPort, toPort] = intent.protocol === "icmp" ? [intent.icmp?.type ?? -1, intent.icmp?.code ?? -1] : [intent.ports!.start, intent.ports!.end];
    const base = { intent: intent.id, description: intent.description, ipProtocol: intent.protocol, fromPort, toPort };
    if (intent.source.kind === "nodes") {
      const parts = partsOf(lists, intent.source.nodes);
      if (parts.length === 0) throw new Error(`no prefix list holds the sources of intent ${intent.id}`);
      // The first part's rule keeps the name it had before lists were split.
      return parts.map((list, i) => ({ ...base, key: i === 0 ? intent.id : `${intent.id}-part${i + 1}`, source: { kind: "prefixList", list } }));
    }
    return intent.source.cidrs.map((cidr, i) => ({ ...base, key: `${intent.id}-cidr${i}`, source: { kind: "cidr", cidr } }));
  });
}

/** Rules the group counts against "Inbound or outbound rules per security group". */
export function ruleWeight(rules: readonly AwsIngressRule[]): number {
  return rules.reduce((sum, r) => sum + (r.source.kind === "prefixList" ? maxEntries(r.source.list) : 1), 0);
}

/** A list's max entries: exactly its nodes (AWS resizes a list in place when nodes are added). */
export const maxEntries = (list: NodeList): number => Math.max(1, list.nodes.length);
