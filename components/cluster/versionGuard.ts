// Holds a version change on a running cluster to what one `pulumi up` can roll through the
// nodes (upgrade/): Kubernetes one minor at a time and never down (kubeadm's skew rules),
// containerd never down, and the set of nodes unchanged in that run. Nodes keep the versions
// they were built with (their user data is frozen); the roll upgrades each in place, and new
// nodes boot the new versions from their user data. A node added or rebuilt in the same run
// would boot the new versions before the control planes run them, which kubeadm's skew policy
// forbids (a kubelet newer than its API servers), so that run is refused with the order to use;
// so is a new image in the same run (it rebuilds nodes).
//
// The running versions are in the stack's state, not in its config, so this check runs
// where Pulumi compares the two: in this resource's `check`, before anything that depends
// on it (the cloud and Kubernetes providers) is touched.
import * as pulumi from "@pulumi/pulumi";
import { kubernetesSkewProblem } from "./upgrade/skew";

export interface Versions {
  readonly kubernetesVersion: string;
  readonly containerdVersion: string;
}

interface GuardInputs extends Versions {
  /** Every node of the stack, by name. Absent in the state of a build before upgrades: not compared then. */
  readonly nodes?: readonly string[];
  /** Nodes rebuilt on this run (cluster.replaceNodes, the image roll: ./nodeBuilds.ts). */
  readonly rebuilding?: readonly string[];
}

export const UPGRADE_DOC = 'README.md, "Upgrades"';

/** "1.7.28" before "2.0.1": dotted numbers compared in order. */
const older = (a: string, b: string) => {
  const x = a.split(".").map(Number);
  const y = b.split(".").map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) < (y[i] ?? 0);
  return false;
};

/** Why the change from `olds` to `news` cannot be rolled through the nodes, or undefined when it may proceed. */
export function versionChangeProblem(olds: Partial<GuardInputs>, news: GuardInputs, project = "wg-mesh-cluster"): string | undefined {
  if (olds.kubernetesVersion === undefined || olds.containerdVersion === undefined) return undefined; // a new cluster
  const changed = (["kubernetesVersion", "containerdVersion"] as const).filter((k) => olds[k] !== news[k]);
  if (changed.length === 0) return undefined;
  const skew = kubernetesSkewProblem(olds.kubernetesVersion, news.kubernetesVersion, `${project}:cluster.kubernetesVersion`);
  if (skew) return skew;
  if (older(news.containerdVersion, olds.containerdVersion))
    return `${project}:cluster.containerdVersion: ${olds.containerdVersion} -> ${news.containerdVersion} is a downgrade; the roll installs newer pinned packages only, so set it back to ${olds.containerdVersion}`;
  const what = changed.map((k) => `cluster.${k} ${olds[k]} -> ${news[k]}`).join(" and ");
  const inOrder = `upgrade with the nodes as they are first (this run without that change), then change the nodes in the next run (${UPGRADE_DOC})`;
  if ((news.rebuilding ?? []).length > 0)
    return `nodes rebuilt on this run (${news.rebuilding!.join(", ")}: listed in ${project}:cluster.replaceNodes, or behind a new aws.ami / gcp.image) in the same run as ${what}: a rebuilt node would boot the new versions before the control planes run them; ${inOrder}`;
  if (olds.nodes !== undefined && news.nodes !== undefined) {
    const added = news.nodes.filter((n) => !olds.nodes!.includes(n));
    const removed = olds.nodes.filter((n) => !news.nodes!.includes(n));
    if (added.length > 0 || removed.length > 0)
      return (
        `the nodes change (${[added.length > 0 ? `added: ${added.join(", ")}` : "", removed.length > 0 ? `removed: ${removed.join(", ")}` : ""].filter(Boolean).join("; ")}) ` +
        `in the same run as ${project}:${what}: a new node would boot the new versions before the control planes run them; ${inOrder}`
      );
  }
  return undefined;
}

const provider: pulumi.dynamic.ResourceProvider = {
  async check(olds: Partial<GuardInputs>, news: GuardInputs) {
    const problem = versionChangeProblem(olds, news);
    return problem ? { inputs: news, failures: [{ property: "kubernetesVersion", reason: problem }] } : { inputs: news };
  },
  async create(inputs: GuardInputs) {
    return { id: `${inputs.kubernetesVersion}+${inputs.containerdVersion}`, outs: inputs };
  },
  async update(_id: string, _olds: GuardInputs, news: GuardInputs) {
    return { outs: news };
  },
};

export interface VersionGuardArgs extends Versions {
  /** Every node of the stack, by name (stackNodes). */
  readonly nodes: readonly string[];
  /** Nodes rebuilt on this run (Cluster.rebuilding's plan: planNodeBuilds). */
  readonly rebuilding: readonly string[];
}

export class VersionGuard extends pulumi.dynamic.Resource {
  constructor(name: string, args: VersionGuardArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      { kubernetesVersion: args.kubernetesVersion, containerdVersion: args.containerdVersion, nodes: args.nodes, rebuilding: args.rebuilding },
      opts,
    );
  }
}
