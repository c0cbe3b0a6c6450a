// Lossless prefix aggregation: the smallest set of CIDRs whose union is exactly the union of
// the input (adjacent or nested prefixes merge; no address outside the input is ever added).
// Fewer routes make a full apply cheaper; lookups hit the same destinations either way.
import ipaddr from "ipaddr.js";
import type { Family } from "./model";

const WIDTH: Record<Family, number> = { 4: 32, 6: 128 };

function toBigInt(bytes: number[]): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function fromBigInt(v: bigint, family: Family): string {
  const bytes: number[] = new Array(WIDTH[family] / 8);
  for (let i = bytes.length - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

/** Aggregates canonical CIDRs of one family; output sorted by address. */
export function aggregate(cidrs: string[], family: Family): string[] {
  const width = BigInt(WIDTH[family]);
  const ranges = cidrs.map((c) => {
    const [addr, len] = ipaddr.parseCIDR(c);
    const start = toBigInt(addr.toByteArray());
    return { start, end: start + (1n << (width - BigInt(len))) - 1n };
  }).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));

  const merged: { start: bigint; end: bigint }[] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end + 1n) {
      if (r.end > last.end) last.end = r.end;
    } else {
      merged.push({ ...r });
    }
  }

  const out: string[] = [];
  for (const { start, end } of merged) {
    let s = start;
    while (s <= end) {
      // Largest aligned block starting at s that does not run past end.
      let size = 0n;
      while (size < width && (s & ((1n << (size + 1n)) - 1n)) === 0n && s + (1n << (size + 1n)) - 1n <= end) size++;
      out.push(`${fromBigInt(s, family)}/${width - size}`);
      s += 1n << size;
    }
  }
  return out;
}
