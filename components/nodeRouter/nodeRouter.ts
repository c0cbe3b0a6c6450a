// The node-router agent's RBAC and DaemonSet. Pure builders produce the objects; this
// component only creates them, with the cluster's Kubernetes provider from its resource options.
// Its `dependsOn` (normally the Cilium component: the agent steers into cilium_wg0) orders the
// DaemonSet; the node table ConfigMap waits for nothing but its namespace, so new nodes can
// wait for it while Cilium installs.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { daemonSet, type ResourceRequirements } from "./daemonSet";
import { APP_NAME, clusterRole, clusterRoleBinding, commonLabels, namespaceObject, serviceAccount } from "./rbac";
import { NODE_TABLE_CONFIGMAP, NODE_TABLE_KEY, NODE_TABLE_NAMESPACE } from "../core/nodeTable";
import { deployedAgentOrThrow, imagePullSecretsProblems, type NodeRouterAgent } from "./settings";

export interface NodeRouterArgs extends NodeRouterAgent {
  /** Namespace; default kube-system. Any other name is created, labelled Pod Security privileged. */
  readonly namespace?: string;
  /** Container requests and limits; default DEFAULT_RESOURCES (sized by the agent benchmark). */
  readonly resources?: ResourceRequirements;
  /** The node table document (JSON), published as the ConfigMap the agent mounts. */
  readonly nodeTable?: pulumi.Input<string>;
  /** Instead of nodeTable: mount the node table a Cluster published (its publishedNodeTable output); the DaemonSet waits for it. Namespace kube-system only. */
  readonly publishedNodeTable?: pulumi.Input<string>;
  /** Names of kubernetes.io/dockerconfigjson Secrets in the namespace to pull a private agent image with; default none. */
  readonly imagePullSecrets?: string[];
}

/** The node-router agent on every node, control planes included: its RBAC, its DaemonSet and the node table it reads. */
export class NodeRouter extends pulumi.ComponentResource {
  /** Namespace holding the ServiceAccount and the DaemonSet. */
  public readonly namespace: string;
  /** The agent's identity. */
  public readonly serviceAccount: k8s.core.v1.ServiceAccount;
  /** Read-only access to Nodes and CiliumNodes, nothing else. */
  public readonly clusterRole: k8s.rbac.v1.ClusterRole;
  /** Binds the ClusterRole to the agent's ServiceAccount. */
  public readonly clusterRoleBinding: k8s.rbac.v1.ClusterRoleBinding;
  /** The agent on every node (hostNetwork, NET_ADMIN only, every taint tolerated). */
  public readonly daemonSet: k8s.apps.v1.DaemonSet;
  /** The node table ConfigMap; it waits for nothing but its namespace (not for Cilium), so new nodes can wait for it. */
  public readonly nodeTable?: k8s.core.v1.ConfigMap;
  /** DaemonSet name. */
  public readonly daemonSetName: pulumi.Output<string>;

