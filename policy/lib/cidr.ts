// CIDR containment with ipaddr.js (IPv4 and IPv6).
import * as ipaddr from "ipaddr.js";

export function parseCidr(text: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined {
  try {
    return ipaddr.parseCIDR(text.trim());
  } catch {
    return undefined;
  }
}

export function isCidr(text: string): boolean {
  return parseCidr(text) !== undefined;
}

/** True when every address of `inner` lies inside `outer`. */
export function cidrCovers(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  if (!o || !i || o[0].kind() !== i[0].kind()) return false;
  return o[1] <= i[1] && i[0].match(o);
}

/**
 * Could this range hold nodes' private (InternalIP) addresses? True for private/ULA/CGNAT ranges
 * and for ranges wide enough to contain them (0.0.0.0/0, ::/0, 10.0.0.0/8...). Public /32s of
 * the other cloud's nodes are false: they never cover peers inside the same VPC.
 */
export function mayHoldPrivateAddresses(text: string): boolean {
  const parsed = parseCidr(text);
  if (!parsed) return true; // unreadable: do not claim it is closed
  const [addr, prefix] = parsed;
  if (prefix === 0) return true;
  const range = addr.range();
  if (addr.kind() === "ipv4") return ["private", "carrierGradeNat"].includes(range) || (prefix <= 8 && ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].some((p) => cidrCovers(text, p) || cidrCovers(p, text)));
  return range === "uniqueLocal";
}
