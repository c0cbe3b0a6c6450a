// The whole cluster: static addresses first (so every node knows every other node's
// address), the PKI and the join token, then each cloud's pool with firewall rules rendered
// from one set of intents and cloud-init that bootstraps kubeadm, then the wait for the API
// and the cluster's identity. Order: the founder (the first control plane, the only node
// that may init) is created first; the readiness wait depends on it alone; every other node
// waits for `admission` (what the program publishes in the cluster once it answers), so no
// node is created before the cluster accepts its token and every node's table lists it.
// Wiring only: the pure modules compute.
import * as pulumi from "@pulumi/pulumi";
import type * as aws from "@pulumi/aws";
import type * as gcp from "@pulumi/gcp";
import type { StackConfig } from "../../infra/configSchema";
import { AwsNodeAddresses } from "../aws/addresses";
import { AwsNodePool } from "../aws/nodePool";
import { GcpApis } from "../gcp/apis";
import { GcpNodeAddresses } from "../gcp/addresses";
import { GcpNodePool } from "../gcp/nodePool";
import { computeFirewallIntents } from "./firewallIntents";
import { firstControlPlane, isControlPlane, mayInit, type NodeSpec } from "./nodes";
import { ClusterPki } from "./pki";
import { renderKubeconfig } from "./kubeconfig";
import { ApiServerReady } from "./apiServerReady";
import { API_SERVER_PORT } from "./apiEndpoint";
import { renderCloudInit } from "./bootstrap/cloudInit";
import type { SecretRef } from "./bootstrap/types";
import { JoinToken } from "./joinToken";
import { nodeTableDocument } from "./nodeTable";
import { resolveNodeRouterSettings } from "../nodeRouter/settings";
import type { GuardSettings } from "./bootstrap/types";

export interface ClusterArgs {
  /** The validated stack configuration. */
  readonly config: StackConfig;
  /** The expanded node list (see infra/validate.ts). */
  readonly nodes: readonly NodeSpec[];
  /** Provider for the AWS pool; required when config.aws is set. */
  readonly awsProvider?: aws.Provider;
  /** Provider for the GCP pool; required when config.gcp is set. */
  readonly gcpProvider?: gcp.Provider;
  /** What every node but the founder waits for (resolved by the program once it has published them in the cluster). */
  readonly admission: pulumi.Input<pulumi.Resource[]>;
}

export interface NodeRow {
  readonly name: string;
  readonly cloud: string;
  readonly role: string;
  readonly address: string;
}

export class Cluster extends pulumi.ComponentResource {
  /** Host of the admin endpoint: cluster.apiEndpoint, or the first control plane's address. */
  public readonly apiHost: pulumi.Output<string>;
  /** `https://<apiHost>:6443` */
  public readonly apiEndpoint: pulumi.Output<string>;
  /** Admin kubeconfig (secret), known before the wait so later previews can use it. */
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly caCertPem: pulumi.Output<string>;
  /** Exists once the API answers; replaced exactly when the cluster is a new one. */
  public readonly ready: ApiServerReady;
  /** The cluster's identity (kube-public/cluster-info's UID): the Kubernetes provider's clusterIdentifier. */
  public readonly clusterId: pulumi.Output<string>;
  /** Every node: name, cloud, role, public address (its InternalIP). */
  public readonly nodeTable: pulumi.Output<NodeRow[]>;
  /** The current join token (secret outputs), published in the cluster by the program. */
  public readonly joinToken: JoinToken;
  /** The node table document (JSON): in every new node's boot files, and published as the DaemonSet's ConfigMap. */
  public readonly nodeTableDocument: pulumi.Output<string>;
  public readonly awsPool?: AwsNodePool;
  public readonly gcpPool?: GcpNodePool;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wg-mesh:cluster:Cluster", name, {}, opts);
    const { config, nodes } = args;
    const cluster = config.cluster;
    const awsNodes = nodes.filter((n) => n.cloud === "aws");
    const gcpNodes = nodes.filter((n) => n.cloud === "gcp");

    const gcpApis = config.gcp && gcpNodes.length > 0
      ? new GcpApis(`${name}-gcp-apis`, { project: config.gcp.project }, { parent: this, provider: args.gcpProvider })
      : undefined;
    const awsIps = config.aws && awsNodes.length > 0
      ? new AwsNodeAddresses(`${name}-aws-ips`, { nodes: awsNodes }, { parent: this, provider: args.awsProvider })
      : undefined;
    const gcpIps = config.gcp && gcpApis
      ? new GcpNodeAddresses(`${name}-gcp-ips`, { nodes: gcpNodes, region: config.gcp.region, apis: gcpApis.services }, { parent: this, provider: args.gcpProvider })
      : undefined;
    const addressOf: Record<string, pulumi.Output<string>> = { ...awsIps?.addresses, ...gcpIps?.addresses };

