// The whole cluster: static addresses first (so every node knows every other node's
// address), the PKI and the join token, then each cloud's pool with firewall rules rendered
// from one set of intents and cloud-init that bootstraps kubeadm, then the wait for the API
// and the cluster's identity. Order: the founder (the first control plane, the only node
// that may init) is created first; the readiness wait depends on it alone; every other node
// waits for what the Cluster then publishes in the cluster (publish.ts: the join token and the
// node table), so no node is created before the cluster accepts its token and every node's
// table lists it.
// Wiring only: the pure modules compute.
import * as pulumi from "@pulumi/pulumi";
import type { ClusterArgs, ClusterOptions } from "./args";
import { AwsNodeAddresses } from "../aws/addresses";
import { AwsNodePool } from "../aws/nodePool";
import { GcpApis } from "../gcp/apis";
import { GcpNodeAddresses } from "../gcp/addresses";
import { GcpNodePool } from "../gcp/nodePool";
import { computeFirewallIntents } from "../core/firewallIntents";
import { firstControlPlane, isControlPlane, mayInit, type Cloud, type NodeRole, type NodeSpec } from "../core/nodes";
import { ClusterPki } from "./pki";
import { renderKubeconfig } from "./kubeconfig";
import { ApiServerReady } from "./apiServerReady";
import { API_SERVER_PORT } from "./apiEndpoint";
import { nodeUserData } from "./userData";
import type { ClusterBootstrap } from "./bootstrap/types";
import { JoinToken, type TokenEntry } from "./joinToken";
import { nodeTableDocument } from "../core/nodeTable";
import { bootGuardNodes, packBootGuardNodes } from "./bootstrap/bootGuard";
import { describePlacement, privateAddresses } from "./privateAddresses";
import type { NodePoolArgs } from "../core/pool";
import { deployedAgentOrThrow, guardSettings } from "../nodeRouter/settings";
import type { NodeInstance } from "./nodesReady";
import { publishInCluster, type Published } from "./publish";
import { RebuildDrain, RebuildRejoin } from "./upgrade/rebuild";
import { planClusterBuilds, type NodeBuilds } from "./nodeBuilds";

/** One node of the cluster as the stack output lists it. */
export interface NodeRow {
  /** The node's name (its Kubernetes node name). */
  readonly name: string;
  /** The cloud it runs in. */
  readonly cloud: Cloud;
  /** Control plane or worker. */
  readonly role: NodeRole;
  /** Its static public IPv4 (its InternalIP). */
  readonly address: string;
  /** Its private (VPC) IPv4, fixed by the subnet plan. */
  readonly privateAddress: string;
}

/** Each Cluster's readiness resource, for TypeScript callers' ordering (`dependsOn`, `deletedWith`); a resource of this program, so no output. */
const readiness = new WeakMap<Cluster, ApiServerReady>();
/** What each Cluster published, for TypeScript callers (its Kubernetes provider); resources, so no output. */
const publications = new WeakMap<Cluster, Published>();

/** A self-managed kubeadm cluster across AWS and GCP, every node reachable from every other only through WireGuard and the bootstrap ports. */
export class Cluster extends pulumi.ComponentResource {
  /** Host of the admin endpoint: cluster.apiEndpoint, or the first control plane's address. */
  public readonly apiHost: pulumi.Output<string>;
  /** `https://<apiHost>:6443` */
  public readonly apiEndpoint: pulumi.Output<string>;
  /** Admin kubeconfig (secret), known before the wait so later previews can use it. */
  public readonly kubeconfig: pulumi.Output<string>;
  /** The cluster CA certificate (public). */
  public readonly caCertPem: pulumi.Output<string>;
  /** The cluster's identity (kube-public/cluster-info's UID): the Kubernetes provider's clusterIdentifier. */
  public readonly clusterId: pulumi.Output<string>;
  /** Every node: name, cloud, role, public address (its InternalIP) and private address. */
  public readonly nodeTable: pulumi.Output<NodeRow[]>;
  /** The current join token and its expiry (secret), to publish in the cluster as a bootstrap token Secret. */
  public readonly joinToken: pulumi.Output<TokenEntry>;
  /** The node table document (JSON): in every new node's boot files, and published as the DaemonSet's ConfigMap. */
  public readonly nodeTableDocument: pulumi.Output<string>;
  /** Every node's cloud instance and where its serial console is: what NodesReady waits for. */
  public readonly instances: pulumi.Output<NodeInstance[]>;
  /** Name of the node table ConfigMap published in kube-system (publishInCluster), known once it exists: the NodeRouter's publishedNodeTable. */
  public readonly publishedNodeTable?: pulumi.Output<string>;
  /** What each node is built from once this run's rebuilds have rejoined: give it back as `previousBuilds` on the next run. */
  public readonly nodeBuilds: pulumi.Output<NodeBuilds>;

