// One step of a roll as a Pulumi resource: the etcd snapshot, or one node's in-place upgrade
// (drain honouring PodDisruptionBudgets, the node-side script in a privileged Job on the node,
// uncordon, Ready with Cilium and the node-router again; a control plane then proves etcd
// healthy with every member voting). Its state holds the versions the node runs, so:
// - create does nothing: a node created now boots the stack's versions from its user data;
// - a version change is a diff on every step, and the engine runs them in their dependsOn order
//   (plan.ts), stopping at the first that fails: the nodes after it are untouched;
// - a rerun finds the steps that finished with no diff and starts again at the one that failed
//   (its state still holds the old versions): the roll resumes where it stopped;
// - a node rebuilt (new instance) is a replacement, whose create does nothing.
// Plain functions over the API (drain.ts) do the work; node modules are required inside them,
// as the provider is serialized (see ../waitForApi.ts).
import * as pulumi from "@pulumi/pulumi";
import { consoleCommand, type NodeInstance } from "../nodesReady";
import { drainNode, runNodeJob, uncordon, versionProblems, waitNodeBack, type ExpectedVersions, type NodeInfo } from "./drain";
import { kubeconfigApi, type KubeApi } from "./kubeApi";
import { UPGRADE_NODE_SCRIPT, upgradeEnvironment, type UpgradeStep } from "./upgradeNodeScript";

export interface NodeUpgradeInputs {
  readonly kubeconfig: string;
  readonly node: NodeInstance;
  readonly step: UpgradeStep;
  readonly kubernetesVersion: string;
  readonly containerdVersion: string;
  /** The agent's image (Debian with bash and nsenter; already on every node): the Job's. */
  readonly image: string;
  /** Where the Job runs: the agent's namespace, whose pull secrets it uses. */
  readonly namespace: string;
  readonly imagePullSecrets: readonly string[];
  readonly drainTimeoutMs: number;
  readonly nodeTimeoutMs: number;
  readonly intervalMs: number;
}

export interface NodeUpgradeOutputs extends NodeUpgradeInputs {
  /** The snapshot step: the file on the control plane that holds the etcd snapshot taken before the roll. */
  readonly snapshotPath?: string;
}

const VERSION_KEYS = ["kubernetesVersion", "containerdVersion"] as const;

/** The diff, pure: a new instance is a replacement (its create does nothing); a version change is the upgrade; nothing else is. */
export function nodeUpgradeDiff(
  olds: Partial<NodeUpgradeInputs>,
  news: NodeUpgradeInputs,
): { changes: boolean; replaces: string[]; deleteBeforeReplace: boolean } {
  const rebuilt = olds.node?.name !== news.node.name || olds.node?.instanceId !== news.node.instanceId || olds.step !== news.step;
  if (rebuilt) return { changes: true, replaces: ["node"], deleteBeforeReplace: false };
  const changed = VERSION_KEYS.filter((k) => olds[k] !== news[k]);
  return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
}

/** A Job name for a node and step: at most 63 characters (the pods' job-name label), unique per node by a hash when cut. */
export function upgradeJobName(node: string, step: UpgradeStep): string {
  const full = `wg-mesh-upgrade-${step}-${node}`;
  if (full.length <= 63) return full;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHash } = require("node:crypto") as typeof import("node:crypto");
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 8);
  return `${full.slice(0, 54).replace(/-+$/, "")}-${hash}`;
}

/** Whether the node reports the target versions now (false when the API does not answer). */
async function reportsVersions(api: KubeApi, node: string, want: ExpectedVersions): Promise<boolean> {
  const r = await api.request("GET", `/api/v1/nodes/${encodeURIComponent(node)}`).catch(() => undefined);
  return r?.status === 200 && versionProblems(r.body as NodeInfo, want).length === 0;
}

