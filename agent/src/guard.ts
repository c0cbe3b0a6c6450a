// The egress guard, as a pure function: (node table, this node, settings) -> one nftables
// script that installs or updates the project's table atomically. The guard does not depend on
// the agent running: the boot script installs it before kubelet starts (`main.js guard apply`),
// the agent keeps it up to date, and it stays when the agent dies or is upgraded.
//
// Per packet, in the output and forward hooks: ONE lookup of the destination in an interval
// verdict map (node addresses and the cluster's pod CIDRs, per family). A miss - any destination
// outside the cluster - falls through to one conntrack-label compare and leaves. A hit jumps to
// the chain of its kind, which accepts the packet if it leaves through the WireGuard device (or
// a local pod interface), is WireGuard's own (mark/mask), is exempt (TCP to a control plane's
// exempt ports; on a control plane, TCP from them), or is ICMP that path-MTU discovery (and IPv6
// neighbour discovery) needs; everything else is counted per reason and dropped.
// Connections that arrive through WireGuard get a conntrack label; their replies never leave
// through another interface, whatever their destination (a node that left the table included).
import type { PortRange } from "./model";
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
const ports = (rs: PortRange[]) => rs.map((r) => (r.start === r.end ? `${r.start}` : `${r.start}-${r.end}`)).join(", ");
const quoted = (names: string[]) => names.map((n) => JSON.stringify(n)).join(", ");

/** The nft script (for `nft -f`): creates the table if needed, then replaces its content in one transaction. */
export function guardRuleset(input: GuardInput): string {
  const s = input.settings;
  const local = input.nodes.find((n) => n.name === input.localNodeName);
  const own = new Set(local?.addresses ?? []);
  const elements: Record<4 | 6, string[]> = { 4: [], 6: [] };
  const seen = new Set<string>();
  for (const c of input.podCidrs) elements[familyOf(c)].push(`${c} : jump to_pod_cidr`);
  for (const n of input.nodes) {
    if (n === local) continue;
    for (const a of n.addresses) {
      // An address is listed once (the first node wins: table nodes come before departed ones).
      if (own.has(a) || seen.has(a)) continue;
      seen.add(a);
      elements[familyOf(a)].push(`${a} : jump ${n.controlPlane ? "to_control_plane" : "to_node"}`);
    }
  }
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
    `  map cluster${family} {`,
    `    type ${family === 4 ? "ipv4_addr" : "ipv6_addr"} : verdict`,
    "    flags interval",
    ...(elements[family].length > 0 ? [`    elements = { ${elements[family].join(", ")} }`] : []),
    "  }",
  ];
  const chain = (name: string, lines: string[], hook?: string) => [
    `  chain ${name} {`,
    ...(hook ? [`    type filter hook ${hook} priority filter; policy accept;`] : []),
    ...lines.map((l) => `    ${l}`),
    "  }",
  ];
  const entry = [
    "ip daddr vmap @cluster4",
    "ip6 daddr vmap @cluster6",
    `ct label ${WG_CONNECTION_LABEL} ct direction reply oifname != ${JSON.stringify(s.device)} counter name ${GUARD_REASONS["wireguard-reply"]} drop`,
  ];
  return [
    `# node-router egress guard for node ${input.localNodeName}: generated, do not edit (nft -f)`,
    `table inet ${GUARD_TABLE} {}`,
    `flush table inet ${GUARD_TABLE}`,
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