    const pki = new ClusterPki(`${name}-pki`, { clusterName: cluster.name, adminValidityHours: cluster.adminCertValidityHours }, { parent: this });
    this.joinToken = new JoinToken(`${name}-join-token`, { ttlHours: cluster.joinTokenTtlHours }, { parent: this });
    const founder = firstControlPlane(nodes).name;
    const joinTokens = this.joinToken.storeDocument();
    // Every node of this run, each node's frozen boot files holding the table of its creation.
    this.nodeTableDocument = pulumi.all(nodes.map((n) => addressOf[n.name])).apply((ips) =>
      nodeTableDocument(nodes.map((n, i) => ({ name: n.name, role: n.role, addresses: [ips[i]] })), [cluster.podCidr]));
    const agent = resolveNodeRouterSettings(config.nodeRouter);
    const hex = (n: number) => `0x${n.toString(16)}`;
    const guard: GuardSettings = {
      device: agent.device, wgMark: hex(agent.mark), wgMask: hex(agent.mask),
      exemptPorts: agent.exemptPorts.map((r) => (r.start === r.end ? `${r.start}` : `${r.start}-${r.end}`)).join(","),
    };
    const intents = computeFirewallIntents(nodes, cluster.adminCidrs);
    const controlPlanes = nodes.filter(isControlPlane);
    this.apiHost = cluster.apiEndpoint !== undefined ? pulumi.output(cluster.apiEndpoint) : addressOf[firstControlPlane(nodes).name];
    this.apiEndpoint = pulumi.interpolate`https://${this.apiHost}:${API_SERVER_PORT}`;
    const controlPlaneRefs = pulumi.all(controlPlanes.map((n) => addressOf[n.name])).apply((ips) => controlPlanes.map((n, i) => ({ name: n.name, ip: ips[i] })));

    // No credential in it (the stack tests check): names, addresses, versions, the public CA
    // certificate and where the node reads its secrets. Plain, so previews show it.
    const userData = (node: NodeSpec, secrets: { pki?: SecretRef; joinToken: SecretRef }) =>
      pulumi.output(
        pulumi.all([addressOf[node.name], controlPlaneRefs, pki.discoveryHash, pki.caCertPem, this.nodeTableDocument]).apply(
          ([nodeIp, cps, hash, caPem, table]) =>
            renderCloudInit({
              clusterName: cluster.name,
              nodeName: node.name,
              cloud: node.cloud,
              role: node.role,
              mayInit: mayInit(node, nodes, cluster.replaceNodes),
              nodeIp,
              controlPlanes: cps,
              extraCertSans: cluster.apiEndpoint !== undefined ? [cluster.apiEndpoint] : [],
              kubernetesVersion: cluster.kubernetesVersion,
              containerdVersion: cluster.containerdVersion,
              podCidr: cluster.podCidr,
              serviceCidr: cluster.serviceCidr,
              discoveryHash: hash,
              caCertPem: caPem,
              agentImage: config.nodeRouter.image,
              pkiSecret: secrets.pki,
              joinTokenSecret: secrets.joinToken,
              nodeTable: table,
              guard,
            }),
        ),
      );

    if (config.aws && awsIps) {
      this.awsPool = new AwsNodePool(`${name}-aws`, {
        clusterName: cluster.name,
        region: config.aws.region,
        allNodes: nodes,
        nodes: awsNodes,
        vpcCidr: config.aws.vpcCidr,
        subnetCidrs: config.aws.subnetCidrs,
        vpcId: config.aws.vpcId,
        ami: config.aws.ami,
        addresses: addressOf,
        allocationIds: awsIps.allocationIds,
        intents,
        rebuild: cluster.replaceNodes,
        controlPlaneBundle: pki.controlPlaneBundle,
        joinTokens,
        joinWindowEnds: this.joinToken.expires,
        founder,
        admission: args.admission,
        userData,
      }, { parent: this, provider: args.awsProvider });
    }
    if (config.gcp && gcpIps && gcpApis) {
      this.gcpPool = new GcpNodePool(`${name}-gcp`, {
        clusterName: cluster.name,
        project: config.gcp.project,
        region: config.gcp.region,
        nodes: gcpNodes,
        subnetCidr: config.gcp.subnetCidr,
        image: config.gcp.image,
        addresses: addressOf,
        intents,
        rebuild: cluster.replaceNodes,
        apis: gcpApis.services,
        controlPlaneBundle: pki.controlPlaneBundle,
        joinTokens,
        joinWindowEnds: this.joinToken.expires,
        founder,
        admission: args.admission,
        userData,
      }, { parent: this, provider: args.gcpProvider });
    }

    this.caCertPem = pki.caCertPem;
    const founderInstance = this.awsPool?.founderInstance ?? this.gcpPool?.founderInstance;
    if (!founderInstance) throw new Error(`the founder ${founder} is in no node pool`);
    this.ready = new ApiServerReady(`${name}-api-ready`, {
      url: this.apiEndpoint,
      caPem: pki.caCertPem,
      founderId: founderInstance.id,
    }, { parent: this, dependsOn: [founderInstance] });
    this.clusterId = this.ready.clusterId;
    this.kubeconfig = pulumi.secret(
      pulumi.all([this.apiEndpoint, pki.caCertPem, pki.adminCertPem, pki.adminKeyPem]).apply(([server, ca, cert, key]) =>
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
      clusterId: this.clusterId,
      nodeTable: this.nodeTable,
      nodeTableDocument: this.nodeTableDocument,
    });
  }
}
