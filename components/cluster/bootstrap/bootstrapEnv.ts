// The per-node env file that bootstrap.sh sources. Only non-secret values: the token
// lives in the kubeadm config, and the PKI bundle is fetched at boot from the secret store.
import { pkiBundleFiles } from "./discovery";
import { MESH_INTERFACE } from "./networkUnits";
import type { NodeBootstrap } from "./types";

export const ENV_FILE = "/etc/wg-mesh/bootstrap.env";
export const KUBEADM_CONFIG_FILE = "/etc/wg-mesh/kubeadm.yaml";

/** Single-quotes a value for bash (values are validated, this is belt and braces). */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** "1.34.2" -> "v1.34": the pkgs.k8s.io repository path holds one minor version. */
export function kubernetesMinor(version: string): string {
  const [major, minor] = version.split(".");
  return `v${major}.${minor}`;
}

export function bootstrapEnv(b: NodeBootstrap): Record<string, string> {
  return {
    CLUSTER_NAME: b.clusterName,
    NODE_NAME: b.nodeName,
    CLOUD: b.cloud,
    ROLE: b.role,
    INIT: b.init ? "true" : "false",
    NODE_IP: b.nodeIp,
    API_ENDPOINT: b.apiEndpoint,
    K8S_VERSION: b.kubernetesVersion,
    K8S_MINOR: kubernetesMinor(b.kubernetesVersion),
    CONTAINERD_VERSION: b.containerdVersion,
    MESH_INTERFACE,
    KUBEADM_CONFIG: KUBEADM_CONFIG_FILE,
    PKI_FILES: b.role === "control-plane" ? pkiBundleFiles.join(" ") : "",
    PKI_AWS_REGION: b.pkiSecret?.aws?.region ?? "",
    PKI_AWS_SECRET_ID: b.pkiSecret?.aws?.secretId ?? "",
    PKI_GCP_PROJECT: b.pkiSecret?.gcp?.project ?? "",
    PKI_GCP_SECRET_ID: b.pkiSecret?.gcp?.secretId ?? "",
  };
}

export function renderBootstrapEnv(b: NodeBootstrap): string {
  const lines = Object.entries(bootstrapEnv(b)).map(([k, v]) => `${k}=${shellQuote(v)}`);
  return ["# Written by cloud-init; read by /usr/local/sbin/wg-mesh-bootstrap.", ...lines, ""].join("\n");
}
