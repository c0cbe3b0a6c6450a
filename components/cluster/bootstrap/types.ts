// The per-node input of the bootstrap: everything a node's cloud-init needs to become a
// Kubernetes node without anyone logging in: the cluster's share (ClusterBootstrap, built once
// by the Cluster) and the node's own (../pool.ts adds it per instance). What a node
// decides at boot (init or join, when to join) it decides from these and from probing the
// control planes; nothing here says "this node inits".
import type { Cloud, NodeRole } from "../../core/nodes";

import type { SecretRef } from "../../core/nodeAccess";
import type { GuardSettings } from "../../core/agentDeployment";

export type { GuardSettings, SecretRef };

/** Where a control-plane node reads the PKI bundle (JSON of PEMs). */
export type PkiSecretRef = SecretRef;

export interface ControlPlaneRef {
  /** Node name (also its etcd member name). */
  readonly name: string;
  /** Static public IPv4 (its advertise address). */
  readonly ip: string;
}

/** What every node's boot files share. */
export interface ClusterBootstrap {
  readonly clusterName: string;
  /** Every control plane in the cluster's stable order: probes, the local API proxy, join order. */
  readonly controlPlanes: readonly ControlPlaneRef[];
  /** Extra API server certificate names (cluster.apiEndpoint), besides what kubeadm adds. */
  readonly extraCertSans: readonly string[];
  /** e.g. "1.34.2": pkgs.k8s.io packages `<v>-*`, repository path v1.34. */
  readonly kubernetesVersion: string;
  /** e.g. "1.7.28": containerd.io from Docker's repository, pinned as `<v>-*`. */
  readonly containerdVersion: string;
  readonly podCidr: string;
  readonly serviceCidr: string;
  /** "sha256:<hex>" of the cluster CA's SubjectPublicKeyInfo. */
  readonly discoveryHash: string;
  /** The cluster CA certificate (public): probes and the local proxy verify control planes with it. */
  readonly caCertPem: string;
  /** The node-router agent image (digest-pinned): bootstrap pre-pulls it for the DaemonSet; the boot guard does not need it. */
  readonly agentImage: string;
  /** The node table (JSON, ../nodeTable.ts) as it is when the node is created: the boot ruleset takes the node's role and the pod CIDRs from it. */
  readonly nodeTable: string;
  /** The DaemonSet's values of the agent settings the boot-time guard is rendered with. */
  readonly guard: GuardSettings;
}

/** One node's boot input: the cluster's part and its own. */
export interface NodeBootstrap extends ClusterBootstrap {
  /** Also the Kubernetes node name. */
  readonly nodeName: string;
  readonly cloud: Cloud;
  readonly role: NodeRole;
  /**
   * This control plane may run `kubeadm init`, and only when no control plane answers and
   * it holds no etcd data: the first control plane of a cluster being created. False for
   * every other node, and for a first control plane rebuilt while others exist.
   */
  readonly mayInit: boolean;
  /** The node's static public IPv4: its Kubernetes InternalIP. */
  readonly nodeIp: string;
  /** Where the node reads the join tokens (`{"tokens": [{token, expires}, ...]}`); the token itself is never in user data. */
  readonly joinTokenSecret: SecretRef;
  /** Where the node reads every node's address for its boot guard (bootGuard.ts bootGuardNodes; public, but past EC2's 16 KiB). */
  readonly bootGuardSecret: SecretRef;
  /** Control-plane nodes only: where to read the PKI bundle. */
  readonly pkiSecret?: PkiSecretRef;
}
