// Pure planning: from a node count (and a run id) to every name and address the lab uses.
// Nothing here touches the system, so the whole layout is unit-testable and printable.

/** WireGuard's UDP port and the mark Cilium gives its encrypted packets (0x1e00 before 1.18). */
export const WG_PORT = 51871;
export const WG_MARKS = [0xe00, 0x1e00] as const;
export const API_PORT = 6443;
/** TCP ports of control-plane nodes the agent exempts (its default --exempt-ports). */
export const EXEMPT_PORTS = [6443, 2379, 2380];
/** The label kubeadm puts on control-plane nodes, with its empty value. */
export const CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane";
/** Every namespace name starts with this, followed by the owning process id. */
export const NAME_PREFIX = "nrlab";
export const MAX_NODES = 200;

export interface NodePlan {
  index: number;
  /** Kubernetes node name. */
  name: string;
  /** The node's network namespace (its "host network"). */
  ns: string;
  /** Namespace of the one pod on this node. */
  podNs: string;
  /** InternalIP, on the node's underlay interface. */
  underlayIp: string;
  /** A second, "private" (VPC) address on the same interface; configured and listed in the
   * table only in labs built with privateAddresses (LabOptions). */
  privateIp: string;
  podCidr: string;
  podIp: string;
  /** Address of the node end of the pod's veth (like cilium_host): the pod's gateway. */
  podGateway: string;
  controlPlane: boolean;
  /** Bridge port name in the underlay namespace. */
  bridgePort: string;
  /** 127.0.0.1:<port> inside the node's namespace for the agent's /healthz, /readyz, /metrics. */
  agentHealthPort: number;
}

export interface LabPlan {
  id: string;
  underlayNs: string;
  bridge: string;
  wgMark: number;
  nodes: NodePlan[];
  apiServer: { host: string; port: number };
}

/** Interface names inside lab namespaces: private to the lab, so they need no prefix. */
/** The node end of a pod's veth is named like Cilium's (lxc...), which the guard's default
 * --local-interfaces (lo,cilium_host,cilium_net,lxc*) recognises as local delivery. */
export const IFACE = { underlay: "eth0", podVeth: "lxc0", podEth: "eth0", wg: "cilium_wg0" } as const;
/** The lab's own ip rule priority and table for pod traffic (outside the agent's 1000-1099). */
export const POD_RULE_PRIORITY = 500;
export const POD_TABLE = 200;

/** A run id unique per process and call: parallel labs and leftovers never share names. */
export function makeRunId(pid: number, counter: number): string {
  return `${NAME_PREFIX}${pid.toString(36)}x${counter.toString(36)}`;
}

/** Process id encoded in a lab namespace name, for leftover cleanup; undefined if not ours. */
export function pidOfName(name: string): number | undefined {
  const m = new RegExp(`^${NAME_PREFIX}([0-9a-z]+)x[0-9a-z]+-`).exec(name);
  return m ? parseInt(m[1], 36) : undefined;
}

export function planNode(id: string, index: number): NodePlan {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_NODES) {
    throw new Error(`node index ${index} out of range: use 0..${MAX_NODES - 1}`);
  }
  return {
    index,
    name: index === 0 ? "node-0-cp" : `node-${index}`,
    ns: `${id}-n${index}`,
    podNs: `${id}-p${index}`,
    underlayIp: `198.51.100.${10 + index}`,
    privateIp: `10.0.0.${10 + index}`,
    podCidr: `198.18.${index}.0/24`,
    podIp: `198.18.${index}.10`,
    podGateway: `198.18.${index}.1`,
    controlPlane: index === 0,
    bridgePort: `n${index}`,
    agentHealthPort: 9871 + index,
  };
}

export function planLab(o: { id: string; nodes: number; wgMark?: number }): LabPlan {
  if (!Number.isInteger(o.nodes) || o.nodes < 2 || o.nodes > MAX_NODES) {
    throw new Error(`--nodes ${o.nodes}: need an integer between 2 and ${MAX_NODES} (one control plane and at least one worker)`);
  }
  const wgMark = o.wgMark ?? WG_MARKS[0];
  if (!(WG_MARKS as readonly number[]).includes(wgMark)) {
    throw new Error(`--mark 0x${wgMark.toString(16)}: Cilium uses 0xe00 (1.18+) or 0x1e00 (1.17 and older)`);
  }
  const nodes = Array.from({ length: o.nodes }, (_, i) => planNode(o.id, i));
  return { id: o.id, underlayNs: `${o.id}-ul`, bridge: "br0", wgMark, nodes, apiServer: { host: nodes[0].underlayIp, port: API_PORT } };
}

/** The cluster's pod CIDR: every node's 198.18.<i>.0/24 lies inside. */
export const CLUSTER_POD_CIDR = "198.18.0.0/16";

/** The node table the Pulumi program would publish for these nodes (agent/src/nodeTable.ts format). */
export function nodeTableFor(nodes: NodePlan[], withPrivate = false): { podCidrs: string[]; nodes: { name: string; role: string; addresses: string[] }[] } {
  return {
    podCidrs: [CLUSTER_POD_CIDR],
    nodes: nodes.map((n) => ({
      name: n.name,
      role: n.controlPlane ? "control-plane" : "worker",
      addresses: withPrivate ? [n.underlayIp, n.privateIp] : [n.underlayIp],
    })),
  };
}

/** Is this TCP packet (either direction) to or from an exempt port of a control-plane node? */
export function isExemptTcp(plan: { nodes: NodePlan[] }, p: { proto: string; src: string; dst: string; sport?: number; dport?: number }): boolean {
  if (p.proto !== "tcp") return false;
  const cp = new Set(plan.nodes.filter((n) => n.controlPlane).map((n) => n.underlayIp));
  return (cp.has(p.dst) && EXEMPT_PORTS.includes(p.dport ?? -1)) || (cp.has(p.src) && EXEMPT_PORTS.includes(p.sport ?? -1));
}
