// The per-node env file that bootstrap.sh sources, and where the other boot files live.
// Only non-secret values: the join token and the PKI bundle are fetched at boot from the
// secret store; the env file names where.
import { pkiBundleFiles } from "./discovery";
import { MESH_INTERFACE } from "./networkUnits";
import type { NodeBootstrap } from "./types";
import { API_PROXY_ENDPOINT } from "../apiEndpoint";
import { guardEnv } from "./bootGuard";
import { CLUSTER_CA_FILE } from "../../../agent/src/apiserverProxy";

export const ENV_FILE = "/etc/wg-mesh/bootstrap.env";
/** Every node: kubeadm join (a replaced first control plane joins too). A token placeholder, no token. */
export const KUBEADM_JOIN_FILE = "/etc/wg-mesh/kubeadm-join.yaml";
/** Only a control plane that may init: kubeadm init. A token placeholder, no token. */
export const KUBEADM_INIT_FILE = "/etc/wg-mesh/kubeadm-init.yaml";
/** The cluster CA certificate (public): probes and the local API proxy trust only it (declared beside the proxy's renderer). */
export const CA_CERT_FILE = CLUSTER_CA_FILE;
/** Shell libraries bootstrap.sh sources (it reads them from here unless WG_MESH_LIB_DIR says otherwise). */
export const LIB_DIR = "/usr/local/lib/wg-mesh";

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
    MAY_INIT: b.mayInit ? "true" : "false",
    NODE_IP: b.nodeIp,
    // Parallel lists in the cluster's stable order: control plane n joins after n-1.
    CP_NAMES: b.controlPlanes.map((cp) => cp.name).join(" "),
    CP_IPS: b.controlPlanes.map((cp) => cp.ip).join(" "),
    API_PROXY: API_PROXY_ENDPOINT,
    K8S_VERSION: b.kubernetesVersion,
    K8S_MINOR: kubernetesMinor(b.kubernetesVersion),
    CONTAINERD_VERSION: b.containerdVersion,
    AGENT_IMAGE: b.agentImage, // pre-pulled for the DaemonSet (packages.sh); the boot guard needs no image
    MESH_INTERFACE,
    KUBEADM_JOIN_CONFIG: KUBEADM_JOIN_FILE,
    KUBEADM_INIT_CONFIG: b.mayInit ? KUBEADM_INIT_FILE : "",
    CA_CERT: CA_CERT_FILE,
    PKI_FILES: b.role === "control-plane" ? pkiBundleFiles.join(" ") : "",
    PKI_AWS_REGION: b.pkiSecret?.aws?.region ?? "",
    PKI_AWS_SECRET_ID: b.pkiSecret?.aws?.secretId ?? "",
    PKI_GCP_PROJECT: b.pkiSecret?.gcp?.project ?? "",
    PKI_GCP_SECRET_ID: b.pkiSecret?.gcp?.secretId ?? "",
    JOIN_TOKEN_AWS_REGION: b.joinTokenSecret.aws?.region ?? "",
    JOIN_TOKEN_AWS_SECRET_ID: b.joinTokenSecret.aws?.secretId ?? "",
    JOIN_TOKEN_GCP_PROJECT: b.joinTokenSecret.gcp?.project ?? "",
    JOIN_TOKEN_GCP_SECRET_ID: b.joinTokenSecret.gcp?.secretId ?? "",
    BOOT_GUARD_AWS_REGION: b.bootGuardSecret.aws?.region ?? "",
    BOOT_GUARD_AWS_SECRET_ID: b.bootGuardSecret.aws?.secretId ?? "",
    BOOT_GUARD_GCP_PROJECT: b.bootGuardSecret.gcp?.project ?? "",
    BOOT_GUARD_GCP_SECRET_ID: b.bootGuardSecret.gcp?.secretId ?? "",
    ...guardEnv(b.guard),
  };
}

export function renderBootstrapEnv(b: NodeBootstrap): string {
  const lines = Object.entries(bootstrapEnv(b)).map(([k, v]) => `${k}=${shellQuote(v)}`);
  return ["# Written by cloud-init; read by /usr/local/sbin/wg-mesh-bootstrap and wg-mesh-guard.", ...lines, ""].join("\n");
}
