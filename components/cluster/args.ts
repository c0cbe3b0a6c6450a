// What a Cluster is made of, as plain data a user of any Pulumi language can write: its nodes,
// each cloud's placement, the versions and lifetimes, and the node-router agent that every node's
// boot-time guard runs (the same NodeRouterAgent the NodeRouter component takes). The program
// builds it once from the validated stack config (infra/model.ts); the component takes it as it is.
import type * as pulumi from "@pulumi/pulumi";
import type { NodeSpec } from "../core/nodes";
import type { WireguardFrom } from "../core/firewallIntents";
import type { NodeBuilds } from "./nodeBuilds";
import type { NodeRouterAgent } from "../nodeRouter/settings";

export interface ClusterArgs {
  /** Kubernetes version of kubeadm, kubelet and kubectl (pkgs.k8s.io), e.g. 1.34.2. */
  readonly kubernetesVersion: string;
  /** Debian-package version of containerd on every node, e.g. 1.7.28. */
  readonly containerdVersion: string;
  /** Cluster pod CIDR (IPv4). */
  readonly podCidr: string;
  /** Cluster service CIDR (IPv4). */
  readonly serviceCidr: string;
  /** CIDRs allowed to reach the API server on 6443 besides the nodes (operators, CI); default none. */
  readonly adminCidrs?: string[];
  /** Where every node admits WireGuard (UDP 51871) from: each node's address (`nodes`), or any IPv4 address (`anywhere`, for clusters beyond the clouds' per-node firewall limits); default nodes. The bootstrap ports stay per node either way. */
  readonly wireguardFrom?: WireguardFrom;
  /** Host (DNS name or IPv4) of the admin kubeconfig, added to the API certificate; default the first control plane's address. */
  readonly apiEndpoint?: string;
  /** Hours a kubeadm join token is valid; a fresh one is issued once less than half is left. */
  readonly joinTokenTtlHours: number;
  /** Hours the admin kubeconfig's certificate is valid; renewed in its last third. */
  readonly adminCertValidityHours: number;
  /** Every node, in the stable order whose first control plane founds the cluster (AWS before GCP, pools in order). */
  readonly nodes: NodeSpec[];
  /** Nodes to rebuild with the current image and boot files, once per listing (leaving one listed rebuilds nothing more); default none. */
  readonly replaceNodes?: string[];
  /** The `nodeBuilds` this Cluster reported after the stack's last finished run (what each node was built from): nodes behind their cloud's image are rebuilt one at a time. Absent: no image roll. */
  readonly previousBuilds?: NodeBuilds;
  /** Minutes a rebuilt node's drain may take (PodDisruptionBudgets may hold it); default 15. */
  readonly drainTimeoutMinutes?: number;
  /** Minutes a rebuilt node may take to be Ready with Cilium and the node-router again; default 30. */
  readonly nodeTimeoutMinutes?: number;
  /** Where the AWS nodes live; required when a node is in AWS. */
  readonly aws?: AwsPlacement;
  /** Where the GCP nodes live; required when a node is in GCP. */
  readonly gcp?: GcpPlacement;
  /** The node-router agent whose egress guard every node installs at boot, before its kubelet. */
  readonly nodeRouter: NodeRouterAgent;
  /** Publish the join token (bootstrap-token Secret) and the node table (ConfigMap in kube-system) through a Kubernetes provider of the Cluster's own, creating every node but the founder after both; default true. */
  readonly publishInCluster?: boolean;
}

/** The Cluster's resource options, and the one ordering only it can apply. */
export interface ClusterOptions extends pulumi.ComponentResourceOptions {
  /**
   * What every node but the founder waits for (its `dependsOn`) besides what the Cluster publishes
   * itself: for a caller that publishes the join token and the node table on its own
   * (publishInCluster false). Without either, every node is created at once, and the others retry
   * joining until the token and their table are there.
   */
  readonly admission?: pulumi.Input<pulumi.Resource[]>;
}

/** The AWS side of the cluster. */
export interface AwsPlacement {
  /** AWS region (the AWS provider's). */
  readonly region: string;
  /** The pinned AMI new nodes boot (`ami-...`). */
  readonly ami: string;
  /** CIDR of the VPC to create, or of the existing VPC given as vpcId. */
  readonly vpcCidr: string;
  /** Existing VPC id; default: create a VPC (its route to the internet is then the user's). */
  readonly vpcId?: string;
  /** Node subnet CIDR of every zone the AWS nodes use. */
  readonly subnets: Record<string, string>;
}

/** The GCP side of the cluster. */
export interface GcpPlacement {
  /** GCP project id (the GCP provider's). */
  readonly project: string;
  /** GCP region (the GCP provider's). */
  readonly region: string;
  /** CIDR of the nodes' subnetwork. */
  readonly subnetCidr: string;
  /** The pinned image new nodes boot, projects/<p>/global/images/<image>. */
  readonly image: string;
}
