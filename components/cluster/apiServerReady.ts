// A resource that exists once the cluster's API answers /readyz, and that carries the
// cluster's identity (kube-public/cluster-info's UID): the Kubernetes provider's
// clusterIdentifier. Kubernetes resources go through that provider, so `pulumi up` waits
// for kubeadm instead of failing against an API that is still booting; and when the
// cluster is new, the provider (and with it every Kubernetes resource) is replaced, so
// Cilium and the node-router are installed again into the new cluster.
//
// When can the cluster be new? Only one node may ever run `kubeadm init`: the founder (the
// first control plane, nodes.ts), and only when no other control plane answers
// (bootstrap/decide.sh). So this resource depends on the founder's instance alone and is
// replaced when that instance is (or the CA changes): it then waits again and reads the
// identity, which is unchanged when the rebuilt founder joined the running cluster, and new
// when it started a new one. It depends on no other instance, so every other node can wait
// for what the program publishes in the cluster (the join token, the node table) before it
// is created, without a cycle.
import * as pulumi from "@pulumi/pulumi";
import { waitForCluster, type WaitForApiOptions } from "./waitForApi";

interface ReadyInputs extends WaitForApiOptions {
  /** Instance id of the founder, unknown while it is being created. */
  readonly founderId: string;
  readonly [key: string]: unknown;
}

/** The dynamic provider's diff, pure: what replaces the resource (a possibly new cluster) and what does not. */
export function readinessDiff(olds: Partial<ReadyInputs>, news: ReadyInputs): { changes: boolean; replaces: string[]; deleteBeforeReplace: boolean } {
  const replaces: string[] = [];
  if (olds.caPem !== news.caPem) replaces.push("caPem");
  if (olds.founderId !== news.founderId) replaces.push("founderId");
  // Anything else (another admin endpoint, nodes added or other control planes rebuilt) is
  // the same cluster: no change; the engine records the new inputs for the next diff.
  return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
}

const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: ReadyInputs) {
    const r = await waitForCluster(inputs);
    return { id: r.clusterId, outs: { ...inputs, attempts: r.attempts, clusterId: r.clusterId } };
  },
  async diff(_id: string, olds: ReadyInputs, news: ReadyInputs) {
    return readinessDiff(olds, news);
  },
};

export interface ApiServerReadyArgs {
  /** `https://<host>:6443`: the admin endpoint Pulumi reaches the cluster at. */
  readonly url: pulumi.Input<string>;
  /** The cluster CA (PEM), the only CA trusted. */
  readonly caPem: pulumi.Input<string>;
  /** Instance id of the founder (the only node that may start a new cluster). */
  readonly founderId: pulumi.Input<string>;
  /** How long to wait; default 30 minutes (packages, images, kubeadm init). */
  readonly timeoutMinutes?: number;
}

export class ApiServerReady extends pulumi.dynamic.Resource {
  /** The endpoint that answered. */
  declare public readonly url: pulumi.Output<string>;
  /** kube-public/cluster-info's UID: changes exactly when the cluster is a new one. */
  declare public readonly clusterId: pulumi.Output<string>;

  constructor(name: string, args: ApiServerReadyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      {
        url: args.url,
        caPem: args.caPem,
        founderId: args.founderId,
        timeoutMs: (args.timeoutMinutes ?? 30) * 60_000,
        intervalMs: 10_000,
        clusterId: undefined,
      },
      opts,
    );
  }
}
