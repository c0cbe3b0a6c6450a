// Normalises the ingress rules of every firewall flavour we know into one shape:
// AWS SecurityGroup inline `ingress[]`, ec2.SecurityGroupRule (type ingress),
// vpc.SecurityGroupIngressRule, and GCP compute.Firewall (direction INGRESS, `allows[]`).
// Egress rules are out of scope: they cannot admit traffic into a node.
import { ALL_PORTS, parsePorts, type PortRange } from "./ports";
import { TYPES, type Res } from "./resources";
import { isUnknown, UNKNOWN, type Unknown } from "./unknowns";
import { asArray, asBool, asString, at } from "./values";

/** A reference to an AWS security group: its id when known, and/or the URNs it depends on. */
export interface GroupRef {
  id?: string;
  urns: string[];
}

export type Source =
  | { kind: "cidr"; cidr: string }
  | { kind: "prefix-list"; id: string }
  | { kind: "self" }
  | { kind: "group"; ref: GroupRef }
  | { kind: "tag"; tag: string }
  | { kind: "service-account"; account: string }
  | { kind: "unknown"; what: string };

export type Target =
  | { cloud: "aws"; group: GroupRef }
  | { cloud: "gcp"; tags: string[] | Unknown; serviceAccounts: string[] | Unknown };

export interface IngressRule {
  origin: Res;
  /** Where in `origin` the rule sits, for messages ("ingress[1]", "allows[0]", "" for a rule resource). */
  field: string;
  target: Target;
  /** tcp, udp, icmp, icmpv6, all, or another protocol name/number as written. */
  protocol: string | Unknown;
  ports: PortRange[] | Unknown;
  sources: Source[];
}

