// kubeadm's version-skew rules for an upgrade, as pure checks. kubeadm upgrades a cluster one
// minor version at a time and never downgrades (kubeadm's "Upgrading kubeadm clusters"):
// `kubeadm upgrade apply v1.36.x` on a 1.34 control plane refuses, and a kubelet newer than its
// API servers is outside the supported skew. A patch release within the same minor, or the next
// minor at any patch, is one step.

/** "1.34.2" -> [1, 34, 2]; undefined when not a full version. */
export function parseKubernetesVersion(v: string): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

const order = (a: readonly number[], b: readonly number[]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** Why going from `from` to `to` is not one kubeadm upgrade, or undefined when it is (or nothing changes). */
export function kubernetesSkewProblem(from: string, to: string, key = "cluster.kubernetesVersion"): string | undefined {
  const a = parseKubernetesVersion(from);
  const b = parseKubernetesVersion(to);
  if (!a || !b) return `${key}: ${!a ? from : to} is not a full version such as 1.34.2`;
  if (order(b, a) === 0) return undefined;
  if (order(b, a) < 0)
    return `${key}: ${from} -> ${to} is a downgrade; kubeadm does not downgrade a cluster (restore the etcd snapshot an upgrade took, or rebuild), so set it back to ${from}`;
  if (b[0] !== a[0] || b[1] > a[1] + 1) {
    const next = `${a[0]}.${a[1] + 1}`;
    return (
      `${key}: ${from} -> ${to} skips a minor version; kubeadm upgrades one minor at a time, so upgrade to ${next}.x first ` +
      `(pulumi config set --path '${key}' ${next}.<patch>, pulumi up), then to ${to}`
    );
  }
  return undefined;
}
