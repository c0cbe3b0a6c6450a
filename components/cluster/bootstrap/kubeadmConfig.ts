// The kubeadm configuration (kubeadm.k8s.io/v1beta4) for one node, built as plain objects
// and emitted with `yaml`. Every node gets a JoinConfiguration; a control plane that may
// init also gets Init+ClusterConfiguration. Which one runs is decided on the node.
import { stringify } from "yaml";
import type { NodeBootstrap } from "./types";
import { API_PROXY_ENDPOINT, API_PROXY_HOST, API_SERVER_PORT } from "../apiEndpoint";

const API_VERSION = "kubeadm.k8s.io/v1beta4";
const CRI_SOCKET = "unix:///run/containerd/containerd.sock";
const API_PORT = API_SERVER_PORT;

/**
 * The join token is not in these files: they carry placeholders that the boot script fills
 * in, in a private copy under /run, from the token it read from the cloud's secret store
 * (jointoken.sh). The TTL placeholder becomes the seconds left until the stored expiry, so
 * the token `kubeadm init` creates expires exactly when the program said. (kubeadm's
 * `expires` field cannot be used: kubeadm defaults `ttl` and then rejects both together.)
 */
export const TOKEN_PLACEHOLDER = "@@WG_MESH_JOIN_TOKEN@@";
export const TOKEN_TTL_PLACEHOLDER = "@@WG_MESH_JOIN_TOKEN_TTL@@";

/** kube-proxy is skipped: Cilium's kube-proxy replacement handles Services. */
export const SKIP_PHASES = ["addon/kube-proxy"] as const;

type Arg = { name: string; value: string };

function nodeRegistration(b: NodeBootstrap) {
  // No `taints` key: kubeadm then applies its default control-plane taint (an empty list
  // would remove it). Control-plane nodes keep their taint.
  return {
    name: b.nodeName,
    criSocket: CRI_SOCKET,
    // The public IP: reachable from every node in both clouds (see README, "Node IP").
    kubeletExtraArgs: [{ name: "node-ip", value: b.nodeIp }] satisfies Arg[],
  };
}

export function initConfiguration(b: NodeBootstrap) {
  return {
    apiVersion: API_VERSION,
    kind: "InitConfiguration",
    bootstrapTokens: [
      {
        token: TOKEN_PLACEHOLDER,
        ttl: TOKEN_TTL_PLACEHOLDER,
        usages: ["signing", "authentication"],
        groups: ["system:bootstrappers:kubeadm:default-node-token"],
        description: "wg-mesh node join token (managed by Pulumi)",
      },
    ],
    localAPIEndpoint: { advertiseAddress: b.nodeIp, bindPort: API_PORT },
    nodeRegistration: nodeRegistration(b),
    skipPhases: [...SKIP_PHASES],
  };
}

export function clusterConfiguration(b: NodeBootstrap) {
  return {
    apiVersion: API_VERSION,
    kind: "ClusterConfiguration",
    kubernetesVersion: `v${b.kubernetesVersion}`,
    clusterName: b.clusterName,
    // Every node's local proxy to all control planes: kubelets, kubeadm's own clients and
    // cluster-info (what joining nodes bootstrap through) survive the loss of any control
    // plane. kubeadm adds each control plane's advertise address to its own certificate.
    controlPlaneEndpoint: API_PROXY_ENDPOINT,
    networking: { podSubnet: b.podCidr, serviceSubnet: b.serviceCidr },
    apiServer: { certSANs: [API_PROXY_HOST, "localhost", ...b.extraCertSans] },
    etcd: {
      local: {
        // Peers dial each other's public IP; the cloud's 1:1 NAT delivers that traffic to
        // the private address, so etcd must listen on all addresses, not just the public
        // one kubeadm would pick. It still advertises the public IP (kubeadm derives the
        // advertise URLs from each node's advertiseAddress). These args are cluster-wide
        // (stored in the kubeadm-config ConfigMap and reused by joining control planes),
        // which is why they name no node-specific address.
        extraArgs: [
          { name: "listen-client-urls", value: "https://0.0.0.0:2379" },
          { name: "listen-peer-urls", value: "https://0.0.0.0:2380" },
        ] satisfies Arg[],
      },
    },
  };
}

export function joinConfiguration(b: NodeBootstrap) {
  return {
    apiVersion: API_VERSION,
    kind: "JoinConfiguration",
    discovery: {
      bootstrapToken: {
        // The local proxy: whichever control plane answers serves cluster-info.
        apiServerEndpoint: API_PROXY_ENDPOINT,
        token: TOKEN_PLACEHOLDER,
        caCertHashes: [b.discoveryHash],
      },
    },
    nodeRegistration: nodeRegistration(b),
    // No certificateKey: the shared certificates are already on disk from the PKI bundle.
    ...(b.role === "control-plane" ? { controlPlane: { localAPIEndpoint: { advertiseAddress: b.nodeIp, bindPort: API_PORT } } } : {}),
  };
}

const render = (docs: object[]) => docs.map((d) => stringify(d)).join("---\n");

/** /etc/wg-mesh/kubeadm-join.yaml: every node. */
export const renderJoinConfig = (b: NodeBootstrap): string => render([joinConfiguration(b)]);

/** /etc/wg-mesh/kubeadm-init.yaml: only a control plane that may init. */
export function renderInitConfig(b: NodeBootstrap): string {
  if (!b.mayInit) throw new Error(`NodeBootstrap.mayInit is false for ${b.nodeName}: it has no init configuration`);
  return render([initConfiguration(b), clusterConfiguration(b)]);
}
