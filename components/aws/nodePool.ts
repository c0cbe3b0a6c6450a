// The AWS part of the cluster: network, firewall, a least-privilege identity per role, the
// control plane's PKI bundle and the join tokens in Secrets Manager, and the nodes. Each node's network
// interface exists before its instance and already carries the node's Elastic IP, so the
// instance has its public address (and egress) from the first boot; the instance takes it
// as its primary interface. Instances are IMDSv2 only with encrypted disks, and their image
// and user data are frozen after creation (../core/lifecycle.ts).
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { NodeSecret } from "../core/nodeAccess";
import type { NodeRole, NodeSpec } from "../core/nodes";
import { gzipUserData } from "./userData";
import { instanceLifecycle, REBUILD_MARKER, type FrozenInputs } from "../core/lifecycle";
import { admittedAfter, JoinSecrets, PoolInstances, rebuildRequest, type NodePoolArgs } from "../core/pool";
import { AwsNetwork } from "./network";
import { AwsFirewall } from "./firewall";
import { nodeProfile } from "./identity";
import { clusterTags, roleTagKey } from "./tags";

/** aws.ec2.Instance: the AMI and the (gzipped) user data. */
export const AWS_INSTANCE: FrozenInputs = { frozen: ["ami", "userDataBase64"], marker: 'tags["wg-mesh/rebuild"]' };

/** Secrets Manager names under the cluster's prefix, and what each holds. */
const SECRET_NAMES: Record<NodeSecret, string> = { "join-token": "join-token", pki: "control-plane-pki", "boot-guard": "boot-guard-nodes" };
const SECRET_DESCRIPTIONS: Record<NodeSecret, string> = {
  "join-token": "kubeadm join tokens",
  pki: "Kubernetes control-plane PKI",
  "boot-guard": "node addresses of the boot-time egress guard (public)",
};

export interface AwsNodePoolArgs extends NodePoolArgs {
  /** Every node of the cluster, in both clouds (the firewall's prefix lists hold their addresses). */
  readonly allNodes: readonly NodeSpec[];
  /** CIDR of the VPC to create, or of the existing VPC given as vpcId. */
  readonly vpcCidr: string;
  /** Node subnet CIDR of every zone the pool's nodes use. */
  readonly subnets: Readonly<Record<string, string>>;
  /** Existing VPC id; default: create a VPC. Its route to the internet is then the user's. */
  readonly vpcId?: string;
  /** The pinned AMI new nodes boot. */
  readonly ami: string;
  /** Elastic IP allocation id per AWS node. */
  readonly allocationIds: Readonly<Record<string, pulumi.Output<string>>>;
  /** Private IPv4 per AWS node, from the subnet plan (../cluster/privateAddresses.ts): the node table lists it. */
  readonly privateAddresses: Readonly<Record<string, string>>;
}

