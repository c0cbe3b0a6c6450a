// What the Cluster hands each cloud's node pool (../aws/nodePool.ts, ../gcp/nodePool.ts), and
// what a pool does the same way in either cloud: a node's user data from the cluster's share of
// the boot files and its own, and what its instance waits for.
import * as pulumi from "@pulumi/pulumi";
import type { FirewallIntent } from "./firewallIntents";
import type { NodeSpec } from "./nodes";
import { renderCloudInit } from "./bootstrap/cloudInit";
import type { ClusterBootstrap, SecretRef } from "./bootstrap/types";

export interface NodePoolArgs {
  /** Cluster name: prefix of the pool's cloud names and tags. */
  readonly clusterName: string;
  /** Region of the pool (its provider's region). */
  readonly region: string;
  /** The pool's nodes: the cluster's nodes in its cloud. */
  readonly nodes: readonly NodeSpec[];
  /** Every node's static public IPv4, in any cloud. */
  readonly addresses: Readonly<Record<string, pulumi.Output<string>>>;
  /** The cluster's firewall intents; the pool renders those that target its nodes. */
  readonly intents: readonly FirewallIntent[];
  /** Nodes rebuilt on this run (cluster.replaceNodes). */
  readonly rebuild: readonly string[];
  /** Control-plane PKI bundle (secret JSON); stored only if the pool has control-plane nodes. */
  readonly controlPlaneBundle: pulumi.Output<string>;
  /** The join tokens' store document (secret JSON, joinToken.ts). */
  readonly joinTokens: pulumi.Output<string>;
  /** End of the join window (RFC 3339): the node identities read their secrets until then. */
  readonly joinWindowEnds: pulumi.Output<string>;
  /** The node that may start the cluster: created without waiting for `admission`. */
  readonly founder: string;
  /** The node that may run `kubeadm init` (the founder, unless it is rebuilt while other control planes exist). */
  readonly initNode?: string;
  /** What every other node's instance waits for: the token and node table published in the cluster (ClusterOptions). */
  readonly admission?: pulumi.Input<pulumi.Resource[]>;
  /** What every node's boot files share (addresses, PKI, node table, agent). */
  readonly bootstrap: pulumi.Output<ClusterBootstrap>;
}

/** Where a node reads its join secrets, in its own cloud's store. */
export interface NodeSecrets {
  readonly pki?: SecretRef;
  readonly joinToken: SecretRef;
}

/**
 * A node's cloud-init user data. No credential in it (the stack tests check): names, addresses,
 * versions, the public CA certificate and where the node reads its secrets. Plain, so previews show it.
 */
export function nodeUserData(args: NodePoolArgs, node: NodeSpec, secrets: NodeSecrets): pulumi.Output<string> {
  return pulumi.all([args.bootstrap, args.addresses[node.name]]).apply(([shared, nodeIp]) =>
    renderCloudInit({
      ...shared,
      nodeName: node.name,
      cloud: node.cloud,
      role: node.role,
      mayInit: node.name === args.initNode,
      nodeIp,
      pkiSecret: secrets.pki,
      joinTokenSecret: secrets.joinToken,
    }),
  );
}

/**
 * What a node's instance waits for besides its own cloud's prerequisites: every node but the
 * founder, the cluster accepting the current token with every node's table listing it.
 */
export function admittedAfter(args: NodePoolArgs, node: NodeSpec, prerequisites: readonly pulumi.Resource[]): pulumi.Input<pulumi.Resource>[] {
  return [...prerequisites, ...(node.name === args.founder || args.admission === undefined ? [] : [args.admission])] as pulumi.Input<pulumi.Resource>[];
}
