// What the Cluster publishes inside the cluster it founded, through a Kubernetes provider of its
// own (built from its admin kubeconfig, so any Pulumi language gets it by constructing a
// Cluster): the current join token as kubeadm's bootstrap-token Secret and the node table as the
// ConfigMap the node-router mounts. Every node but the founder is created only after both exist
// (cluster.ts), so no node boots to a token the API does not know or a table that does not list it.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ApiServerReady } from "./apiServerReady";
import { bootstrapTokenSecret, type TokenEntry } from "./joinToken";
import { NODE_TABLE_CONFIGMAP, NODE_TABLE_KEY, NODE_TABLE_NAMESPACE } from "../core/nodeTable";
import { commonLabels } from "../nodeRouter/rbac";

export interface PublishArgs {
  /** The admin kubeconfig (secret). */
  readonly kubeconfig: pulumi.Input<string>;
  /** kube-public/cluster-info's UID: the provider is replaced exactly when the cluster is a new one. */
  readonly clusterId: pulumi.Input<string>;
  /** The API answering: the provider (and so everything published) waits for it. */
  readonly ready: ApiServerReady;
  /** The current join token (secret). */
  readonly joinToken: pulumi.Input<TokenEntry>;
  /** The node table document (JSON). */
  readonly nodeTable: pulumi.Input<string>;
}

export interface Published {
  readonly provider: k8s.Provider;
  readonly joinToken: k8s.core.v1.Secret;
  readonly nodeTable: k8s.core.v1.ConfigMap;
}

/** The provider and the two objects, children of `parent`, named from `name`. */
export function publishInCluster(name: string, args: PublishArgs, parent: pulumi.Resource): Published {
  const provider = new k8s.Provider(
    `${name}-k8s`,
    {
      kubeconfig: args.kubeconfig,
      enableServerSideApply: true,
      // Replaced (and with it every Kubernetes resource, installed anew) exactly when the cluster
      // is a new one; another admin endpoint or rotated credentials are an update.
      clusterIdentifier: args.clusterId,
      // `pulumi destroy` (or removing a component) still completes when the API is gone.
      deleteUnreachable: true,
    },
    { parent, dependsOn: [args.ready] },
  );
  // They live inside the cluster: when it goes (destroyed, or replaced by a new one), Pulumi does
  // not call Delete on them (see infra/kubernetesLifecycle.ts).
  const inCluster = { parent, provider, deletedWith: args.ready };
  const joinToken = new k8s.core.v1.Secret(`${name}-join-token`, pulumi.output(args.joinToken).apply(bootstrapTokenSecret), inCluster);
  const nodeTable = new k8s.core.v1.ConfigMap(
    `${name}-node-table`,
    {
      metadata: { name: NODE_TABLE_CONFIGMAP, namespace: NODE_TABLE_NAMESPACE, labels: commonLabels() },
      data: pulumi.output(args.nodeTable).apply((doc) => ({ [NODE_TABLE_KEY]: doc })),
    },
    inCluster,
  );
  return { provider, joinToken, nodeTable };
}
