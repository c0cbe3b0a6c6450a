// The claim index against a brute-force oracle: random IPv4 and IPv6 prefixes (nested, equal,
// disjoint) claimed by a few owners; conflicts() must say exactly what comparing every pair says.
import { ClaimIndex } from "../../src/claims";
import { overlaps, parsePrefix } from "../../src/prefix";
import { seededRandom } from "../fixtures";

describe("ClaimIndex", () => {
  it("finds exactly the overlaps a comparison of every pair finds, as claims come and go", () => {
    const r = seededRandom(7);
    const prefix = () => {
      if (r() < 0.5) {
        const len = 21 + Math.floor(r() * 6);
        const block = Math.floor(r() * 2 ** (len - 20));
        const n = (10 << 24) | (block << (32 - len)); // inside 10.0.0.0/20
        return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}/${len}`;
      }
      const len = 50 + Math.floor(r() * 5);
      return `fd00:0:0:${(Math.floor(r() * 2 ** (len - 48)) << (64 - len)).toString(16)}::/${len}`; // inside fd00::/48
    };
    const owners = ["a", "b", "c", "d", "e"];
    const claims = new Map<string, string[]>();
    const disjoint = (all: string[]) => all.every((x, i) => all.every((y, j) => j <= i || !overlaps(parsePrefix(x), parsePrefix(y))));
    let index = ClaimIndex.of(claims)!;
    let conflicts = 0;
    let fits = 0;
    for (let step = 0; step < 3000; step++) {
      const owner = owners[Math.floor(r() * owners.length)];
      const wanted = Array.from({ length: Math.floor(r() * 3) }, prefix);
      const others = [...claims].filter(([o]) => o !== owner).flatMap(([, cs]) => cs);
      const expected = !disjoint(wanted) || wanted.some((w) => others.some((o) => overlaps(parsePrefix(w), parsePrefix(o))));
      expect({ step, owner, wanted, conflicts: index.conflicts(owner, wanted) }).toEqual({ step, owner, wanted, conflicts: expected });
      if (expected) {
        conflicts++;
        continue;
      }
      fits++;
      index.set(owner, wanted);
      claims.set(owner, wanted);
      expect(index.of(owner)).toEqual(wanted);
      // Built whole from the same claims, the index answers the same (and refuses overlapping ones).
      if (step % 100 === 0) index = ClaimIndex.of(claims)!;
      expect(index).toBeDefined();
    }
    expect(conflicts).toBeGreaterThan(300);
    expect(fits).toBeGreaterThan(300);
    expect(
      ClaimIndex.of([
        ["a", ["10.1.0.0/16"]],
        ["b", ["10.1.2.0/24"]],
      ]),
    ).toBeUndefined();
    expect(ClaimIndex.of([["a", ["10.1.0.0/16", "10.1.2.0/24"]]])).toBeUndefined();
  });
});