  /** Exists once the API answers; replaced exactly when the cluster is a new one. */
  get ready(): ApiServerReady {
    return readiness.get(this)!;
  }

  /** The Kubernetes provider the Cluster published with (publishInCluster), for the rest of a TypeScript program; undefined otherwise. */
  get kubernetesProvider(): pulumi.ProviderResource | undefined {
    return publications.get(this)?.provider;
  }

  /**
   * `name` is the cluster's name: the prefix of every cloud resource. The cloud providers come
   * through the resource options (`providers`), as for any component.
   */
  constructor(name: string, args: ClusterArgs, opts: ClusterOptions = {}) {
    const { admission: callersAdmission, ...options } = opts;
    super("wg-mesh:cluster:Cluster", name, {}, options);
    // The pools need what every node but the founder waits for when they are constructed; what
    // the Cluster publishes exists only once the API answers, further down. The promise breaks
    // the construction-order loop, not the dependency graph.
    const publish = args.publishInCluster ?? true;
    let admit: (published: pulumi.Resource[]) => void = () => undefined;
    const published = new Promise<pulumi.Resource[]>((resolve) => {
      admit = resolve;
    });
    // Pulumi gathers `dependsOn` recursively (promises, outputs, nested lists): both lists as one.
    const admission =
      publish || callersAdmission !== undefined
        ? ([...(publish ? [published] : []), ...(callersAdmission !== undefined ? [callersAdmission] : [])] as unknown as pulumi.Input<pulumi.Resource[]>)
        : undefined;
    // The agent as the NodeRouter deploys it: every node's boot-time guard is rendered with its
    // settings; refused before any child is registered (the program's validation ran the same check).
    const agent = deployedAgentOrThrow(name, args.nodeRouter);
    const { nodes } = args;
    const awsNodes = nodes.filter((n) => n.cloud === "aws");
    const gcpNodes = nodes.filter((n) => n.cloud === "gcp");
    if (awsNodes.length > 0 && !args.aws) throw new Error(`${name}: ${awsNodes.length} nodes are in AWS but args.aws is not set`);
    if (gcpNodes.length > 0 && !args.gcp) throw new Error(`${name}: ${gcpNodes.length} nodes are in GCP but args.gcp is not set`);

    // Private addresses from the subnet plan alone, known before any interface or instance
    // exists, so the table lists them; the AWS interfaces and GCP reservations take them.
    // Nodes that do not fit are refused before any child is registered.
    const placed = privateAddresses(nodes, { aws: args.aws?.subnets, gcp: args.gcp?.subnetCidr });
    if (placed.problems.length > 0) throw new Error(`${name}: the nodes do not fit their subnets: ${placed.problems.map(describePlacement).join("; ")}`);
    const privateOf = placed.addresses;

    const gcpApis = args.gcp && gcpNodes.length > 0 ? new GcpApis(`${name}-gcp-apis`, { project: args.gcp.project }, { parent: this }) : undefined;
    const awsIps = awsNodes.length > 0 ? new AwsNodeAddresses(`${name}-aws-ips`, { nodes: awsNodes }, { parent: this }) : undefined;
    const gcpIps =
      args.gcp && gcpApis
        ? new GcpNodeAddresses(`${name}-gcp-ips`, { nodes: gcpNodes, region: args.gcp.region, apis: gcpApis.services }, { parent: this })
        : undefined;
    const addressOf: Record<string, pulumi.Output<string>> = { ...awsIps?.addresses, ...gcpIps?.addresses };

    const pki = new ClusterPki(`${name}-pki`, { clusterName: name, adminValidityHours: args.adminCertValidityHours }, { parent: this });
    const joinToken = new JoinToken(`${name}-join-token`, { ttlHours: args.joinTokenTtlHours }, { parent: this });
    // Secret already: the token is one of the resource's secret outputs.
    this.joinToken = pulumi.all([joinToken.token, joinToken.expires]).apply(([token, expires]) => ({ token, expires }));
    const founder = firstControlPlane(nodes).name;
    // Every node of this run: the ConfigMap the agents read, and (first addresses) the store
    // document every booting node's guard reads (bootGuardNodes). Every address of a node, so the guard covers each: the public one first (its InternalIP,
    // what kubelet and the agent use), then the private one.
    this.nodeTableDocument = pulumi.all(nodes.map((n) => addressOf[n.name])).apply((ips) =>
      nodeTableDocument(
        nodes.map((n, i) => ({ name: n.name, role: n.role, addresses: [ips[i], privateOf[n.name]] })),
        [args.podCidr],
      ),
    );
    // Which nodes this run rebuilds: listed ones once, and those built from another image than
    // their cloud's (the image roll), from the record of the last run (nodeBuilds.ts).
    const builds = planClusterBuilds(args);
    const rebuilding = builds.rebuild;
    for (const n of rebuilding) pulumi.log.info(`${n} is rebuilt on this run (${builds.reasons[n]}): drained, replaced, waited for, one node at a time`, this);
    for (const reason of Object.values(builds.held)) pulumi.log.warn(reason, this);
    this.apiHost = args.apiEndpoint !== undefined ? pulumi.output(args.apiEndpoint) : addressOf[founder];
    this.apiEndpoint = pulumi.interpolate`https://${this.apiHost}:${API_SERVER_PORT}`;
    const controlPlanes = nodes.filter(isControlPlane);
    const bootstrap: pulumi.Output<ClusterBootstrap> = pulumi
      .all([pulumi.all(controlPlanes.map((n) => addressOf[n.name])), pki.discoveryHash, pki.caCertPem, this.nodeTableDocument])
      .apply(([ips, discoveryHash, caCertPem, nodeTable]) => ({
        clusterName: name,
        controlPlanes: controlPlanes.map((n, i) => ({ name: n.name, ip: ips[i] })),
        extraCertSans: args.apiEndpoint !== undefined ? [args.apiEndpoint] : [],
        kubernetesVersion: args.kubernetesVersion,
        containerdVersion: args.containerdVersion,
        podCidr: args.podCidr,
        serviceCidr: args.serviceCidr,
        discoveryHash,
        caCertPem,
        agentImage: args.nodeRouter.image,
        nodeTable,
        guard: guardSettings(agent),
      }));
    const initNode = nodes.find((n) => mayInit(n, nodes, rebuilding))?.name;
    // The admin kubeconfig: its endpoint and certificates exist before any node.
    this.kubeconfig = pulumi.secret(
      pulumi
        .all([this.apiEndpoint, pki.caCertPem, pki.adminCertPem, pki.adminKeyPem])
        .apply(([server, ca, cert, key]) => renderKubeconfig({ clusterName: name, server, caCertPem: ca, clientCertPem: cert, clientKeyPem: key })),
    );
    // Nodes rebuilt on this run go one at a time, control planes first: each drained before its
    // instance goes (the instance waits for its RebuildDrain) and waited for after
    // (RebuildRejoin, on a control plane until etcd is whole), whose end the next one's drain
    // waits for. Each drain is made by the pool (it needs the digest of the new instance); each
    // rejoin after the pools (it needs the new instance), so a drain waits on the previous
    // rejoin through a promise.
    const rebuildOrder = rebuilding.map((r) => nodes.find((n) => n.name === r)!);
    const rejoined = new Map(
      rebuildOrder.map((n) => {
        let done!: (r: pulumi.Resource) => void;
        return [n.name, { promise: new Promise<pulumi.Resource>((r) => (done = r)), done }] as const;
      }),
    );
    const rebuildTimes = { drainTimeoutMinutes: args.drainTimeoutMinutes ?? 15, nodeTimeoutMinutes: args.nodeTimeoutMinutes ?? 30 };
    const rebuildGate = (node: NodeSpec, request: pulumi.Output<string>) => {
      const previous = rebuildOrder[rebuildOrder.findIndex((n) => n.name === node.name) - 1];
      return new RebuildDrain(
        `${name}-rebuild-drain-${node.name}`,
        { kubeconfig: this.kubeconfig, node: node.name, request, drainTimeoutMinutes: rebuildTimes.drainTimeoutMinutes },
        { parent: this, dependsOn: previous ? rejoined.get(previous.name)!.promise : [] },
      );
    };
    const pool: Omit<NodePoolArgs, "region" | "nodes"> = {
      clusterName: name,
      addresses: addressOf,
      intents: computeFirewallIntents(nodes, args.adminCidrs ?? [], args.wireguardFrom),
      rebuild: [...rebuilding],
      controlPlaneBundle: pki.controlPlaneBundle,
      joinTokens: joinToken.storeDocument(),
      bootGuardNodes: this.nodeTableDocument.apply((table) => packBootGuardNodes(bootGuardNodes(table, guardSettings(agent)))),
      joinWindowEnds: joinToken.expires,
      founder,
      admission,
      userData: (node, secrets) => nodeUserData(bootstrap, addressOf[node.name], initNode, node, secrets),
      rebuildGate,
    };

    const awsPool =
      args.aws && awsIps
        ? new AwsNodePool(
            `${name}-aws`,
            {
              ...pool,
              region: args.aws.region,
              nodes: awsNodes,
              allNodes: nodes,
              vpcCidr: args.aws.vpcCidr,
              subnets: args.aws.subnets,
              vpcId: args.aws.vpcId,
              ami: args.aws.ami,
              allocationIds: awsIps.allocationIds,
              privateAddresses: privateOf,
            },
            { parent: this },
          )
        : undefined;
    const gcpPool =
      args.gcp && gcpIps && gcpApis
        ? new GcpNodePool(
            `${name}-gcp`,
            {
              ...pool,
              region: args.gcp.region,
              nodes: gcpNodes,
              project: args.gcp.project,
              subnetCidr: args.gcp.subnetCidr,
              image: args.gcp.image,
              apis: gcpApis.services,
              privateAddresses: privateOf,
            },
            { parent: this },
          )
        : undefined;

    this.caCertPem = pki.caCertPem;
    const instanceIds: Record<string, pulumi.Output<string>> = { ...awsPool?.instanceIds, ...gcpPool?.instanceIds };
    const instanceOf = (n: NodeSpec, id: string): NodeInstance =>
      n.cloud === "aws"
        ? { name: n.name, cloud: n.cloud, instanceId: id, region: args.aws!.region }
        : { name: n.name, cloud: n.cloud, instanceId: id, zone: n.zone, project: args.gcp!.project };
    this.instances = pulumi.all(nodes.map((n) => instanceIds[n.name])).apply((ids) => nodes.map((n, i) => instanceOf(n, ids[i])));
    const rejoins: RebuildRejoin[] = [];
    for (const n of rebuildOrder) {
      const rejoin = new RebuildRejoin(
        `${name}-rebuild-rejoin-${n.name}`,
        {
          kubeconfig: this.kubeconfig,
          // Its own instance only: the next node's instance waits (through its drain) for this.
          node: instanceIds[n.name].apply((id) => instanceOf(n, id)),
          nodeTimeoutMinutes: rebuildTimes.nodeTimeoutMinutes,
          ...(isControlPlane(n)
            ? { etcdCheck: { image: args.nodeRouter.image, kubernetesVersion: args.kubernetesVersion, containerdVersion: args.containerdVersion } }
            : {}),
        },
        { parent: this },
      );
      rejoined.get(n.name)!.done(rejoin);
      rejoins.push(rejoin);
    }
    // Known only once every instance exists and every rebuilt node has rejoined: a run that stops
    // before leaves the last record in place, and the next run plans the same rebuilds.
    this.nodeBuilds = pulumi.all([...Object.values(instanceIds), ...rejoins.map((r) => r.id)]).apply(() => builds.record);
    const founderInstance = awsPool?.founderInstance ?? gcpPool?.founderInstance;
    if (!founderInstance) throw new Error(`the founder ${founder} is in no node pool`);
    const ready = new ApiServerReady(
      `${name}-api-ready`,
      {
        url: this.apiEndpoint,
        caPem: pki.caCertPem,
        founderId: founderInstance.id,
      },
      { parent: this, dependsOn: [founderInstance] },
    );
    readiness.set(this, ready);
    this.clusterId = ready.clusterId;
    if (publish) {
      const p = publishInCluster(
        name,
        { kubeconfig: this.kubeconfig, clusterId: this.clusterId, ready, joinToken: this.joinToken, nodeTable: this.nodeTableDocument },
        this,
      );
      publications.set(this, p);
      this.publishedNodeTable = p.nodeTable.metadata.name;
      admit([p.joinToken, p.nodeTable]);
    }
    this.nodeTable = pulumi
      .all(nodes.map((n) => addressOf[n.name]))
      .apply((ips) => nodes.map((n, i) => ({ name: n.name, cloud: n.cloud, role: n.role, address: ips[i], privateAddress: privateOf[n.name] })));

    this.registerOutputs({
      apiHost: this.apiHost,
      apiEndpoint: this.apiEndpoint,
      kubeconfig: this.kubeconfig,
      caCertPem: this.caCertPem,
      clusterId: this.clusterId,
      nodeTable: this.nodeTable,
      nodeTableDocument: this.nodeTableDocument,
      publishedNodeTable: this.publishedNodeTable,
      nodeBuilds: this.nodeBuilds,
    });
  }
}