/** Runs one step against the API; resolves with what the step reports (the snapshot's path). */
export async function runUpgradeStep(api: KubeApi, i: NodeUpgradeInputs): Promise<{ snapshotPath?: string }> {
  const { node } = i;
  const job = (step: UpgradeStep) => ({
    name: upgradeJobName(node.name, step),
    namespace: i.namespace,
    node: node.name,
    image: i.image,
    imagePullSecrets: [...i.imagePullSecrets],
    script: UPGRADE_NODE_SCRIPT,
    args: [],
    env: upgradeEnvironment({ step, kubernetesVersion: i.kubernetesVersion, containerdVersion: i.containerdVersion }),
  });
  const timing = { timeoutMs: i.nodeTimeoutMs, intervalMs: i.intervalMs };
  const target = `Kubernetes ${i.kubernetesVersion} / containerd ${i.containerdVersion}`;
  if (i.step === "snapshot") {
    const log = await runNodeJob(api, job("snapshot"), timing);
    const path = /^wg-mesh-upgrade: snapshot (\/\S+)\s*$/m.exec(log)?.[1];
    if (!path)
      throw new Error(`${node.name}: the etcd snapshot job finished without reporting its file; its log ends:\n${log.split("\n").slice(-10).join("\n")}`);
    return { snapshotPath: path };
  }
  await drainNode(api, node.name, { timeoutMs: i.drainTimeoutMs, intervalMs: i.intervalMs });
  const versions = { kubernetesVersion: i.kubernetesVersion, containerdVersion: i.containerdVersion };
  try {
    await runNodeJob(api, job(i.step), timing).catch(async (first: Error) => {
      // The new kubelet may restart the Job's own container (its hash of the container can change
      // across minors), failing the pod after the upgrade itself succeeded. The step is idempotent,
      // so once the node reports the target versions it runs once more, which then only verifies.
      if (!(await reportsVersions(api, node.name, versions))) throw first;
      await runNodeJob(api, job(i.step), timing);
    });
  } catch (e) {
    throw new Error(
      `${node.name} (${node.cloud} instance ${node.instanceId}): the upgrade to ${target} failed; the roll stopped here and the nodes after it are untouched. ` +
        `The node stays cordoned (kubectl uncordon ${node.name} once it is sound); run pulumi up again to retry it.\n${(e as Error).message}\n` +
        `serial console: ${consoleCommand(node)}`,
    );
  }
  await uncordon(api, node.name);
  // Back means Ready with its agents AND reporting the new versions (its kubelet posts them once restarted).
  await waitNodeBack(api, node, { ...timing, versions });
  // Between control planes: the next one goes down only when etcd has every member voting.
  if (i.step === "first-control-plane" || i.step === "control-plane") await runNodeJob(api, job("etcd-health"), timing);
  return {};
}

const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: NodeUpgradeInputs) {
    return { id: `${inputs.node.name}/${inputs.step}`, outs: inputs };
  },
  async diff(_id: string, olds: NodeUpgradeOutputs, news: NodeUpgradeInputs) {
    return nodeUpgradeDiff(olds, news);
  },
  async update(_id: string, _olds: NodeUpgradeOutputs, news: NodeUpgradeInputs) {
    const r = await runUpgradeStep(kubeconfigApi(news.kubeconfig), news);
    return { outs: { ...news, ...r } };
  },
};

export interface NodeUpgradeArgs {
  /** The admin kubeconfig (Cluster.kubeconfig). */
  readonly kubeconfig: pulumi.Input<string>;
  /** The node and its instance (Cluster.instances). */
  readonly node: pulumi.Input<NodeInstance>;
  /** What runs on it (plan.ts). */
  readonly step: UpgradeStep;
  /** cluster.kubernetesVersion. */
  readonly kubernetesVersion: string;
  /** cluster.containerdVersion. */
  readonly containerdVersion: string;
  /** The agent's image, which runs the Job. */
  readonly image: string;
  /** The agent's namespace. */
  readonly namespace: string;
  /** The agent's pull secrets in that namespace. */
  readonly imagePullSecrets: readonly string[];
  /** cluster.upgrade.drainTimeoutMinutes. */
  readonly drainTimeoutMinutes: number;
  /** cluster.upgrade.nodeTimeoutMinutes. */
  readonly nodeTimeoutMinutes: number;
}

/** One step of the roll; its update is the step (see the top of this file). */
export class NodeUpgrade extends pulumi.dynamic.Resource {
  public readonly snapshotPath!: pulumi.Output<string | undefined>;

  constructor(name: string, args: NodeUpgradeArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      {
        kubeconfig: pulumi.secret(args.kubeconfig),
        node: args.node,
        step: args.step,
        kubernetesVersion: args.kubernetesVersion,
        containerdVersion: args.containerdVersion,
        image: args.image,
        namespace: args.namespace,
        imagePullSecrets: args.imagePullSecrets,
        drainTimeoutMs: args.drainTimeoutMinutes * 60_000,
        nodeTimeoutMs: args.nodeTimeoutMinutes * 60_000,
        intervalMs: 5_000,
        snapshotPath: undefined,
      },
      opts,
    );
  }
}
