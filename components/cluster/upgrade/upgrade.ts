// The roll of a version change through the running nodes, as resources in order (plan.ts):
// the etcd snapshot, the control planes one by one, the workers in batches. Every step is a
// NodeUpgrade whose create does nothing, so on a new cluster this registers the roll and
// changes nothing; a later change of cluster.kubernetesVersion or containerdVersion (which
// the VersionGuard has held to one minor, never down, nodes unchanged) updates the steps in
// that order. The node table, the guard and the agent are not touched: nodes keep their names,
// addresses and keys, and the agents' leave grace covers a node while it restarts.
import * as pulumi from "@pulumi/pulumi";
import type { NodeInstance } from "../nodesReady";
import { NodeUpgrade } from "./nodeUpgrade";
import { upgradeRoll, type UpgradeNode } from "./plan";

export interface ClusterUpgradeArgs {
  /** The admin kubeconfig (Cluster.kubeconfig). */
  readonly kubeconfig: pulumi.Input<string>;
  /** Every node with its role, in the cluster's order (the first control plane is the founder). */
  readonly nodes: readonly UpgradeNode[];
  /** Every node's instance (Cluster.instances). */
  readonly instances: pulumi.Input<NodeInstance[]>;
  /** cluster.kubernetesVersion. */
  readonly kubernetesVersion: string;
  /** cluster.containerdVersion. */
  readonly containerdVersion: string;
  /** The node-router's image, namespace and pull secrets: the Jobs run the agent's image, already on every node. */
  readonly agent: { readonly image: string; readonly namespace: string; readonly imagePullSecrets?: readonly string[] };
  /** cluster.upgrade: workers at once, and the drain's and each node's time limits. */
  readonly upgrade: { readonly maxUnavailable: number; readonly drainTimeoutMinutes: number; readonly nodeTimeoutMinutes: number };
  /** What the roll starts after (the wait for every node): a roll begins on a working cluster. */
  readonly after?: pulumi.Input<pulumi.Resource>[];
}

export class ClusterUpgrade extends pulumi.ComponentResource {
  /** Each step by its key in plan.ts ("snapshot", or the node's name). */
  public readonly steps: Readonly<Record<string, NodeUpgrade>>;
  /** Where the snapshot before the last roll is, on the first control plane (undefined before any roll). */
  public readonly snapshotPath: pulumi.Output<string | undefined>;

  constructor(name: string, args: ClusterUpgradeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wg-mesh:cluster:Upgrade", name, {}, opts);
    const instance = (node: string) =>
      pulumi.output(args.instances).apply((list) => {
        const found = list.find((i) => i.name === node);
        if (!found) throw new Error(`${name}: node ${node} has no instance`);
        return found;
      });
    const steps: Record<string, NodeUpgrade> = {};
    for (const s of upgradeRoll(args.nodes, args.upgrade.maxUnavailable)) {
      steps[s.key] = new NodeUpgrade(
        `${name}-${s.key}`,
        {
          kubeconfig: args.kubeconfig,
          node: instance(s.node),
          step: s.step,
          kubernetesVersion: args.kubernetesVersion,
          containerdVersion: args.containerdVersion,
          image: args.agent.image,
          namespace: args.agent.namespace,
          imagePullSecrets: args.agent.imagePullSecrets ?? [],
          drainTimeoutMinutes: args.upgrade.drainTimeoutMinutes,
          nodeTimeoutMinutes: args.upgrade.nodeTimeoutMinutes,
        },
        { parent: this, dependsOn: s.after.length > 0 ? s.after.map((k) => steps[k]) : (args.after ?? []) },
      );
    }
    this.steps = steps;
    this.snapshotPath = steps.snapshot.snapshotPath;
    this.registerOutputs({ snapshotPath: this.snapshotPath });
  }
}
