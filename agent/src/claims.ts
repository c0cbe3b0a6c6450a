// The API's pod CIDR claims as an index for the delta step (reconciler.ts): every usable claim of
// every Node/CiliumNode, sorted by first address per family, pairwise disjoint. Whether a changed
// node's claims overlap anyone else's is then two binary searches per claim, not a sort of every
// claim in the cluster (identity.ts, the full step, does that and names the objects). Disjointness
// is the index's invariant: a cluster where two claims overlap has a standing problem, and its
// steps are full ones until the problem is gone.
import { span, type Span } from "./identity";

interface Sorted {
  start: (number | bigint)[];
  end: (number | bigint)[];
  owner: string[];
  cidr: string[];
}

/** The index of the last claim whose first address is at most `start` (-1: none). */
function atOrBefore(f: Sorted, start: number | bigint): number {
  let lo = 0;
  let hi = f.start.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (f.start[mid] <= start) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

const overlap = (a: Span, b: Span) => a.family === b.family && a.start <= b.end && b.start <= a.end;

export class ClaimIndex {
  private readonly families = new Map<number, Sorted>();
  private readonly byOwner = new Map<string, readonly string[]>();

  /** The index of these claims (owner -> its usable pod CIDRs), or undefined when two of them overlap. */
  static of(claims: Iterable<readonly [string, readonly string[]]>, spanOf: (cidr: string) => Span = span): ClaimIndex | undefined {
    const index = new ClaimIndex();
    const all: { s: Span; owner: string; cidr: string }[] = [];
    for (const [owner, cidrs] of claims) {
      if (cidrs.length === 0) continue;
      index.byOwner.set(owner, cidrs);
      for (const cidr of cidrs) all.push({ s: spanOf(cidr), owner, cidr });
    }
    all.sort((a, b) => a.s.family - b.s.family || (a.s.start < b.s.start ? -1 : a.s.start > b.s.start ? 1 : 0));
    for (let i = 0; i < all.length; i++) {
      const x = all[i];
      // Sorted by start, prefixes overlap only if they nest: a neighbour's check finds any overlap.
      if (i > 0 && overlap(all[i - 1].s, x.s)) return undefined;
      const f = index.family(x.s.family);
      f.start.push(x.s.start);
      f.end.push(x.s.end);
      f.owner.push(x.owner);
      f.cidr.push(x.cidr);
    }
    return index;
  }

  /** The claims of one owner. */
  of(owner: string): readonly string[] {
    return this.byOwner.get(owner) ?? [];
  }

  /** Whether `cidrs`, as `owner`'s whole set of claims, would overlap another owner's claim or each other. */
  conflicts(owner: string, cidrs: readonly string[]): boolean {
    const spans = cidrs.map(span);
    for (let i = 0; i < spans.length; i++) for (let j = 0; j < i; j++) if (overlap(spans[i], spans[j])) return true;
    for (const s of spans) {
      const f = this.families.get(s.family);
      if (!f) continue;
      // The claims are disjoint: at most the one starting at or before s can contain it, and
      // only those starting inside s can lie inside it.
      const i = atOrBefore(f, s.start);
      if (i >= 0 && f.end[i] >= s.start && f.owner[i] !== owner) return true;
      for (let j = i + 1; j < f.start.length && f.start[j] <= s.end; j++) if (f.owner[j] !== owner) return true;
    }
    return false;
  }

  /** Replaces `owner`'s claims (conflicts() said they fit). */
  set(owner: string, cidrs: readonly string[]): void {
    for (const cidr of this.of(owner)) {
      const s = span(cidr);
      const f = this.family(s.family);
      const i = atOrBefore(f, s.start);
      if (i >= 0 && f.cidr[i] === cidr && f.owner[i] === owner) for (const k of ["start", "end", "owner", "cidr"] as const) f[k].splice(i, 1);
    }
    if (cidrs.length === 0) this.byOwner.delete(owner);
    else this.byOwner.set(owner, cidrs);
    for (const cidr of cidrs) {
      const s = span(cidr);
      const f = this.family(s.family);
      const i = atOrBefore(f, s.start) + 1;
      f.start.splice(i, 0, s.start);
      f.end.splice(i, 0, s.end);
      f.owner.splice(i, 0, owner);
      f.cidr.splice(i, 0, cidr);
    }
  }

  private family(family: number): Sorted {
    let f = this.families.get(family);
    if (!f) this.families.set(family, (f = { start: [], end: [], owner: [], cidr: [] }));
    return f;
  }
}
