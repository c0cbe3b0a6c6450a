// The GCP firewall of the pool's nodes: the cluster's firewall intents rendered per role
// (./firewallRules.ts: one rule per role and intent, every source node a range of it, so the rule
// count is flat in the node count), as rules of the nodes' network, children of the pool.
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { intentsFor, type FirewallIntent } from "../core/firewallIntents";
import type { NodeSpec } from "../core/nodes";
import { renderGcpFirewall } from "./firewallRules";

export interface GcpFirewallArgs {
  readonly clusterName: string;
  readonly network: gcp.compute.Network;
  /** The pool's nodes. */
  readonly nodes: readonly NodeSpec[];
  readonly intents: readonly FirewallIntent[];
  /** Every node's static public IPv4, in any cloud. */
  readonly addresses: Readonly<Record<string, pulumi.Output<string>>>;
}

export function gcpFirewall(name: string, args: GcpFirewallArgs, opts: pulumi.CustomResourceOptions): gcp.compute.Firewall[] {
  const roles = [...new Set(args.nodes.map((n) => n.role))];
  return roles.flatMap((role) => {
    const ofRole = args.nodes.filter((n) => n.role === role).map((n) => n.name);
    const rules = renderGcpFirewall(args.clusterName, role, intentsFor(args.intents, ofRole), args.addresses, (a) => pulumi.interpolate`${a}/32`);
    return rules.map(
      (rule) =>
        new gcp.compute.Firewall(
          `${name}-${rule.key}`,
          {
            name: `${args.clusterName}-${rule.key}`,
            network: args.network.id,
            direction: "INGRESS",
            description: rule.description,
            allows: [rule.allow],
            sourceRanges: rule.sourceRanges,
            targetTags: [rule.targetTag],
          },
          opts,
        ),
    );
  });
}
