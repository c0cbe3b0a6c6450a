// Firewalls that guard nodes admit nothing that would travel between nodes in the clear (AWS
// security groups, default security groups and rule resources; GCP VPC firewalls and network
// firewall policies; lib/firewall*.ts says what is read, lib/firewall-scope.ts what guards nodes).
// Every source except an explicit admin CIDR is treated as possibly holding nodes (nodes in the
// other cloud reach us from public addresses, so even 0.0.0.0/0 "contains nodes"); such rules may
// admit only UDP <wireguardPort>, ICMP, and the TCP bootstrap ports towards control-plane nodes.
// Who may reach the bootstrap ports is judged by etcd-from-control-plane-only and
// api-server-not-public; WireGuard's sources by wireguard-port-from-nodes-only.
import type { StackValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { cidrCovers } from "../lib/cidr";
import { cidrList, policyConfig, portList, roleFields, wireguardPortField } from "../lib/config";
import { describeSources, type IngressRule } from "../lib/firewall";
import { firewallContext } from "../lib/firewall-scope";
import { formatPorts, includesPort, parsePorts, uncovered, type PortRange } from "../lib/ports";
import { fromPolicyResource, label } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";

const NAME = "underlay-firewall-rules";
const schema = z.object({
  ...wireguardPortField,
  bootstrapPorts: portList.default(["6443", "2379-2380"]).describe("TCP ports allowed towards control-plane nodes (API server, etcd)"),
  adminCidrs: cidrList.default([]).describe("Admin CIDRs (not nodes) that may reach adminPorts"),
  adminPorts: portList.default(["6443"]).describe("TCP ports admin CIDRs may reach"),
  ...roleFields,
});
export type UnderlayFirewallRulesConfig = z.infer<typeof schema>;
const config = policyConfig(schema);

export const underlayFirewallRules: StackValidationPolicy = {
  name: NAME,
  description: "Firewalls guarding nodes may admit only WireGuard (UDP 51871), ICMP, and TCP 6443/2379-2380 towards control-plane nodes.",
  enforcementLevel: "mandatory",
  configSchema: config.configSchema,
  remediationSteps:
    "Remove ingress rules for any other port or protocol (protocol all/-1, TCP 10250, SSH 22, ...) from node security groups and " +
    "GCP firewalls; open TCP 6443/2379-2380 only on groups tagged wg-mesh/role=control-plane (GCP: target tag <cluster>-control-plane); " +
    "list admin networks in adminCidrs to let them reach 6443.",
  validateStack: (args, reportViolation) => {
    const cfg = config.read(args, NAME);
    const resources = args.resources.map(fromPolicyResource);
    const ctx = firewallContext(resources, cfg);
    const bootstrap = parsePorts(cfg.bootstrapPorts);
    const adminPorts = parsePorts(cfg.adminPorts);
    const wg: PortRange[] = [{ from: cfg.wireguardPort, to: cfg.wireguardPort }];
    const notes = new UnknownNotes();
    const check = (rule: IngressRule): void => {
      if (ctx.guardsNodes(rule) === false) return;
      const where = `${label(rule.origin)}${rule.field ? ` ${rule.field}` : ""}`;
      const from = describeSources(rule.sources);
      const expanded = rule.sources.flatMap(ctx.expand);
      const adminOnly = expanded.length > 0 && expanded.every((s) => s.kind === "cidr" && cfg.adminCidrs.some((a) => cidrCovers(a, s.cidr)));
      const fail = (what: string, fix: string): void =>
        reportViolation(`${where}: admits ${what} from ${from}; traffic between nodes on it would cross the underlay unencrypted; ${fix}.`, rule.origin.urn);
      const { protocol, ports } = rule;
      if (isUnknown(protocol)) {
        notes.add(`the protocol of ${where}`);
        return;
      }
      if (protocol === "all") {
        fail("every protocol and port (protocol all/-1)", `allow only UDP ${cfg.wireguardPort}, ICMP and the TCP bootstrap ports`);
        return;
      }
      if (protocol === "icmp" || protocol === "icmpv6") return;
      if (protocol !== "tcp" && protocol !== "udp") {
        fail(`protocol ${protocol}`, "remove the rule");
        return;
      }
      if (isUnknown(ports)) {
        notes.add(`the ports of ${where}`);
        return;
      }
      if (protocol === "udp") {
        const extra = ports.flatMap((r) => uncovered(r, wg));
        if (extra.length > 0) fail(`UDP ${formatPorts(extra)}`, `narrow it to UDP ${cfg.wireguardPort}`);
        return;
      }
      const role = ctx.roleOf(rule);
      const base = adminOnly ? adminPorts : [];
      const extra = ports.flatMap((r) => uncovered(r, [...base, ...(role === "control-plane" || isUnknown(role) ? bootstrap : [])]));
      if (extra.length > 0) {
        const ssh = extra.some((r) => includesPort([r], 22)) ? " (SSH between nodes is never allowed)" : "";
        const bootstrapOnly = extra.every((r) => uncovered(r, bootstrap).length === 0);
        fail(
          `TCP ${formatPorts(extra)}${ssh}`,
          bootstrapOnly
            ? `the bootstrap ports are allowed only towards control-plane nodes; tag the target ${cfg.roleTagKey}=${cfg.controlPlaneRole} (GCP: target tag *${cfg.gcpControlPlaneTagSuffix}) if it is one, else remove the rule`
            : `remove these ports (only TCP ${formatPorts(bootstrap)} towards control-plane nodes, or ${formatPorts(adminPorts)} from adminCidrs)`,
        );
      } else if (isUnknown(role) && !adminOnly) notes.add(`the role tags of the group targeted by ${where}`);
    };
    for (const rule of ctx.rules) check(rule);
    // Nodes in a default network (whose pre-created rules the stack does not hold): nodes-not-in-default-network.
    notes.finish();
  },
};
