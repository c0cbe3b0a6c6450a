// The one shape every firewall flavour's ingress rules are read into (see firewall.ts).
import type { PortRange } from "./ports";
import type { Res } from "./resources";
import { isUnknown, UNKNOWN, type Unknown } from "./unknowns";
import { asString } from "./values";

/** A reference to another resource: its id when known, and the URNs the property depends on. */
export interface Ref {
  id?: string;
  urns: string[];
}
export type GroupRef = Ref;

export type Source =
  | { kind: "cidr"; cidr: string }
  | { kind: "prefix-list"; ref: Ref }
  | { kind: "self" }
  | { kind: "group"; ref: Ref }
  | { kind: "tag"; tag: string }
  | { kind: "service-account"; account: string }
  /** Sources that are not addresses of nodes by construction (FQDNs, region codes, threat lists). */
  | { kind: "external"; what: string }
  /** Defined outside the stack (an address group): never visible to the pack. */
  | { kind: "opaque"; what: string }
  /** Unknown at preview; `deps` are the URNs the value is computed from. */
  | { kind: "unknown"; what: string; deps: string[] };

export type Target =
  | { cloud: "aws"; group: Ref }
  /** GCP: empty tags and accounts mean every instance of the network. */
  | { cloud: "gcp"; tags: string[] | Unknown; serviceAccounts: string[] | Unknown };

export interface IngressRule {
  origin: Res;
  /** Where in `origin` the rule sits, for messages ("ingress[1]", "allows[0]", "" for a rule resource). */
  field: string;
  /**
   * Where in `origin` its sources are written: the rules of one origin with the same entry admit
   * what each admits from the same sources (a GCP firewall's `allows`, a policy rule's
   * `layer4Configs`); an AWS rule is an entry of its own ("ingress[1]", "" for a rule resource).
   */
  entry: string;
  target: Target;
  /** tcp, udp, icmp, icmpv6, all, or another protocol name/number as written. */
  protocol: string | Unknown;
  ports: PortRange[] | Unknown;
  sources: Source[];
}

const PROTOCOLS: Record<string, string> = {
  "-1": "all",
  all: "all",
  "6": "tcp",
  "17": "udp",
  "1": "icmp",
  "58": "icmpv6",
  icmpv6: "icmpv6",
  "ipv6-icmp": "icmpv6",
};

export function normaliseProtocol(value: unknown): string | Unknown {
  const p = asString(value);
  if (isUnknown(p)) return UNKNOWN;
  const lower = (p ?? "all").trim().toLowerCase();
  return PROTOCOLS[lower] ?? lower;
}

export function ref(id: unknown, urns: string[] | undefined): Ref {
  return { id: typeof id === "string" ? id : undefined, urns: urns ?? [] };
}

/** How a message names a rule's sources. */
export function describeSources(sources: readonly Source[]): string {
  const parts = sources.map((s) => {
    switch (s.kind) {
      case "cidr":
        return s.cidr;
      case "prefix-list":
        return `prefix list ${s.ref.id ?? s.ref.urns.join("|")}`;
      case "self":
        return "the group itself";
      case "group":
        return `security group ${s.ref.id ?? s.ref.urns.join("|")}`;
      case "tag":
        return `tag ${s.tag}`;
      case "service-account":
        return `service account ${s.account}`;
      case "external":
      case "opaque":
        return s.what;
      default:
        return `${s.what} (unknown)`;
    }
  });
  return parts.length > 0 ? parts.join(", ") : "any source";
}
