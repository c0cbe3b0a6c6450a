// The node side of an in-place upgrade (issue 27): the script a privileged one-shot Job runs on
// the node's host (`nsenter --target 1 --mount --uts --ipc --net --pid -- bash -c "$SCRIPT"
// wg-mesh-upgrade`), and the environment that tells it what to do. The script is shipped as the
// boot scripts are (shippedScript: without its comment lines, so a comment change is no change
// of the Job), read from this directory: the program runs from its TypeScript sources.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { kubernetesMinor } from "../bootstrap/bootstrapEnv";
import { shippedScript } from "../bootstrap/cloudInit";
import { CONTAINERD_VERSION, K8S_VERSION } from "../bootstrap/validate";

/** One run of the script on one node. */
export type UpgradeStep = "snapshot" | "etcd-health" | "first-control-plane" | "control-plane" | "worker";
export const UPGRADE_STEPS: readonly UpgradeStep[] = ["snapshot", "etcd-health", "first-control-plane", "control-plane", "worker"];

/** Where the snapshot step keeps snapshots on the host when no snapshotDir is given (the script's default). */
export const DEFAULT_SNAPSHOT_DIR = "/var/lib/wg-mesh/etcd-snapshots";
/** The script checks SNAPSHOT_DIR with this same pattern. */
const SNAPSHOT_DIR = /^\/[A-Za-z0-9._/-]*$/;

/** upgradeNode.sh as the Job runs it. */
export const UPGRADE_NODE_SCRIPT: string = shippedScript(readFileSync(join(__dirname, "upgradeNode.sh"), "utf8"));

function fail(field: string, value: unknown, fix: string): never {
  throw new Error(`upgradeEnvironment: ${field} = ${JSON.stringify(value)} is invalid: ${fix}`);
}

/** The script's environment for one step (it checks the same again and exits 2 on anything else). */
export function upgradeEnvironment(o: {
  step: UpgradeStep;
  kubernetesVersion: string;
  containerdVersion: string;
  snapshotDir?: string;
}): Record<string, string> {
  if (!UPGRADE_STEPS.includes(o.step)) fail("step", o.step, `use one of ${UPGRADE_STEPS.join(", ")}`);
  if (!K8S_VERSION.test(o.kubernetesVersion)) fail("kubernetesVersion", o.kubernetesVersion, 'use "MAJOR.MINOR.PATCH" without a leading v, e.g. "1.34.2"');
  if (!CONTAINERD_VERSION.test(o.containerdVersion)) fail("containerdVersion", o.containerdVersion, 'use "MAJOR.MINOR.PATCH", e.g. "1.7.27"');
  if (o.snapshotDir !== undefined && !SNAPSHOT_DIR.test(o.snapshotDir))
    fail("snapshotDir", o.snapshotDir, "use an absolute path of letters, digits and . _ - /");
  return {
    UPGRADE_STEP: o.step,
    K8S_VERSION: o.kubernetesVersion,
    K8S_MINOR: kubernetesMinor(o.kubernetesVersion),
    CONTAINERD_VERSION: o.containerdVersion,
    ...(o.snapshotDir !== undefined ? { SNAPSHOT_DIR: o.snapshotDir } : {}),
  };
}