const privateAddressOf = (args: AwsNodePoolArgs, name: string): string => {
  const address = args.privateAddresses[name];
  if (address === undefined) throw new Error(`${name}: no private address in the subnet plan`);
  return address;
};

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
  /** The founder's instance, if it is in this pool (what the API readiness waits for). */
  public readonly founderInstance?: aws.ec2.Instance;

  constructor(name: string, args: AwsNodePoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wg-mesh:aws:NodePool", name, {}, opts);
    const parent = { parent: this };
    const tags = clusterTags(args.clusterName);

    const network = new AwsNetwork(`${name}-net`, { vpcCidr: args.vpcCidr, vpcId: args.vpcId, subnets: args.subnets, tags }, parent);
    const firewall = new AwsFirewall(
      name,
      {
        clusterName: args.clusterName,
        vpcId: network.vpcId,
        allNodes: args.allNodes,
        nodes: args.nodes,
        addresses: args.addresses,
        intents: args.intents,
        tags,
      },
      parent,
    );
    this.vpcId = network.vpcId;
    this.subnetIds = network.subnetIds;
    this.securityGroupIds = firewall.securityGroupIds;
    const roles = [...new Set(args.nodes.map((n) => n.role))];

    // The secrets live in Secrets Manager under names known before anything exists, so
    // cloud-init carries the reference (never the value); each role may read only its own
    // (../core/nodeAccess.ts), and only during the join window.
    const secrets = new JoinSecrets(args, (kind, value) => {
      const secretName = `${args.clusterName}/${SECRET_NAMES[kind]}`;
      const description = `${SECRET_DESCRIPTIONS[kind]} of ${args.clusterName}; ${kind === "pki" ? "readable only by its control-plane role" : "readable only by its node roles"} during the join window`;
      const secret = new aws.secretsmanager.Secret(`${name}-${kind}`, { name: secretName, description, recoveryWindowInDays: 0, tags }, parent);
      const version = new aws.secretsmanager.SecretVersion(`${name}-${kind}`, { secretId: secret.id, secretString: value }, parent);
      return { secret, version, ref: { aws: { region: args.region, secretId: secretName } } };
    });
    this.pkiSecretArn = secrets.pki?.secret.arn;
    const identities: Partial<Record<NodeRole, ReturnType<typeof nodeProfile>>> = {};
    for (const role of roles) {
      identities[role] = nodeProfile(
        this,
        `${name}-${role}`,
        tags,
        secrets.ofRole(role).map((s) => s.secret.arn),
        args.joinWindowEnds,
      );
    }

    const instances = new PoolInstances<aws.ec2.Instance>(args.founder);
    for (const node of args.nodes) {
      const nodeTags = { ...tags, Name: node.name, [roleTagKey]: node.role };
      const eni = new aws.ec2.NetworkInterface(
        `${name}-${node.name}`,
        {
          subnetId: network.subnetIds[node.zone],
          // The address the node table lists (computed before any interface exists), not one EC2 picks.
          privateIps: [privateAddressOf(args, node.name)],
          securityGroups: [this.securityGroupIds[node.role]!],
          description: `${node.name} primary interface (carries its Elastic IP)`,
          tags: nodeTags,
        },
        {
          parent: this,
          // An interface created before the subnet plan keeps the address EC2 picked: a new primary
          // address means a new interface and so a new instance, which a program upgrade must never
          // cause. Such a node moves onto the plan when it is rebuilt (cluster.replaceNodes).
          ...(args.rebuild.includes(node.name) ? {} : { ignoreChanges: ["privateIps"] }),
        },
      );
      // AWS refuses the association (Gateway.NotAttached) until the VPC's gateway is attached and routed.
      const eip = new aws.ec2.EipAssociation(
        `${name}-${node.name}`,
        { allocationId: args.allocationIds[node.name], networkInterfaceId: eni.id },
        { ...parent, dependsOn: network.internetPath[node.zone] },
      );
      const rebuild = args.rebuild.includes(node.name);
      const userDataBase64 = args.userData(node, secrets.forNode(node)).apply(gzipUserData);
      const gate = rebuild ? args.rebuildGate?.(node, rebuildRequest([args.ami, userDataBase64, privateAddressOf(args, node.name)])) : undefined;
      const instance = new aws.ec2.Instance(
        `${name}-${node.name}`,
        {
          ami: args.ami,
          instanceType: node.machineType,
          primaryNetworkInterface: { networkInterfaceId: eni.id },
          iamInstanceProfile: identities[node.role]!.profile.name,
          metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
          rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: node.diskSizeGb, deleteOnTermination: true },
          userDataBase64,
          tags: rebuild ? { ...nodeTags, "wg-mesh/rebuild": REBUILD_MARKER } : nodeTags,
        },
        {
          parent: this,
          // Booted only once its address is on its interface (egress from the first second),
          // the secrets it reads exist and it may read them; every node but the founder also
          // once the cluster accepts the current token and every node's table lists it.
          // A rebuilt node's new instance: also once the node was drained.
          dependsOn: admittedAfter(args, node, [
            eip,
            identities[node.role]!.grant,
            ...secrets.ofRole(node.role).map((s) => s.version),
            ...(gate ? [gate] : []),
          ]),
          ...instanceLifecycle(AWS_INSTANCE, rebuild),
        },
      );
      instances.add(node, instance);
    }
    this.instanceIds = instances.ids;
    this.controlPlaneInstanceIds = instances.controlPlaneIds;
    this.founderInstance = instances.founder;

    this.registerOutputs({
      vpcId: this.vpcId,
      subnetIds: this.subnetIds,
      securityGroupIds: this.securityGroupIds,
      instanceIds: this.instanceIds,
      pkiSecretArn: this.pkiSecretArn,
    });
  }
}
