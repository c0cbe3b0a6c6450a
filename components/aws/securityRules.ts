// Renders cloud-agnostic firewall intents into AWS security-group ingress rules whose count
// does not grow with the cluster: every intent whose source is a set of nodes admits one
// managed prefix list (the nodes' /32s), so adding a node edits a list, never a group.
// AWS counts a referenced prefix list as its max entries against the group's rule quota;
// `weight` is that count, which infra/quotas.ts checks before anything is registered.
import type { FirewallIntent } from "../cluster/firewallIntents";

/** A set of nodes some intent admits, rendered as one managed prefix list. */
export interface NodeList {
  /** Resource-name suffix: `nodes` (every node), `control-planes`, or `set-<i>`. */
  readonly key: string;
  readonly nodes: readonly string[];
}

export type IngressSource = { readonly kind: "prefixList"; readonly list: NodeList } | { readonly kind: "cidr"; readonly cidr: string };

export interface AwsIngressRule {
  /** Suffix for the resource name: `<intent>` or `<intent>-cidr<i>`. */
  readonly key: string;
  readonly description: string;
  readonly ipProtocol: "tcp" | "udp" | "icmp";
  /** For ICMP AWS reads fromPort as the type and toPort as the code. */
  readonly fromPort: number;
  readonly toPort: number;
  readonly source: IngressSource;
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((n) => b.includes(n));

/** The distinct node sets the intents admit, named after what they hold. */
export function nodeLists(intents: readonly FirewallIntent[], allNodes: readonly string[], controlPlanes: readonly string[]): NodeList[] {
  const lists: NodeList[] = [];
  for (const intent of intents) {
    if (intent.source.kind !== "nodes") continue;
    const nodes = intent.source.nodes;
    if (lists.some((l) => sameSet(l.nodes, nodes))) continue;
    const key = sameSet(nodes, allNodes) ? "nodes" : sameSet(nodes, controlPlanes) ? "control-planes" : `set-${lists.length}`;
    lists.push({ key, nodes: [...nodes] });
  }
  return lists;
}

export function renderAwsIngress(intents: readonly FirewallIntent[], lists: readonly NodeList[]): AwsIngressRule[] {
  return intents.flatMap((intent): AwsIngressRule[] => {
    const [fromPort, toPort] = intent.protocol === "icmp"
      ? [intent.icmp?.type ?? -1, intent.icmp?.code ?? -1]
      : [intent.ports!.start, intent.ports!.end];
    const base = { description: intent.description, ipProtocol: intent.protocol, fromPort, toPort };
    if (intent.source.kind === "nodes") {
      const nodes = intent.source.nodes;
      const list = lists.find((l) => sameSet(l.nodes, nodes));
      if (!list) throw new Error(`no prefix list holds the sources of intent ${intent.id}`);
      return [{ ...base, key: intent.id, source: { kind: "prefixList", list } }];
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
