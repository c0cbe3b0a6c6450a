// The cluster's nodes: where each runs and what it does, expanded once from the stack's pools.
// The one list from which firewall intents, bootstrap roles and the node table are computed.

/** Where a node runs. */
export const Cloud = { Aws: "aws", Gcp: "gcp" } as const;
export type Cloud = (typeof Cloud)[keyof typeof Cloud];
export const CLOUDS: readonly Cloud[] = Object.values(Cloud);

/** What a node does: control planes run kubeadm's stacked etcd and the API server. */
export const NodeRole = { ControlPlane: "control-plane", Worker: "worker" } as const;
export type NodeRole = (typeof NodeRole)[keyof typeof NodeRole];

/** Identical nodes in one zone of one cloud (stack config `aws.pools[]` / `gcp.pools[]`). */
export interface NodePool {
  readonly name: string;
  readonly role: NodeRole;
  readonly count: number;
  readonly machineType: string;
  readonly zone: string;
  readonly diskSizeGb: number;
}

/** One node of the cluster. */
export interface NodeSpec {
  /** Unique across the cluster and a valid DNS label: `<cluster>-<cloud>-<pool>-<index>`. */
  readonly name: string;
  /** The cloud the node runs in. */
  readonly cloud: Cloud;
  /** Control plane or worker. */
  readonly role: NodeRole;
  /** Availability zone (AWS) or zone (GCP). */
  readonly zone: string;
  /** EC2 instance type or GCE machine type. */
  readonly machineType: string;
  /** Root disk size in GiB. */
  readonly diskSizeGb: number;
}

export function expandPools(cluster: string, cloud: Cloud, pools: readonly NodePool[]): NodeSpec[] {
  return pools.flatMap((p) =>
    Array.from({ length: p.count }, (_, index) => ({
      name: `${cluster}-${cloud}-${p.name}-${index}`,
      cloud,
      role: p.role,
      zone: p.zone,
      machineType: p.machineType,
      diskSizeGb: p.diskSizeGb,
    })),
  );
}

export const isControlPlane = (n: Pick<NodeSpec, "role">): boolean => n.role === NodeRole.ControlPlane;

/**
 * The control plane that may start a new cluster: the first in a stable order (AWS before
 * GCP, then pool order), so re-running the program never moves it. Whether it does is
 * decided on the node (bootstrap/decide.sh): only when no control plane answers.
 */
export function firstControlPlane(nodes: readonly NodeSpec[]): NodeSpec {
  const first = nodes.find(isControlPlane);
  if (!first) throw new Error("cluster has no control-plane node");
  return first;
}

/**
 * Whether `node` may run `kubeadm init`: the first control plane, unless it is being rebuilt
 * (cluster.replaceNodes) while other control planes exist: then it must join them, even if
 * a network partition hides them at boot.
 */
export function mayInit(node: NodeSpec, nodes: readonly NodeSpec[], rebuilding: readonly string[]): boolean {
  if (node.name !== firstControlPlane(nodes).name) return false;
  const others = nodes.filter((n) => isControlPlane(n) && n.name !== node.name);
  return !(rebuilding.includes(node.name) && others.length > 0);
}
