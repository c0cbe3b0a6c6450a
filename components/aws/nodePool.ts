// The AWS part of the cluster: network, security groups rendered from the cluster's
// firewall intents, a least-privilege identity per role, the control plane's PKI bundle
// in Secrets Manager, and the instances themselves (IMDSv2 only, encrypted disks).
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { intentsFor, type FirewallIntent } from "../cluster/firewallIntents";
import { isControlPlane, type NodeSpec } from "../cluster/nodes";
import type { NodeRole } from "../../infra/configSchema";
import type { PkiSecretRef } from "../cluster/bootstrap/types";
import { renderAwsIngress } from "./securityRules";
import { clusterTags, roleTagKey } from "./tags";

export interface AwsNodePoolArgs {
  /** Cluster name, tagged on every resource. */
  readonly clusterName: string;
  /** AWS region of the pool (the provider's region). */
  readonly region: string;
  /** The AWS nodes of the cluster. */
  readonly nodes: readonly NodeSpec[];
  /** CIDR of the VPC to create, or of the existing VPC given as vpcId. */
  readonly vpcCidr: string;
  /** CIDR of the nodes' subnet. */
  readonly subnetCidr: string;
  /** Existing VPC id; default: create a VPC. Its route to the internet is then the user's. */
  readonly vpcId?: string;
  /** AMI lookup: name filter and owner account. */
  readonly amiNameFilter: string;
  readonly amiOwner: string;
  /** Every node's static public IPv4, in any cloud. */
  readonly addresses: Readonly<Record<string, pulumi.Output<string>>>;
  /** Elastic IP allocation id per AWS node. */
  readonly allocationIds: Readonly<Record<string, pulumi.Output<string>>>;
  /** The cluster's firewall intents; the pool renders those that target its nodes. */
  readonly intents: readonly FirewallIntent[];
  /** Control-plane PKI bundle (secret JSON); stored only if the pool has control-plane nodes. */
  readonly controlPlaneBundle: pulumi.Output<string>;
  /** Cloud-init user data of a node, given where it finds the PKI bundle. */
  readonly userData: (node: NodeSpec, pkiSecret: PkiSecretRef | undefined) => pulumi.Output<string>;
}

