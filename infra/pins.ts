// The images nodes boot are pinned in stack config, never looked up at deploy time: a
// lookup would pick up every new image and (with the image an input that forces
// replacement) offer to rebuild running nodes. scripts/pin-images.sh records the current
// Ubuntu 24.04 LTS image of the stack's region/project.
import { IMAGE_HELP } from "../components/nodeRouter/settings";

const AMI = /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/;
const GCP_IMAGE = /^projects\/[a-z][-a-z0-9]{4,28}[a-z0-9]\/global\/images\/[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const PIN_HELP = 'record the current Ubuntu 24.04 LTS image with `scripts/pin-images.sh <stack>` (README, "Pinned images")';

/** Messages for required keys that have no default, by dotted path. */
export const REQUIRED_HINTS: Readonly<Record<string, string>> = {
  nodeRouter: `required: set nodeRouter.image, the node-router agent image pinned by digest; ${IMAGE_HELP}`,
  "nodeRouter.image": `required: the node-router agent image pinned by digest; ${IMAGE_HELP}`,
  "aws.ami": `required: the AMI new AWS nodes boot, pinned (ami-...); ${PIN_HELP}`,
  "gcp.image": `required: the image new GCP nodes boot, pinned (projects/<project>/global/images/<image>); ${PIN_HELP}`,
};

/** Keys earlier versions accepted, by dotted path, and what replaced them. */
export const RENAMED_KEYS: Readonly<Record<string, string>> = {
  "aws.subnetCidr": 'replaced by aws.subnetCidrs, one node subnet per zone, e.g. {"eu-west-1a": "10.10.1.0/24"} (zones without an entry get a derived /24)',
  "aws.amiNameFilter": `replaced by aws.ami, a pinned AMI id; ${PIN_HELP}`,
  "aws.amiOwner": `replaced by aws.ami, a pinned AMI id; ${PIN_HELP}`,
  "nodeRouter.metricsPort":
    'replaced by nodeRouter.metricsAddress (host:port, default 127.0.0.1:9872, loopback only); to let Prometheus scrape the node, set it to "0.0.0.0:<port>"',
  "cluster.upgradeConfirmed":
    'no longer used: `pulumi up` now upgrades the running nodes itself when cluster.kubernetesVersion or cluster.containerdVersion changes (README, "Upgrades"); remove it with `pulumi config rm --path` and this key',
  // The agent's settings go by the agent's own names (components/nodeRouter/settings.ts).
  "nodeRouter.table": "replaced by nodeRouter.steeringTable, the agent's name for it (same value)",
  "nodeRouter.priority": "replaced by nodeRouter.rulePriority, the agent's name for it (same value)",
  "nodeRouter.mark": "replaced by nodeRouter.wgMark, the agent's name for it (same value)",
  "nodeRouter.mask": "replaced by nodeRouter.wgMask, the agent's name for it (same value)",
};

export function amiProblem(ami: string): string | undefined {
  return AMI.test(ami) ? undefined : `"${ami}" is not an AMI id (ami- and 8 or 17 hex digits); ${PIN_HELP}`;
}

export function gcpImageProblem(image: string): string | undefined {
  if (GCP_IMAGE.test(image)) return undefined;
  if (/family/.test(image) || /^[a-z][-a-z0-9]+\/[a-z][-a-z0-9]*$/.test(image)) {
    return `"${image}" names an image family (or may), which resolves to a newer image whenever one is published; pin one image, projects/<project>/global/images/<image>; ${PIN_HELP}`;
  }
  return `"${image}" is not an image self-link projects/<project>/global/images/<image>; ${PIN_HELP}`;
}
