// One Elastic IP per AWS node, allocated before any instance exists, so every node's
// address (its Kubernetes InternalIP and WireGuard endpoint) is known to the firewall
// rules and cloud-init of every other node, in either cloud.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { NodeSpec } from "../core/nodes";

export interface AwsNodeAddressesArgs {
  /** The AWS nodes of the cluster. */
  readonly nodes: readonly NodeSpec[];
}

export class AwsNodeAddresses extends pulumi.ComponentResource {
  /** Public IPv4 per node name. */
  public readonly addresses: Record<string, pulumi.Output<string>>;
  /** EIP allocation id per node name, for the association with its instance. */
  public readonly allocationIds: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: AwsNodeAddressesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wg-mesh:aws:NodeAddresses", name, {}, opts);
    this.addresses = {};
    this.allocationIds = {};
    for (const node of args.nodes) {
      const eip = new aws.ec2.Eip(`${name}-${node.name}`, { domain: "vpc", tags: { Name: node.name } }, { parent: this });
      this.addresses[node.name] = eip.publicIp;
      this.allocationIds[node.name] = eip.allocationId;
    }
    this.registerOutputs({ addresses: this.addresses, allocationIds: this.allocationIds });
  }
}