export class AwsNodePool extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  public readonly subnetId: pulumi.Output<string>;
  /** Security group id per role present in the pool. */
  public readonly securityGroupIds: Partial<Record<NodeRole, pulumi.Output<string>>>;
  /** Instance id per node name. */
  public readonly instanceIds: Record<string, pulumi.Output<string>>;
  /** ARN of the Secrets Manager secret with the PKI bundle, if the pool has control-plane nodes. */
  public readonly pkiSecretArn?: pulumi.Output<string>;

  constructor(name: string, args: AwsNodePoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wg-mesh:aws:NodePool", name, {}, opts);
    const parent = { parent: this };
    const tags = clusterTags(args.clusterName);

    const network = this.network(name, args, tags);
    this.vpcId = network.vpcId;
    this.subnetId = network.subnetId;

    const ami = aws.ec2.getAmiOutput({
      mostRecent: true,
      owners: [args.amiOwner],
      filters: [
        { name: "name", values: [args.amiNameFilter] },
        { name: "architecture", values: ["x86_64"] },
        { name: "virtualization-type", values: ["hvm"] },
      ],
    }, parent);

    const roles = [...new Set(args.nodes.map((n) => n.role))];
    this.securityGroupIds = {};
    for (const role of roles) {
      this.securityGroupIds[role] = this.securityGroup(`${name}-${role}`, role, args, network.vpcId, tags).id;
    }

    // The PKI bundle lives in Secrets Manager under a name known before anything exists,
    // so cloud-init can carry the reference (never the keys); only the control-plane
    // role may read it.
    let pkiSecret: PkiSecretRef | undefined;
    let pkiVersion: aws.secretsmanager.SecretVersion | undefined;
    const profiles: Partial<Record<NodeRole, aws.iam.InstanceProfile>> = {};
    if (roles.includes("control-plane")) {
      const secretName = `${args.clusterName}/control-plane-pki`;
      const secret = new aws.secretsmanager.Secret(`${name}-pki`, {
        name: secretName,
        description: `Kubernetes control-plane PKI of ${args.clusterName}; readable only by its control-plane instances`,
        recoveryWindowInDays: 0,
        tags,
      }, parent);
      pkiVersion = new aws.secretsmanager.SecretVersion(`${name}-pki`, { secretId: secret.id, secretString: args.controlPlaneBundle }, parent);
      this.pkiSecretArn = secret.arn;
      pkiSecret = { aws: { region: args.region, secretId: secretName } };
      profiles["control-plane"] = this.identity(`${name}-control-plane`, tags, secret.arn);
    }
    if (roles.includes("worker")) profiles.worker = this.identity(`${name}-worker`, tags, undefined);

    this.instanceIds = {};
    for (const node of args.nodes) {
      const instance = new aws.ec2.Instance(`${name}-${node.name}`, {
        ami: ami.id,
        instanceType: node.machineType,
        availabilityZone: node.zone,
        subnetId: network.subnetId,
        vpcSecurityGroupIds: [this.securityGroupIds[node.role]!],
        iamInstanceProfile: profiles[node.role]!.name,
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
        rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: node.diskSizeGb, deleteOnTermination: true },
        userData: args.userData(node, isControlPlane(node) ? pkiSecret : undefined),
        userDataReplaceOnChange: true,
        tags: { ...tags, Name: node.name, [roleTagKey]: node.role },
      }, { parent: this, dependsOn: isControlPlane(node) && pkiVersion ? [pkiVersion] : [] });
      new aws.ec2.EipAssociation(`${name}-${node.name}`, { allocationId: args.allocationIds[node.name], instanceId: instance.id }, parent);
      this.instanceIds[node.name] = instance.id;
    }

    this.registerOutputs({
      vpcId: this.vpcId,
      subnetId: this.subnetId,
      securityGroupIds: this.securityGroupIds,
      instanceIds: this.instanceIds,
      pkiSecretArn: this.pkiSecretArn,
    });
  }

  private network(name: string, args: AwsNodePoolArgs, tags: Record<string, string>) {
    const parent = { parent: this };
    const vpcId = args.vpcId !== undefined
      ? pulumi.output(args.vpcId)
      : new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: args.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags }, parent).id;
    const subnet = new aws.ec2.Subnet(`${name}-subnet`, {
      vpcId,
      cidrBlock: args.subnetCidr,
      availabilityZone: args.nodes[0]?.zone,
      mapPublicIpOnLaunch: false, // nodes get their Elastic IP instead
      tags,
    }, parent);
    if (args.vpcId === undefined) {
      const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId, tags }, parent);
      const routes = new aws.ec2.RouteTable(`${name}-routes`, {
        vpcId,
        routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
        tags,
      }, parent);
      new aws.ec2.RouteTableAssociation(`${name}-routes`, { subnetId: subnet.id, routeTableId: routes.id }, parent);
    }
    return { vpcId, subnetId: subnet.id };
  }

  private securityGroup(name: string, role: NodeRole, args: AwsNodePoolArgs, vpcId: pulumi.Input<string>, tags: Record<string, string>) {
    const parent = { parent: this };
    const sg = new aws.ec2.SecurityGroup(name, {
      vpcId,
      description: `${args.clusterName} ${role} nodes: WireGuard and control-plane bootstrap only`,
      tags: { ...tags, Name: name, [roleTagKey]: role },
    }, parent);
    // Egress stays open: nodes fetch packages and images, and reach cloud APIs.
    new aws.vpc.SecurityGroupEgressRule(`${name}-egress`, { securityGroupId: sg.id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", description: "all egress" }, parent);
    const ofRole = args.nodes.filter((n) => n.role === role).map((n) => n.name);
    for (const rule of renderAwsIngress(intentsFor(args.intents, ofRole), args.addresses, (a) => pulumi.interpolate`${a}/32`)) {
      new aws.vpc.SecurityGroupIngressRule(`${name}-${rule.key}`, {
        securityGroupId: sg.id,
        description: rule.description,
        ipProtocol: rule.ipProtocol,
        fromPort: rule.fromPort,
        toPort: rule.toPort,
        cidrIpv4: rule.cidrIpv4,
        tags,
      }, parent);
    }
    return sg;
  }

  /** An instance role with nothing but, for the control plane, reading its PKI secret. */
  private identity(name: string, tags: Record<string, string>, pkiSecretArn: pulumi.Output<string> | undefined) {
    const parent = { parent: this };
    const role = new aws.iam.Role(name, {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      tags,
    }, parent);
    if (pkiSecretArn) {
      new aws.iam.RolePolicy(`${name}-pki`, {
        role: role.id,
        policy: pkiSecretArn.apply((arn) => JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: arn }],
        })),
      }, parent);
    }
    return new aws.iam.InstanceProfile(name, { role: role.name, tags }, parent);
  }
}
