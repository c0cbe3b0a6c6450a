// The node-router agent's RBAC and DaemonSet. Pure builders produce the objects; this
// component only creates them, with the cluster's Kubernetes provider from its resource options.
// Its `dependsOn` (normally the Cilium component: the agent steers into cilium_wg0) orders the
// DaemonSet; the node table ConfigMap waits for nothing but its namespace, so new nodes can
// wait for it while Cilium installs.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { daemonSet, type ResourceRequirements } from "./daemonSet";
import { APP_NAME, clusterRole, clusterRoleBinding, commonLabels, namespaceObject, serviceAccount } from "./rbac";
import { NODE_TABLE_CONFIGMAP, NODE_TABLE_KEY } from "../cluster/nodeTable";
import { deployedAgentOrThrow, imagePullSecretsProblems, type NodeRouterAgent } from "./settings";

export interface NodeRouterArgs extends NodeRouterAgent {
  /** Namespace; default kube-system. Any other name is created, labelled Pod Security privileged. */
  readonly namespace?: string;
  /** Container requests and limits; default DEFAULT_RESOURCES (sized by the agent benchmark). */
  readonly resources?: ResourceRequirements;
  /** The node table document (JSON), published as the ConfigMap the agent mounts. */
  readonly nodeTable?: pulumi.Input<string>;
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
    const childOpts = { parent: this };

    const namespace =
      this.namespace === "kube-system" ? undefined : new k8s.core.v1.Namespace(`${name}-namespace`, namespaceObject(this.namespace), childOpts);
    const inNamespace = namespace ? { ...childOpts, dependsOn: [namespace] } : childOpts;

    if (args.nodeTable !== undefined) {
      this.nodeTable = new k8s.core.v1.ConfigMap(`${name}-node-table`, {
        metadata: { name: NODE_TABLE_CONFIGMAP, namespace: this.namespace, labels: commonLabels() },
        data: pulumi.output(args.nodeTable).apply((doc) => ({ [NODE_TABLE_KEY]: doc })),
      }, inNamespace);
    }
    this.serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-service-account`, serviceAccount(APP_NAME, this.namespace), inNamespace);
    this.clusterRole = new k8s.rbac.v1.ClusterRole(`${name}-cluster-role`, clusterRole(APP_NAME), childOpts);
    this.clusterRoleBinding = new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-cluster-role-binding`,
      clusterRoleBinding(APP_NAME, APP_NAME, APP_NAME, this.namespace),
      { ...childOpts, dependsOn: [this.clusterRole, this.serviceAccount] },
    );
    this.daemonSet = new k8s.apps.v1.DaemonSet(
      `${name}-daemon-set`,
      daemonSet({ name: APP_NAME, namespace: this.namespace, serviceAccountName: APP_NAME, image: args.image, agent, resources: args.resources, nodeTable: this.nodeTable !== undefined, imagePullSecrets: args.imagePullSecrets }),
      // After what the component depends on (Cilium: cilium_wg0 exists only once Cilium runs),
      // and after its RBAC so the first list/watch does not fail.
      { ...childOpts, dependsOn: [...dependencies(opts), this.clusterRoleBinding, ...(namespace ? [namespace] : []), ...(this.nodeTable ? [this.nodeTable] : [])] },
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

/** The component's own `dependsOn`, which Pulumi does not pass on to children. */
function dependencies(opts: pulumi.ComponentResourceOptions | undefined): pulumi.Input<pulumi.Resource>[] {
  const d = opts?.dependsOn;
  return d === undefined ? [] : Array.isArray(d) ? d : [d as pulumi.Input<pulumi.Resource>];
}
