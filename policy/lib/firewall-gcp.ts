// GCP ingress rules: VPC firewalls (`allows[]`) and the allow rules of network firewall policies
// (global, regional and hierarchical; standalone rule resources and the *WithRules form). A
// policy rule targets every instance of the networks it is attached to unless it names target
// service accounts; secure-tag targets are read as "every instance" (their bindings live in the
// Resource Manager, which the pack does not follow).
import { normaliseProtocol, type IngressRule, type Source, type Target } from "./firewall-types";
import { ALL_PORTS, parsePorts, type PortRange } from "./ports";
import { TYPES, type Res } from "./resources";
import { isUnknown, UNKNOWN, type Unknown } from "./unknowns";
import { asArray, asBool, asString, at } from "./values";

const POLICY_RULES = new Set([
  "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule",
  "gcp:compute/regionNetworkFirewallPolicyRule:RegionNetworkFirewallPolicyRule",
  "gcp:compute/firewallPolicyRule:FirewallPolicyRule",
]);
const POLICIES_WITH_RULES = new Set([
  "gcp:compute/networkFirewallPolicyWithRules:NetworkFirewallPolicyWithRules",
  "gcp:compute/regionNetworkFirewallPolicyWithRules:RegionNetworkFirewallPolicyWithRules",
  "gcp:compute/firewallPolicyWithRules:FirewallPolicyWithRules",
]);

function strings(value: unknown, what: string, deps: string[], make: (s: string) => Source): Source[] {
  if (value === undefined || value === null) return [];
  const list = asArray(value);
  if (isUnknown(list)) return [{ kind: "unknown", what, deps }];
  return list.map((item): Source => (typeof item === "string" ? make(item) : { kind: "unknown", what, deps }));
}

/** Secure tags are objects ({name}); their names, keeping unknowns. */
function names(value: unknown): unknown {
  const list = asArray(value);
  if (value === undefined || isUnknown(list)) return value;
  return list.map((t) => (isUnknown(t) ? t : at(t, "name")));
}

function gcpPorts(list: unknown): PortRange[] | Unknown {
  const ports = asArray(list);
  if (isUnknown(ports) || ports.some(isUnknown)) return UNKNOWN;
  return ports.length === 0 ? [ALL_PORTS] : parsePorts(ports.map(String));
}

function targetOf(tags: unknown, accounts: unknown): Target {
  const t = asArray(tags);
  const a = asArray(accounts);
  return {
    cloud: "gcp",
    tags: isUnknown(t) ? UNKNOWN : t.filter((x): x is string => typeof x === "string"),
    serviceAccounts: isUnknown(a) ? UNKNOWN : a.filter((x): x is string => typeof x === "string"),
  };
}

function vpcFirewall(fw: Res): IngressRule[] {
  const p = fw.props;
  const direction = asString(p["direction"]);
  if (asBool(p["disabled"]) === true || (typeof direction === "string" && direction.toUpperCase() !== "INGRESS")) return [];
  const target = targetOf(p["targetTags"], p["targetServiceAccounts"]);
  const deps = (k: string) => fw.propertyDependencies[k] ?? [];
  const sources: Source[] = [
    ...strings(p["sourceRanges"], "sourceRanges", deps("sourceRanges"), (c) => ({ kind: "cidr", cidr: c })),
    ...strings(p["sourceTags"], "sourceTags", deps("sourceTags"), (t) => ({ kind: "tag", tag: t })),
    ...strings(p["sourceServiceAccounts"], "sourceServiceAccounts", deps("sourceServiceAccounts"), (a) => ({ kind: "service-account", account: a })),
  ];
  // GCP: an ingress rule without any source applies to every source (0.0.0.0/0).
  if (sources.length === 0) sources.push({ kind: "cidr", cidr: "0.0.0.0/0" });
  const allows = asArray(p["allows"]);
  // Every allow of a firewall admits its protocol and ports from all of the firewall's sources.
  if (isUnknown(allows)) return [{ origin: fw, field: "allows", entry: "allows", target, protocol: UNKNOWN, ports: UNKNOWN, sources }];
  return allows.map((allow, i) => {
    const protocol = normaliseProtocol(at(allow, "protocol"));
    return { origin: fw, field: `allows[${i}]`, entry: "allows", target, protocol, ports: gcpPorts(at(allow, "ports")), sources };
  });
}

/** One network-firewall-policy rule (a resource's props, or an entry of `rules[]`). */
function policyRule(origin: Res, rule: unknown, field: string, deps: string[]): IngressRule[] {
  const action = asString(at(rule, "action"));
  const direction = asString(at(rule, "direction"));
  const off = asBool(at(rule, "disabled")) === true;
  // goto_next hands the packet to the next level (VPC firewalls), deny closes: neither admits.
  const allows = isUnknown(action) || action === "allow" || action === "apply_security_profile_group";
  if (off || !allows || (typeof direction === "string" && direction.toUpperCase() !== "INGRESS")) return [];
  const target = targetOf([], at(rule, "targetServiceAccounts"));
  const m = (k: string) => at(rule, `match.${k}`);
  const sources: Source[] = [
    ...strings(m("srcIpRanges"), `${field}match.srcIpRanges`, deps, (c) => ({ kind: "cidr", cidr: c })),
    ...strings(names(m("srcSecureTags")), `${field}match.srcSecureTags`, deps, (t) => ({ kind: "tag", tag: t })),
    ...strings(m("srcAddressGroups"), `${field}match.srcAddressGroups`, deps, (g) => ({ kind: "opaque", what: `address group ${g}` })),
    ...strings(m("srcFqdns"), `${field}match.srcFqdns`, deps, (f) => ({ kind: "external", what: `FQDN ${f}` })),
    ...strings(m("srcRegionCodes"), `${field}match.srcRegionCodes`, deps, (c) => ({ kind: "external", what: `region ${c}` })),
    ...strings(m("srcThreatIntelligences"), `${field}match.srcThreatIntelligences`, deps, (t) => ({ kind: "external", what: `threat list ${t}` })),
    ...strings(m("srcNetworks"), `${field}match.srcNetworks`, deps, (n) => ({ kind: "external", what: `network ${n}` })),
  ];
  if (sources.length === 0) sources.push({ kind: "cidr", cidr: "0.0.0.0/0" });
  const l4 = asArray(m("layer4Configs"));
  const entry = `${field}match`;
  if (isUnknown(l4)) return [{ origin, field: `${field}match.layer4Configs`, entry, target, protocol: UNKNOWN, ports: UNKNOWN, sources }];
  return l4.map((c, i) => {
    const protocol = normaliseProtocol(at(c, "ipProtocol"));
    return { origin, field: `${field}match.layer4Configs[${i}]`, entry, target, protocol, ports: gcpPorts(at(c, "ports")), sources };
  });
}

export function gcpIngressRules(r: Res): IngressRule[] {
  if (r.type === TYPES.gcpFirewall) return vpcFirewall(r);
  if (POLICY_RULES.has(r.type)) return policyRule(r, r.props, "", r.propertyDependencies["match"] ?? []);
  if (POLICIES_WITH_RULES.has(r.type)) {
    const rules = asArray(r.props["rules"]);
    const deps = r.propertyDependencies["rules"] ?? [];
    if (isUnknown(rules))
      return [
        {
          origin: r,
          field: "rules",
          entry: "rules",
          target: targetOf([], []),
          protocol: UNKNOWN,
          ports: UNKNOWN,
          sources: [{ kind: "unknown", what: "rules", deps }],
        },
      ];
    return rules.flatMap((rule, i) => policyRule(r, rule, `rules[${i}].`, deps));
  }
  return [];
}
