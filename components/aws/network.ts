// The AWS network of the nodes: a VPC (or the user's), and one subnet per availability
// zone the pools use (components/aws/subnets.ts numbers them), routed to an internet
// gateway when the program created the VPC.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { zoneSubnets } from "./subnets";

export interface AwsNetworkArgs {
  /** CIDR of the VPC to create, or of the existing VPC given as vpcId. */
  readonly vpcCidr: string;
  /** Existing VPC id; default: create a VPC. Its route to the internet is then the user's. */
  readonly vpcId?: string;
  /** The zones the pools use. */
  readonly zones: readonly string[];
  /** Explicit subnet CIDR per zone (aws.subnetCidrs); other zones get a derived /24. */
  readonly subnetCidrs: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
}

export class AwsNetwork extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  /** Subnet id per zone. */
  public readonly subnetIds: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: AwsNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wg-mesh:aws:Network", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    this.vpcId = args.vpcId !== undefined
      ? pulumi.output(args.vpcId)
      : new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: args.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags }, parent).id;
    const routes = args.vpcId === undefined
      ? new aws.ec2.RouteTable(`${name}-routes`, {
        vpcId: this.vpcId,
        routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: this.vpcId, tags }, parent).id }],
        tags,
      }, parent)
      : undefined;
    this.subnetIds = {};
    for (const s of zoneSubnets(args.vpcCidr, args.zones, args.subnetCidrs)) {
      // Named by zone, so another zone coming or going never touches this one.
      const subnet = new aws.ec2.Subnet(`${name}-subnet-${s.zone}`, {
        vpcId: this.vpcId,
        cidrBlock: s.cidr,
        availabilityZone: s.zone,
        mapPublicIpOnLaunch: false, // each node's network interface carries its Elastic IP
        tags: { ...tags, Name: `${name}-${s.zone}` },
      }, parent);
      if (routes) new aws.ec2.RouteTableAssociation(`${name}-routes-${s.zone}`, { subnetId: subnet.id, routeTableId: routes.id }, parent);
      this.subnetIds[s.zone] = subnet.id;
    }
    this.registerOutputs({ vpcId: this.vpcId, subnetIds: this.subnetIds });
  }
}
