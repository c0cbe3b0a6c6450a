// Issue item 4 (stack): WireGuard's UDP port is open between every pair of node pools (both
// directions, and within a pool). A pool is an AWS node security group or a GCP role tag. A rule
// counts when its source can include the other pool: the same group (self), a reference to it,
// its GCP tag, or an address range: within one cloud a range that may hold private (InternalIP)
// addresses or the static public address of a node of that cloud (this project's InternalIPs),
// across clouds any range. Ranges are not matched against node IPs, which are unknown at
// preview; cross-cloud pools can only be reached through address ranges.
import type { StackValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { mayHoldPrivateAddresses } from "../lib/cidr";
import { policyConfig, roleFields } from "../lib/config";
import { ingressRules, type IngressRule, type Source } from "../lib/firewall";
import { firewallContext, type FirewallContext } from "../lib/firewall-scope";
import { includesPort } from "../lib/ports";
import { fromPolicyResource, label, TYPES, type Res } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";

const NAME = "wireguard-port-between-pools";
const schema = z.object({
  wireguardPort: z.number().int().min(1).max(65535).default(51871).describe("Cilium's WireGuard UDP port"),
  ...roleFields,
});
export type WireguardPortBetweenPoolsConfig = z.infer<typeof schema>;
const config = policyConfig(schema);

type Pool = { cloud: "aws"; sg: Res } | { cloud: "gcp"; tag: string };

const poolName = (p: Pool): string => (p.cloud === "aws" ? `security group ${label(p.sg)}` : p.tag === "*" ? "GCP instances" : `GCP nodes tagged '${p.tag}'`);

function targets(rule: IngressRule, pool: Pool, ctx: FirewallContext): boolean {
  if (pool.cloud === "aws") {
    if (rule.target.cloud !== "aws") return false;
    return rule.origin.type === TYPES.awsSecurityGroup ? rule.origin === pool.sg : ctx.findGroup(rule.target.group) === pool.sg;
  }
  if (rule.target.cloud !== "gcp") return false;
  const tags = rule.target.tags;
  return isUnknown(tags) || tags.length === 0 || pool.tag === "*" || tags.includes(pool.tag);
}

function admitsFrom(s: Source, from: Pool, to: Pool, ctx: FirewallContext): boolean {
  switch (s.kind) {
    // Same cloud: peers use private addresses, or their static public address in that cloud.
    case "cidr": return from.cloud !== to.cloud || mayHoldPrivateAddresses(s.cidr) || ctx.addressCloud(String(s.cidr).replace(/\/(32|128)$/, "")) === from.cloud;
    case "prefix-list": case "unknown": return true;
    case "self": return from === to;
    case "group": return from.cloud === "aws" && (ctx.findGroup(s.ref) === from.sg || (ctx.findGroup(s.ref) === undefined && s.ref.urns.includes(from.sg.urn)));
    case "tag": return from.cloud === "gcp" && (from.tag === "*" || s.tag === from.tag);
    case "service-account": return from.cloud === "gcp";
  }
}

export const wireguardPortBetweenPools: StackValidationPolicy = {
  name: NAME,
  description: "UDP 51871 (WireGuard) must be open between all node pools, including within each pool and across clouds.",
  enforcementLevel: "mandatory",
  configSchema: config.configSchema,
  remediationSteps: "Add ingress rules for UDP 51871 on every node security group / GCP firewall from every node pool: self, the other pools' " +
    "security groups or tags, and the other cloud's node addresses.",
  validateStack: (args, reportViolation) => {
    const cfg = config.read(args, NAME);
    const resources = args.resources.map(fromPolicyResource);
    const ctx = firewallContext(resources, cfg);
    const pools: Pool[] = [...ctx.awsPools.map((sg): Pool => ({ cloud: "aws", sg })), ...ctx.gcpPools.map((tag): Pool => ({ cloud: "gcp", tag }))];
    const rules = resources.flatMap(ingressRules);
    const notes = new UnknownNotes();
    for (const to of pools) {
      const candidates = rules.filter((r) => targets(r, to, ctx));
      for (const from of pools) {
        let open = false;
        const undecided: string[] = [];
        for (const rule of candidates) {
          if (isUnknown(rule.protocol) || isUnknown(rule.ports)) { undecided.push(`protocol/ports of ${label(rule.origin)} ${rule.field}`); continue; }
          if (rule.protocol !== "udp" && rule.protocol !== "all") continue;
          if (!includesPort(rule.ports, cfg.wireguardPort)) continue;
          if (rule.sources.some((s) => admitsFrom(s, from, to, ctx))) { open = true; break; }
        }
        if (!open && undecided.length > 0) undecided.forEach((u) => notes.add(u));
        else if (!open) {
          reportViolation(`UDP ${cfg.wireguardPort} is not admitted from ${poolName(from)} to ${poolName(to)}, so WireGuard tunnels between them cannot form ` +
            `(and traffic may fall back to the clear); add an ingress rule for UDP ${cfg.wireguardPort} from that pool.`, to.cloud === "aws" ? to.sg.urn : undefined);
        }
      }
    }
    if (pools.length > 0) notes.finish();
  },
};