  constructor(name: string, args: NodeRouterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wg-mesh:nodeRouter:NodeRouter", name, {}, opts);
    // Checked and deployed once; refused before anything reaches the cluster (the program's
    // validation ran the same checks).
    const agent = deployedAgentOrThrow(name, args);
    const pullSecretProblems = imagePullSecretsProblems(args.imagePullSecrets);
    if (pullSecretProblems.length > 0) throw new Error(`${name}: ${pullSecretProblems.join("; ")}`);
    this.namespace = args.namespace ?? "kube-system";
    if (args.publishedNodeTable !== undefined && args.nodeTable !== undefined) {
      throw new Error(
        `${name}: nodeTable and publishedNodeTable are both set; give publishedNodeTable (the Cluster's output) when the Cluster publishes the table, nodeTable otherwise`,
      );
    }
    if (args.publishedNodeTable !== undefined && this.namespace !== NODE_TABLE_NAMESPACE) {
      throw new Error(
        `${name}: publishedNodeTable is a ConfigMap in ${NODE_TABLE_NAMESPACE}, where the Cluster publishes it, and a pod mounts ConfigMaps of its own namespace only; deploy the NodeRouter in ${NODE_TABLE_NAMESPACE} (namespace) or publish the table yourself (nodeTable, with the Cluster's publishInCluster false)`,
      );
    }
    const childOpts = { parent: this };

    const namespace = this.namespace === "kube-system" ? undefined : new k8s.core.v1.Namespace(`${name}-namespace`, namespaceObject(this.namespace), childOpts);
    const inNamespace = namespace ? { ...childOpts, dependsOn: [namespace] } : childOpts;

    if (args.nodeTable !== undefined) {
      this.nodeTable = new k8s.core.v1.ConfigMap(
        `${name}-node-table`,
        {
          metadata: { name: NODE_TABLE_CONFIGMAP, namespace: this.namespace, labels: commonLabels() },
          data: pulumi.output(args.nodeTable).apply((doc) => ({ [NODE_TABLE_KEY]: doc })),
        },
        inNamespace,
      );
    }
    this.serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-service-account`, serviceAccount(APP_NAME, this.namespace), inNamespace);
    this.clusterRole = new k8s.rbac.v1.ClusterRole(`${name}-cluster-role`, clusterRole(APP_NAME), childOpts);
    this.clusterRoleBinding = new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-cluster-role-binding`,
      clusterRoleBinding(APP_NAME, APP_NAME, APP_NAME, this.namespace),
      { ...childOpts, dependsOn: [this.clusterRole, this.serviceAccount] },
    );
    const withTable = this.nodeTable !== undefined || args.publishedNodeTable !== undefined;
    const spec = daemonSet({
      name: APP_NAME,
      namespace: this.namespace,
      serviceAccountName: APP_NAME,
      image: args.image,
      agent,
      resources: args.resources,
      nodeTable: withTable,
      imagePullSecrets: args.imagePullSecrets,
    });
    this.daemonSet = new k8s.apps.v1.DaemonSet(
      `${name}-daemon-set`,
      args.publishedNodeTable === undefined
        ? spec
        : {
            ...spec,
            metadata: {
              ...spec.metadata,
              annotations: { ...spec.metadata.annotations, [PUBLISHED_TABLE_ANNOTATION]: publishedTableName(name, args.publishedNodeTable) },
            },
          },
      // After what the component depends on (Cilium: cilium_wg0 exists only once Cilium runs),
      // and after its RBAC so the first list/watch does not fail.
      {
        ...childOpts,
        dependsOn: [...dependencies(opts), this.clusterRoleBinding, ...(namespace ? [namespace] : []), ...(this.nodeTable ? [this.nodeTable] : [])],
      },
    );
    this.daemonSetName = this.daemonSet.metadata.name;

    this.registerOutputs({
      namespace: this.namespace,
      serviceAccount: this.serviceAccount,
      clusterRole: this.clusterRole,
      clusterRoleBinding: this.clusterRoleBinding,
      daemonSet: this.daemonSet,
      daemonSetName: this.daemonSetName,
      nodeTable: this.nodeTable,
    });
  }
}

/**
 * Records the published ConfigMap's name on the DaemonSet: the Cluster's output is known only once
 * the ConfigMap exists, so the DaemonSet waits for it in any language, while its spec stays known
 * at preview (the policy pack judges it). The mount itself is by the fixed name.
 */
export const PUBLISHED_TABLE_ANNOTATION = "wg-mesh.dev/node-table";

function publishedTableName(name: string, published: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.output(published).apply((cm) => {
    if (cm !== NODE_TABLE_CONFIGMAP)
      throw new Error(
        `${name}: publishedNodeTable is ${JSON.stringify(cm)}, not the ConfigMap a Cluster publishes (${NODE_TABLE_CONFIGMAP}); pass the Cluster's publishedNodeTable output`,
      );
    return cm;
  });
}

/** The component's own `dependsOn`, which Pulumi does not pass on to children. */
function dependencies(opts: pulumi.ComponentResourceOptions | undefined): pulumi.Input<pulumi.Resource>[] {
  const d = opts?.dependsOn;
  return d === undefined ? [] : Array.isArray(d) ? d : [d as pulumi.Input<pulumi.Resource>];
}
