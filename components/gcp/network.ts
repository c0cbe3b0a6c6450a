// The GCP nodes' network: a custom-mode VPC network (no auto subnets) and the nodes' subnetwork,
// both children of the pool (as they always were: their URNs do not move).
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";

/** MTU of the nodes' VPC network (GCP's default), the path MTU of WireGuard's packets from a GCP node. */
export const GCP_NETWORK_MTU = 1460;

export interface GcpNetworkArgs {
  readonly clusterName: string;
  readonly region: string;
  /** CIDR of the nodes' subnetwork. */
  readonly subnetCidr: string;
}

export function gcpNetwork(
  name: string,
  args: GcpNetworkArgs,
  opts: pulumi.CustomResourceOptions,
): { network: gcp.compute.Network; subnet: gcp.compute.Subnetwork } {
  const network = new gcp.compute.Network(`${name}-net`, { name: `${args.clusterName}-net`, autoCreateSubnetworks: false, mtu: GCP_NETWORK_MTU }, opts);
  const subnet = new gcp.compute.Subnetwork(
    `${name}-subnet`,
    { name: `${args.clusterName}-nodes`, network: network.id, region: args.region, ipCidrRange: args.subnetCidr, privateIpGoogleAccess: true },
    opts,
  );
  return { network, subnet };
}
