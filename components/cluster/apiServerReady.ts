// A resource that exists once the API server answers /readyz: Kubernetes resources (the
// Cilium release, the node-router) are created through a provider that depends on it, so
// `pulumi up` waits for kubeadm instead of failing against an API that is still booting.
import * as pulumi from "@pulumi/pulumi";
import { waitForApiServer, type WaitForApiOptions } from "./waitForApi";

interface ReadyInputs extends WaitForApiOptions {
  readonly [key: string]: unknown;
}

const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: ReadyInputs) {
    const r = await waitForApiServer(inputs);
    return { id: inputs.url, outs: { ...inputs, attempts: r.attempts } };
  },
  async diff(_id: string, olds: ReadyInputs, news: ReadyInputs) {
    // A new endpoint or CA is a new cluster: wait for it again.
    const replaces = (["url", "caPem"] as const).filter((k) => olds[k] !== news[k]);
    return { changes: replaces.length > 0, replaces };
  },
};

export interface ApiServerReadyArgs {
  /** `https://<host>:6443` */
  readonly url: pulumi.Input<string>;
  /** The cluster CA (PEM), the only CA trusted. */
  readonly caPem: pulumi.Input<string>;
  /** How long to wait; default 30 minutes (packages, images, kubeadm init). */
  readonly timeoutMinutes?: number;
}

export class ApiServerReady extends pulumi.dynamic.Resource {
  /** The endpoint that answered. */
  declare public readonly url: pulumi.Output<string>;

  constructor(name: string, args: ApiServerReadyArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, { url: args.url, caPem: args.caPem, timeoutMs: (args.timeoutMinutes ?? 30) * 60_000, intervalMs: 10_000 }, opts);
  }
}
