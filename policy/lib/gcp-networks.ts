// Which GCP network a node or a firewall rule is in (issue 23, class 8: firewall rules are judged
// by the network they are in). A network is named by `network` (name, id or self link) or,
// on an interface, by its `subnetwork` whose Subnetwork resource names the network. Networks are
// keyed by their Network resource when the stack has it (matched by name, id, self link, or
// property dependency while ids are unknown), else by their last path segment. UNKNOWN means
// "any network" (errs towards judging more).
import { TYPES, type Res } from "./resources";
import { isUnknown, UNKNOWN, type Unknown } from "./unknowns";
import { asArray, at } from "./values";

const NETWORK = "gcp:compute/network:Network";
const SUBNETWORK = "gcp:compute/subnetwork:Subnetwork";
const last = (s: string) => s.split("/").pop() ?? s;

export interface NetworkIndex {
  /** Keys of the networks a GCP instance's interfaces are in (UNKNOWN: could be any). */
  ofNode(node: Res): Array<string | Unknown>;
  /** The network a VPC firewall rule is in (UNKNOWN: could be any). */
  ofRule(rule: Res): string | Unknown;
  /** Is the key GCP's auto-created `default` network? */
  isDefault(key: string | Unknown): boolean;
}

export function networkIndex(resources: readonly Res[]): NetworkIndex {
  const networks = resources.filter((r) => r.type === NETWORK);
  const subnets = resources.filter((r) => r.type === SUBNETWORK);
  const matches = (r: Res, value: string) =>
    [r.props["id"], r.props["selfLink"], r.props["name"]].some((k) => typeof k === "string" && (k === value || last(k) === last(value)));
  const key = (value: unknown, deps: readonly string[]): string | Unknown => {
    if (typeof value === "string" && value !== "") {
      const n = networks.find((r) => matches(r, value));
      return n ? n.urn : `name:${last(value)}`;
    }
    const n = networks.find((r) => deps.includes(r.urn));
    return n ? n.urn : UNKNOWN;
  };
  const ofSubnet = (value: unknown, deps: readonly string[]): string | Unknown => {
    const s = typeof value === "string" ? subnets.find((r) => matches(r, value)) : subnets.find((r) => deps.includes(r.urn));
    if (s) return key(s.props["network"], s.propertyDependencies["network"] ?? []);
    // The default network's subnetworks are named `default` in every region.
    if (typeof value === "string" && last(value) === "default") return "name:default";
    return UNKNOWN;
  };
  return {
    ofNode(node) {
      if (node.type !== TYPES.gcpInstance) return [UNKNOWN];
      const nis = asArray(node.props["networkInterfaces"]);
      if (isUnknown(nis)) return [UNKNOWN];
      const deps = node.propertyDependencies["networkInterfaces"] ?? [];
      return nis.map((ni) => {
        const net = at(ni, "network");
        const sub = at(ni, "subnetwork");
        if (net !== undefined) return key(net, isUnknown(net) ? deps : []);
        if (sub !== undefined) return ofSubnet(sub, isUnknown(sub) ? deps : []);
        return "name:default"; // neither: GCP puts the interface in the default network
      });
    },
    ofRule(rule) {
      if (rule.type !== "gcp:compute/firewall:Firewall") return UNKNOWN;
      const net = rule.props["network"];
      return key(net, isUnknown(net) ? (rule.propertyDependencies["network"] ?? []) : []);
    },
    isDefault: (k) => k === "name:default" || (typeof k === "string" && networks.some((n) => n.urn === k && n.props["name"] === "default")),
  };
}
