// The egress guard, as a pure function: (node table, this node, settings) -> one nftables
// script that installs or updates the project's table atomically. The guard does not depend on
// the agent running: the boot script installs it before kubelet starts (`main.js guard apply`),
// the agent keeps it up to date, and it stays when the agent dies or is upgraded.
//
// Per packet, in the output and forward hooks: ONE lookup of the destination in a hash verdict map
// of node addresses (per family; O(1) whatever the cluster size), and one prefix compare per pod
// CIDR of the cluster (one or two: a constant, not a rule per node). A miss - any destination
// outside the cluster - falls through to one conntrack-label compare and leaves. A hit jumps to
// the chain of its kind, which accepts the packet if it leaves through the WireGuard device (or
// a local pod interface), is WireGuard's own (mark/mask), is exempt (TCP to a control plane's
// exempt ports; on a control plane, TCP from them), or is ICMP that path-MTU discovery (and IPv6
// neighbour discovery) needs; everything else is counted per reason and dropped. (An interval map
// holding addresses and pod CIDRs together cost about twice as much per packet as this, measured.)
// Connections that arrive through WireGuard get a conntrack label; their replies never leave
// through another interface, whatever their destination (a node that left the table included).
import { portRangeText, type PortRange } from "./model";
import { familyOf } from "./nodes";

/** The project's nftables table (family inet). `uninstall` deletes it; nothing else touches it. */
export const GUARD_TABLE = "node_router_guard";
/** Conntrack label bit marking connections that arrived through the WireGuard device. */
export const WG_CONNECTION_LABEL = 101;

/** Drop reasons: the metric label and the named nftables counter behind it. */
export const GUARD_REASONS = {
  "node-address": "dropped_node_address",
  "pod-cidr": "dropped_pod_cidr",
  "wireguard-reply": "dropped_wireguard_reply",
} as const;
export type GuardReason = keyof typeof GUARD_REASONS;

export interface GuardNode {
  name: string;
  addresses: string[];
  controlPlane: boolean;
}

export interface GuardSettings {
  device: string;
  wgMark: number;
  wgMask: number;
  exemptPorts: PortRange[];
  /** Interfaces that deliver inside this node (loopback, local pods); "lxc*" is a prefix match. */
  localInterfaces: string[];
}

export interface GuardInput {
  localNodeName: string;
  /** Table nodes (and, in the agent, nodes that left within their grace period). */
  nodes: GuardNode[];
  podCidrs: string[];
  settings: GuardSettings;
}

const hex = (n: number) => "0x" + n.toString(16);
const ports = (rs: PortRange[]) => rs.map(portRangeText).join(", ");
const quoted = (names: string[]) => names.map((n) => JSON.stringify(n)).join(", ");

/** Verdict-map elements per family: node address -> the chain that judges packets to it. */
export type GuardElements = Record<4 | 6, Map<string, string>>;

/** Other nodes' addresses (not this node's own), each with the chain that judges it. */
export function guardElements(input: GuardInput): GuardElements {
  const local = input.nodes.find((n) => n.name === input.localNodeName);
  const own = new Set(local?.addresses ?? []);
  const elements: GuardElements = { 4: new Map(), 6: new Map() };
  for (const n of input.nodes) {
    if (n === local) continue;
    for (const a of n.addresses) {
      // An address is listed once (the first node wins: table nodes come before departed ones).
      if (own.has(a) || elements[familyOf(a)].has(a)) continue;
      elements[familyOf(a)].set(a, n.controlPlane ? "to_control_plane" : "to_node");
    }
  }
  return elements;
}

const NO_ELEMENTS: GuardElements = { 4: new Map(), 6: new Map() };

/** The ruleset without its map elements (pod CIDRs included): when two inputs share it, an update is element changes only. */
export function guardShape(input: GuardInput): string {
  return guardRuleset(input, NO_ELEMENTS);
}

/**
 * The element changes from `prev` to `next`: nft commands for one transaction (deletes, then adds;
 * a changed verdict is both), or undefined when nothing changed. A node joining the table costs
 * one element.
 */
export function guardElementUpdate(prev: GuardElements, next: GuardElements): string[] | undefined {
  const lines: string[] = [];
  for (const family of [4, 6] as const) {
    const gone = [...prev[family]].filter(([k, v]) => next[family].get(k) !== v).map(([k]) => k);
    const added = [...next[family]].filter(([k, v]) => prev[family].get(k) !== v).map(([k, v]) => `${k} : jump ${v}`);
    if (gone.length > 0) lines.push(`delete element inet ${GUARD_TABLE} nodes${family} { ${gone.join(", ")} }`);
    if (added.length > 0) lines.push(`add element inet ${GUARD_TABLE} nodes${family} { ${added.join(", ")} }`);
  }
  return lines.length > 0 ? lines : undefined;
}

/** The nft script (for `nft -f`): creates the table if needed, then replaces its whole content (rules, set
 * and map elements; the counters keep their values) in one transaction. */
