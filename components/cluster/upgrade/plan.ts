// The order of an upgrade, pure: an etcd snapshot on the first control plane, then the control
// planes one at a time (the first one runs `kubeadm upgrade apply`, which upgrades the cluster's
// control-plane components; the others `kubeadm upgrade node`), then the workers in batches of
// cluster.upgrade.maxUnavailable. Each step waits for the one before it, so at most one control
// plane (one etcd member) and at most maxUnavailable workers are out at any time.
import type { UpgradeStep } from "./upgradeNodeScript";

export interface UpgradeNode {
  readonly name: string;
  readonly role: "control-plane" | "worker";
}

/** One resource of the roll: what runs on which node, and the steps it waits for (by node name; "snapshot" for the snapshot). */
export interface RollStep {
  readonly key: string;
  readonly node: string;
  readonly step: UpgradeStep;
  readonly after: readonly string[];
}

/** The roll in order. `nodes` in the cluster's order; the first control plane is the one kubeadm init ran on. */
export function upgradeRoll(nodes: readonly UpgradeNode[], maxUnavailable: number): RollStep[] {
  if (!Number.isInteger(maxUnavailable) || maxUnavailable < 1) throw new Error(`maxUnavailable must be a whole number >= 1, not ${maxUnavailable}`);
  const controlPlanes = nodes.filter((n) => n.role === "control-plane");
  const workers = nodes.filter((n) => n.role === "worker");
  if (controlPlanes.length === 0) throw new Error("an upgrade needs a control plane to start from");
  const steps: RollStep[] = [{ key: "snapshot", node: controlPlanes[0].name, step: "snapshot", after: [] }];
  let previous: string[] = ["snapshot"];
  controlPlanes.forEach((n, i) => {
    steps.push({ key: n.name, node: n.name, step: i === 0 ? "first-control-plane" : "control-plane", after: previous });
    previous = [n.name];
  });
  for (let i = 0; i < workers.length; i += maxUnavailable) {
    const batch = workers.slice(i, i + maxUnavailable);
    for (const n of batch) steps.push({ key: n.name, node: n.name, step: "worker", after: previous });
    previous = batch.map((n) => n.name);
  }
  return steps;
}
