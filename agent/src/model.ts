// Plain data shared by the pure core (nodes -> desired -> diff) and the kernel adapter.
// Addresses and prefixes are always stored in canonical text form ("198.18.0.1/32",
// "2001:db8::/64") so that string equality is prefix equality.

export type Family = 4 | 6;

/** An inclusive TCP port range; a single port has start === end. */
export interface PortRange {
  start: number;
  end: number;
}

/** "6443" or "2379-2380": how ip rules, nft sets and the agent's own flags write a range. */
export const portRangeText = (r: PortRange): string => (r.start === r.end ? `${r.start}` : `${r.start}-${r.end}`);

/** One Kubernetes node as the router sees it, after validation. */
export interface ClusterNode {
  name: string;
  /** Host addresses (no prefix length), InternalIP first, then ExternalIP. */
  addresses: string[];
  /** Pod CIDRs in canonical "network/len" form. */
  podCidrs: string[];
  controlPlane: boolean;
  /** The object each address came from ("Node/x" or "CiliumNode/x"), index for index; absent for table nodes. */
  addressSources?: string[];
  /** The object the pod CIDRs came from. */
  podCidrSource?: string;
}

/** Something wrong with the input that was skipped rather than thrown. */
export interface Problem {
  /** Object the problem belongs to, e.g. "Node/worker-1" or "CiliumNode/worker-1". */
  object: string;
  kind: "malformed" | "missing" | "duplicate" | "overlap" | "shape" | "local-node" | "claim";
  message: string;
}

/** Table id or the kernel's main table. */
export type TableRef = number | "main";

export interface Rule {
  family: Family;
  priority: number;
  table: TableRef;
  protocol: number;
  fwmark?: number;
  fwmask?: number;
  ipproto?: "tcp" | "udp";
  sport?: PortRange;
  dport?: PortRange;
  /** Selectors the agent never sets itself; kept so a stray owned rule can be identified and removed. */
  extra?: string;
}

export type RouteType = "unicast" | "blackhole" | "throw" | "unreachable";

export interface Route {
  family: Family;
  table: number;
  dst: string;
  type: RouteType;
  metric: number;
  protocol: number;
  dev?: string;
  src?: string;
}

export interface KernelState {
  rules: Rule[];
  routes: Route[];
}

export interface Plan {
  add: { rules: Rule[]; routes: Route[] };
  remove: { rules: Rule[]; routes: Route[] };
}
