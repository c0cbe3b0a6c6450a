// The GCP part of the cluster: a custom network, firewall rules rendered from the
// cluster's firewall intents (one per role and intent, every source node a range of it, so
// the rule count is flat in the node count), a service account per role, the control
// plane's PKI bundle and the join tokens in Secret Manager (each readable by the roles that
// need it, during the join window: ../cluster/nodeAccess.ts), and
// Shielded VMs whose static address is attached at creation and whose image and user data
// are frozen after it (../cluster/lifecycle.ts). Everything waits for the enabled APIs.
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { intentsFor } from "../cluster/firewallIntents";
import { isControlPlane, type NodeRole } from "../cluster/nodes";
import { GCP_READ_ROLE, GCP_SCOPES, gcpWindowCondition, SECRETS_BY_ROLE, type NodeSecret } from "../cluster/nodeAccess";
import { GCP_INSTANCE, instanceLifecycle, REBUILD_MARKER } from "../cluster/lifecycle";
import { admittedAfter, nodeUserData, type NodePoolArgs } from "../cluster/pool";
import { renderGcpFirewall, roleTag } from "./firewallRules";

/** MTU of the nodes' VPC network (GCP's default), the path MTU of WireGuard's packets from a GCP node. */
export const GCP_NETWORK_MTU = 1460;

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

    const network = new gcp.compute.Network(
      `${name}-net`,
      {
        name: `${args.clusterName}-net`,
        autoCreateSubnetworks: false,
        mtu: GCP_NETWORK_MTU,
      },
      parent,
    );
    const subnet = new gcp.compute.Subnetwork(
      `${name}-subnet`,
      {
        name: `${args.clusterName}-nodes`,
        network: network.id,
        region: args.region,
        ipCidrRange: args.subnetCidr,
        privateIpGoogleAccess: true,
      },
      parent,
    );
    this.networkId = network.id;
    this.subnetworkId = subnet.id;

    const roles = [...new Set(args.nodes.map((n) => n.role))];
    for (const role of roles) {
      const ofRole = args.nodes.filter((n) => n.role === role).map((n) => n.name);
      const rules = renderGcpFirewall(args.clusterName, role, intentsFor(args.intents, ofRole), args.addresses, (a) => pulumi.interpolate`${a}/32`);
      for (const rule of rules) {
        new gcp.compute.Firewall(
          `${name}-${rule.key}`,
          {
            name: `${args.clusterName}-${rule.key}`,
            network: network.id,
            direction: "INGRESS",
            description: rule.description,
            allows: [rule.allow],
            sourceRanges: rule.sourceRanges,
            targetTags: [rule.targetTag],
          },
          parent,
        );
      }
    }

    const accounts: Partial<Record<NodeRole, gcp.serviceaccount.Account>> = {};
    for (const role of roles) {
      // No project roles at all: the nodes need no GCP API but reading their join secrets,
      // granted below on the secrets themselves.
      accounts[role] = new gcp.serviceaccount.Account(
        `${name}-${role}`,
        {
          accountId: `${args.clusterName}-${role === "control-plane" ? "cp" : "worker"}`.slice(0, 30),
          displayName: `${args.clusterName} ${role} nodes`,
        },
        parent,
      );
    }

    const store = (kind: NodeSecret, secretId: string, value: pulumi.Output<string>) => {
      const secret = new gcp.secretmanager.Secret(`${name}-${kind}`, { secretId, replication: { auto: {} } }, parent);
      const version = new gcp.secretmanager.SecretVersion(`${name}-${kind}`, { secret: secret.id, secretData: value }, parent);
      return { secret, version, ref: { gcp: { project: args.project, secretId } } };
    };
    const stored: Partial<Record<NodeSecret, ReturnType<typeof store>>> = {
      "join-token": store("join-token", `${args.clusterName}-join-token`, args.joinTokens),
    };
    if (roles.includes("control-plane")) {
      stored.pki = store("pki", `${args.clusterName}-control-plane-pki`, args.controlPlaneBundle);
      this.pkiSecretId = stored.pki.secret.id;
    }
    const grants: Partial<Record<NodeRole, gcp.secretmanager.SecretIamMember[]>> = {};
    for (const role of roles) {
      grants[role] = SECRETS_BY_ROLE[role].map(
        (kind) =>
          new gcp.secretmanager.SecretIamMember(
            `${name}-${kind}-${role === "control-plane" ? "cp" : "worker"}-reader`,
            {
              secretId: stored[kind]!.secret.id,
              role: GCP_READ_ROLE,
              member: pulumi.interpolate`serviceAccount:${accounts[role]!.email}`,
              condition: args.joinWindowEnds.apply(gcpWindowCondition),
            },
            parent,
          ),
      );
    }

    this.instanceIds = {};
    this.controlPlaneInstanceIds = [];
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
            "user-data": nodeUserData(args, node, { pki: isControlPlane(node) ? stored.pki!.ref : undefined, joinToken: stored["join-token"]!.ref }),
            "block-project-ssh-keys": "true",
          },
          allowStoppingForUpdate: true,
        },
        {
          parent: this,
          // After the secrets it reads and its grants exist; every node but the founder also
          // once the cluster accepts the current token and every node's table lists it.
          dependsOn: admittedAfter(args, node, [...args.apis, ...grants[node.role]!, ...SECRETS_BY_ROLE[node.role].map((k) => stored[k]!.version)]),
          ...instanceLifecycle(GCP_INSTANCE, rebuild),
        },
      );
      this.instanceIds[node.name] = instance.id;
      if (isControlPlane(node)) this.controlPlaneInstanceIds.push(instance.id);
      if (node.name === args.founder) this.founderInstance = instance;
    }

    this.registerOutputs({
      networkId: this.networkId,
      subnetworkId: this.subnetworkId,
      instanceIds: this.instanceIds,
      pkiSecretId: this.pkiSecretId,
    });
  }
}
