// Refuses a change of cluster.kubernetesVersion or cluster.containerdVersion on a running
// cluster. Nodes keep the versions they were built with (their user data is frozen), so a
// new value would only reach new nodes: a newer kubelet than the API servers, or a kubeadm
// that joins a cluster of another minor, which kubeadm's skew policy forbids. Upgrading is
// done in place, one node at a time, with kubeadm (README, "Upgrading Kubernetes and
// containerd"); then the stack confirms the versions now running and new nodes get them.
//
// The running versions are in the stack's state, not in its config, so this check runs
// where Pulumi compares the two: in this resource's `check`, before anything that depends
// on it (the cloud and Kubernetes providers) is touched.
import * as pulumi from "@pulumi/pulumi";

export interface Versions {
  readonly kubernetesVersion: string;
  readonly containerdVersion: string;
}

interface GuardInputs extends Versions {
  /** cluster.upgradeConfirmed, if set. */
  readonly confirmed?: Versions;
}

export const UPGRADE_DOC = 'README.md, "Upgrading Kubernetes and containerd"';

/** Why the change from `olds` to `news` is refused, or undefined when it may proceed. */
export function versionChangeProblem(olds: Partial<GuardInputs>, news: GuardInputs, project = "wg-mesh-cluster"): string | undefined {
  if (olds.kubernetesVersion === undefined || olds.containerdVersion === undefined) return undefined; // a new cluster
  const changed = (["kubernetesVersion", "containerdVersion"] as const).filter((k) => olds[k] !== news[k]);
  if (changed.length === 0) return undefined;
  const confirmed = news.confirmed;
  if (confirmed && confirmed.kubernetesVersion === news.kubernetesVersion && confirmed.containerdVersion === news.containerdVersion) return undefined;
  const what = changed.map((k) => `${project}:cluster.${k} from ${olds[k]} to ${news[k]}`).join(" and ");
  return (
    `refusing to change ${what} on a running cluster: running nodes are never rebuilt for it, and new nodes with other versions than the control plane break kubeadm's version-skew rules. ` +
    `Upgrade the running nodes in place, one at a time, with kubeadm as ${UPGRADE_DOC} describes; then confirm what now runs with ` +
    `\`pulumi config set --path '${project}:cluster.upgradeConfirmed.kubernetesVersion' ${news.kubernetesVersion}\` and ` +
    `\`pulumi config set --path '${project}:cluster.upgradeConfirmed.containerdVersion' ${news.containerdVersion}\`, and run pulumi up again`
  );
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
  readonly confirmed?: Versions;
}

export class VersionGuard extends pulumi.dynamic.Resource {
  constructor(name: string, args: VersionGuardArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, { kubernetesVersion: args.kubernetesVersion, containerdVersion: args.containerdVersion, confirmed: args.confirmed }, opts);
  }
}
