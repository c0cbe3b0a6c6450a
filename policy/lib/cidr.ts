// CIDR containment with ipaddr.js (IPv4 and IPv6).
import * as ipaddr from "ipaddr.js";

// A stack repeats the same addresses in many rules, and every firewall policy reads them all:
// parsing is memoised (pure functions of the text; the caches are bounded).
const MAX_CACHED = 50_000;
function memo<T>(fn: (text: string) => T): (text: string) => T {
  const cache = new Map<string, T>();
  return (text) => {
    if (cache.has(text)) return cache.get(text)!;
    if (cache.size >= MAX_CACHED) cache.clear();
    const v = fn(text);
    cache.set(text, v);
    return v;
  };
}

export const parseCidr = memo((text: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined => {
  try {
    return ipaddr.parseCIDR(text.trim());
  } catch {
    return undefined;
  }
});

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
  if (addr.kind() === "ipv4")
    return (
      ["private", "carrierGradeNat"].includes(range) ||
      (prefix <= 8 && ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].some((p) => cidrCovers(text, p) || cidrCovers(p, text)))
    );
  return range === "uniqueLocal";
}

/** The address of a single-host CIDR (/32, /128) or a bare address; undefined for ranges and junk. */
export const hostAddress = memo((text: string): string | undefined => {
  const t = text.trim();
  if (!t.includes("/")) return ipaddr.isValid(t) ? ipaddr.parse(t).toString() : undefined;
  const parsed = parseCidr(t);
  if (!parsed) return undefined;
  const [addr, prefix] = parsed;
  return prefix === (addr.kind() === "ipv4" ? 32 : 128) ? addr.toString() : undefined;
});

/** True for a CIDR whose prefix is 0 (0.0.0.0/0, ::/0): the whole internet. */
export function isEverywhere(text: string): boolean {
  const parsed = parseCidr(text);
  return parsed !== undefined && parsed[1] === 0;
}

/** True when `cidr` contains `address` (same family). */
export function cidrContains(cidr: string, address: string): boolean {
  const parsed = parseCidr(cidr);
  if (!parsed || !ipaddr.isValid(address)) return false;
  const a = ipaddr.parse(address);
  return a.kind() === parsed[0].kind() && a.match(parsed);
}
