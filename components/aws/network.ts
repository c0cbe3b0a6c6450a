// The AWS network of the nodes: a VPC (or the user's), and one subnet per availability
// zone the nodes use (numbered by ./subnets.ts when the stack names none), routed to an
// internet gateway when the program created the VPC.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

/**
 * Path MTU from an AWS node to the others as WireGuard's packets see it: 9001 inside a VPC, but
 * the internet path through the internet gateway, where every other node's public address is, is 1500.
 */
export const AWS_PATH_MTU = 1500;

export interface AwsNetworkArgs {
  /** CIDR of the VPC to create, or of the existing VPC given as vpcId. */
  readonly vpcCidr: string;
  /** Existing VPC id; default: create a VPC. Its route to the internet is then the user's. */
  readonly vpcId?: string;
  /** Node subnet CIDR of every zone the nodes use. */
  readonly subnets: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
}

export class AwsNetwork extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  /** Subnet id per zone. */
  public readonly subnetIds: Record<string, pulumi.Output<string>>;
  /**
   * Per zone, what makes the zone's subnet reach the internet (empty in the user's VPC, whose
   * route is the user's): an Elastic IP association before it gets `Gateway.NotAttached`.
   */
  public readonly internetPath: Record<string, pulumi.Resource[]>;

  constructor(name: string, args: AwsNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wg-mesh:aws:Network", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    this.vpcId =
      args.vpcId !== undefined
        ? pulumi.output(args.vpcId)
        : new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: args.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags }, parent).id;
    const igw = args.vpcId === undefined ? new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: this.vpcId, tags }, parent) : undefined;
    const routes = igw
      ? new aws.ec2.RouteTable(
          `${name}-routes`,
          {
            vpcId: this.vpcId,
            routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
            tags,
          },
          parent,
        )
      : undefined;
    this.subnetIds = {};
    this.internetPath = {};
    for (const zone of Object.keys(args.subnets).sort()) {
      // Named by zone, so another zone coming or going never touches this one.
      const subnet = new aws.ec2.Subnet(
        `${name}-subnet-${zone}`,
        {
          vpcId: this.vpcId,
          cidrBlock: args.subnets[zone],
          availabilityZone: zone,
          mapPublicIpOnLaunch: false, // each node's network interface carries its Elastic IP
          tags: { ...tags, Name: `${name}-${zone}` },
        },
        parent,
      );
      const association = routes && new aws.ec2.RouteTableAssociation(`${name}-routes-${zone}`, { subnetId: subnet.id, routeTableId: routes.id }, parent);
      this.subnetIds[zone] = subnet.id;
      // The gateway (attached to the VPC when created with its vpcId), the table with the
      // default route, and the zone's subnet's association with that table.
      this.internetPath[zone] = igw && routes && association ? [igw, routes, association] : [];
    }
    this.registerOutputs({ vpcId: this.vpcId, subnetIds: this.subnetIds });
  }
}
