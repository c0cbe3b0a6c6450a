// The program: validated config in, cluster (and what runs on it) out. Kept apart from
// index.ts so tests can run it under pulumi.runtime.setMocks for every stack.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import { loadConfig } from "./config";
import { Cluster } from "../components/cluster/cluster";

export function program() {
  // Everything is validated before the first resource is registered.
  const { config, nodes } = loadConfig();
  const name = config.cluster.name;

  const awsProvider = config.aws ? new aws.Provider(`${name}-aws`, { region: config.aws.region as aws.Region }) : undefined;
  const gcpProvider = config.gcp ? new gcp.Provider(`${name}-gcp`, { project: config.gcp.project, region: config.gcp.region }) : undefined;

  const cluster = new Cluster(name, { config, nodes, awsProvider, gcpProvider });

  return {
    apiEndpoint: cluster.apiEndpoint,
    kubeconfig: pulumi.secret(cluster.kubeconfig),
    nodes: cluster.nodeTable,
  };
}
