// CIDR math on top of ipaddr.js: parse strictly (host bits set is an error, since it
// almost always hides a typo), test containment and overlap.
import * as ipaddr from "ipaddr.js";

export interface Cidr {
  readonly text: string;
  readonly family: 4 | 6;
  readonly address: ipaddr.IPv4 | ipaddr.IPv6;
  readonly prefix: number;
}

/** Parses `a.b.c.d/n` or an IPv6 prefix; throws an Error whose message says what is wrong. */
export function parseCidr(text: string): Cidr {
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(text);
  } catch {
    throw new Error(`"${text}" is not a CIDR (expected e.g. 10.0.0.0/16 or 2001:db8::/48)`);
  }
  const [address, prefix] = parsed;
  const family = address.kind() === "ipv4" ? 4 : 6;
  // ipaddr.js also reads short forms such as "10.244/16" (as 10.0.0.244): almost always a typo.
  if (family === 4 && !ipaddr.IPv4.isValidFourPartDecimal(text.split("/")[0])) {
    throw new Error(`"${text}" is not a CIDR (write IPv4 as four dotted numbers, e.g. 10.244.0.0/16)`);
  }
  const network = family === 4 ? ipaddr.IPv4.networkAddressFromCIDR(text) : ipaddr.IPv6.networkAddressFromCIDR(text);
  if (network.toString() !== address.toString()) {
    throw new Error(`"${text}" has host bits set; did you mean ${network.toString()}/${prefix}?`);
  }
  return { text, family, address, prefix };
}

/** True when `outer` contains every address of `inner`. */
export function covers(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && outer.prefix <= inner.prefix && inner.address.match(outer.address, outer.prefix);
}

/** True when the two prefixes share at least one address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  return covers(a, b) || covers(b, a);
}
