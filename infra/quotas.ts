// Quota arithmetic, done on the stack config before anything is registered: what the
// stack's resources count against each cloud quota, and, where that exceeds what the stack
// config says is available, a problem naming the exact quota to request. Resource counts
// are flat in the node count (prefix lists on AWS, many source ranges per GCP rule); what
// grows is the weight AWS gives a prefix list and the number of static addresses. WireGuard from
// every node is most of that weight on AWS (and one of the two rules whose sources grow on GCP):
// where it alone passes a limit no quota request can raise, the fix named is
// cluster.wireguardFrom: anywhere (one source, weight 1).
import type { StackConfig } from "./configSchema";
import { computeFirewallIntents, intentsFor, type FirewallIntent } from "../components/core/firewallIntents";
import { isControlPlane, type NodeSpec } from "../components/core/nodes";
import { nodeLists, renderAwsIngress, ruleWeight } from "../components/aws/securityRules";

type KeyFn = (path: readonly PropertyKey[]) => string;

/** AWS: rules per group times groups per network interface may not exceed 1000 (not adjustable). */
export const AWS_MAX_RULES_PER_INTERFACE = 1000;
/** GCP: source ranges one VPC firewall rule may hold (a system limit, not adjustable). */
export const GCP_MAX_SOURCE_RANGES = 5000;

interface GroupWeight {
  readonly role: string;
  readonly weight: number;
  /** What the group's WireGuard rules weigh (its per-node prefix lists, or 1 from anywhere). */
  readonly wireguard: number;
  readonly breakdown: string;
}

const WIREGUARD_INTENT = "wireguard";

/** Inbound-rule weight of each AWS security group the cluster's intents render (one per role present in AWS). */
function awsGroupWeights(intents: readonly FirewallIntent[], nodes: readonly NodeSpec[]): GroupWeight[] {
  const all = nodes.map((n) => n.name);
  const controlPlanes = nodes.filter(isControlPlane).map((n) => n.name);
  const lists = nodeLists(intents, all, controlPlanes);
  const awsNodes = nodes.filter((n) => n.cloud === "aws");
  return [...new Set(awsNodes.map((n) => n.role))].map((role) => {
    const rules = renderAwsIngress(
      intentsFor(
        intents,
        awsNodes.filter((n) => n.role === role).map((n) => n.name),
      ),
      lists,
    );
    const breakdown = rules.map((r) => `${r.key} ${r.source.kind === "prefixList" ? ruleWeight([r]) : 1}`).join(", ");
    const wireguard = ruleWeight(rules.filter((r) => r.intent === WIREGUARD_INTENT));
    return { role, weight: ruleWeight(rules), wireguard, breakdown };
  });
}

/** What the Cluster will render (../components/cluster/cluster.ts: the same intents from the same nodes) against each cloud's quotas. */
export function checkQuotas(config: StackConfig, nodes: readonly NodeSpec[], key: KeyFn): string[] {
  const intents = computeFirewallIntents(nodes, config.cluster.adminCidrs, config.cluster.wireguardFrom);
  return [...(config.aws ? checkAws(config, intents, nodes, key) : []), ...(config.gcp ? checkGcp(config, intents, nodes, key) : [])];
}

