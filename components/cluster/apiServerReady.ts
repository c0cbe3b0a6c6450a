// A resource that exists once the cluster's API answers /readyz, and that carries the
// cluster's identity (kube-public/cluster-info's UID): the Kubernetes provider's
// clusterIdentifier. Kubernetes resources go through that provider, so `pulumi up` waits
// for kubeadm instead of failing against an API that is still booting; and when the
// cluster is new, the provider (and with it every Kubernetes resource) is replaced, so
// Cilium and the node-router are installed again into the new cluster.
//
// When is the cluster new? When no control-plane instance of the last run survives: a
// node never inits where another control plane answers (bootstrap/decide.sh), so a cluster
// lives as long as one of its control planes does. Replacing some control planes keeps the
// identity (and this resource) as it is; replacing all of them, or a new CA, replaces this
// resource, which waits for the new cluster and reads its identity.
import * as pulumi from "@pulumi/pulumi";
import { waitForCluster, type WaitForApiOptions } from "./waitForApi";

interface ReadyInputs extends WaitForApiOptions {
  /** Instance ids of the control planes, unknown for those being created. */
  readonly controlPlaneIds: readonly string[];
  readonly [key: string]: unknown;
}

/** True when at least one control-plane instance of the last run is still there. */
export function anyControlPlaneSurvives(olds: readonly string[] | undefined, news: readonly string[]): boolean {
  const known = new Set(olds ?? []);
  return news.some((id) => known.has(id));
}

/** The dynamic provider's diff, pure: what replaces the resource (a new cluster) and what does not. */
export function readinessDiff(olds: Partial<ReadyInputs>, news: ReadyInputs): { changes: boolean; replaces: string[]; deleteBeforeReplace: boolean } {
  const replaces: string[] = [];
  if (olds.caPem !== news.caPem) replaces.push("caPem");
  if (!anyControlPlaneSurvives(olds.controlPlaneIds, news.controlPlaneIds)) replaces.push("controlPlaneIds");
  // Anything else (another admin endpoint, control planes added or rebuilt one at a time) is
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
  /** Instance ids of every control plane. */
  readonly controlPlaneIds: pulumi.Input<pulumi.Input<string>[]>;
  /** How long to wait; default 30 minutes (packages, images, kubeadm init). */
  readonly timeoutMinutes?: number;
}

export class ApiServerReady extends pulumi.dynamic.Resource {
  /** The endpoint that answered. */
  declare public readonly url: pulumi.Output<string>;
  /** kube-public/cluster-info's UID: changes exactly when the cluster is a new one. */
  declare public readonly clusterId: pulumi.Output<string>;

  constructor(name: string, args: ApiServerReadyArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, {
      url: args.url,
      caPem: args.caPem,
      controlPlaneIds: args.controlPlaneIds,
      timeoutMs: (args.timeoutMinutes ?? 30) * 60_000,
      intervalMs: 10_000,
      clusterId: undefined,
    }, opts);
  }
}
