// The GCP part of the cluster, in the AWS pool's shape: its network (./network.ts), firewall
// rules rendered from the cluster's firewall intents (./firewall.ts), a service account per role
// with read grants on its join secrets during the join window (./identity.ts), the control
// plane's PKI bundle and the join tokens in Secret Manager (../core/pool.ts JoinSecrets), and
// Shielded VMs whose static address is attached at creation and whose image and user data
// are frozen after it (../core/lifecycle.ts). Everything waits for the enabled APIs. Every
// resource is the pool's direct child, as it always was (its URN does not move).
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import type { NodeSecret } from "../core/nodeAccess";
import { instanceLifecycle, REBUILD_MARKER, type FrozenInputs } from "../core/lifecycle";
import { admittedAfter, JoinSecrets, PoolInstances, rebuildRequest, type NodePoolArgs } from "../core/pool";
import { gcpFirewall } from "./firewall";
import { roleTag } from "./firewallRules";
import { GCP_SCOPES, nodeAccounts, secretGrants } from "./identity";
import { gcpNetwork } from "./network";

/** Secret Manager ids under the cluster's prefix. */
const SECRET_NAMES: Record<NodeSecret, string> = { "join-token": "join-token", pki: "control-plane-pki", "boot-guard": "boot-guard-nodes" };

/** gcp.compute.Instance: the boot image, the user data in the metadata, and the private address (an
 * instance created before the subnet plan keeps the one GCP picked until it is rebuilt). */
export const GCP_INSTANCE: FrozenInputs = {
  frozen: ["bootDisk.initializeParams.image", 'metadata["user-data"]', "networkInterfaces[0].networkIp"],
  marker: 'labels["wg-mesh-rebuild"]',
};

export interface GcpNodePoolArgs extends NodePoolArgs {
  /** GCP project of the pool. */
  readonly project: string;
  /** CIDR of the nodes' subnetwork. */
  readonly subnetCidr: string;
  /** The pinned boot image, projects/<p>/global/images/<image>. */
  readonly image: string;
  /** The enabled APIs (gcp/apis.ts) every resource waits for. */
  readonly apis: readonly pulumi.Resource[];
  /** Private IPv4 per GCP node, from the subnet plan (../cluster/privateAddresses.ts): the node table lists it. */
  readonly privateAddresses: Readonly<Record<string, string>>;
}

export class GcpNodePool extends pulumi.ComponentResource {
  public readonly networkId: pulumi.Output<string>;
  public readonly subnetworkId: pulumi.Output<string>;
  /** Instance id per node name. */
  public readonly instanceIds: Record<string, pulumi.Output<string>>;
  /** Instance ids of the control planes (what tells a new cluster from a surviving one). */
  public readonly controlPlaneInstanceIds: pulumi.Output<string>[];
  /** Secret Manager secret with the PKI bundle, if the pool has control-plane nodes. */
  public readonly pkiSecretId?: pulumi.Output<string>;
  /** The founder's instance, if it is in this pool (what the API readiness waits for). */
  public readonly founderInstance?: gcp.compute.Instance;

  constructor(name: string, args: GcpNodePoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wg-mesh:gcp:NodePool", name, {}, opts);
    const parent = { parent: this, dependsOn: [...args.apis] };

    const { network, subnet } = gcpNetwork(name, { clusterName: args.clusterName, region: args.region, subnetCidr: args.subnetCidr }, parent);
    this.networkId = network.id;
    this.subnetworkId = subnet.id;
    gcpFirewall(name, { clusterName: args.clusterName, network, nodes: args.nodes, intents: args.intents, addresses: args.addresses }, parent);

    const roles = [...new Set(args.nodes.map((n) => n.role))];
    const accounts = nodeAccounts(name, args.clusterName, roles, parent);
    const secrets = new JoinSecrets(args, (kind, value) => {
      const secretId = `${args.clusterName}-${SECRET_NAMES[kind]}`;
      const secret = new gcp.secretmanager.Secret(`${name}-${kind}`, { secretId, replication: { auto: {} } }, parent);
      const version = new gcp.secretmanager.SecretVersion(`${name}-${kind}`, { secret: secret.id, secretData: value }, parent);
      return { secret, version, ref: { gcp: { project: args.project, secretId } } };
    });
    this.pkiSecretId = secrets.pki?.secret.id;
    const grants = secretGrants(name, roles, accounts, secrets, args.joinWindowEnds, parent);

    const instances = new PoolInstances<gcp.compute.Instance>(args.founder);
    for (const node of args.nodes) {
      const rebuild = args.rebuild.includes(node.name);
      const privateAddress = args.privateAddresses[node.name];
      if (privateAddress === undefined) throw new Error(`${node.name}: no private address in the subnet plan`);
      // The address the node table lists, reserved (computed before any instance exists): no
      // other VM of the subnet can take it, and it outlives a rebuild of this node.
      const internal = new gcp.compute.Address(
        `${name}-${node.name}-internal`,
        {
          name: `${node.name}-internal`,
          region: args.region,
          subnetwork: subnet.id,
          addressType: "INTERNAL",
          purpose: "GCE_ENDPOINT",
          address: privateAddress,
        },
        parent,
      );
      const userData = args.userData(node, secrets.forNode(node));
      const gate = rebuild ? args.rebuildGate?.(node, rebuildRequest([args.image, userData, privateAddress])) : undefined;
      const instance = new gcp.compute.Instance(
        `${name}-${node.name}`,
        {
          name: node.name,
          machineType: node.machineType,
          zone: node.zone,
          tags: [roleTag(args.clusterName, node.role)],
          labels: rebuild ? { "wg-mesh-rebuild": REBUILD_MARKER } : {},
          bootDisk: { initializeParams: { image: args.image, size: node.diskSizeGb, type: "pd-balanced" } },
          // The static address is attached at creation: the VM has egress from the first boot.
          networkInterfaces: [{ subnetwork: subnet.id, networkIp: internal.address, accessConfigs: [{ natIp: args.addresses[node.name] }] }],
          shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
          serviceAccount: { email: accounts[node.role]!.email, scopes: [...GCP_SCOPES[node.role]] },
          metadata: {
            "user-data": userData,
            "block-project-ssh-keys": "true",
          },
          allowStoppingForUpdate: true,
        },
        {
          parent: this,
          // After the secrets it reads and its grants exist; every node but the founder also
          // once the cluster accepts the current token and every node's table lists it.
          // A rebuilt node's new instance: also once the node was drained.
          dependsOn: admittedAfter(args, node, [
            ...args.apis,
            ...grants[node.role]!,
            ...secrets.ofRole(node.role).map((s) => s.version),
            ...(gate ? [gate] : []),
          ]),
          ...instanceLifecycle(GCP_INSTANCE, rebuild),
        },
      );
      instances.add(node, instance);
    }
    this.instanceIds = instances.ids;
    this.controlPlaneInstanceIds = instances.controlPlaneIds;
    this.founderInstance = instances.founder;

    this.registerOutputs({
      networkId: this.networkId,
      subnetworkId: this.subnetworkId,
      instanceIds: this.instanceIds,
      pkiSecretId: this.pkiSecretId,
    });
  }
}
