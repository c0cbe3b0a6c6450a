// Renders cloud-agnostic firewall intents into GCP firewall rules: one rule per (role,
// intent), aimed at the role's network tag, admitting only the intent's sources.
import type * as pulumi from "@pulumi/pulumi";
import { formatPorts, type FirewallIntent } from "../core/firewallIntents";
import type { NodeRole } from "../core/nodes";

export interface GcpFirewallRule {
  /** Suffix for names: `<role>-<intent>`. */
  readonly key: string;
  readonly description: string;
  readonly allow: { readonly protocol: string; readonly ports?: string[] };
  readonly sourceRanges: pulumi.Input<string>[];
  readonly targetTag: string;
}

export const roleTag = (clusterName: string, role: NodeRole): string => `${clusterName}-${role}`;

export function renderGcpFirewall(
  clusterName: string,
  role: NodeRole,
  intents: readonly FirewallIntent[],
  addressOf: Readonly<Record<string, pulumi.Input<string>>>,
  toCidr: (address: pulumi.Input<string>) => pulumi.Input<string>,
): GcpFirewallRule[] {
  return intents.map((intent) => ({
    key: `${role}-${intent.id}`,
    description: intent.description,
    // GCP firewalls cannot filter ICMP by type: ICMP as a whole is admitted for PMTU.
    allow: intent.protocol === "icmp" ? { protocol: "icmp" } : { protocol: intent.protocol, ports: [formatPorts([intent.ports!])] },
    sourceRanges: intent.source.kind === "nodes" ? intent.source.nodes.map((n) => toCidr(addressOf[n])) : [...intent.source.cidrs],
    targetTag: roleTag(clusterName, role),
  }));
}
