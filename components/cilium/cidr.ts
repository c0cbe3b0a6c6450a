// CIDR checks for the Cilium values (ipaddr.js does the address math).
import ipaddr from "ipaddr.js";

export type IpFamily = "ipv4" | "ipv6";

export interface Cidr {
  readonly text: string;
  readonly family: IpFamily;
  readonly prefixLength: number;
  readonly network: ipaddr.IPv4 | ipaddr.IPv6;
}

/** Parses a network CIDR of the given family; `field` names the config key in errors. */
export function parseNetworkCidr(text: string, family: IpFamily, field: string): Cidr {
  const valid = family === "ipv4" ? ipaddr.IPv4.isValidCIDRFourPartDecimal(text) : ipaddr.IPv6.isValidCIDR(text);
  if (!valid) throw new Error(`${field}: "${text}" is not an ${family === "ipv4" ? "IPv4" : "IPv6"} CIDR such as ${family === "ipv4" ? "10.244.0.0/16" : "fd00:10:244::/56"}`);
  const [address, prefixLength] = ipaddr.parseCIDR(text);
  const network = family === "ipv4" ? ipaddr.IPv4.networkAddressFromCIDR(text) : ipaddr.IPv6.networkAddressFromCIDR(text);
  if (address.toString() !== network.toString()) {
    throw new Error(`${field}: "${text}" has host bits set; use the network address ${network.toString()}/${prefixLength}`);
  }
  return { text: `${network.toString()}/${prefixLength}`, family, prefixLength, network };
}

/** True when `outer` contains every address of `inner` (same family). */
export function covers(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && outer.prefixLength <= inner.prefixLength && inner.network.match([outer.network, outer.prefixLength]);
}

/** The native-routing CIDR (default: the pod CIDR itself), checked to cover the pod CIDR. */
export function nativeRoutingCidr(pod: Cidr, requested: string | undefined, field: string): Cidr {
  if (requested === undefined) return pod;
  const native = parseNetworkCidr(requested, pod.family, field);
  if (!covers(native, pod)) {
    throw new Error(
      `${field}: ${native.text} does not cover the pod CIDR ${pod.text}; Cilium would masquerade or ` +
        `drop pod traffic outside it. Use the pod CIDR itself or a supernet of it.`,
    );
  }
  return native;
}

/** Validates the per-node cluster-pool mask size: longer than the pool, short enough to hold pods. */
export function clusterPoolMaskSize(pool: Cidr, requested: number, field: string): number {
  const max = pool.family === "ipv4" ? 30 : 126;
  if (!Number.isInteger(requested) || requested <= pool.prefixLength || requested > max) {
    throw new Error(`${field}: ${requested} must be an integer in ${pool.prefixLength + 1}..${max} (longer than the pool ${pool.text})`);
  }
  return requested;
}