export function guardRuleset(input: GuardInput, elementsByFamily: GuardElements = guardElements(input)): string {
  const s = input.settings;
  const local = input.nodes.find((n) => n.name === input.localNodeName);
  const elements: Record<4 | 6, string[]> = { 4: [], 6: [] };
  for (const family of [4, 6] as const) for (const [k, v] of elementsByFamily[family]) elements[family].push(`${k} : jump ${v}`);
  const exact = s.localInterfaces.filter((i) => !i.endsWith("*"));
  const prefixed = s.localInterfaces.filter((i) => i.endsWith("*"));
  const leavesInside = [
    `oifname ${JSON.stringify(s.device)} accept`,
    ...(exact.length > 0 ? [`oifname { ${quoted(exact)} } accept`] : []),
    ...prefixed.map((i) => `oifname ${JSON.stringify(i)} accept`),
    `meta mark & ${hex(s.wgMask)} == ${hex(s.wgMark)} accept`,
    `ct label ${WG_CONNECTION_LABEL} ct direction reply counter name ${GUARD_REASONS["wireguard-reply"]} drop`,
  ];
  const pmtu = [
    "icmp type destination-unreachable icmp code frag-needed accept",
    "icmpv6 type { packet-too-big, nd-neighbor-solicit, nd-neighbor-advert } accept",
  ];
  const hasExempt = s.exemptPorts.length > 0;
  const replyExempt = local?.controlPlane && hasExempt ? ["tcp sport @exempt_ports accept"] : [];
  const map = (family: 4 | 6) => [
    `  map nodes${family} {`,
    `    type ${family === 4 ? "ipv4_addr" : "ipv6_addr"} : verdict`,
    ...(elements[family].length > 0 ? [`    elements = { ${elements[family].join(", ")} }`] : []),
    "  }",
  ];
  const chain = (name: string, lines: string[], hook?: string) => [
    `  chain ${name} {`,
    ...(hook ? [`    type filter hook ${hook} priority filter; policy accept;`] : []),
    ...lines.map((l) => `    ${l}`),
    "  }",
  ];
  const pods = (family: 4 | 6) => input.podCidrs.filter((c) => familyOf(c) === family).map((c) => `${family === 4 ? "ip" : "ip6"} daddr ${c} jump to_pod_cidr`);
  const entry = [
    "ip daddr vmap @nodes4",
    ...pods(4),
    "ip6 daddr vmap @nodes6",
    ...pods(6),
    `ct label ${WG_CONNECTION_LABEL} ct direction reply oifname != ${JSON.stringify(s.device)} counter name ${GUARD_REASONS["wireguard-reply"]} drop`,
  ];
  return [
    `# node-router egress guard for node ${input.localNodeName}: generated, do not edit (nft -f)`,
    `table inet ${GUARD_TABLE} {}`,
    `flush table inet ${GUARD_TABLE}`,
    // `flush table` empties chains but not sets and maps: declare them (no-op when they exist), flush
    // them. The map elements jump to the verdict chains, which must exist before the elements.
    `table inet ${GUARD_TABLE} {`,
    "  chain to_node {}",
    "  chain to_control_plane {}",
    "  chain to_pod_cidr {}",
    "  set exempt_ports { type inet_service; flags interval; }",
    "  map nodes4 { type ipv4_addr : verdict; }",
    "  map nodes6 { type ipv6_addr : verdict; }",
    "}",
    `flush set inet ${GUARD_TABLE} exempt_ports`,
    `flush map inet ${GUARD_TABLE} nodes4`,
    `flush map inet ${GUARD_TABLE} nodes6`,
    `table inet ${GUARD_TABLE} {`,
    ...Object.values(GUARD_REASONS).map((c) => `  counter ${c} {}`),
    "  set exempt_ports {",
    "    type inet_service",
    "    flags interval",
    ...(hasExempt ? [`    elements = { ${ports(s.exemptPorts)} }`] : []),
    "  }",
    ...map(4),
    ...map(6),
    ...chain("prerouting", [`iifname ${JSON.stringify(s.device)} ct state new ct label set ${WG_CONNECTION_LABEL}`], "prerouting"),
    ...chain("output", entry, "output"),
    ...chain("forward", entry, "forward"),
    ...chain("to_node", [...leavesInside, ...replyExempt, ...pmtu, `counter name ${GUARD_REASONS["node-address"]} drop`]),
    ...chain("to_control_plane", [...leavesInside, ...(hasExempt ? ["tcp dport @exempt_ports accept"] : []), ...replyExempt, ...pmtu, `counter name ${GUARD_REASONS["node-address"]} drop`]),
    ...chain("to_pod_cidr", [...leavesInside, ...pmtu, `counter name ${GUARD_REASONS["pod-cidr"]} drop`]),
    "}",
    "",
  ].join("\n");
}

/** The script that removes the guard (uninstall); harmless when it is not installed. */
export function guardRemoval(): string {
  return `table inet ${GUARD_TABLE} {}\ndelete table inet ${GUARD_TABLE}\n`;
}
