// The node table: every node the program provisions, with its role and addresses,
// and the cluster's pod CIDRs, in the one format the agent parses (agent/src/nodeTable.ts,
// documented in agent/README.md). It reaches every node as the ConfigMap the node-router
// DaemonSet mounts, and as the guard ruleset rendered from it in the boot files (loaded before
// containerd and the kubelet start).
import type { NodeRole } from "./nodes";

export interface NodeTableEntry {
  readonly name: string;
  readonly role: NodeRole;
  /** Host addresses, any family, at least one: the node's static public IPv4 (first: its InternalIP), then its private (VPC) IPv4. */
  readonly addresses: readonly string[];
}

/**
 * Every node's boot files carry the boot guard's ruleset (bootstrap/bootGuard.ts: every node's
 * first address, its static public one) within EC2's 16 KiB of (gzipped) user data: at most
 * this many nodes. Measured (gzip -9, the first control plane, the longest names, scattered
 * public addresses; bootstrap/cloudInit.test.ts): 15.2 KB at 300 nodes. With the private
 * addresses in the boot ruleset too, 200 nodes would be the most (15.6 KB); with the table's JSON
 * beside the ruleset, 100. The program's validation refuses more before anything is registered.
 */
export const MAX_NODES = 300;

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
