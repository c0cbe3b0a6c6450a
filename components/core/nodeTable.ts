// The node table: every node the program provisions, with its role and addresses,
// and the cluster's pod CIDRs, in the one format the agent parses (agent/src/nodeTable.ts,
// documented in agent/README.md). It reaches every node as the ConfigMap the node-router
// DaemonSet mounts, and, as the boot guard's node addresses, through the secret store to every
// booting node (loaded before containerd and the kubelet start).
import type { NodeRole } from "./nodes";

export interface NodeTableEntry {
  readonly name: string;
  readonly role: NodeRole;
  /** Host addresses, any family, at least one: the node's static public IPv4 (first: its InternalIP), then its private (VPC) IPv4. */
  readonly addresses: readonly string[];
}

/**
 * The most nodes a stack may have: what is tested end to end under the mocks (test/scale.test.ts:
 * a 1,000-node multicloud stack, every node admitted by every rule it needs). The boot files no
 * longer limit it: the user data holds no node address (its size does not grow with the cluster),
 * and every node's address reaches booting nodes through the secret store, where 5,000 nodes'
 * fit one secret (bootstrap/cloudInit.test.ts prints both sizes). Past about 500 nodes the AWS
 * firewalls need cluster.wireguardFrom "anywhere" (infra/quotas.ts says when). The program's
 * validation refuses more before anything is registered.
 */
export const MAX_NODES = 1000;

/** The ConfigMap the DaemonSet mounts (as a directory, so the kubelet updates it in place). */
export const NODE_TABLE_CONFIGMAP = "node-router-node-table";
/** Where a Cluster publishes it (publishInCluster): the NodeRouter's default namespace, which every cluster has. */
export const NODE_TABLE_NAMESPACE = "kube-system";
export const NODE_TABLE_KEY = "node-table.json";
export const NODE_TABLE_MOUNT_DIR = "/etc/node-router/node-table";

/** The JSON document, compact and in the cluster's stable node order: same input, same bytes. */
export function nodeTableDocument(nodes: readonly NodeTableEntry[], podCidrs: readonly string[]): string {
  if (nodes.length === 0) throw new Error("node table: no nodes");
  return JSON.stringify({
    podCidrs: [...podCidrs],
    nodes: nodes.map((n) => ({ name: n.name, role: n.role, addresses: [...n.addresses] })),
  });
}
