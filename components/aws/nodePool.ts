// The AWS part of the cluster: network, firewall, a least-privilege identity per role, the
// control plane's PKI bundle in Secrets Manager, and the nodes. Each node's network
// interface exists before its instance and already carries the node's Elastic IP, so the
// instance has its public address (and egress) from the first boot; the instance takes it
// as its primary interface. Instances are IMDSv2 only with encrypted disks, and their image
// and user data are frozen after creation (../cluster/lifecycle.ts).
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { FirewallIntent } from "../cluster/firewallIntents";
import { isControlPlane, type NodeSpec } from "../cluster/nodes";
import type { NodeRole } from "../../infra/configSchema";
import type { PkiSecretRef } from "../cluster/bootstrap/types";
import { gzipUserData } from "../cluster/bootstrap/cloudInit";
import { AWS_INSTANCE, instanceLifecycle, REBUILD_MARKER } from "../cluster/lifecycle";
import { AwsNetwork } from "./network";
import { AwsFirewall } from "./firewall";
import { nodeProfile } from "./identity";
import { clusterTags, roleTagKey } from "./tags";

export interface AwsNodePoolArgs {
  /** Cluster name, tagged on every resource. */
  readonly clusterName: string;
  /** AWS region of the pool (the provider's region). */
  readonly region: string;
  /** Every node of the cluster, in both clouds. */
  readonly allNodes: readonly NodeSpec[];
  /** The AWS nodes of the cluster. */
  readonly nodes: readonly NodeSpec[];
  /** CIDR of the VPC to create, or of the existing VPC given as vpcId. */
  readonly vpcCidr: string;
  /** Explicit node subnet per zone; other zones get a derived /24. */
  readonly subnetCidrs: Readonly<Record<string, string>>;
  /** Existing VPC id; default: create a VPC. Its route to the internet is then the user's. */
  readonly vpcId?: string;
  /** The pinned AMI new nodes boot. */
  readonly ami: string;
  /** Every node's static public IPv4, in any cloud. */
  readonly addresses: Readonly<Record<string, pulumi.Output<string>>>;
  /** Elastic IP allocation id per AWS node. */
  readonly allocationIds: Readonly<Record<string, pulumi.Output<string>>>;
  /** The cluster's firewall intents; the pool renders those that target its nodes. */
  readonly intents: readonly FirewallIntent[];
  /** Nodes rebuilt on this run (cluster.replaceNodes). */
  readonly rebuild: readonly string[];
  /** Control-plane PKI bundle (secret JSON); stored only if the pool has control-plane nodes. */
  readonly controlPlaneBundle: pulumi.Output<string>;
  /** Cloud-init user data of a node, given where it finds the PKI bundle. */
  readonly userData: (node: NodeSpec, pkiSecret: PkiSecretRef | undefined) => pulumi.Output<string>;
}

export class AwsNodePool extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  /** Node subnet id per zone. */
  public readonly subnetIds: Record<string, pulumi.Output<string>>;
  /** Security group id per role present in the pool. */
  public readonly securityGroupIds: Partial<Record<NodeRole, pulumi.Output<string>>>;
  /** Instance id per node name. */
  public readonly instanceIds: Record<string, pulumi.Output<string>>;
  /** Instance id per control-plane node name (what tells a new cluster from a surviving one). */
  public readonly controlPlaneInstanceIds: pulumi.Output<string>[];
  /** ARN of the Secrets Manager secret with the PKI bundle, if the pool has control-plane nodes. */
  public readonly pkiSecretArn?: pulumi.Output<string>;

  constructor(name: string, args: AwsNodePoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wg-mesh:aws:NodePool", name, {}, opts);
    const parent = { parent: this };
    const tags = clusterTags(args.clusterName);

    const network = new AwsNetwork(`${name}-net`, { vpcCidr: args.vpcCidr, vpcId: args.vpcId, zones: args.nodes.map((n) => n.zone), subnetCidrs: args.subnetCidrs, tags }, parent);
    const firewall = new AwsFirewall(name, { clusterName: args.clusterName, vpcId: network.vpcId, allNodes: args.allNodes, nodes: args.nodes, addresses: args.addresses, intents: args.intents, tags }, parent);
    this.vpcId = network.vpcId;
    this.subnetIds = network.subnetIds;
    this.securityGroupIds = firewall.securityGroupIds;
    const roles = [...new Set(args.nodes.map((n) => n.role))];

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
      profiles["control-plane"] = nodeProfile(this, `${name}-control-plane`, tags, secret.arn);
    }
    if (roles.includes("worker")) profiles.worker = nodeProfile(this, `${name}-worker`, tags, undefined);

    this.instanceIds = {};
    this.controlPlaneInstanceIds = [];
    for (const node of args.nodes) {
      const nodeTags = { ...tags, Name: node.name, [roleTagKey]: node.role };
      const eni = new aws.ec2.NetworkInterface(`${name}-${node.name}`, {
        subnetId: network.subnetIds[node.zone],
        securityGroups: [this.securityGroupIds[node.role]!],
        description: `${node.name} primary interface (carries its Elastic IP)`,
        tags: nodeTags,
      }, parent);
      const eip = new aws.ec2.EipAssociation(`${name}-${node.name}`, { allocationId: args.allocationIds[node.name], networkInterfaceId: eni.id }, parent);
      const rebuild = args.rebuild.includes(node.name);
      const instance = new aws.ec2.Instance(`${name}-${node.name}`, {
        ami: args.ami,
        instanceType: node.machineType,
        primaryNetworkInterface: { networkInterfaceId: eni.id },
        iamInstanceProfile: profiles[node.role]!.name,
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
        rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: node.diskSizeGb, deleteOnTermination: true },
        userDataBase64: args.userData(node, isControlPlane(node) ? pkiSecret : undefined).apply(gzipUserData),
        tags: rebuild ? { ...nodeTags, "wg-mesh/rebuild": REBUILD_MARKER } : nodeTags,
      }, {
        parent: this,
        // Booted only once its address is on its interface (egress from the first second),
        // and, on control planes, once the PKI it fetches exists.
        dependsOn: [eip, ...(isControlPlane(node) && pkiVersion ? [pkiVersion] : [])],
        ...instanceLifecycle(AWS_INSTANCE, rebuild),
      });
      this.instanceIds[node.name] = instance.id;
      if (isControlPlane(node)) this.controlPlaneInstanceIds.push(instance.id);
    }

    this.registerOutputs({
      vpcId: this.vpcId,
      subnetIds: this.subnetIds,
      securityGroupIds: this.securityGroupIds,
      instanceIds: this.instanceIds,
      pkiSecretArn: this.pkiSecretArn,
    });
  }
}
