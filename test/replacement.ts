// Which inputs force a replacement, per resource type the nodes stand on, and the check that
// a later `pulumi up` replaces none of them: between two runs, every such input is unchanged,
// or it is one the program froze (ignoreChanges) and does not ask to replace on.
import type { Recorded } from "./pulumiMocks";
import type { CapturedOptions } from "./stackHarness";

/** Property paths whose change makes the cloud provider replace the resource. */
export const REPLACEMENT_INPUTS: Readonly<Record<string, readonly string[]>> = {
  "aws:ec2/instance:Instance": [
    "ami",
    "userDataBase64",
    "userData",
    "primaryNetworkInterface",
    "availabilityZone",
    "subnetId",
    "rootBlockDevice.encrypted",
    "rootBlockDevice.volumeType",
  ],
  "aws:ec2/networkInterface:NetworkInterface": ["subnetId", "privateIp", "privateIps"],
  "aws:ec2/subnet:Subnet": ["vpcId", "cidrBlock", "availabilityZone"],
  "aws:ec2/eip:Eip": ["domain", "address"],
  "gcp:compute/instance:Instance": [
    "name",
    "zone",
    "bootDisk.initializeParams.image",
    'metadata["user-data"]',
    "bootDisk.initializeParams.type",
    "networkInterfaces",
  ],
  "gcp:compute/address:Address": ["name", "region", "addressType", "networkTier", "address", "subnetwork", "purpose"],
  "gcp:compute/subnetwork:Subnetwork": ["name", "network", "region"],
};

function at(value: any, path: string): unknown {
  const parts = path.match(/[^.[\]"]+/g) ?? [];
  return parts.reduce((v, p) => (v === undefined || v === null ? undefined : v[p]), value);
}

export interface Replacement {
  readonly resource: string;
  readonly type: string;
  readonly input: string;
  readonly before: unknown;
  readonly after: unknown;
}

/** The resources of run 1 that run 2 would replace, with the input that forces it. */
export function replacements(before: readonly Recorded[], after: readonly Recorded[], afterOptions: readonly CapturedOptions[]): Replacement[] {
  const found: Replacement[] = [];
  for (const old of before) {
    const paths = REPLACEMENT_INPUTS[old.type];
    if (!paths) continue;
    const now = after.find((r) => r.type === old.type && r.name === old.name);
    if (!now) continue; // removed on purpose by the change, not replaced
    const opts = afterOptions.find((o) => o.type === old.type && o.name === old.name);
    const frozen = opts?.ignoreChanges ?? [];
    const onChange = opts?.replaceOnChanges ?? [];
    for (const input of paths) {
      const a = at(old.inputs, input);
      const b = at(now.inputs, input);
      if (JSON.stringify(a) === JSON.stringify(b)) continue;
      if (frozen.includes(input) && !onChange.includes(input)) continue; // kept as created
      found.push({ resource: old.name, type: old.type, input, before: a, after: b });
    }
    // A marker that appears where replaceOnChanges watches it replaces too (cluster.replaceNodes).
    for (const watched of onChange) {
      if (paths.includes(watched)) continue;
      if (JSON.stringify(at(old.inputs, watched)) !== JSON.stringify(at(now.inputs, watched))) {
        found.push({ resource: old.name, type: old.type, input: watched, before: at(old.inputs, watched), after: at(now.inputs, watched) });
      }
    }
  }
  return found;
}
