// One static external address per GCP node, reserved before any instance exists, so
// every node's address is known to the firewall rules and cloud-init of all nodes.
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import type { NodeSpec } from "../core/nodes";

export interface GcpNodeAddressesArgs {
  /** The GCP nodes of the cluster. */
  readonly nodes: readonly NodeSpec[];
  /** Region the addresses are reserved in (the pool's region). */
  readonly region: string;
  /** The enabled APIs (gcp/apis.ts) the addresses wait for. */
  readonly apis: readonly pulumi.Resource[];
}

export class GcpNodeAddresses extends pulumi.ComponentResource {
  /** Public IPv4 per node name. */
  public readonly addresses: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: GcpNodeAddressesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wg-mesh:gcp:NodeAddresses", name, {}, opts);
    this.addresses = {};
    for (const node of args.nodes) {
      const address = new gcp.compute.Address(
        `${name}-${node.name}`,
        {
          name: node.name,
          region: args.region,
          addressType: "EXTERNAL",
          networkTier: "PREMIUM",
        },
        { parent: this, dependsOn: [...args.apis] },
      );
      this.addresses[node.name] = address.address;
    }
    this.registerOutputs({ addresses: this.addresses });
  }
}
