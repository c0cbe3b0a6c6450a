// Pulumi entry point (Pulumi.yaml: main: infra/). Stack outputs: apiEndpoint, kubeconfig
// (secret), the cluster's identity and the node table.
import { program } from "./program";

const outputs = program();
export const apiEndpoint = outputs.apiEndpoint;
export const kubeconfig = outputs.kubeconfig;
export const clusterId = outputs.clusterId;
export const nodes = outputs.nodes;
