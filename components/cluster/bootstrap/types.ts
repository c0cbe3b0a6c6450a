// The per-node input of the bootstrap: everything a node's cloud-init needs to become a
// Kubernetes node without anyone logging in. The pools build one per instance.

/** Where a control-plane node reads the PKI bundle (JSON of PEMs) with its own instance identity. */
export interface PkiSecretRef {
  readonly aws?: { readonly region: string; readonly secretId: string };
  readonly gcp?: { readonly project: string; readonly secretId: string };
}

export interface NodeBootstrap {
  readonly clusterName: string;
  /** Also the Kubernetes node name. */
  readonly nodeName: string;
  readonly cloud: "aws" | "gcp";
  readonly role: "control-plane" | "worker";
  /** True on exactly one control-plane node: it runs `kubeadm init`. */
  readonly init: boolean;
  /** The node's static public IPv4: its Kubernetes InternalIP. */
  readonly nodeIp: string;
  /** "<init node's public IP>:6443" (controlPlaneEndpoint). */
  readonly apiEndpoint: string;
  /** Every control-plane node's public IP (API server certificate SANs). */
  readonly controlPlaneIps: readonly string[];
  /** e.g. "1.34.2": pkgs.k8s.io packages `<v>-*`, repository path v1.34. */
  readonly kubernetesVersion: string;
  /** e.g. "1.7.28": Ubuntu package containerd, pinned by version prefix. */
  readonly containerdVersion: string;
  readonly podCidr: string;
  readonly serviceCidr: string;
  /** "abcdef.0123456789abcdef" (a Pulumi secret upstream). */
  readonly bootstrapToken: string;
  /** "sha256:<hex>" of the cluster CA's SubjectPublicKeyInfo. */
  readonly discoveryHash: string;
  /** Control-plane nodes only: where to read the PKI bundle. */
  readonly pkiSecret?: PkiSecretRef;
}
