// The GCP part of the cluster: a custom network, firewall rules rendered from the
// cluster's firewall intents (one per role and intent, every source node a range of it, so
// the rule count is flat in the node count), a service account per role, the control
// plane's PKI bundle in Secret Manager (readable by the control-plane account alone), and
// Shielded VMs whose static address is attached at creation and whose image and user data
// are frozen after it (../cluster/lifecycle.ts). Everything waits for the enabled APIs.
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { intentsFor, type FirewallIntent } from "../cluster/firewallIntents";
import { isControlPlane, type NodeSpec } from "../cluster/nodes";
import type { NodeRole } from "../../infra/configSchema";
import type { PkiSecretRef } from "../cluster/bootstrap/types";
import { GCP_INSTANCE, instanceLifecycle, REBUILD_MARKER } from "../cluster/lifecycle";
import { renderGcpFirewall, roleTag } from "./firewallRules";

export interface GcpNodePoolArgs {
  /** Cluster name, prefix of names and network tags. */
  readonly clusterName: string;
  /** GCP project and region of the pool. */
  readonly project: string;
  readonly region: string;
  /** The GCP nodes of the cluster. */
  readonly nodes: readonly NodeSpec[];
  /** CIDR of the nodes' subnetwork. */
  readonly subnetCidr: string;
  /** The pinned boot image, projects/<p>/global/images/<image>. */
  readonly image: string;
  /** Every node's static public IPv4, in any cloud. */
  readonly addresses: Readonly<Record<string, pulumi.Output<string>>>;
  /** The cluster's firewall intents; the pool renders those that target its nodes. */
  readonly intents: readonly FirewallIntent[];
  /** Nodes rebuilt on this run (cluster.replaceNodes). */
  readonly rebuild: readonly string[];
  /** The enabled APIs (gcp/apis.ts) every resource waits for. */
  readonly apis: readonly pulumi.Resource[];
  /** Control-plane PKI bundle (secret JSON); stored only if the pool has control-plane nodes. */
  readonly controlPlaneBundle: pulumi.Output<string>;
  /** Cloud-init user data of a node, given where it finds the PKI bundle. */
  readonly userData: (node: NodeSpec, pkiSecret: PkiSecretRef | undefined) => pulumi.Output<string>;
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

  constructor(name: string, args: GcpNodePoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wg-mesh:gcp:NodePool", name, {}, opts);
    const parent = { parent: this, dependsOn: [...args.apis] };

    const network = new gcp.compute.Network(`${name}-net`, {
      name: `${args.clusterName}-net`,
      autoCreateSubnetworks: false,
      mtu: 1460,
    }, parent);
    const subnet = new gcp.compute.Subnetwork(`${name}-subnet`, {
      name: `${args.clusterName}-nodes`,
      network: network.id,
      region: args.region,
      ipCidrRange: args.subnetCidr,
      privateIpGoogleAccess: true,
    }, parent);
    this.networkId = network.id;
    this.subnetworkId = subnet.id;

    const roles = [...new Set(args.nodes.map((n) => n.role))];
    for (const role of roles) {
      const ofRole = args.nodes.filter((n) => n.role === role).map((n) => n.name);
      const rules = renderGcpFirewall(args.clusterName, role, intentsFor(args.intents, ofRole), args.addresses, (a) => pulumi.interpolate`${a}/32`);
      for (const rule of rules) {
        new gcp.compute.Firewall(`${name}-${rule.key}`, {
          name: `${args.clusterName}-${rule.key}`,
          network: network.id,
          direction: "INGRESS",
          description: rule.description,
          allows: [rule.allow],
          sourceRanges: rule.sourceRanges,
          targetTags: [rule.targetTag],
        }, parent);
      }
    }

    const accounts: Partial<Record<NodeRole, gcp.serviceaccount.Account>> = {};
    for (const role of roles) {
      // No project roles at all: the nodes need no GCP API but, on the control plane,
      // reading the one secret granted below.
      accounts[role] = new gcp.serviceaccount.Account(`${name}-${role}`, {
        accountId: `${args.clusterName}-${role === "control-plane" ? "cp" : "worker"}`.slice(0, 30),
        displayName: `${args.clusterName} ${role} nodes`,
      }, parent);
    }

    let pkiSecret: PkiSecretRef | undefined;
    let pkiVersion: gcp.secretmanager.SecretVersion | undefined;
    if (roles.includes("control-plane")) {
      const secretId = `${args.clusterName}-control-plane-pki`;
      const secret = new gcp.secretmanager.Secret(`${name}-pki`, { secretId, replication: { auto: {} } }, parent);
      pkiVersion = new gcp.secretmanager.SecretVersion(`${name}-pki`, { secret: secret.id, secretData: args.controlPlaneBundle }, parent);
      new gcp.secretmanager.SecretIamMember(`${name}-pki-reader`, {
        secretId: secret.id,
        role: "roles/secretmanager.secretAccessor",
        member: pulumi.interpolate`serviceAccount:${accounts["control-plane"]!.email}`,
      }, parent);
      this.pkiSecretId = secret.id;
      pkiSecret = { gcp: { project: args.project, secretId } };
    }

    this.instanceIds = {};
    this.controlPlaneInstanceIds = [];
    for (const node of args.nodes) {
      const rebuild = args.rebuild.includes(node.name);
      const instance = new gcp.compute.Instance(`${name}-${node.name}`, {
        name: node.name,
        machineType: node.machineType,
        zone: node.zone,
        tags: [roleTag(args.clusterName, node.role)],
        labels: rebuild ? { "wg-mesh-rebuild": REBUILD_MARKER } : {},
        bootDisk: { initializeParams: { image: args.image, size: node.diskSizeGb, type: "pd-balanced" } },
        // The static address is attached at creation: the VM has egress from the first boot.
        networkInterfaces: [{ subnetwork: subnet.id, accessConfigs: [{ natIp: args.addresses[node.name] }] }],
        shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
        serviceAccount: { email: accounts[node.role]!.email, scopes: ["cloud-platform"] },
        metadata: {
          "user-data": args.userData(node, isControlPlane(node) ? pkiSecret : undefined),
          "block-project-ssh-keys": "true",
        },
        allowStoppingForUpdate: true,
      }, {
        parent: this,
        dependsOn: [...args.apis, ...(isControlPlane(node) && pkiVersion ? [pkiVersion] : [])],
        ...instanceLifecycle(GCP_INSTANCE, rebuild),
      });
      this.instanceIds[node.name] = instance.id;
      if (isControlPlane(node)) this.controlPlaneInstanceIds.push(instance.id);
    }

    this.registerOutputs({
      networkId: this.networkId,
      subnetworkId: this.subnetworkId,
      instanceIds: this.instanceIds,
      pkiSecretId: this.pkiSecretId,
    });
  }
}
