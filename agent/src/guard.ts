// The egress guard, as a pure function: (node table, this node, settings) -> one nftables
// script that installs or updates the project's two tables atomically. The guard does not depend
// on the agent running: the boot unit loads the same script (rendered by the program, persisted by
// the agent) before kubelet starts, the agent keeps it up to date, and it stays when the agent
// dies or is upgraded. The script is parametric in $UNDERLAY (`nft -D`, see underlayDefine): the
// devices are a fact of the host, not of the table.
//
// Per packet, in the output and forward hooks: ONE lookup of the destination in a hash verdict map
// of node addresses (per family; O(1) whatever the cluster size), and one prefix compare per pod
// CIDR of the cluster (one or two: a constant, not a rule per node). A miss - any destination
// outside the cluster - meets a link-local compare, a metadata-address compare and one
// conntrack-label compare and leaves. A hit jumps to the chain of its kind, which accepts the
// packet only if it leaves through the WireGuard device (or a local pod interface) or is one of
// the exemptions, each narrowed to what only the exempt traffic can send:
//   - WireGuard's own packets: the mark (which CAP_NET_RAW can set with SO_MARK) AND UDP from and
//     to the WireGuard port;
//   - TCP to a control plane's exempt ports; on a control plane, TCP from them only as the reply
//     direction of a connection a peer opened (conntrack; a bound free port or a raw segment is
//     the original direction, or invalid); their SYNs get an MSS every path carries (EXEMPT_TCP_MSS);
//   - ICMP/ICMPv6 errors only when conntrack relates them to a connection; neighbour discovery
//     only with hop limit 255 and a payload no longer than ND needs.
// Everything else is counted per reason and dropped. Link-local destinations (other nodes'
// fe80:: addresses are in no table) get the same treatment; TCP to the instance metadata service
// is the node's own services' (cgroup), never a pod's (host-network pods included), DNS aside.
// A route chain sets the exempt-reply mark that the routing rule for replies needs (desired.ts),
// after wiping a forged one. A netdev egress chain on the underlay devices judges frames again,
// without conntrack (the kernel refuses ct in netdev): AF_PACKET skips the inet hooks but not
// this one. Connections that arrive through WireGuard get a conntrack label; their replies never
// leave through another interface, whatever their destination (a node that left the table too).
// (An interval map holding addresses and pod CIDRs together cost about twice as much per packet
// as the hash map and compares, measured.)
import { portRangeText, type PortRange } from "./model";
import { familyOf } from "./nodes";

/**
 * The MSS the guard writes into the SYN and SYN-ACK of exempt TCP (the control planes' bootstrap
 * ports, which cross the underlay in the clear and so outside WireGuard's MTU): that of a 1280-byte
 * packet, IPv6's minimum link MTU, which every path between the clouds carries. Without it the
 * MSS comes from the interface (8961 on AWS's 9001-byte interfaces) and etcd and API traffic
 * between clouds depends on path-MTU discovery, which paths that drop large packets without an
 * ICMP error (cilium/cilium#47176) break. Only lowered, never raised.
 */
export const EXEMPT_TCP_MSS = { 4: 1280 - 20 - 20, 6: 1280 - 40 - 20 } as const;

/** The project's nftables tables: inet (output, forward, route) and netdev (egress on the underlay). `uninstall` deletes both; nothing else touches them. */
export const GUARD_TABLE = "node_router_guard";
export const GUARD_UNDERLAY_TABLE = "node_router_guard_underlay";
/** The two tables as nft commands name them; their node maps hold the same elements. */
export const GUARD_TABLE_REFS = [`inet ${GUARD_TABLE}`, `netdev ${GUARD_UNDERLAY_TABLE}`] as const;
/**
 * Room in each node-address map. A map declared with a size gets the kernel's fixed-size hash
 * (for IPv4 keys its fast variant) instead of the resizable one: the per-packet lookup costs about
 * a third less, measured with 5,000 nodes (`node dist/agent/bench/packetBench.js`). The size is a
 * hard cap on elements, so the node table refuses more than half of it per family (nodeTable.ts):
 * the other half is for nodes held after they leave. Kernel memory: about 512 KiB per map.
 */
export const GUARD_MAP_SIZE = 32768;
/** Conntrack label bit marking connections that arrived through the WireGuard device. */
export const WG_CONNECTION_LABEL = 101;
/** The script's parameter: the underlay devices (`nft -D`, underlayDefine). */
export const UNDERLAY_VARIABLE = "UNDERLAY";

/** Drop reasons: the metric label and the named nftables counter behind it (raw-frame's lives in the netdev table). */
export const GUARD_REASONS = {
  "node-address": "dropped_node_address",
  "pod-cidr": "dropped_pod_cidr",
  "wireguard-reply": "dropped_wireguard_reply",
  "link-local": "dropped_link_local",
  metadata: "dropped_metadata",
  "raw-frame": "dropped_raw_frame",
} as const;
export type GuardReason = keyof typeof GUARD_REASONS;
/** The reasons counted in the netdev table; the others are in the inet table. */
export const UNDERLAY_REASONS: readonly GuardReason[] = ["raw-frame"];

