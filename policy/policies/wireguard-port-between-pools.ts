// Every node admits WireGuard's UDP port from every
// other node's peer address. Nodes reach each other through their static public addresses (see
// lib/node-addresses.ts), which security-group references, `self` and GCP tags never match (those
// match VPC-private addresses only), so only address sources count: a CIDR that contains the
// sending node's address. With `peerAddresses: private` (nodes in one VPC network) group, self,
// tag and service-account sources count too. Node addresses are unknown at a first preview, so
// the check is "could not be checked" there and decided at `pulumi up` and every later preview.
import type { StackValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import * as ipaddr from "ipaddr.js";
import { hostAddress, parseCidr } from "../lib/cidr";
import { policyConfig, roleFields, wireguardPortField } from "../lib/config";
import { firewallContext, type NodeInfo } from "../lib/firewall-scope";
import { includesPort } from "../lib/ports";
import { fromPolicyResource, label, type Res } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";

const NAME = "wireguard-port-between-pools";
const schema = z.object({
  ...wireguardPortField,
  ...roleFields,
});
export type WireguardPortBetweenPoolsConfig = z.infer<typeof schema>;
const config = policyConfig(schema);

/** What a node's firewalls admit on the WireGuard port. */
interface Admission {
  hosts: Set<string>;
  ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;
  groups: Set<Res>;
  tags: Set<string>;
  accounts: Set<string>;
  undecided: string[];
}

function admits(a: Admission, from: NodeInfo, address: ipaddr.IPv4 | ipaddr.IPv6, privateMode: boolean): boolean {
  if (a.hosts.has(address.toString()) || a.ranges.some((r) => r[0].kind() === address.kind() && address.match(r))) return true;
  if (!privateMode) return false;
  return (
    from.groups.some((g) => a.groups.has(g)) ||
    (Array.isArray(from.gcpTags) && from.gcpTags.some((t) => a.tags.has(t))) ||
    (Array.isArray(from.gcpAccounts) && from.gcpAccounts.some((s) => a.accounts.has(s)))
  );
}

/** How messages name the nodes a set of firewalls guards: by security group or GCP tag. */
function poolName(n: NodeInfo): { name: string; urn?: string } {
  if (n.cloud === "aws" && n.groups.length > 0) {
    const gs = [...n.groups].sort((x, y) => x.urn.localeCompare(y.urn));
    return { name: gs.map((g) => `security group ${label(g)}`).join(" + "), urn: gs[0].urn };
  }
  const tags = Array.isArray(n.gcpTags) && n.gcpTags.length > 0 ? [...n.gcpTags].sort() : undefined;
  return { name: tags ? `GCP nodes tagged '${tags.join("', '")}'` : label(n.res) };
}

export const wireguardPortBetweenPools: StackValidationPolicy = {
  name: NAME,
  description: "UDP 51871 (WireGuard) must be admitted into every node from every other node's address, within and across pools and clouds.",
  enforcementLevel: "mandatory",
  configSchema: config.configSchema,
  remediationSteps:
    "On every node security group / GCP firewall add an ingress rule for UDP 51871 from each other node's static address (/32): " +
    "security-group references, self and tags match private addresses only, which nodes talking over public addresses never use.",
  validateStack: (args, reportViolation) => {
    const cfg = config.read(args, NAME);
    const ctx = firewallContext(args.resources.map(fromPolicyResource), cfg);
    const privateMode = cfg.peerAddresses === "private";
    const notes = new UnknownNotes();
    // Nodes behind the same rules form a pool: one admission per pool, judged once per sender.
    const rulesOf = new Map<NodeInfo, number[]>(ctx.nodes.map((n) => [n, []]));
    ctx.rules.forEach((rule, i) => {
      for (const n of ctx.nodesBehind(rule).nodes) rulesOf.get(n)!.push(i);
    });
    const pools = new Map<string, { members: NodeInfo[]; admission: Admission }>();
    for (const n of ctx.nodes) {
      const key = `${n.cloud}|${rulesOf.get(n)!.join(",")}`;
      const pool = pools.get(key) ?? { members: [], admission: admissionOf(rulesOf.get(n)!) };
      pool.members.push(n);
      pools.set(key, pool);
    }
    function admissionOf(indices: number[]): Admission {
      const a: Admission = { hosts: new Set(), ranges: [], groups: new Set(), tags: new Set(), accounts: new Set(), undecided: [] };
      for (const i of indices) {
        const rule = ctx.rules[i];
        const where = `${label(rule.origin)}${rule.field ? ` ${rule.field}` : ""}`;
        const { protocol, ports } = rule;
        if (isUnknown(protocol) || isUnknown(ports)) {
          a.undecided.push(`the protocol/ports of ${where}`);
          continue;
        }
        if ((protocol !== "udp" && protocol !== "all") || !includesPort(ports, cfg.wireguardPort)) continue;
        const self = rule.target.cloud === "aws" ? ctx.findGroup(rule.target.group) : undefined;
        for (const s of rule.sources.flatMap(ctx.expand)) {
          if (s.kind === "cidr") {
            const h = hostAddress(s.cidr);
            if (h) a.hosts.add(h);
            else {
              const r = parseCidr(s.cidr);
              if (r) a.ranges.push(r);
            }
          } else if (s.kind === "unknown") a.undecided.push(`${s.what} of ${where}`);
          else if (s.kind === "opaque") notes.notVisible(s.what);
          else if (s.kind === "self" && self) a.groups.add(self);
          else if (s.kind === "group") {
            const g = ctx.findGroup(s.ref);
            if (g) a.groups.add(g);
          } else if (s.kind === "tag") a.tags.add(s.tag);
          else if (s.kind === "service-account") a.accounts.add(s.account);
        }
      }
      return a;
    }
    const senders = ctx.nodes.map((n) => ({ n, parsed: n.addresses.flatMap((x) => (typeof x === "string" && ipaddr.isValid(x) ? [ipaddr.parse(x)] : [])) }));
    const missing: Array<{ pool: { name: string; urn?: string }; targets: string[]; from: string[] }> = [];
    for (const { members, admission: a } of pools.values()) {
      const from: string[] = [];
      for (const { n, parsed } of senders) {
        if (members.length === 1 && members[0] === n) continue;
        if (n.addresses.length === 0) {
          if (n.addressMissing) notes.notVisible(n.addressMissing);
          continue;
        }
        if (parsed.some((x) => admits(a, n, x, privateMode))) continue;
        if (parsed.length < n.addresses.length) {
          notes.add(`the address of ${label(n.res)}`);
          continue;
        }
        if (a.undecided.length > 0) {
          a.undecided.forEach((u) => notes.add(u));
          continue;
        }
        from.push(`'${n.res.name}' (${parsed.join(", ")})`);
      }
      if (from.length > 0) missing.push({ pool: poolName(members[0]), targets: members.map((m) => `'${m.res.name}'`), from });
    }
    for (const { pool, targets, from } of missing) {
      const list = (xs: string[], max: number) => `${xs.slice(0, max).join(", ")}${xs.length > max ? ` and ${xs.length - max} more` : ""}`;
      reportViolation(
        `UDP ${cfg.wireguardPort} is not admitted into ${pool.name} (node${targets.length > 1 ? "s" : ""} ${list(targets, 4)}) from ` +
          `${list(from, 6)}, so WireGuard tunnels between them cannot form ` +
          `and traffic may fall back to the clear; add ingress rules for UDP ${cfg.wireguardPort} from those nodes' addresses.`,
        pool.urn,
      );
    }
    notes.finish();
  },
};
