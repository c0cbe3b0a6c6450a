// AWS ingress rules: inline `ingress[]` of SecurityGroup and DefaultSecurityGroup (also as a
// refreshed state shows them: standalone rules copied in), ec2.SecurityGroupRule (type ingress)
// and vpc.SecurityGroupIngressRule.
import { normaliseProtocol, ref, type IngressRule, type Ref, type Source, type Target } from "./firewall-types";
import { ALL_PORTS, type PortRange } from "./ports";
import { TYPES, type Res } from "./resources";
import { isUnknown, UNKNOWN, type Unknown } from "./unknowns";
import { asArray, asBool, asString, at } from "./values";

function awsPorts(protocol: string | Unknown, from: unknown, to: unknown): PortRange[] | Unknown {
  if (protocol !== "tcp" && protocol !== "udp") return [ALL_PORTS];
  if (isUnknown(from) || isUnknown(to)) return UNKNOWN;
  const f = Number(from ?? 0);
  const t = Number(to ?? f);
  // AWS spells "all ports" as 0-0, -1/-1 or 0-65535.
  if (f <= 0 && t <= 0) return [ALL_PORTS];
  return [{ from: Math.max(f, 0), to: Math.min(t < 0 ? 65535 : t, 65535) }];
}

/** Sources from a list property; unknown items keep the URNs the property depends on. */
function listSources(value: unknown, what: string, deps: string[], make: (item: string) => Source): Source[] {
  const list = asArray(value);
  if (isUnknown(list)) return [{ kind: "unknown", what, deps }];
  return list.map((item): Source => (typeof item === "string" ? make(item) : { kind: "unknown", what, deps }));
}

const cidr = (c: string): Source => ({ kind: "cidr", cidr: c });

function inline(sg: Res): IngressRule[] {
  const self: Ref = ref(sg.props["id"], [sg.urn]);
  const target: Target = { cloud: "aws", group: self };
  const ingress = asArray(sg.props["ingress"]);
  const deps = sg.propertyDependencies["ingress"] ?? [];
  if (isUnknown(ingress))
    return [
      {
        origin: sg,
        field: "ingress (every inline rule)",
        entry: "ingress",
        target,
        protocol: UNKNOWN,
        ports: UNKNOWN,
        sources: [{ kind: "unknown", what: "ingress", deps }],
      },
    ];
  return ingress.map((rule, i) => {
    const f = `ingress[${i}]`;
    const protocol = normaliseProtocol(at(rule, "protocol"));
    const sources: Source[] = [
      ...listSources(at(rule, "cidrBlocks"), `${f}.cidrBlocks`, deps, cidr),
      ...listSources(at(rule, "ipv6CidrBlocks"), `${f}.ipv6CidrBlocks`, deps, cidr),
      // Inline rules carry no per-rule dependencies: the group's dependencies on `ingress` are
      // the candidates for a value that is unknown at preview.
      ...listSources(at(rule, "prefixListIds"), `${f}.prefixListIds`, deps, (id) => ({ kind: "prefix-list", ref: { id, urns: [] } })),
      ...listSources(at(rule, "securityGroups"), `${f}.securityGroups`, deps, (id) => ({ kind: "group", ref: { id, urns: [] } })),
    ];
    const isSelf = asBool(at(rule, "self"));
    if (isSelf === true) sources.push({ kind: "self" });
    else if (isUnknown(isSelf)) sources.push({ kind: "unknown", what: `${f}.self`, deps });
    return { origin: sg, field: f, entry: f, target, protocol, ports: awsPorts(protocol, at(rule, "fromPort"), at(rule, "toPort")), sources };
  });
}

/** A single value that is a source: a string, unknown (with its dependencies), or absent. */
function one(r: Res, key: string, make: (item: string) => Source): Source[] {
  const v = r.props[key];
  if (v === undefined || v === null || v === "") return [];
  if (typeof v === "string") return [make(v)];
  return [{ kind: "unknown", what: key, deps: r.propertyDependencies[key] ?? [] }];
}

/** A prefix-list reference: by id, or while the id is unknown by the list it depends on. */
function prefixList(r: Res, key: string): Source[] {
  const v = r.props[key];
  const deps = r.propertyDependencies[key] ?? [];
  if (isUnknown(v) && deps.length > 0) return [{ kind: "prefix-list", ref: ref(undefined, deps) }];
  return one(r, key, (id) => ({ kind: "prefix-list", ref: ref(id, deps) }));
}

function ruleResource(r: Res): IngressRule[] {
  const p = r.props;
  const modern = r.type === TYPES.awsIngressRule;
  if (!modern) {
    const type = asString(p["type"]);
    if (type !== "ingress" && !isUnknown(type)) return [];
  }
  const protocol = isUnknown(p["type"]) ? UNKNOWN : normaliseProtocol(modern ? p["ipProtocol"] : p["protocol"]);
  const deps = (k: string) => r.propertyDependencies[k] ?? [];
  const sources: Source[] = modern
    ? [...one(r, "cidrIpv4", cidr), ...one(r, "cidrIpv6", cidr), ...prefixList(r, "prefixListId")]
    : [
        ...(p["cidrBlocks"] !== undefined ? listSources(p["cidrBlocks"], "cidrBlocks", deps("cidrBlocks"), cidr) : []),
        ...(p["ipv6CidrBlocks"] !== undefined ? listSources(p["ipv6CidrBlocks"], "ipv6CidrBlocks", deps("ipv6CidrBlocks"), cidr) : []),
        ...(p["prefixListIds"] !== undefined
          ? listSources(p["prefixListIds"], "prefixListIds", deps("prefixListIds"), (id) => ({ kind: "prefix-list", ref: { id, urns: [] } }))
          : []),
      ];
  const refKey = modern ? "referencedSecurityGroupId" : "sourceSecurityGroupId";
  if (p[refKey] !== undefined && p[refKey] !== null) {
    sources.push(
      isUnknown(p[refKey]) && deps(refKey).length === 0 ? { kind: "unknown", what: refKey, deps: [] } : { kind: "group", ref: ref(p[refKey], deps(refKey)) },
    );
  }
  const isSelf = asBool(p["self"]);
  if (isSelf === true) sources.push({ kind: "self" });
  else if (isUnknown(isSelf)) sources.push({ kind: "unknown", what: "self", deps: [] });
  const target: Target = { cloud: "aws", group: ref(p["securityGroupId"], deps("securityGroupId")) };
  return [{ origin: r, field: "", entry: "", target, protocol, ports: awsPorts(protocol, p["fromPort"], p["toPort"]), sources }];
}

export function awsIngressRules(r: Res): IngressRule[] {
  switch (r.type) {
    case TYPES.awsSecurityGroup:
    case TYPES.awsDefaultSecurityGroup:
      return inline(r);
    case TYPES.awsSecurityGroupRule:
    case TYPES.awsIngressRule:
      return ruleResource(r);
    default:
      return [];
  }
}
