// The AWS firewall of the nodes, rendered from the cluster's intents: managed prefix lists for
// each set of nodes an intent admits (their /32s, in either cloud; a list per hundred nodes,
// securityRules.ts says why), and one security group per role whose ingress rules reference those
// lists. Adding a node edits a list's entries (and max entries), and adds a rule per group only
// when it starts a new hundred.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { intentsFor, type FirewallIntent } from "../core/firewallIntents";
import { isControlPlane, type NodeRole, type NodeSpec } from "../core/nodes";
import { maxEntries, nodeLists, renderAwsIngress } from "./securityRules";
import { roleTagKey } from "./tags";

export interface AwsFirewallArgs {
  readonly clusterName: string;
  readonly vpcId: pulumi.Input<string>;
  /** Every node of the cluster, in both clouds (the lists hold their addresses). */
  readonly allNodes: readonly NodeSpec[];
  /** The AWS nodes (one group per role among them). */
  readonly nodes: readonly NodeSpec[];
  /** Every node's static public IPv4. */
  readonly addresses: Readonly<Record<string, pulumi.Output<string>>>;
  readonly intents: readonly FirewallIntent[];
  readonly tags: Readonly<Record<string, string>>;
}

export class AwsFirewall extends pulumi.ComponentResource {
  /** Security group id per role present among the AWS nodes. */
  public readonly securityGroupIds: Partial<Record<NodeRole, pulumi.Output<string>>>;
  /** Managed prefix list id per list key (`nodes`, `control-planes`, ...). */
  public readonly prefixListIds: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: AwsFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wg-mesh:aws:Firewall", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    const lists = nodeLists(
      args.intents,
      args.allNodes.map((n) => n.name),
      args.allNodes.filter(isControlPlane).map((n) => n.name),
    );
    this.prefixListIds = {};
    for (const list of lists) {
      this.prefixListIds[list.key] = new aws.ec2.ManagedPrefixList(
        `${name}-${list.key}`,
        {
          name: `${args.clusterName}-${list.key}`,
          addressFamily: "IPv4",
          maxEntries: maxEntries(list),
          entries: list.nodes.map((n) => ({ cidr: pulumi.interpolate`${args.addresses[n]}/32`, description: n })),
          tags: { ...tags, Name: `${args.clusterName}-${list.key}` },
        },
        parent,
      ).id;
    }
    this.securityGroupIds = {};
    for (const role of [...new Set(args.nodes.map((n) => n.role))]) {
      const groupName = `${name}-${role}`;
      const sg = new aws.ec2.SecurityGroup(
        groupName,
        {
          vpcId: args.vpcId,
          description: `${args.clusterName} ${role} nodes: WireGuard and control-plane bootstrap only`,
          tags: { ...tags, Name: groupName, [roleTagKey]: role },
        },
        parent,
      );
      // Egress stays open: nodes fetch packages and images, and reach cloud APIs.
      new aws.vpc.SecurityGroupEgressRule(
        `${groupName}-egress`,
        { securityGroupId: sg.id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", description: "all egress" },
        parent,
      );
      const ofRole = args.nodes.filter((n) => n.role === role).map((n) => n.name);
      for (const rule of renderAwsIngress(intentsFor(args.intents, ofRole), lists)) {
        new aws.vpc.SecurityGroupIngressRule(
          `${groupName}-${rule.key}`,
          {
            securityGroupId: sg.id,
            description: rule.description,
            ipProtocol: rule.ipProtocol,
            fromPort: rule.fromPort,
            toPort: rule.toPort,
            ...(rule.source.kind === "prefixList" ? { prefixListId: this.prefixListIds[rule.source.list.key] } : { cidrIpv4: rule.source.cidr }),
            tags,
          },
          parent,
        );
      }
      this.securityGroupIds[role] = sg.id;
    }
    this.registerOutputs({ securityGroupIds: this.securityGroupIds, prefixListIds: this.prefixListIds });
  }
}
