// Renders cloud-agnostic firewall intents into AWS security-group ingress rules, one rule
// per (intent, source) so each admitted peer is visible and removable on its own.
import type * as pulumi from "@pulumi/pulumi";
import type { FirewallIntent } from "../cluster/firewallIntents";

export interface AwsIngressRule {
  /** Suffix for the resource name: `<intent>-<source>`. */
  readonly key: string;
  readonly description: string;
  readonly ipProtocol: "tcp" | "udp" | "icmp";
  /** For ICMP AWS reads fromPort as the type and toPort as the code. */
  readonly fromPort: number;
  readonly toPort: number;
  readonly cidrIpv4: pulumi.Input<string>;
}

export function renderAwsIngress(
  intents: readonly FirewallIntent[],
  addressOf: Readonly<Record<string, pulumi.Input<string>>>,
  toCidr: (address: pulumi.Input<string>) => pulumi.Input<string>,
): AwsIngressRule[] {
  return intents.flatMap((intent) => {
    const [fromPort, toPort] = intent.protocol === "icmp"
      ? [intent.icmp?.type ?? -1, intent.icmp?.code ?? -1]
      : [intent.ports!.from, intent.ports!.to];
    const sources: { key: string; cidr: pulumi.Input<string> }[] = intent.source.kind === "nodes"
      ? intent.source.nodes.map((n) => ({ key: n, cidr: toCidr(addressOf[n]) }))
      : intent.source.cidrs.map((c, i) => ({ key: `cidr${i}`, cidr: c }));
    return sources.map((s) => ({
      key: `${intent.id}-${s.key}`,
      description: intent.description,
      ipProtocol: intent.protocol,
      fromPort,
      toPort,
      cidrIpv4: s.cidr,
    }));
  });
}
