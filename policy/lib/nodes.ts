// Which resources put Kubernetes nodes (machines) into a stack, and in which cloud.
import type { Res } from "./resources";

export const NODE_TYPES: readonly string[] = [
  "aws:ec2/instance:Instance",
  "aws:ec2/spotInstanceRequest:SpotInstanceRequest",
  "aws:ec2/launchTemplate:LaunchTemplate",
  "aws:autoscaling/group:Group",
  "gcp:compute/instance:Instance",
  "gcp:compute/instanceTemplate:InstanceTemplate",
  "gcp:compute/instanceGroupManager:InstanceGroupManager",
  "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager",
];

export function isNodeResource(r: Res, extraTypes: readonly string[] = []): boolean {
  return NODE_TYPES.includes(r.type) || extraTypes.includes(r.type);
}

export function nodeResources(resources: readonly Res[], extraTypes: readonly string[] = []): Res[] {
  return resources.filter((r) => isNodeResource(r, extraTypes));
}

/** Cloud of a resource from its provider package ("aws", "gcp", ...). */
export function cloudOf(r: Res): string {
  return r.type.split(":")[0];
}