const PROTOCOLS: Record<string, string> = { "-1": "all", all: "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "icmpv6": "icmpv6", "ipv6-icmp": "icmpv6" };

export function normaliseProtocol(value: unknown): string | Unknown {
  const p = asString(value);
  if (isUnknown(p)) return UNKNOWN;
  const lower = (p ?? "all").trim().toLowerCase();
  return PROTOCOLS[lower] ?? lower;
}

function awsPorts(protocol: string | Unknown, from: unknown, to: unknown): PortRange[] | Unknown {
  if (protocol !== "tcp" && protocol !== "udp") return [ALL_PORTS];
  if (isUnknown(from) || isUnknown(to)) return UNKNOWN;
  const f = Number(from ?? 0);
  const t = Number(to ?? f);
  // AWS spells "all ports" as 0-0, -1/-1 or 0-65535.
  if (f <= 0 && t <= 0) return [ALL_PORTS];
  return [{ from: Math.max(f, 0), to: Math.min(t < 0 ? 65535 : t, 65535) }];
}

function strings(value: unknown, what: string, kind: "cidr" | "prefix-list" | "tag" | "service-account"): Source[] {
  const list = asArray(value);
  if (isUnknown(list)) return [{ kind: "unknown", what }];
  return list.map((item): Source => {
    if (typeof item !== "string") return { kind: "unknown", what };
    if (kind === "cidr") return { kind, cidr: item };
    if (kind === "prefix-list") return { kind, id: item };
    if (kind === "tag") return { kind, tag: item };
    return { kind, account: item };
  });
}

function groupRef(id: unknown, urns: string[] | undefined): GroupRef {
  return { id: typeof id === "string" ? id : undefined, urns: urns ?? [] };
}

function selfGroup(sg: Res): GroupRef {
  return groupRef(sg.props["id"], [sg.urn]);
}

function awsInline(sg: Res): IngressRule[] {
  const ingress = asArray(sg.props["ingress"]);
  if (isUnknown(ingress)) {
    return [{ origin: sg, field: "ingress", target: { cloud: "aws", group: selfGroup(sg) }, protocol: UNKNOWN, ports: UNKNOWN, sources: [] }];
  }
  return ingress.map((rule, i) => {
    const protocol = normaliseProtocol(at(rule, "protocol"));
    const sources: Source[] = [
      ...strings(at(rule, "cidrBlocks"), `ingress[${i}].cidrBlocks`, "cidr"),
      ...strings(at(rule, "ipv6CidrBlocks"), `ingress[${i}].ipv6CidrBlocks`, "cidr"),
      ...strings(at(rule, "prefixListIds"), `ingress[${i}].prefixListIds`, "prefix-list"),
    ];
    const groups = asArray(at(rule, "securityGroups"));
    if (isUnknown(groups)) sources.push({ kind: "unknown", what: `ingress[${i}].securityGroups` });
    // Inline rules cannot carry per-rule dependencies, so the SG's own dependencies on
    // `ingress` are the candidates for an id that is unknown at preview.
    else for (const g of groups) sources.push({ kind: "group", ref: groupRef(g, isUnknown(g) ? sg.propertyDependencies["ingress"] : undefined) });
    const self = asBool(at(rule, "self"));
    if (self === true) sources.push({ kind: "self" });
    else if (isUnknown(self)) sources.push({ kind: "unknown", what: `ingress[${i}].self` });
    return { origin: sg, field: `ingress[${i}]`, target: { cloud: "aws", group: selfGroup(sg) }, protocol, ports: awsPorts(protocol, at(rule, "fromPort"), at(rule, "toPort")), sources };
  });
}

function awsRuleResource(r: Res): IngressRule[] {
  const p = r.props;
  const modern = r.type === TYPES.awsIngressRule;
  if (!modern && asString(p["type"]) !== "ingress") return [];
  const protocol = normaliseProtocol(modern ? p["ipProtocol"] : p["protocol"]);
  const sources: Source[] = modern
    ? [
      ...(p["cidrIpv4"] !== undefined ? strings([p["cidrIpv4"]], "cidrIpv4", "cidr") : []),
      ...(p["cidrIpv6"] !== undefined ? strings([p["cidrIpv6"]], "cidrIpv6", "cidr") : []),
      ...(p["prefixListId"] !== undefined ? strings([p["prefixListId"]], "prefixListId", "prefix-list") : []),
    ]
    : [
      ...strings(p["cidrBlocks"], "cidrBlocks", "cidr"),
      ...strings(p["ipv6CidrBlocks"], "ipv6CidrBlocks", "cidr"),
      ...strings(p["prefixListIds"], "prefixListIds", "prefix-list"),
    ];
  const refKey = modern ? "referencedSecurityGroupId" : "sourceSecurityGroupId";
  if (p[refKey] !== undefined) sources.push({ kind: "group", ref: groupRef(p[refKey], r.propertyDependencies[refKey]) });
  const self = asBool(p["self"]);
  if (self === true) sources.push({ kind: "self" });
  const target: Target = { cloud: "aws", group: groupRef(p["securityGroupId"], r.propertyDependencies["securityGroupId"]) };
  return [{ origin: r, field: "", target, protocol, ports: awsPorts(protocol, p["fromPort"], p["toPort"]), sources }];
}

function gcpFirewall(fw: Res): IngressRule[] {
  const p = fw.props;
  const direction = asString(p["direction"]);
  if (asBool(p["disabled"]) === true || (typeof direction === "string" && direction.toUpperCase() !== "INGRESS")) return [];
  const tags = asArray(p["targetTags"]);
  const accounts = asArray(p["targetServiceAccounts"]);
  const target: Target = {
    cloud: "gcp",
    tags: isUnknown(tags) ? UNKNOWN : tags.filter((t): t is string => typeof t === "string"),
    serviceAccounts: isUnknown(accounts) ? UNKNOWN : accounts.filter((t): t is string => typeof t === "string"),
  };
  const sources: Source[] = [
    ...strings(p["sourceRanges"], "sourceRanges", "cidr"),
    ...strings(p["sourceTags"], "sourceTags", "tag"),
    ...strings(p["sourceServiceAccounts"], "sourceServiceAccounts", "service-account"),
  ];
  // GCP: an ingress rule without any source applies to every source (0.0.0.0/0).
  if (sources.length === 0) sources.push({ kind: "cidr", cidr: "0.0.0.0/0" });
  const allows = asArray(p["allows"]);
  if (isUnknown(allows)) return [{ origin: fw, field: "allows", target, protocol: UNKNOWN, ports: UNKNOWN, sources }];
  return allows.map((allow, i) => {
    const protocol = normaliseProtocol(at(allow, "protocol"));
    const portList = asArray(at(allow, "ports"));
    let ports: PortRange[] | Unknown;
    if (isUnknown(portList) || portList.some(isUnknown)) ports = UNKNOWN;
    else ports = portList.length === 0 ? [ALL_PORTS] : parsePorts(portList.map(String));
    return { origin: fw, field: `allows[${i}]`, target, protocol, ports, sources };
  });
}

/** Every ingress rule a resource defines (none for non-firewall resources). */
export function ingressRules(r: Res): IngressRule[] {
  switch (r.type) {
    case TYPES.awsSecurityGroup: return awsInline(r);
    case TYPES.awsSecurityGroupRule:
    case TYPES.awsIngressRule: return awsRuleResource(r);
    case TYPES.gcpFirewall: return gcpFirewall(r);
    default: return [];
  }
}
