// A node rebuilt through cluster.replaceNodes leaves and comes back as a roll does: drained
// before its instance goes, waited for (Ready, Cilium and the node-router Running) and
// uncordoned once its new instance has joined, and only then the next listed node. The
// instance itself is replaced by the engine (deleteBeforeReplace, ../../core/lifecycle.ts);
// these two resources stand before and after it:
// - RebuildDrain: the instance `dependsOn` it. Created, or replaced when the rebuild request
//   changes (the image or boot files the node is rebuilt with), it cordons and drains the node;
//   a node the API does not know (never joined) has nothing to drain.
// - RebuildRejoin: depends on the new instance; a new instance id is an update that waits for
//   the node and uncordons it (the rebuilt kubelet registers under the same name, and the Node
//   keeps the cordon). A control plane is done only when etcd has every member started, voting
//   (a rejoined member starts as a learner) and healthy, checked on the node by the upgrade's
//   etcd-health Job: the next control plane's instance must not go before, or etcd loses quorum.
// Both exist only for rebuilt nodes (../nodeBuilds.ts), so a new cluster's nodes are created in
// parallel as before.
import * as pulumi from "@pulumi/pulumi";
import type { NodeInstance } from "../nodesReady";
import { ApiError, drainNode, runNodeJob, uncordon, waitNodeBack } from "./drain";
import { kubeconfigApi, type KubeApi } from "./kubeApi";
import { upgradeJobName } from "./nodeUpgrade";
import { UPGRADE_NODE_SCRIPT, upgradeEnvironment } from "./upgradeNodeScript";

interface DrainInputs {
  readonly kubeconfig: string;
  readonly node: string;
  /** What the node is rebuilt with (a digest of its image and boot files): a new request drains again. */
  readonly request: string;
  readonly drainTimeoutMs: number;
  readonly intervalMs: number;
}

/** A control plane's etcd check: the upgrade script's etcd-health step, run by a Job on the node. */
export interface EtcdCheck {
  /** The agent's image: on the node once its agent runs (the Job pulls IfNotPresent). */
  readonly image: string;
  /** The cluster's versions (the script checks its whole environment). */
  readonly kubernetesVersion: string;
  readonly containerdVersion: string;
}

/** Where the etcd check's Job runs: always there, and the image needs no pull secret (it is on the node). */
export const ETCD_CHECK_NAMESPACE = "kube-system";

interface RejoinInputs {
  readonly kubeconfig: string;
  readonly node: NodeInstance;
  readonly nodeTimeoutMs: number;
  readonly intervalMs: number;
  /** Control planes only. */
  readonly etcdCheck?: EtcdCheck;
}

/** Drains the node before its instance goes; resolves at once when the API does not know it. */
export async function drainForRebuild(api: KubeApi, i: DrainInputs): Promise<{ drained: boolean }> {
  const known = await api.request("GET", `/api/v1/nodes/${encodeURIComponent(i.node)}`).catch((e: Error) => {
    throw new ApiError(
      0,
      `${i.node}: cannot reach the API to drain it before its rebuild (${e.message}); a cluster whose API has never answered has nothing to rebuild: remove the node from cluster.replaceNodes`,
    );
  });
  if (known.status === 404) return { drained: false };
  await drainNode(api, i.node, { timeoutMs: i.drainTimeoutMs, intervalMs: i.intervalMs });
  return { drained: true };
}

/** Waits until the rebuilt node is back with its agents, uncordons it, and on a control plane waits for etcd. */
export async function rejoinAfterRebuild(api: KubeApi, i: RejoinInputs): Promise<void> {
  const timing = { timeoutMs: i.nodeTimeoutMs, intervalMs: i.intervalMs };
  await waitNodeBack(api, i.node, timing);
  await uncordon(api, i.node.name);
  if (!i.etcdCheck) return;
  const { image, kubernetesVersion, containerdVersion } = i.etcdCheck;
  await runNodeJob(
    api,
    {
      name: upgradeJobName(i.node.name, "etcd-health"),
      namespace: ETCD_CHECK_NAMESPACE,
      node: i.node.name,
      image,
      script: UPGRADE_NODE_SCRIPT,
      args: [],
      env: upgradeEnvironment({ step: "etcd-health", kubernetesVersion, containerdVersion }),
    },
    timing,
  ).catch((e: Error) => {
    throw new Error(
      `${i.node.name}: rebuilt and Ready, but etcd is not whole again (every member started, voting, healthy); the rebuilds stopped here so the next control plane keeps quorum. Run pulumi up again once etcd has recovered.\n${e.message}`,
    );
  });
}

const drainProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: DrainInputs) {
    const r = await drainForRebuild(kubeconfigApi(inputs.kubeconfig), inputs);
    return { id: `${inputs.node}/${inputs.request}`, outs: { ...inputs, ...r } };
  },
  async diff(_id: string, olds: DrainInputs, news: DrainInputs) {
    const replaces = (["node", "request"] as const).filter((k) => olds[k] !== news[k]);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
  },
};

const rejoinProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: RejoinInputs) {
    await rejoinAfterRebuild(kubeconfigApi(inputs.kubeconfig), inputs);
    return { id: inputs.node.name, outs: inputs };
  },
  async diff(_id: string, olds: RejoinInputs, news: RejoinInputs) {
    return { changes: olds.node?.instanceId !== news.node.instanceId || olds.node?.name !== news.node.name };
  },
  async update(_id: string, _olds: RejoinInputs, news: RejoinInputs) {
    await rejoinAfterRebuild(kubeconfigApi(news.kubeconfig), news);
    return { outs: news };
  },
};

export interface RebuildDrainArgs {
  /** The admin kubeconfig. */
  readonly kubeconfig: pulumi.Input<string>;
  /** The node's name. */
  readonly node: string;
  /** A digest of what the node is rebuilt with (image and boot files). */
  readonly request: pulumi.Input<string>;
  /** cluster.upgrade.drainTimeoutMinutes. */
  readonly drainTimeoutMinutes: number;
}

/** Drains a listed node before its instance is replaced (the instance dependsOn it). */
export class RebuildDrain extends pulumi.dynamic.Resource {
  constructor(name: string, args: RebuildDrainArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      drainProvider,
      name,
      {
        kubeconfig: pulumi.secret(args.kubeconfig),
        node: args.node,
        request: args.request,
        drainTimeoutMs: args.drainTimeoutMinutes * 60_000,
        intervalMs: 5_000,
        drained: undefined,
      },
      opts,
    );
  }
}

export interface RebuildRejoinArgs {
  /** The admin kubeconfig. */
  readonly kubeconfig: pulumi.Input<string>;
  /** The node and its (new) instance. */
  readonly node: pulumi.Input<NodeInstance>;
  /** cluster.upgrade.nodeTimeoutMinutes. */
  readonly nodeTimeoutMinutes: number;
  /** For a control plane: wait until etcd is whole again before the next rebuild. */
  readonly etcdCheck?: EtcdCheck;
}

/** Waits for a rebuilt node and uncordons it; the next listed node's drain waits for this. */
export class RebuildRejoin extends pulumi.dynamic.Resource {
  constructor(name: string, args: RebuildRejoinArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      rejoinProvider,
      name,
      {
        kubeconfig: pulumi.secret(args.kubeconfig),
        node: args.node,
        nodeTimeoutMs: args.nodeTimeoutMinutes * 60_000,
        intervalMs: 5_000,
        ...(args.etcdCheck ? { etcdCheck: args.etcdCheck } : {}),
      },
      opts,
    );
  }
}
