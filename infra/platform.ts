// Maps the stack config onto the inputs of what runs on the cluster: Cilium's values and
// the node-router agent's settings. Pure, so validation can run it before any resource.
import type { StackConfig, Cloud } from "./configSchema";
import type { CiliumValuesInput } from "../components/cilium/values";
import { API_PROXY_HOST, API_PROXY_PORT } from "../components/cluster/apiEndpoint";

/**
 * Path MTU of each cloud's underlay as the WireGuard packets see it: AWS instances get
 * 9001 inside a VPC but the internet path through the internet gateway is 1500; GCP VPCs
 * default to 1460. Cilium subtracts WireGuard's overhead from the smallest.
 */
export const UNDERLAY_MTU: Readonly<Record<Cloud, number>> = { aws: 1500, gcp: 1460 };

export function ciliumValuesInput(config: StackConfig): CiliumValuesInput {
  const clouds = (["aws", "gcp"] as const).filter((c) => config[c] !== undefined);
  return {
    chartVersion: config.cilium.version,
    podCidrV4: config.cluster.podCidr,
    nativeRoutingCidrV4: config.cilium.nativeRoutingCidr,
    ipamMode: config.cilium.ipam,
    // Every node's local proxy to all control planes (components/cluster/apiEndpoint.ts):
    // the agents keep their API connection when any one control plane is lost.
    k8sServiceHost: API_PROXY_HOST,
    k8sServicePort: API_PROXY_PORT,
    underlayMtus: Object.fromEntries(clouds.map((c) => [c, UNDERLAY_MTU[c]])),
    // Every node reaches the others through its cloud's 1:1 NAT of its public address.
    behindNat: true,
    multiCloud: clouds.length > 1,
    hubble: { enabled: true, relay: true, ui: config.cilium.hubbleUi },
  };
}
