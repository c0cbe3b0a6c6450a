// The node-router agent's RBAC and DaemonSet. Pure builders produce the objects; this
// component only creates them with the cluster's provider, the DaemonSet after Cilium.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { daemonSet, type ResourceRequirements } from "./daemonSet";
import { APP_NAME, clusterRole, clusterRoleBinding, commonLabels, namespaceObject, serviceAccount } from "./rbac";
import { NODE_TABLE_CONFIGMAP, NODE_TABLE_KEY } from "../cluster/nodeTable";
import { resolveNodeRouterSettings, type NodeRouterSettings, type NodeRouterSettingsInput } from "./settings";

export interface NodeRouterArgs {
  /** Kubernetes provider built from the cluster's kubeconfig; required. */
  readonly provider: k8s.Provider;
  /** Stack config `nodeRouter.*`; defaults in settings.ts. */
  readonly settings?: NodeRouterSettingsInput;
  /** Namespace; default kube-system. Any other name is created, labelled Pod Security `privileged`. */
  readonly namespace?: string;
  /** Container requests/limits; default DEFAULT_RESOURCES. */
  readonly resources?: ResourceRequirements;
  /** What must exist before the DaemonSet starts, normally the Cilium component (cilium_wg0). */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
  /** The node table document (JSON); published as a ConfigMap the agent reads (issue 9). */
  readonly nodeTable?: pulumi.Input<string>;
}

export class NodeRouter extends pulumi.ComponentResource {
  /** Validated agent settings (defaults applied). */
  public readonly settings: NodeRouterSettings;
  /** Namespace holding the ServiceAccount and the DaemonSet. */
  public readonly namespace: string;
  public readonly serviceAccount: k8s.core.v1.ServiceAccount;
  public readonly clusterRole: k8s.rbac.v1.ClusterRole;
  public readonly clusterRoleBinding: k8s.rbac.v1.ClusterRoleBinding;
  public readonly daemonSet: k8s.apps.v1.DaemonSet;
  /** The node table ConfigMap; it waits for nothing but its namespace (not for Cilium), so new nodes can wait for it. */
  public readonly nodeTable?: k8s.core.v1.ConfigMap;
  /** DaemonSet name. */
  public readonly daemonSetName: pulumi.Output<string>;

  constructor(name: string, args: NodeRouterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wg-mesh:nodeRouter:NodeRouter", name, {}, opts);
    this.settings = resolveNodeRouterSettings(args.settings);
    this.namespace = args.namespace ?? "kube-system";
    const childOpts = { parent: this, provider: args.provider };

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
      daemonSet({ name: APP_NAME, namespace: this.namespace, serviceAccountName: APP_NAME, settings: this.settings, resources: args.resources, nodeTable: this.nodeTable !== undefined }),
      // After Cilium: the agent steers into cilium_wg0, which exists only once Cilium runs,
      // and after its RBAC so the first list/watch does not fail.
      { ...childOpts, dependsOn: [...(args.dependsOn ?? []), this.clusterRoleBinding, ...(namespace ? [namespace] : []), ...(this.nodeTable ? [this.nodeTable] : [])] },
    );
    this.daemonSetName = this.daemonSet.metadata.name;

    this.registerOutputs({
      settings: this.settings,
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
