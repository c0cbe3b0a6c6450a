// The program: the stack's model in, cluster (and what runs on it) out. Wiring only: every
// component takes its part of the model as it is, and its providers through resource options.
// Kept apart from index.ts so tests can run it under pulumi.runtime.setMocks for every stack.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import { loadConfig } from "./config";
import { Cluster } from "../components/cluster/cluster";
import { VersionGuard } from "../components/cluster/versionGuard";
import { Cilium } from "../components/cilium/cilium";
import { NodeRouter } from "../components/nodeRouter/nodeRouter";
import { NodeRouterAlerts } from "../components/monitoring/prometheusRule";
import { livesInCluster } from "./kubernetesLifecycle";
import { keepStateOfPublished } from "./movedResources";
import { runPreflight, type PreflightOptions } from "./preflight/preflight";
import { NodesReady } from "../components/cluster/nodesReady";
import { ClusterUpgrade } from "../components/cluster/upgrade/upgrade";
import { planClusterBuilds } from "../components/cluster/nodeBuilds";
import { NODE_BUILDS_OUTPUT, previousNodeBuilds } from "./previousBuilds";

export interface ProgramOptions {
  /** Test-only settings of the preflight (the registry stand-in's scheme). */
  readonly preflight?: PreflightOptions;
}

export async function program(o: ProgramOptions = {}) {
  // Everything is validated before the first resource is registered; then the preflight
  // (preview too) refuses what would start and hang: admin CIDRs, image visibility, quotas.
  const model = loadConfig();
  await runPreflight(model, pulumi.getProject(), o.preflight);
  const { name } = model;

  // What each node was built from at the end of the last run: nodes behind their cloud's image
  // are rebuilt on this one (the image roll, components/cluster/nodeBuilds.ts).
  const clusterArgs = { ...model.cluster, previousBuilds: await previousNodeBuilds(name) };
  // First: a version change on a running cluster is refused before any provider (and so any
  // cloud or Kubernetes resource) is touched, also when this run rebuilds nodes.
  const versions = new VersionGuard(`${name}-versions`, { ...model.versions, rebuilding: planClusterBuilds(clusterArgs).rebuild });
  const guarded = { dependsOn: [versions] };
  const clouds = [
    ...(model.providers.aws ? [new aws.Provider(`${name}-aws`, { region: model.providers.aws.region as aws.Region }, guarded)] : []),
    ...(model.providers.gcp ? [new gcp.Provider(`${name}-gcp`, model.providers.gcp, guarded)] : []),
  ];

  // The Cluster publishes the current join token and the node table in the cluster through a
  // Kubernetes provider of its own, and creates every node but the founder only after both; the
  // rest of the program uses that provider.
  const cluster = new Cluster(name, clusterArgs, { providers: clouds, transformations: [keepStateOfPublished(name)] });
  const k8sProvider = cluster.kubernetesProvider!;
  const inCluster = { ...livesInCluster(cluster.ready), provider: k8sProvider };
  const cilium = new Cilium(`${name}-cilium`, model.cilium, inCluster);
  // The agent steers into cilium_wg0, which exists only once Cilium runs.
  const nodeRouter = new NodeRouter(
    `${name}-node-router`,
    { ...model.nodeRouter, publishedNodeTable: cluster.publishedNodeTable },
    { ...inCluster, dependsOn: [cilium] },
  );
  // The run is green only when every node is Ready with Cilium and the node-router on it.
  const nodesReady = new NodesReady(
    `${name}-nodes-ready`,
    { kubeconfig: cluster.kubeconfig, nodes: cluster.instances, timeoutMinutes: model.nodesReadyTimeoutMinutes },
    {
      dependsOn: [cluster.ready, cilium, nodeRouter],
    },
  );
  // A version change rolls through the running nodes, on a working cluster (components/cluster/upgrade).
  const upgrade = new ClusterUpgrade(`${name}-upgrade`, {
    kubeconfig: cluster.kubeconfig,
    nodes: model.cluster.nodes,
    instances: cluster.instances,
    kubernetesVersion: model.cluster.kubernetesVersion,
    containerdVersion: model.cluster.containerdVersion,
    agent: { image: model.nodeRouter.image, namespace: nodeRouter.namespace, imagePullSecrets: model.nodeRouter.imagePullSecrets },
    upgrade: model.upgrade,
    after: [nodesReady],
  });
  // The agent's alerts for the Prometheus Operator (its CRDs must exist: stack config `alerts`).
  if (model.alerts) new NodeRouterAlerts(`${name}-alerts`, model.alerts, inCluster);

  return {
    apiEndpoint: cluster.apiEndpoint,
    kubeconfig: pulumi.secret(cluster.kubeconfig),
    clusterId: cluster.clusterId,
    nodes: cluster.nodeTable,
    // The etcd snapshot taken on the first control plane before the last upgrade.
    etcdSnapshot: upgrade.snapshotPath,
    // What each node is built from; the next run reads it back (infra/previousBuilds.ts).
    [NODE_BUILDS_OUTPUT]: cluster.nodeBuilds,
  };
}