export interface GuardNode {
  name: string;
  addresses: string[];
  controlPlane: boolean;
}

export interface GuardSettings {
  device: string;
  wgMark: number;
  wgMask: number;
  wgPort: number;
  exemptPorts: PortRange[];
  exemptReplyMark: number;
  metadataAddresses: string[];
  metadataCgroups: string[];
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

const hex = (n: number) => "0x" + (n >>> 0).toString(16);
const ports = (rs: PortRange[]) => rs.map(portRangeText).join(", ");
const quoted = (names: string[]) => names.map((n) => JSON.stringify(n)).join(", ");
const ipOf = (family: 4 | 6) => (family === 4 ? "ip" : "ip6");

/**
 * The `-D` argument for `nft -f` with the guard's script: `UNDERLAY={ { "eth0" } }`. The devices
 * are wrapped in a second set because nft 1.0.6 (Debian 12) crashes on `devices = $VAR` when the
 * variable is a one-element set; the nested form loads on 1.0.6 for one device and for several.
 */
export function underlayDefine(devices: string[]): string {
  if (devices.length === 0) throw new Error("no underlay device: the guard's raw-frame chain needs at least one (--underlay-devices)");
  return `${UNDERLAY_VARIABLE}={ { ${quoted(devices)} } }`;
}

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
 * a changed verdict is both), in both tables (their maps hold the same elements), or undefined
 * when nothing changed. A node joining the table costs one element per table.
 */
export function guardElementUpdate(prev: GuardElements, next: GuardElements): string[] | undefined {
  const lines: string[] = [];
  for (const table of GUARD_TABLE_REFS) {
    for (const family of [4, 6] as const) {
      const gone = [...prev[family]].filter(([k, v]) => next[family].get(k) !== v).map(([k]) => k);
      const added = [...next[family]].filter(([k, v]) => prev[family].get(k) !== v).map(([k, v]) => `${k} : jump ${v}`);
      if (gone.length > 0) lines.push(`delete element ${table} nodes${family} { ${gone.join(", ")} }`);
      if (added.length > 0) lines.push(`add element ${table} nodes${family} { ${added.join(", ")} }`);
    }
  }
  return lines.length > 0 ? lines : undefined;
}

/**
 * Every element as its own `add element` statement for `table`: a list any line of which can be
 * dropped (a node's own address, at boot: guard.sh) and the rest still loads. The boot files' node
 * addresses travel this way (components/cluster/bootstrap/bootGuard.ts), appended to guardShape's
 * ruleset, whose maps they fill.
 */
export function guardElementStatements(elements: GuardElements, table: (typeof GUARD_TABLE_REFS)[number]): string[] {
  return ([4, 6] as const).flatMap((family) => [...elements[family]].map(([k, v]) => `add element ${table} nodes${family} { ${k} : jump ${v} }`));
}

const chain = (name: string, lines: string[], hook?: string) => [`  chain ${name} {`, ...(hook ? [`    ${hook}`] : []), ...lines.map((l) => `    ${l}`), "  }"];

const mapType = (family: 4 | 6) => `type ${family === 4 ? "ipv4_addr" : "ipv6_addr"} : verdict`;
const map = (family: 4 | 6, elements: string[]) => [
  `  map nodes${family} {`,
  `    ${mapType(family)}`,
  `    size ${GUARD_MAP_SIZE}`,
  ...(elements.length > 0 ? [`    elements = { ${elements.join(", ")} }`] : []),
  "  }",
];

/** Neighbour discovery as link-local ND sends it: hop limit 255 (receivers drop anything else) and no room for a payload. */
const ND = "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 ip6 length <= 40 accept";
/** ICMP errors that conntrack relates to a connection (path-MTU discovery and the like); never a free-standing one. */
const RELATED_ERRORS = [
  "icmp type { destination-unreachable, time-exceeded, parameter-problem } ct state related accept",
  "icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem } ct state related accept",
];

/**
 * Creates `table` if needed and empties it: `flush table` empties chains but not sets and maps, so
 * the set is declared (a no-op when it exists) and flushed, and the maps are declared and deleted
 * (after the flush no rule refers to them) for the contents to create them again: redeclaring an
 * existing map does not change its kernel backend, and a map from an older release has none of
 * GUARD_MAP_SIZE. The map elements jump to the verdict chains, which must exist before the
 * elements are added.
 */
