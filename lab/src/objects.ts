// Pure: the Kubernetes Node and CiliumNode objects a real cluster would hold for a lab node.
import { CONTROL_PLANE_LABEL, type NodePlan } from "./plan";

export type Kind = "nodes" | "ciliumnodes";
export type KubeObject = { metadata: { name: string; resourceVersion?: string; [k: string]: unknown }; [k: string]: unknown };

/** The annotation where Cilium publishes a node's WireGuard public key. */
export const WG_PUBKEY_ANNOTATION = "network.cilium.io/wg-pub-key";

export function nodeObject(n: NodePlan): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: n.name,
      // kubeadm labels control-plane nodes with an empty value.
      labels: { "kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux", ...(n.controlPlane ? { [CONTROL_PLANE_LABEL]: "" } : {}) },
    },
    spec: { podCIDR: n.podCidr, podCIDRs: [n.podCidr] },
    status: {
      addresses: [
        { type: "InternalIP", address: n.underlayIp },
        { type: "Hostname", address: n.name },
      ],
    },
  };
}

export function ciliumNodeObject(n: NodePlan, publicKey: string): KubeObject {
  return {
    apiVersion: "cilium.io/v2",
    kind: "CiliumNode",
    metadata: { name: n.name, annotations: { [WG_PUBKEY_ANNOTATION]: publicKey } },
    spec: {
      addresses: [
        { type: "InternalIP", ip: n.underlayIp },
        { type: "CiliumInternalIP", ip: n.podGateway },
      ],
      ipam: { podCIDRs: [n.podCidr] },
    },
  };
}

export const API_PATHS: Record<Kind, { path: string; listKind: string; objectKind: string; apiVersion: string }> = {
  nodes: { path: "/api/v1/nodes", listKind: "NodeList", objectKind: "Node", apiVersion: "v1" },
  ciliumnodes: { path: "/apis/cilium.io/v2/ciliumnodes", listKind: "CiliumNodeList", objectKind: "CiliumNode", apiVersion: "cilium.io/v2" },
};
