// A Cilium cluster-wide policy that keeps pods away from the cloud metadata services, so no
// pod can borrow its node's cloud identity (AWS instance role, GCP service account) or read
// its user data. It selects every pod (endpointSelector {}) and only denies egress to the
// metadata addresses; `enableDefaultDeny: false` in both directions keeps it from putting
// every pod into default-deny (a policy with rules would otherwise do that for the
// directions it names). Host-network pods are not Cilium endpoints: they keep the host's
// access, as the node itself needs it (kubelet, the boot script). Field paths and types are
// checked against the pinned Cilium lines' CRD facts (crdFacts/, metadataPolicy.test.ts).

/** 169.254.169.254 (AWS IMDS, GCE metadata.google.internal), fd00:ec2::254 (IMDS over IPv6), fd20:ce::254 (GCE over IPv6). */
export const METADATA_CIDRS = ["169.254.169.254/32", "fd00:ec2::254/128", "fd20:ce::254/128"] as const;

export const METADATA_POLICY_NAME = "wg-mesh-deny-cloud-metadata";

export function metadataPolicy() {
  return {
    apiVersion: "cilium.io/v2" as const,
    kind: "CiliumClusterwideNetworkPolicy" as const,
    metadata: { name: METADATA_POLICY_NAME, labels: { "app.kubernetes.io/part-of": "wg-mesh" } },
    spec: {
      description: "Pods may not reach the cloud metadata services (node credentials, user data); host-network pods are not selected",
      endpointSelector: {},
      enableDefaultDeny: { egress: false, ingress: false },
      egressDeny: [{ toCIDR: [...METADATA_CIDRS] }],
    },
  };
}
