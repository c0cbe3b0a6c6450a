// Prefix arithmetic on canonical text forms. IPv4 - the common case, with thousands of nodes -
// is done with 32-bit integers straight from the text; building an ipaddr.js object per prefix
// cost ~10 us each, most of a 5,000-node reconcile. Anything that is not a plain canonical
// dotted quad (IPv6, leading zeros, odd forms) goes through ipaddr.js, which stays the authority.
import ipaddr from "ipaddr.js";

/** The address as an unsigned 32-bit integer if `text` is canonical IPv4 ("10.0.0.1"), else undefined. */
export function canonicalIPv4ToInt(text: string): number | undefined {
  // A character loop: several times faster than a regular expression, and this runs per prefix.
  let n = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      // "."
      if (digits === 0 || dots === 3) return undefined;
      n = n * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return undefined; // leading zero: not canonical
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return undefined;
    } else {
      return undefined;
    }
  }
  if (dots !== 3 || digits === 0) return undefined;
  return n * 256 + octet;
}

/** Network bits of a /len IPv4 prefix, as an unsigned integer (0 for /0). */
const networkOf = (n: number, len: number) => (len === 0 ? 0 : (n >>> (32 - len)) >>> 0);

interface V4Prefix {
  n: number;
  len: number;
}

/** Canonical IPv4 "a.b.c.d/len" (host bits clear), parsed; undefined for anything else. */
export function parseCanonicalIPv4Prefix(text: string): V4Prefix | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const lenText = text.slice(slash + 1);
  if (!/^(0|[1-9]\d?)$/.test(lenText)) return undefined;
  const len = Number(lenText);
  const n = canonicalIPv4ToInt(text.slice(0, slash));
  if (n === undefined || len > 32) return undefined;
  if (len < 32 && n % 2 ** (32 - len) !== 0) return undefined; // host bits set
  return { n, len };
}

/** ipaddr.js' parse of a prefix that is not canonical IPv4 (IPv6, odd forms). */
const parseSlow = (c: string): [ipaddr.IPv4 | ipaddr.IPv6, number] => ipaddr.parseCIDR(c);

/** A parsed prefix for repeated overlap tests. */
export type Prefix = { v4: V4Prefix } | { other: [ipaddr.IPv4 | ipaddr.IPv6, number] };

export function parsePrefix(c: string): Prefix {
  const v4 = parseCanonicalIPv4Prefix(c);
  return v4 ? { v4 } : { other: parseSlow(c) };
}

/**
 * Parsed prefixes by text, for the steps that see the same ones again (IPv6 prefixes cost a full
 * ipaddr.js parse each). Owned by whoever runs the steps (desired.ts' memo, the identity
 * resolver), never a module global; bounded.
 */
export class PrefixCache {
  private readonly parsed = new Map<string, Prefix>();

  parse(c: string): Prefix {
    let hit = this.parsed.get(c);
    if (!hit) {
      hit = parsePrefix(c);
      if ("other" in hit) {
        if (this.parsed.size >= 100_000) this.parsed.clear();
        this.parsed.set(c, hit);
      }
    }
    return hit;
  }
}

/** As ipaddr.js sees it: a canonical IPv4 prefix turned back into an address object. */
const slowForm = (p: Prefix): [ipaddr.IPv4 | ipaddr.IPv6, number] => ("v4" in p ? [ipaddr.IPv4.parse(intToIPv4(p.v4.n)), p.v4.len] : p.other);

const kind = (p: Prefix) => ("v4" in p ? "ipv4" : p.other[0].kind());

/** True if the two prefixes share at least one address (one contains the other). */
export function overlaps(a: Prefix, b: Prefix): boolean {
  if ("v4" in a && "v4" in b) {
    const len = Math.min(a.v4.len, b.v4.len);
    return networkOf(a.v4.n, len) === networkOf(b.v4.n, len);
  }
  if (kind(a) !== kind(b)) return false;
  const [aa, al] = slowForm(a);
  const [ba, bl] = slowForm(b);
  return aa.match(ba, bl) || ba.match(aa, al);
}

/** True if prefix `inner` lies entirely inside prefix `outer`. */
export function contains(outer: Prefix, inner: Prefix): boolean {
  const len = (p: Prefix) => ("v4" in p ? p.v4.len : p.other[1]);
  return len(inner) >= len(outer) && overlaps(outer, inner);
}

const intToIPv4 = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
