// The whole cluster: static addresses first (so every node knows every other node's
// address), the PKI, then each cloud's pool with firewall rules rendered from one set of
// intents and cloud-init that bootstraps kubeadm. Wiring only: the pure modules compute.
import * as pulumi from "@pulumi/pulumi";
import type * as aws from "@pulumi/aws";
import type * as gcp from "@pulumi/gcp";
import type { StackConfig } from "../../infra/configSchema";
import { AwsNodeAddresses } from "../aws/addresses";
import { AwsNodePool } from "../aws/nodePool";
import { GcpNodeAddresses } from "../gcp/addresses";
import { GcpNodePool } from "../gcp/nodePool";
import { computeFirewallIntents } from "./firewallIntents";
import { initNode, isControlPlane, type NodeSpec } from "./nodes";
import { ClusterPki } from "./pki";
import { renderKubeconfig } from "./kubeconfig";
import { ApiServerReady } from "./apiServerReady";
import { renderCloudInit } from "./bootstrap/cloudInit";
import type { PkiSecretRef } from "./bootstrap/types";

export interface ClusterArgs {
  /** The validated stack configuration. */
  readonly config: StackConfig;
  /** The expanded node list (see infra/validate.ts). */
  readonly nodes: readonly NodeSpec[];
  /** Provider for the AWS pool; required when config.aws is set. */
  readonly awsProvider?: aws.Provider;
  /** Provider for the GCP pool; required when config.gcp is set. */
  readonly gcpProvider?: gcp.Provider;
}

export interface NodeRow {
  readonly name: string;
  readonly cloud: string;
  readonly role: string;
  readonly address: string;
}

export class Cluster extends pulumi.ComponentResource {
  /** `<init node public IP>`: host of the API endpoint. */
  public readonly apiHost: pulumi.Output<string>;
  /** `https://<host>:6443` */
  public readonly apiEndpoint: pulumi.Output<string>;
  /** Admin kubeconfig (secret). */
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly caCertPem: pulumi.Output<string>;
  /** Every node: name, cloud, role, public address (its InternalIP). */
  public readonly nodeTable: pulumi.Output<NodeRow[]>;
  public readonly awsPool?: AwsNodePool;
  public readonly gcpPool?: GcpNodePool;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wg-mesh:cluster:Cluster", name, {}, opts);
    const { config, nodes } = args;
    const cluster = config.cluster;
    const awsNodes = nodes.filter((n) => n.cloud === "aws");
    const gcpNodes = nodes.filter((n) => n.cloud === "gcp");

    const awsIps = config.aws && awsNodes.length > 0
      ? new AwsNodeAddresses(`${name}-aws-ips`, { nodes: awsNodes }, { parent: this, provider: args.awsProvider })
      : undefined;
    const gcpIps = config.gcp && gcpNodes.length > 0
      ? new GcpNodeAddresses(`${name}-gcp-ips`, { nodes: gcpNodes, region: config.gcp.region }, { parent: this, provider: args.gcpProvider })
      : undefined;
    const addressOf: Record<string, pulumi.Output<string>> = { ...awsIps?.addresses, ...gcpIps?.addresses };

    const pki = new ClusterPki(`${name}-pki`, { clusterName: cluster.name }, { parent: this });
    const intents = computeFirewallIntents(nodes, cluster.adminCidrs);
    const init = initNode(nodes);
    this.apiHost = addressOf[init.name];
    this.apiEndpoint = pulumi.interpolate`https://${this.apiHost}:6443`;
    const controlPlaneIps = pulumi.all(nodes.filter(isControlPlane).map((n) => addressOf[n.name]));

    const userData = (node: NodeSpec, pkiSecret: PkiSecretRef | undefined) =>
      pulumi.secret(
        pulumi.all([addressOf[node.name], this.apiHost, controlPlaneIps, pki.bootstrapToken, pki.discoveryHash]).apply(
          ([nodeIp, apiHost, cpIps, token, hash]) =>
            renderCloudInit({
              clusterName: cluster.name,
              nodeName: node.name,
              cloud: node.cloud,
              role: node.role,
              init: node.name === init.name,
              nodeIp,
              apiEndpoint: `${apiHost}:6443`,
              controlPlaneIps: cpIps,
              kubernetesVersion: cluster.kubernetesVersion,
              containerdVersion: cluster.containerdVersion,
              podCidr: cluster.podCidr,
              serviceCidr: cluster.serviceCidr,
              bootstrapToken: token,
              discoveryHash: hash,
              pkiSecret,
            }),
        ),
      );

    if (config.aws && awsIps) {
      this.awsPool = new AwsNodePool(`${name}-aws`, {
        clusterName: cluster.name,
        region: config.aws.region,
        nodes: awsNodes,
        vpcCidr: config.aws.vpcCidr,
        subnetCidr: config.aws.subnetCidr,
        vpcId: config.aws.vpcId,
        amiNameFilter: config.aws.amiNameFilter,
        amiOwner: config.aws.amiOwner,
        addresses: addressOf,
        allocationIds: awsIps.allocationIds,
        intents,
        controlPlaneBundle: pki.controlPlaneBundle,
        userData,
      }, { parent: this, provider: args.awsProvider });
    }
    if (config.gcp && gcpIps) {
      this.gcpPool = new GcpNodePool(`${name}-gcp`, {
        clusterName: cluster.name,
        project: config.gcp.project,
        region: config.gcp.region,
        nodes: gcpNodes,
        subnetCidr: config.gcp.subnetCidr,
        image: config.gcp.image,
        addresses: addressOf,
        intents,
        controlPlaneBundle: pki.controlPlaneBundle,
        userData,
      }, { parent: this, provider: args.gcpProvider });
    }

    this.caCertPem = pki.caCertPem;
    // The kubeconfig is derived from the readiness resource's output, so whatever uses it
    // (the Kubernetes provider) waits until the API server answers.
    const ready = new ApiServerReady(`${name}-api-ready`, { url: this.apiEndpoint, caPem: pki.caCertPem }, {
      parent: this,
      dependsOn: [this.awsPool, this.gcpPool].filter((p): p is NonNullable<typeof p> => p !== undefined),
    });
    this.kubeconfig = pulumi.secret(
      pulumi.all([ready.url, pki.caCertPem, pki.adminCertPem, pki.adminKeyPem]).apply(([server, ca, cert, key]) =>
        renderKubeconfig({ clusterName: cluster.name, server, caCertPem: ca, clientCertPem: cert, clientKeyPem: key }),
      ),
    );
    this.nodeTable = pulumi.all(nodes.map((n) => addressOf[n.name])).apply((ips) =>
      nodes.map((n, i) => ({ name: n.name, cloud: n.cloud, role: n.role, address: ips[i] })),
    );

    this.registerOutputs({
      apiHost: this.apiHost,
      apiEndpoint: this.apiEndpoint,
      kubeconfig: this.kubeconfig,
      caCertPem: this.caCertPem,
      nodeTable: this.nodeTable,
    });
  }
}
