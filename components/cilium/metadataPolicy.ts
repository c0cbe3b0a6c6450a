// A Cilium cluster-wide policy that keeps pods away from the cloud metadata services, so no
// pod can borrow its node's cloud identity (AWS instance role, GCP service account) or read
// its user data. It selects every pod (endpointSelector {}) and only denies egress to the
// metadata addresses; `enableDefaultDeny: false` in both directions keeps it from putting
// every pod into default-deny (a policy with rules would otherwise do that for the
// directions it names). Host-network pods are not Cilium endpoints: the node-router's guard
// keeps them off the metadata service (socket cgroupv2 in nftables), as this policy cannot.
//
// Only TCP, and every TCP port but 53: 169.254.169.254 is also GCP's VPC DNS resolver, which
// CoreDNS forwards to (the host's resolv.conf), on UDP 53 and TCP 53 for large answers. The
// metadata services themselves (AWS IMDS, GCE metadata server) speak HTTP over TCP only, so
// leaving UDP and TCP 53 open gives a pod DNS and no credentials. Two port ranges, 1-52 and
// 54-65535, because a deny rule cannot say "all but": port ranges (`endPort`) exist in every
// pinned Cilium line (since 1.16). Field paths and types are checked against the pinned
// lines' CRD facts (crdFacts/, metadataPolicy.test.ts).

/** 169.254.169.254 (AWS IMDS, GCE metadata.google.internal), fd00:ec2::254 (IMDS over IPv6), fd20:ce::254 (GCE over IPv6). */
export const METADATA_CIDRS = ["169.254.169.254/32", "fd00:ec2::254/128", "fd20:ce::254/128"] as const;

/** DNS: open to pods on the metadata addresses (GCP's resolver is 169.254.169.254). */
export const DNS_PORT = 53;

/** The TCP ports denied: every port but DNS, as Cilium port ranges. */
export const DENIED_TCP_PORTS = [
  { port: "1", endPort: DNS_PORT - 1, protocol: "TCP" },
  { port: String(DNS_PORT + 1), endPort: 65535, protocol: "TCP" },
] as const;

export const METADATA_POLICY_NAME = "wg-mesh-deny-cloud-metadata";

export function metadataPolicy() {
  return {
    apiVersion: "cilium.io/v2" as const,
    kind: "CiliumClusterwideNetworkPolicy" as const,
    metadata: { name: METADATA_POLICY_NAME, labels: { "app.kubernetes.io/part-of": "wg-mesh" } },
    spec: {
      description:
        "Pods may not open TCP to the cloud metadata services (node credentials, user data); DNS (UDP and TCP 53) stays open, GCP's resolver shares the address",
      endpointSelector: {},
      enableDefaultDeny: { egress: false, ingress: false },
      egressDeny: [{ toCIDR: [...METADATA_CIDRS], toPorts: [{ ports: DENIED_TCP_PORTS.map((p) => ({ ...p })) }] }],
    },
  };
}
