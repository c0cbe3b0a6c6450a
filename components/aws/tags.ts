// Tags that let people and the policy pack tell which security groups guard which nodes.
export const clusterTagKey = "wg-mesh/cluster";
export const roleTagKey = "wg-mesh/role";

export function clusterTags(clusterName: string): Record<string, string> {
  return { [clusterTagKey]: clusterName, "managed-by": "pulumi" };
}
