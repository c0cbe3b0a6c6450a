// Cilium as a Helm release, with the cluster's Kubernetes provider from its resource options.
// The component only wires: values.ts checks the inputs and computes the values,
// chartVersions.ts resolves the chart version. See README.md for why helm.v3.Release.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { resolveChartVersion } from "./chartVersions";
import { planMtu } from "./mtu";
import { metadataPolicy } from "./metadataPolicy";
import { buildCiliumValues, ciliumProblems, type CiliumValuesInput } from "./values";

export const DEFAULT_REPOSITORY = "https://helm.cilium.io";

export interface CiliumArgs extends CiliumValuesInput {
  /** Namespace of the release; default kube-system (where Cilium expects to run). */
  readonly namespace?: string;
  /** Helm repository; default https://helm.cilium.io. */
  readonly repository?: string;
  /** Seconds Helm waits for the rollout before rolling back; default 900. */
  readonly timeoutSeconds?: number;
}

/** Cilium with native routing and WireGuard transparent encryption, and the policy that keeps pods off the cloud metadata services. */
export class Cilium extends pulumi.ComponentResource {
  /** The Helm release (what a policy pack inspects: its `values` input). */
  public readonly release: k8s.helm.v3.Release;
  /** Exact chart version installed. */
  public readonly chartVersion: string;
  /** MTU pods get on cross-node routes, and cilium_wg0's (smallest underlay MTU - the chart version's WireGuard overhead). */
  public readonly podMtu: number;
  /** Helm release name. */
  public readonly releaseName: pulumi.Output<string>;
  /** Helm release status, e.g. "deployed". */
  public readonly releaseStatus: pulumi.Output<string>;

  constructor(name: string, args: CiliumArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wg-mesh:cilium:Cilium", name, {}, opts);
    // Refused before anything reaches the cluster (the program's validation ran the same check).
    const problems = ciliumProblems(args);
    if (problems.length > 0) throw new Error(`${name}: ${problems.join("; ")}`);
    this.chartVersion = resolveChartVersion(args.chartVersion).version;
    // Plain, known data (a policy pack reads it at preview); in state as the component's output.
    const values = buildCiliumValues(args);
    this.podMtu = planMtu(args.underlayMtus, "cilium.underlayMtus", this.chartVersion).podMtu;

    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: "cilium",
        chart: "cilium",
        version: this.chartVersion,
        repositoryOpts: { repo: args.repository ?? DEFAULT_REPOSITORY },
        namespace: args.namespace ?? "kube-system",
        values,
        // A failed install/upgrade is rolled back by Helm instead of leaving a half-upgraded
        // datapath; Helm waits for the agents to become ready before reporting success.
        atomic: true,
        cleanupOnFail: true,
        timeout: args.timeoutSeconds ?? 900,
        maxHistory: 10,
      },
      { parent: this },
    );
    // The cluster-wide policy that keeps pods away from the cloud metadata services. Cilium's
    // operator registers its CRDs when it starts, so the policy follows the release.
    new k8s.apiextensions.CustomResource(`${name}-deny-cloud-metadata`, metadataPolicy(), { parent: this, dependsOn: [this.release] });
    this.releaseName = this.release.status.name;
    this.releaseStatus = this.release.status.status;

    this.registerOutputs({
      release: this.release,
      chartVersion: this.chartVersion,
      values,
      podMtu: this.podMtu,
      releaseName: this.releaseName,
      releaseStatus: this.releaseStatus,
    });
  }
}
