// Advisory: WireGuard's UDP port admitted from more than the nodes. WireGuard
// drops every packet not from a configured peer key, so this is exposure rather than cleartext,
// but a node firewall should admit UDP 51871 only from node addresses (/32, /128), or from
// groups, tags and service accounts that nodes carry. One exception, the large-cluster mode
// (wg-mesh-cluster's cluster.wireguardFrom: anywhere): a rule from 0.0.0.0/0 or ::/0 that admits
// UDP 51871 and nothing else, since per-node sources stop fitting the clouds' firewall limits and
// WireGuard answers no unauthenticated packet. Anything wider from anywhere (a UDP range, all UDP,
// other ports or protocols in the same rule) and any other range stay reported.
import type { StackValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { hostAddress, isEverywhere } from "../lib/cidr";
import { policyConfig, roleFields, wireguardPortField } from "../lib/config";
import { admitsOnlyPort, describeAdmission, firewallContext, rulesAdmitting } from "../lib/firewall-scope";
import { fromPolicyResource } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";

const NAME = "wireguard-port-from-nodes-only";
const schema = z.object({
  ...wireguardPortField,
  ...roleFields,
});
export type WireguardPortFromNodesOnlyConfig = z.infer<typeof schema>;
const config = policyConfig(schema);

export const wireguardPortFromNodesOnly: StackValidationPolicy = {
  name: NAME,
  description:
    "UDP 51871 (WireGuard) should be admitted only from node addresses, or from anywhere by a rule that admits UDP 51871 alone (large-cluster mode).",
  enforcementLevel: "advisory",
  configSchema: config.configSchema,
  remediationSteps:
    "Admit UDP 51871 from each node's own address (/32), not from ranges; or, for a cluster too large for per-node sources, " +
    "from 0.0.0.0/0 (or ::/0) in a rule that admits UDP 51871 alone: one port, no other port or protocol.",
  validateStack: (args, reportViolation) => {
    const cfg = config.read(args, NAME);
    const ctx = firewallContext(args.resources.map(fromPolicyResource), cfg);
    const notes = new UnknownNotes();
    const wg = [{ from: cfg.wireguardPort, to: cfg.wireguardPort }];
    for (const { rule, where } of rulesAdmitting(ctx, "udp", wg, notes)) {
      const strangers: string[] = [];
      for (const s of rule.sources.flatMap(ctx.expand)) {
        const via = s.via ? ` (in ${s.via})` : "";
        switch (s.kind) {
          case "cidr": {
            if (isEverywhere(s.cidr)) {
              const only = admitsOnlyPort(ctx, rule, "udp", cfg.wireguardPort);
              if (isUnknown(only)) notes.add(`whether ${where} admits UDP ${cfg.wireguardPort} alone`);
              else if (!only)
                strangers.push(
                  `the range ${s.cidr}${via} (the rule admits ${describeAdmission(ctx, rule)} from it; anywhere is accepted only for UDP ${cfg.wireguardPort} alone)`,
                );
              break;
            }
            const host = hostAddress(s.cidr);
            if (host === undefined) strangers.push(`the range ${s.cidr}${via}`);
            else if (!ctx.nodeAt(host)) {
              if (ctx.addressesPending) notes.add(`whether ${s.cidr}${via} is a node's address`);
              else strangers.push(`${s.cidr}${via} (no node's address)`);
            }
            break;
          }
          case "group": {
            const g = ctx.findGroup(s.ref);
            if (!g) {
              if (s.ref.id !== undefined) notes.notVisible(`the members of security group ${s.ref.id} (not in this stack)`);
              else notes.add(`a security group referenced by ${where}`);
            } else if (!ctx.nodes.some((n) => n.groups.includes(g))) strangers.push(`security group '${g.name}' (no node in it)`);
            break;
          }
          case "tag":
            if (!ctx.nodes.some((n) => Array.isArray(n.gcpTags) && n.gcpTags.includes(s.tag))) strangers.push(`tag '${s.tag}' (no node carries it)`);
            break;
          case "external":
            strangers.push(s.what);
            break;
          case "opaque":
            notes.notVisible(s.what);
            break;
          case "unknown":
            notes.add(`${s.what} of ${where}`);
            break;
          default:
            break; // self, service accounts: nodes' own identities
        }
      }
      if (strangers.length > 0) {
        reportViolation(
          `${where}: admits UDP ${cfg.wireguardPort} (WireGuard) from ${strangers.join(", ")}, not only from nodes; ` +
            `WireGuard drops packets without a peer key, but admit it only from the nodes' addresses (or, for a large cluster, from anywhere in a rule that admits UDP ${cfg.wireguardPort} alone).`,
          rule.origin.urn,
        );
      }
    }
    notes.finish();
  },
};