function checkAws(config: StackConfig, intents: readonly FirewallIntent[], nodes: readonly NodeSpec[], key: KeyFn): string[] {
  const aws = config.aws!;
  const problems: string[] = [];
  const quotaKey = key(["aws", "quotas", "rulesPerSecurityGroup"]);
  for (const g of awsGroupWeights(intents, nodes)) {
    if (g.weight > AWS_MAX_RULES_PER_INTERFACE) {
      // From anywhere, the group's WireGuard rules weigh 1 in all.
      const anywhere = g.weight - g.wireguard + 1;
      const fix =
        g.wireguard > 1
          ? `set ${key(["cluster", "wireguardFrom"])}: anywhere (WireGuard from 0.0.0.0/0 weighs 1 rule instead of ${g.wireguard}: ${anywhere} in all${anywhere > AWS_MAX_RULES_PER_INTERFACE ? ", still too many: use fewer nodes as well" : ""})`
          : "use fewer nodes";
      problems.push(
        `${quotaKey}: the ${g.role} security group needs ${g.weight} inbound rules (${g.breakdown}; a prefix list counts as its max entries), more than AWS allows on one network interface (${AWS_MAX_RULES_PER_INTERFACE}, not adjustable); ${fix}`,
      );
    } else if (g.weight > aws.quotas.rulesPerSecurityGroup) {
      problems.push(
        `${quotaKey}: the ${g.role} security group needs ${g.weight} inbound rules (${g.breakdown}; a prefix list counts as its max entries), more than the ${aws.quotas.rulesPerSecurityGroup} this stack may use; ` +
          `request the AWS quota "Inbound or outbound rules per security group" (Service Quotas, service code vpc, quota code L-0EA8095F) of at least ${g.weight} in ${aws.region}, then set ${quotaKey}: ${g.weight}`,
      );
    }
  }
  const eips = nodes.filter((n) => n.cloud === "aws").length;
  if (eips > aws.quotas.elasticIps) {
    const eipKey = key(["aws", "quotas", "elasticIps"]);
    problems.push(
      `${eipKey}: ${eips} AWS nodes need ${eips} Elastic IPs, more than the ${aws.quotas.elasticIps} this stack may use; ` +
        `request the AWS quota "EC2-VPC Elastic IPs" (Service Quotas, service code ec2, quota code L-0263D0A3) of at least ${eips} plus what the account already uses in ${aws.region}, then set ${eipKey}: ${eips}`,
    );
  }
  return problems;
}

function checkGcp(config: StackConfig, intents: readonly FirewallIntent[], nodes: readonly NodeSpec[], key: KeyFn): string[] {
  const gcp = config.gcp!;
  const problems: string[] = [];
  const gcpNodes = nodes.filter((n) => n.cloud === "gcp");
  const rules = [...new Set(gcpNodes.map((n) => n.role))].flatMap((role) =>
    intentsFor(
      intents,
      gcpNodes.filter((n) => n.role === role).map((n) => n.name),
    ),
  );
  if (rules.length > gcp.quotas.firewallRules) {
    const k = key(["gcp", "quotas", "firewallRules"]);
    problems.push(
      `${k}: the stack needs ${rules.length} VPC firewall rules, more than the ${gcp.quotas.firewallRules} it may use; request the Compute Engine quota "Firewall rules" (FIREWALLS) for project ${gcp.project} of at least ${rules.length} plus what the project already uses, then set ${k}: ${rules.length}`,
    );
  }
  for (const intent of rules) {
    const ranges = intent.source.kind === "nodes" ? intent.source.nodes.length : intent.source.cidrs.length;
    if (ranges > GCP_MAX_SOURCE_RANGES) {
      // WireGuard's sources are the one set that may be "anywhere"; the bootstrap ports' stay per node.
      const fix =
        intent.id === WIREGUARD_INTENT && intent.source.kind === "nodes"
          ? `set ${key(["cluster", "wireguardFrom"])}: anywhere (WireGuard from 0.0.0.0/0: one source range)`
          : "use fewer nodes";
      problems.push(
        `${key(["gcp", "pools"])}: the ${intent.id} firewall rule would need ${ranges} source ranges, more than a GCP firewall rule may hold (${GCP_MAX_SOURCE_RANGES}, a system limit that cannot be raised); ${fix}`,
      );
    }
  }
  if (gcpNodes.length > gcp.quotas.staticAddresses) {
    const k = key(["gcp", "quotas", "staticAddresses"]);
    problems.push(
      `${k}: ${gcpNodes.length} GCP nodes need ${gcpNodes.length} static external addresses, more than the ${gcp.quotas.staticAddresses} this stack may use; request the Compute Engine quota "Static IP addresses" (STATIC_ADDRESSES) in ${gcp.region} for project ${gcp.project} of at least ${gcpNodes.length} plus what the project already uses, then set ${k}: ${gcpNodes.length}`,
    );
  }
  return problems;
}
