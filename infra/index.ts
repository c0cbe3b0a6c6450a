// Pulumi entry point (Pulumi.yaml: main: infra/). Stack outputs: apiEndpoint, kubeconfig
// (secret), the cluster's identity and the node table. An async program: the preflight
// (infra/preflight/) asks the registry and the clouds before anything is registered.
import { program } from "./program";

export = async () => {
  const outputs = await program();
  return {
    apiEndpoint: outputs.apiEndpoint,
    kubeconfig: outputs.kubeconfig,
    clusterId: outputs.clusterId,
    nodes: outputs.nodes,
  };
};
