// Cilium-specific CIDR checks: errors name the Cilium config key, and the cluster-pool mask size
// must fit the pool. Parsing, the host-bit check and containment are the cluster's (../core/cidr).
import ipaddr from "ipaddr.js";
import { covers, parseCidr, type Cidr } from "../core/cidr";

export type IpFamily = "ipv4" | "ipv6";

/**
 * Parses a network CIDR of the given family; `field` names the config key in errors. IPv4 must be
 * dotted-quad (Cilium's own parser rejects the short forms ipaddr.js would accept), and the text
 * is normalised (e.g. `fd00:10:244:0::/56` -> `fd00:10:244::/56`) because it goes into the values.
 */
export function parseNetworkCidr(text: string, family: IpFamily, field: string): Cidr {
  const valid = family === "ipv4" ? ipaddr.IPv4.isValidCIDRFourPartDecimal(text) : ipaddr.IPv6.isValidCIDR(text);
  if (!valid)
    throw new Error(
      `${field}: "${text}" is not an ${family === "ipv4" ? "IPv4" : "IPv6"} CIDR such as ${family === "ipv4" ? "10.244.0.0/16" : "fd00:10:244::/56"}`,
    );
  let cidr: Cidr;
  try {
    cidr = parseCidr(text);
  } catch (e) {
    throw new Error(`${field}: ${(e as Error).message}`);
  }
  return { ...cidr, text: `${cidr.address.toString()}/${cidr.prefix}` };
}

/** The native-routing CIDR (default: the pod CIDR itself), checked to cover the pod CIDR. */
export function nativeRoutingCidr(pod: Cidr, requested: string | undefined, field: string): Cidr {
  if (requested === undefined) return pod;
  const native = parseNetworkCidr(requested, pod.family === 4 ? "ipv4" : "ipv6", field);
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
  const max = pool.family === 4 ? 30 : 126;
  if (!Number.isInteger(requested) || requested <= pool.prefix || requested > max) {
    throw new Error(`${field}: ${requested} must be an integer in ${pool.prefix + 1}..${max} (longer than the pool ${pool.text})`);
  }
  return requested;
}