function emptied(table: string, verdictChains: string[]): string[] {
  return [
    `table ${table} {}`,
    `flush table ${table}`,
    `table ${table} {`,
    ...verdictChains.map((c) => `  chain ${c} {}`),
    "  set exempt_ports { type inet_service; flags interval; }",
    `  map nodes4 { ${mapType(4)}; }`,
    `  map nodes6 { ${mapType(6)}; }`,
    "}",
    `flush set ${table} exempt_ports`,
    `delete map ${table} nodes4`,
    `delete map ${table} nodes6`,
  ];
}

/** The nft script (for `nft -D UNDERLAY=... -f`): creates both tables if needed, then replaces their whole
 * content (rules, set and map elements; the counters keep their values) in one transaction. */
export function guardRuleset(input: GuardInput, elementsByFamily: GuardElements = guardElements(input)): string {
  const s = input.settings;
  const local = input.nodes.find((n) => n.name === input.localNodeName);
  const elements: Record<4 | 6, string[]> = { 4: [], 6: [] };
  for (const family of [4, 6] as const) for (const [k, v] of elementsByFamily[family]) elements[family].push(`${k} : jump ${v}`);
  const exact = s.localInterfaces.filter((i) => !i.endsWith("*"));
  const prefixed = s.localInterfaces.filter((i) => i.endsWith("*"));
  const inside = [
    `oifname ${JSON.stringify(s.device)} accept`,
    ...(exact.length > 0 ? [`oifname { ${quoted(exact)} } accept`] : []),
    ...prefixed.map((i) => `oifname ${JSON.stringify(i)} accept`),
  ];
  const wgReplyDrop = `ct label ${WG_CONNECTION_LABEL} ct direction reply counter name ${GUARD_REASONS["wireguard-reply"]} drop`;
  const wireguard = `udp sport ${s.wgPort} udp dport ${s.wgPort}`;
  const wgMarked = `meta mark & ${hex(s.wgMask)} == ${hex(s.wgMark)} ${wireguard} accept`;
  const hasExempt = s.exemptPorts.length > 0;
  const localIsControlPlane = (local?.controlPlane ?? false) && hasExempt;
  // The exempt TCP that leaves in the clear opens with an MSS every path carries (EXEMPT_TCP_MSS).
  const clamp = hasExempt
    ? ([4, 6] as const).map(
        (f) => `meta nfproto ipv${f} tcp flags syn tcp option maxseg size > ${EXEMPT_TCP_MSS[f]} tcp option maxseg size set ${EXEMPT_TCP_MSS[f]}`,
      )
    : [];
  const replyExempt = localIsControlPlane ? ["ct direction reply tcp sport @exempt_ports accept"] : [];
  const requestExempt = hasExempt ? ["tcp dport @exempt_ports accept"] : [];
  const pods = (family: 4 | 6) => input.podCidrs.filter((c) => familyOf(c) === family).map((c) => `${ipOf(family)} daddr ${c} jump to_pod_cidr`);
  const metadata = (family: 4 | 6) => s.metadataAddresses.filter((a) => familyOf(a) === family);
  const toMetadata = (verdict: string) =>
    ([4, 6] as const).flatMap((family) => {
      const m = metadata(family);
      // DNS stays open: on GCP the metadata address is also the VPC's resolver.
      // One address (the usual case) is a plain compare, cheaper per packet than a set lookup.
      const daddr = m.length === 1 ? m[0] : `{ ${m.join(", ")} }`;
      return m.length > 0 ? [`${ipOf(family)} daddr ${daddr} tcp dport != 53 ${verdict}`] : [];
    });
  const entry = (metadataVerdict: string) => [
    "ip daddr vmap @nodes4",
    ...pods(4),
    "ip6 daddr vmap @nodes6",
    ...pods(6),
    "ip6 daddr fe80::/10 jump to_link_local",
    ...toMetadata(metadataVerdict),
    // Direction first: it is the cheap conntrack read, and most packets that reach this rule
    // belong to connections this node opened (original direction).
    `ct direction reply ct label ${WG_CONNECTION_LABEL} oifname != ${JSON.stringify(s.device)} counter name ${GUARD_REASONS["wireguard-reply"]} drop`,
  ];
  const metadataDrop = `counter name ${GUARD_REASONS.metadata} drop`;
  const R = hex(s.exemptReplyMark);
  const notR = hex(~s.exemptReplyMark);
  const hook = (type: string, h: string, priority: string) => `type ${type} hook ${h} priority ${priority}; policy accept;`;
  // The netdev chain repeats the judgement without conntrack: what may leave on the underlay to a node.
  const rawDrop = `counter name ${GUARD_REASONS["raw-frame"]} drop`;
  const underlayReply = localIsControlPlane ? ["tcp sport @exempt_ports accept"] : [];
  // Both tables hold the same exempt ports and node maps (a netdev table cannot use the inet one's).
  const contents = [
    "  set exempt_ports {",
    "    type inet_service",
    "    flags interval",
    ...(hasExempt ? [`    elements = { ${ports(s.exemptPorts)} }`] : []),
    "  }",
    ...map(4, elements[4]),
    ...map(6, elements[6]),
  ];
  return [
    `# node-router egress guard for node ${input.localNodeName}: generated, do not edit (nft -D '${UNDERLAY_VARIABLE}={ { "eth0" } }' -f)`,
    ...emptied(`inet ${GUARD_TABLE}`, ["to_node", "to_control_plane", "to_pod_cidr"]),
    `table inet ${GUARD_TABLE} {`,
    ...Object.entries(GUARD_REASONS)
      .filter(([r]) => !UNDERLAY_REASONS.includes(r as GuardReason))
      .map(([, c]) => `  counter ${c} {}`),
    ...contents,
    ...chain("prerouting", [`iifname ${JSON.stringify(s.device)} ct state new ct label set ${WG_CONNECTION_LABEL}`], hook("filter", "prerouting", "filter")),
    ...chain("output", entry("jump to_metadata"), hook("filter", "output", "filter")),
    ...chain("forward", entry(metadataDrop), hook("filter", "forward", "filter")),
    // Control planes only (only they have the reply rules that match R): before the filter chains
    // (mangle), and a route chain, so a changed mark re-routes the packet. One set lookup per TCP
    // packet; a forged R is wiped first, then set again only on a reply.
    ...(localIsControlPlane
      ? [
          ...chain("exempt_reply_mark", [`meta mark set meta mark & ${notR}`, `ct direction reply meta mark set meta mark | ${R}`]),
          ...chain("route_marks", ["tcp sport @exempt_ports jump exempt_reply_mark"], hook("route", "output", "mangle")),
        ]
      : []),
    ...chain("to_node", [
      ...inside,
      wgMarked,
      wgReplyDrop,
      ...(localIsControlPlane ? clamp : []),
      ...replyExempt,
      ...RELATED_ERRORS,
      ND,
      `counter name ${GUARD_REASONS["node-address"]} drop`,
    ]),
    ...chain("to_control_plane", [
      ...inside,
      wgMarked,
      wgReplyDrop,
      ...clamp,
      ...requestExempt,
      ...replyExempt,
      ...RELATED_ERRORS,
      ND,
      `counter name ${GUARD_REASONS["node-address"]} drop`,
    ]),
    ...chain("to_pod_cidr", [...inside, wgReplyDrop, ...RELATED_ERRORS, ND, `counter name ${GUARD_REASONS["pod-cidr"]} drop`]),
    // Other nodes' link-local addresses are in no table: only what the link itself needs.
    ...chain("to_link_local", [...inside, ND, RELATED_ERRORS[1], "udp sport 546 udp dport 547 accept", `counter name ${GUARD_REASONS["link-local"]} drop`]),
    // The socket's cgroup (resolved by nft under /sys/fs/cgroup when the script loads): the node's services, not pods.
    ...chain("to_metadata", [...(s.metadataCgroups.length > 0 ? [`socket cgroupv2 level 1 { ${quoted(s.metadataCgroups)} } accept`] : []), metadataDrop]),
    "}",
    ...emptied(`netdev ${GUARD_UNDERLAY_TABLE}`, ["to_node", "to_control_plane"]),
    `table netdev ${GUARD_UNDERLAY_TABLE} {`,
    ...UNDERLAY_REASONS.map((r) => `  counter ${GUARD_REASONS[r]} {}`),
    ...contents,
    ...chain(
      "egress",
      [
        "ip daddr vmap @nodes4",
        ...input.podCidrs.filter((c) => familyOf(c) === 4).map((c) => `ip daddr ${c} ${rawDrop}`),
        "ip6 daddr vmap @nodes6",
        ...input.podCidrs.filter((c) => familyOf(c) === 6).map((c) => `ip6 daddr ${c} ${rawDrop}`),
        "ip6 daddr fe80::/10 jump to_link_local",
      ],
      `type filter hook egress devices = $${UNDERLAY_VARIABLE} priority filter; policy accept;`,
    ),
    ...chain("to_node", [`${wireguard} accept`, ...underlayReply, ND, rawDrop]),
    ...chain("to_control_plane", [`${wireguard} accept`, ...requestExempt, ...underlayReply, ND, rawDrop]),
    ...chain("to_link_local", [ND, "udp sport 546 udp dport 547 accept", rawDrop]),
    "}",
    "",
  ].join("\n");
}

/** The script that removes the guard (uninstall); harmless when it is not installed. */
export function guardRemoval(): string {
  return `table inet ${GUARD_TABLE} {}\ndelete table inet ${GUARD_TABLE}\ntable netdev ${GUARD_UNDERLAY_TABLE} {}\ndelete table netdev ${GUARD_UNDERLAY_TABLE}\n`;
}
