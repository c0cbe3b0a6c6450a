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
//   keeps the cordon).
// Both exist only for listed nodes, so a new cluster's nodes are created in parallel as before.
import * as pulumi from "@pulumi/pulumi";
import type { NodeInstance } from "../nodesReady";
import { ApiError, drainNode, uncordon, waitNodeBack } from "./drain";
import { kubeconfigApi, type KubeApi } from "./kubeApi";

interface DrainInputs {
  readonly kubeconfig: string;
  readonly node: string;
  /** What the node is rebuilt with (a digest of its image and boot files): a new request drains again. */
  readonly request: string;
  readonly drainTimeoutMs: number;
  readonly intervalMs: number;
}

interface RejoinInputs {
  readonly kubeconfig: string;
  readonly node: NodeInstance;
  readonly nodeTimeoutMs: number;
  readonly intervalMs: number;
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

/** Waits until the rebuilt node is back with its agents, then uncordons it. */
export async function rejoinAfterRebuild(api: KubeApi, i: RejoinInputs): Promise<void> {
  await waitNodeBack(api, i.node, { timeoutMs: i.nodeTimeoutMs, intervalMs: i.intervalMs });
  await uncordon(api, i.node.name);
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
}

/** Waits for a rebuilt node and uncordons it; the next listed node's drain waits for this. */
export class RebuildRejoin extends pulumi.dynamic.Resource {
  constructor(name: string, args: RebuildRejoinArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      rejoinProvider,
      name,
      { kubeconfig: pulumi.secret(args.kubeconfig), node: args.node, nodeTimeoutMs: args.nodeTimeoutMinutes * 60_000, intervalMs: 5_000 },
      opts,
    );
  }
}
