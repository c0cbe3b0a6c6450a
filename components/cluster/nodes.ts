// The cluster's node list, expanded from the stack's pools: the one input from which
// firewall intents, bootstrap roles and the node table are computed.
import type { Cloud, NodeRole, PoolConfig } from "../../infra/configSchema";

export interface NodeSpec {
  /** Unique across the cluster and a valid DNS label: `<cluster>-<cloud>-<pool>-<index>`. */
  readonly name: string;
  readonly cloud: Cloud;
  readonly role: NodeRole;
  readonly pool: string;
  readonly index: number;
  readonly zone: string;
  readonly machineType: string;
  readonly diskSizeGb: number;
}

export function expandPools(cluster: string, cloud: Cloud, pools: readonly PoolConfig[]): NodeSpec[] {
  return pools.flatMap((p) =>
    Array.from({ length: p.count }, (_, index) => ({
      name: `${cluster}-${cloud}-${p.name}-${index}`,
      cloud,
      role: p.role,
      pool: p.name,
      index,
      zone: p.zone,
      machineType: p.machineType,
      diskSizeGb: p.diskSizeGb,
    })),
  );
}

export const isControlPlane = (n: Pick<NodeSpec, "role">): boolean => n.role === "control-plane";

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
