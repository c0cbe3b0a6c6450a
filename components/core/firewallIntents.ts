// What the underlay must let through between nodes, independent of any cloud. Each pool
// renders these intents into its own cloud's rules; nothing else is ever opened between
// nodes, because everything else (kubelet, Cilium health, pod traffic) rides inside
// WireGuard once Cilium and the node-router agent run.
import { portRangeText, type PortRange } from "../../agent/src/model";
import { API_SERVER_PORT } from "../../agent/src/apiserverProxy";
import { isControlPlane, type NodeSpec } from "./nodes";

/** Cilium's WireGuard UDP port (fixed by Cilium). */
export const WIREGUARD_PORT = 51871;
/** kube-apiserver: every node's kubelet, and kubeadm joining, before a node has WireGuard keys. */
export const API_SERVER_PORTS: PortRange = { start: API_SERVER_PORT, end: API_SERVER_PORT };
/** etcd client and peer, between control planes: a joining control plane's etcd comes up before its keys. */
export const ETCD_PORTS: PortRange = { start: 2379, end: 2380 };
/** The only TCP ports open in the clear between nodes, towards control planes; the only ones the agent may exempt. */
export const BOOTSTRAP_PORTS: readonly PortRange[] = [API_SERVER_PORTS, ETCD_PORTS];

/** "6443,2379-2380", as the agent and the clouds write port lists. */
export const formatPorts = (ranges: readonly PortRange[]): string => ranges.map(portRangeText).join(",");

/**
 * Where every node admits WireGuard from (stack config `cluster.wireguardFrom`). `nodes`: each
 * node's address, like every other intent between nodes. `anywhere`: IPv4 `0.0.0.0/0`, for clusters
 * whose per-node sources would pass the clouds' firewall limits (infra/quotas.ts); safe because
 * WireGuard drops, without a reply, every packet that does not authenticate as a configured peer.
 * The bootstrap ports keep per-node sources in both.
 */
export const WireguardFrom = { Nodes: "nodes", Anywhere: "anywhere" } as const;
export type WireguardFrom = (typeof WireguardFrom)[keyof typeof WireguardFrom];
export const WIREGUARD_FROM: readonly WireguardFrom[] = Object.values(WireguardFrom);

/** Every IPv4 address, as the from-anywhere intents (pmtu, WireGuard in `anywhere` mode) write it; no intent admits IPv6. */
export const ANYWHERE_V4 = "0.0.0.0/0";

export type IntentSource = { readonly kind: "nodes"; readonly nodes: readonly string[] } | { readonly kind: "cidrs"; readonly cidrs: readonly string[] };

export interface FirewallIntent {
  /** Short, stable id used in rule names, e.g. `wireguard`. */
  readonly id: string;
  readonly description: string;
  readonly protocol: "udp" | "tcp" | "icmp";
  /** Inclusive port range for tcp/udp. */
  readonly ports?: PortRange;
  /** ICMP type/code for clouds that can filter on them. */
  readonly icmp?: { readonly type: number; readonly code: number };
  readonly source: IntentSource;
  /** Names of the nodes the rule admits traffic to. */
  readonly targets: readonly string[];
}

export function computeFirewallIntents(
  nodes: readonly NodeSpec[],
  adminCidrs: readonly string[],
  wireguardFrom: WireguardFrom = WireguardFrom.Nodes,
): FirewallIntent[] {
  // Other Pulumi languages pass the Cluster's input as any string: refused rather than read as `nodes`.
  if (!WIREGUARD_FROM.includes(wireguardFrom))
    throw new Error(`wireguardFrom: "${String(wireguardFrom)}" is not one of ${WIREGUARD_FROM.map((v) => `"${v}"`).join(", ")}`);
  const all = nodes.map((n) => n.name);
  const controlPlanes = nodes.filter(isControlPlane).map((n) => n.name);
  const anywhere = wireguardFrom === WireguardFrom.Anywhere;
  const intents: FirewallIntent[] = [
    {
      id: "wireguard",
      description: anywhere ? "Cilium WireGuard from any address (packets without a peer key are dropped)" : "Cilium WireGuard between every pair of nodes",
      protocol: "udp",
      ports: { start: WIREGUARD_PORT, end: WIREGUARD_PORT },
      // Large clusters: one source instead of one per node. WireGuard answers nothing that does
      // not authenticate as a configured peer, so the open port tells a scanner nothing either.
      source: anywhere ? { kind: "cidrs", cidrs: [ANYWHERE_V4] } : { kind: "nodes", nodes: all },
      targets: all,
    },
    {
      id: "apiserver",
      description: "kube-apiserver bootstrap (TLS) from every node to the control plane",
      protocol: "tcp",
      ports: API_SERVER_PORTS,
      source: { kind: "nodes", nodes: all },
      targets: controlPlanes,
    },
    {
      id: "etcd",
      description: "etcd client and peer (TLS) between control-plane nodes",
      protocol: "tcp",
      ports: ETCD_PORTS,
      source: { kind: "nodes", nodes: controlPlanes },
      targets: controlPlanes,
    },
    {
      // Routers on the path, not only nodes, send "fragmentation needed": path-MTU
      // discovery for the WireGuard underlay breaks if these are dropped.
      id: "pmtu",
      description: "ICMP fragmentation-needed for path-MTU discovery",
      protocol: "icmp",
      icmp: { type: 3, code: 4 },
      source: { kind: "cidrs", cidrs: [ANYWHERE_V4] },
      targets: all,
    },
  ];
  if (adminCidrs.length > 0 && controlPlanes.length > 0) {
    intents.push({
      id: "admin-apiserver",
      description: "kube-apiserver from the admin allowlist",
      protocol: "tcp",
      ports: API_SERVER_PORTS,
      source: { kind: "cidrs", cidrs: [...adminCidrs] },
      targets: controlPlanes,
    });
  }
  return intents.filter((i) => i.targets.length > 0);
}

/** The intents that admit traffic to at least one of `nodes` (a pool's view). */
export function intentsFor(intents: readonly FirewallIntent[], nodes: readonly string[]): FirewallIntent[] {
  const mine = new Set(nodes);
  return intents.filter((i) => i.targets.some((t) => mine.has(t)));
}
