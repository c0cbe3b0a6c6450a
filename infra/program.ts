// The program: validated config in, cluster (and what runs on it) out. Kept apart from
// index.ts so tests can run it under pulumi.runtime.setMocks for every stack.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import { loadConfig } from "./config";
import * as k8s from "@pulumi/kubernetes";
import { Cluster } from "../components/cluster/cluster";
import { Cilium } from "../components/cilium/cilium";
import { NodeRouter } from "../components/nodeRouter/nodeRouter";
import { ciliumValuesInput } from "./platform";

export function program() {
  // Everything is validated before the first resource is registered.
  const { config, nodes } = loadConfig();
  const name = config.cluster.name;

  const awsProvider = config.aws ? new aws.Provider(`${name}-aws`, { region: config.aws.region as aws.Region }) : undefined;
  const gcpProvider = config.gcp ? new gcp.Provider(`${name}-gcp`, { project: config.gcp.project, region: config.gcp.region }) : undefined;

  const cluster = new Cluster(name, { config, nodes, awsProvider, gcpProvider });

  const k8sProvider = new k8s.Provider(`${name}-k8s`, { kubeconfig: cluster.kubeconfig, enableServerSideApply: true });
  const cilium = new Cilium(`${name}-cilium`, { provider: k8sProvider, ...ciliumValuesInput(config, cluster.apiHost) });
  // The agent steers into cilium_wg0, which exists only once Cilium runs.
  new NodeRouter(`${name}-node-router`, { provider: k8sProvider, settings: config.nodeRouter, dependsOn: [cilium] });

  return {
    apiEndpoint: cluster.apiEndpoint,
    kubeconfig: pulumi.secret(cluster.kubeconfig),
    nodes: cluster.nodeTable,
  };
}
