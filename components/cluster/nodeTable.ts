// The node table: every node the program provisions, with its role and addresses,
// and the cluster's pod CIDRs, in the one format the agent parses (agent/src/nodeTable.ts,
// documented in agent/README.md). It reaches every node twice: in its boot files (for the
// egress guard before kubelet starts) and as the ConfigMap the node-router DaemonSet mounts.
import type { NodeRole } from "./nodes";

export interface NodeTableEntry {
  readonly name: string;
  readonly role: NodeRole;
  /** Host addresses, any family, at least one: the node's static public IPv4 (first: its InternalIP), then its private (VPC) IPv4. */
  readonly addresses: readonly string[];
}

/**
 * Every node's boot files carry the whole table, and the guard ruleset rendered from it, within
 * EC2's 16 KiB of (gzipped) user data: at most this many nodes (bootstrap/cloudInit.test.ts
 * renders it with the longest names); the program's validation refuses more before anything is
 * registered. Measured (gzip -9, the first control plane, longest names): with the table alone
 * 300 fitted (14.9 KB); with the ruleset too, 218 nodes of one address fit, 139 of two (public
 * and private); the guard's netdev sets add every address once more (simulated: 118 fit). 100
 * leaves room for the rest of the guard. Issue 24 moves the table out of the user data.
 */
export const MAX_NODES = 100;

/** Where the boot files put it; the guard unit reads it there. */
export const NODE_TABLE_BOOT_FILE = "/etc/wg-mesh/node-table.json";
/** The ConfigMap the DaemonSet mounts (as a directory, so the kubelet updates it in place). */
export const NODE_TABLE_CONFIGMAP = "node-router-node-table";
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
