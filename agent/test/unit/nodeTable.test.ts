// The node table's parser: the format other parts produce (INTERFACES.md), strict, with errors
// that name the entry and the fix.
import { GUARD_MAP_SIZE } from "../../src/guard";
import {
  commonPrefix,
  commonSuffix,
  MAX_ADDRESSES_PER_FAMILY,
  NodeTableError,
  parseNodeTable,
  sameTable,
  tableChanges,
  type NodeTable,
  type TableNode,
} from "../../src/nodeTable";
import { seededRandom } from "../fixtures";

const valid = {
  podCidrs: ["10.244.0.0/16", "2001:db8:42::/56"],
  nodes: [
    { name: "meshaws-cp-0", role: "control-plane", addresses: ["203.0.113.10"] },
    { name: "meshaws-workers-0", role: "worker", addresses: ["203.0.113.11", "2001:DB8::11"] },
  ],
};
const text = (doc: unknown) => JSON.stringify(doc);
const withNode = (i: number, patch: Record<string, unknown>) => ({ ...valid, nodes: valid.nodes.map((n, j) => (j === i ? { ...n, ...patch } : n)) });

describe("parseNodeTable", () => {
  it("parses the documented format and canonicalises addresses", () => {
    expect(parseNodeTable(text(valid))).toEqual({
      podCidrs: ["10.244.0.0/16", "2001:db8:42::/56"],
      nodes: [
        { name: "meshaws-cp-0", role: "control-plane", addresses: ["203.0.113.10"] },
        { name: "meshaws-workers-0", role: "worker", addresses: ["203.0.113.11", "2001:db8::11"] },
      ],
    });
  });

  it.each([
    ["not JSON", "{", /not JSON/],
    ["not an object", "[]", /must be an object/],
    ["unknown top-level key (typo)", text({ ...valid, node: [] }), /node table: unknown key "node" \(allowed: podCidrs, nodes\)/],
    ["missing nodes", text({ podCidrs: valid.podCidrs }), /node table: missing "nodes"/],
    ["empty podCidrs", text({ ...valid, podCidrs: [] }), /podCidrs: must be a non-empty list/],
    [
      "pod CIDR with host bits",
      text({ ...valid, podCidrs: ["10.244.1.0/8"] }),
      /podCidrs\[0\]: "10.244.1.0\/8" is not a network\/prefix-length with the host bits clear/,
    ],
    ["overlapping pod CIDRs", text({ ...valid, podCidrs: ["10.244.0.0/16", "10.244.3.0/24"] }), /podCidrs\[1\]: 10.244.3.0\/24 overlaps 10.244.0.0\/16/],
    ["unknown node key", text(withNode(1, { addresss: [] })), /nodes\[1\] \("meshaws-workers-0"\): unknown key "addresss"/],
    ["bad role", text(withNode(0, { role: "master" })), /nodes\[0\] \("meshaws-cp-0"\).role: "master" must be one of control-plane, worker/],
    ["bad name", text(withNode(0, { name: "CP_0" })), /nodes\[0\] \("CP_0"\).name: must be a Kubernetes node name/],
    ["duplicate name", text(withNode(1, { name: "meshaws-cp-0" })), /nodes\[1\] \("meshaws-cp-0"\).name: node "meshaws-cp-0" is listed twice/],
    ["no addresses", text(withNode(1, { addresses: [] })), /nodes\[1\] \("meshaws-workers-0"\).addresses: must be a non-empty list/],
    [
      "bad address",
      text(withNode(1, { addresses: ["203.0.113.300"] })),
      /nodes\[1\] \("meshaws-workers-0"\).addresses\[0\]: "203.0.113.300" is not a host address/,
    ],
    ["address with a prefix length", text(withNode(1, { addresses: ["203.0.113.11/32"] })), /addresses\[0\]: "203.0.113.11\/32" is not a host address/],
    [
      "address shared by two nodes",
      text(withNode(1, { addresses: ["203.0.113.10"] })),
      /nodes\[1\] \("meshaws-workers-0"\).addresses\[0\]: 203.0.113.10 is also an address of node "meshaws-cp-0"/,
    ],
    ["address inside the pod CIDRs", text(withNode(1, { addresses: ["10.244.9.9"] })), /addresses\[0\]: 10.244.9.9 lies inside the pod CIDR 10.244.0.0\/16/],
  ])("rejects %s with an error naming the entry", (_what, doc, message) => {
    expect(() => parseNodeTable(doc)).toThrow(NodeTableError);
    expect(() => parseNodeTable(doc)).toThrow(message);
  });
});

// Tables that would switch the guard off, or cut nodes off what lies outside the cluster: each is
// refused whole, with the entry and the fix named. `valid` itself passes every one of these checks.
describe("parseNodeTable refuses tables that cannot be a cluster's", () => {
  const pods = (...podCidrs: string[]) => text({ ...valid, podCidrs });
  it("accepts the compliant fixture, with the local node named, at the widest bounds", () => {
    expect(parseNodeTable(text(valid), undefined, { localNodeName: "meshaws-cp-0" }).nodes).toHaveLength(2);
    expect(parseNodeTable(pods("10.0.0.0/8", "fd00:42::/32"), undefined, { localNodeName: "meshaws-workers-0" }).podCidrs).toEqual([
      "10.0.0.0/8",
      "fd00:42::/32",
    ]);
  });

  it.each([
    ["no nodes", text({ ...valid, nodes: [] }), /^nodes: the list is empty; .*list every node/],
    ["IPv4 default route", pods("0.0.0.0/0"), /^podCidrs\[0\]: 0.0.0.0\/0 is the default route/],
    ["IPv6 default route", pods("10.244.0.0/16", "::/0"), /^podCidrs\[1\]: ::\/0 is the default route/],
    ["IPv4 wider than /8", pods("0.0.0.0/1"), /^podCidrs\[0\]: 0.0.0.0\/1 is wider than \/8, .*16 bits between the cluster and node CIDR masks/],
    ["IPv4 /7", pods("10.0.0.0/7"), /^podCidrs\[0\]: 10.0.0.0\/7 is wider than \/8/],
    ["IPv6 wider than /32", pods("10.244.0.0/16", "2001:db8::/31"), /^podCidrs\[1\]: 2001:db8::\/31 is wider than \/32/],
    [
      "the metadata address (IPv4)",
      pods("169.254.169.0/24"),
      /^podCidrs\[0\]: 169.254.169.0\/24 covers the metadata address 169.254.169.254: .*use a private range/,
    ],
    ["the metadata address (IPv6, AWS)", pods("10.244.0.0/16", "fd00:ec2::/64"), /^podCidrs\[1\]: fd00:ec2::\/64 covers the metadata address fd00:ec2::254/],
    ["IPv4 link-local", pods("169.254.0.0/24"), /^podCidrs\[0\]: 169.254.0.0\/24 covers link-local \(169.254.0.0\/16\)/],
    ["IPv4 loopback", pods("127.0.0.0/8"), /^podCidrs\[0\]: 127.0.0.0\/8 covers loopback/],
    ["IPv4 multicast", pods("239.0.0.0/8"), /^podCidrs\[0\]: 239.0.0.0\/8 covers multicast \(224.0.0.0\/4\)/],
    ["IPv6 loopback", pods("10.244.0.0/16", "::1/128"), /^podCidrs\[1\]: ::1\/128 covers loopback \(::1\)/],
    ["IPv6 link-local", pods("10.244.0.0/16", "fe80::/64"), /^podCidrs\[1\]: fe80::\/64 covers link-local \(fe80::\/10\)/],
    ["IPv6 multicast", pods("10.244.0.0/16", "ff02::/64"), /^podCidrs\[1\]: ff02::\/64 covers multicast \(ff00::\/8\)/],
    [
      "a node address inside a pod CIDR",
      pods("203.0.113.0/24"),
      /^nodes\[0\] \("meshaws-cp-0"\).addresses\[0\]: 203.0.113.10 lies inside the pod CIDR 203.0.113.0\/24; node addresses and pod CIDRs must not overlap/,
    ],
    [
      "a node address that is the metadata address",
      text(withNode(1, { addresses: ["169.254.169.254"] })),
      /^nodes\[1\] \("meshaws-workers-0"\).addresses\[0\]: 169.254.169.254 lies in the metadata address 169.254.169.254, never a node's address/,
    ],
    ["a loopback node address", text(withNode(1, { addresses: ["127.0.0.2"] })), /addresses\[0\]: 127.0.0.2 lies in loopback/],
    ["a duplicate name", text(withNode(1, { name: "meshaws-cp-0" })), /^nodes\[1\] \("meshaws-cp-0"\).name: node "meshaws-cp-0" is listed twice/],
    [
      "a duplicate address",
      text(withNode(1, { addresses: ["2001:db8::11", "203.0.113.10"] })),
      /^nodes\[1\] \("meshaws-workers-0"\).addresses\[1\]: 203.0.113.10 is also an address of node "meshaws-cp-0"; every address belongs to one node/,
    ],
  ])("refuses %s", (_what, doc, message) => {
    expect(() => parseNodeTable(doc)).toThrow(NodeTableError);
    expect(() => parseNodeTable(doc)).toThrow(message);
  });

  it("refuses more addresses of one family than half the guard's map holds, and accepts exactly that many", () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `w${i}`, role: "worker", addresses: [`198.18.${i >> 8}.${i & 255}`] }));
    expect(MAX_ADDRESSES_PER_FAMILY).toBe(GUARD_MAP_SIZE / 2);
    expect(parseNodeTable(text({ ...valid, nodes: many(MAX_ADDRESSES_PER_FAMILY) })).nodes).toHaveLength(MAX_ADDRESSES_PER_FAMILY);
    expect(() => parseNodeTable(text({ ...valid, nodes: many(MAX_ADDRESSES_PER_FAMILY + 1) }))).toThrow(
      new RegExp(`^nodes: ${MAX_ADDRESSES_PER_FAMILY + 1} IPv4 addresses; the guard holds at most ${MAX_ADDRESSES_PER_FAMILY} per family .*split the cluster`),
    );
  });

  it("refuses a table without the local node, when its name is given", () => {
    expect(() => parseNodeTable(text(valid), undefined, { localNodeName: "meshaws-workers-7" })).toThrow(
      /^nodes: this node "meshaws-workers-7" is not listed; .*add its entry/,
    );
    expect(parseNodeTable(text(valid)).nodes).toHaveLength(2); // without a name (guard print for any node), not checked
  });

  it("refuses on the fast path too: a node dropped from an otherwise unchanged table, or a new bad pod CIDR", () => {
    const prev = parseNodeTable(text(valid), undefined, { localNodeName: "meshaws-workers-0" });
    expect(() => parseNodeTable(text({ ...valid, nodes: [valid.nodes[0]] }), prev, { localNodeName: "meshaws-workers-0" })).toThrow(
      /this node "meshaws-workers-0" is not listed/,
    );
    expect(() => parseNodeTable(text({ ...valid, nodes: [] }), prev)).toThrow(/the list is empty/);
    expect(() => parseNodeTable(pods("0.0.0.0/1"), prev)).toThrow(/wider than \/8/);
  });
});

describe("parseNodeTable with the previous table", () => {
  const doc = (nodes: object[], podCidrs = ["10.244.0.0/16"]) => JSON.stringify({ podCidrs, nodes });
  const cp = { name: "cp", role: "control-plane", addresses: ["203.0.113.10"] };
  const w1 = { name: "w1", role: "worker", addresses: ["203.0.113.11"] };
  const w2 = { name: "w2", role: "worker", addresses: ["203.0.113.12", "2001:db8::12"] };
  const prev = parseNodeTable(doc([cp, w1, w2]));

  it("keeps the previous object of every unchanged entry and takes a new one for every changed entry", () => {
    const next = parseNodeTable(
      doc([cp, { ...w1, role: "control-plane" }, { ...w2, addresses: ["203.0.113.12"] }, { name: "w3", role: "worker", addresses: ["203.0.113.13"] }]),
      prev,
    );
    expect(next.nodes[0]).toBe(prev.nodes[0]);
    expect(next.nodes.slice(1).map((n) => prev.nodes.includes(n))).toEqual([false, false, false]);
    expect(next.nodes.map((n) => `${n.name} ${n.role} ${n.addresses.join(",")}`)).toEqual([
      "cp control-plane 203.0.113.10",
      "w1 control-plane 203.0.113.11",
      "w2 worker 203.0.113.12",
      "w3 worker 203.0.113.13",
    ]);
    expect(next.podCidrs).toBe(prev.podCidrs);
    expect(sameTable(prev, parseNodeTable(doc([cp, w1, w2]), prev))).toBe(true);
    expect(sameTable(prev, next)).toBe(false);
  });

  it("still checks an unchanged entry against the others, and everything again when the pod CIDRs change", () => {
    expect(() => parseNodeTable(doc([cp, w1, w2, { name: "w4", role: "worker", addresses: ["2001:db8::12"] }]), prev)).toThrow(
      /2001:db8::12 is also an address of node "w2"/,
    );
    expect(() => parseNodeTable(doc([w1, cp, { ...cp }]), prev)).toThrow(/node "cp" is listed twice/);
    expect(() => parseNodeTable(doc([cp, { ...w1, extra: 1 }]), prev)).toThrow(/unknown key "extra"/);
    expect(() => parseNodeTable(doc([cp, w1], ["203.0.113.0/24"]), prev)).toThrow(/203.0.113.10 lies inside the pod CIDR 203.0.113.0\/24/);
  });
});

// The incremental path (an unchanged entry costs a lookup, only changed ones are validated) must
// decide exactly as the whole-document path: seeded random edit sequences, each document parsed
// both ways; the same table or the same error, unchanged entries kept as objects, and the changes
// reported being exactly the entries that differ.
describe("parseNodeTable incrementally, against the whole-document path", () => {
  type Entry = Record<string, unknown> & { name: string; role: string; addresses: string[] };

  it("decides 1,000 random edit sequences exactly as a parse of each whole document does", () => {
    let tablesCompared = 0;
    let errorsCompared = 0;
    let sameDocuments = 0;
    for (let seed = 1; seed <= 1000; seed++) {
      const r = seededRandom(seed);
      const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
      let serial = 0;
      const fresh = (): Entry => {
        serial++;
        return {
          name: `n${serial}`,
          role: r() < 0.2 ? "control-plane" : "worker",
          addresses: [`198.51.100.${serial}`, ...(r() < 0.3 ? [`2001:db8::${serial}`] : [])],
        };
      };
      let podCidrs = ["10.244.0.0/16"];
      let entries: Entry[] = Array.from({ length: 3 + Math.floor(r() * 10) }, fresh);
      const edits: ((e: Entry[]) => Entry[])[] = [
        (e) => [...e, fresh()],
        (e) => e.filter((x) => x !== pick(e)),
        (e) => e.map((x) => (x === e[0] ? { ...x, role: x.role === "worker" ? "control-plane" : "worker" } : x)),
        (e) => e.map((x, i) => (i === e.length - 1 ? { ...x, addresses: [`203.0.113.${++serial % 250}`] } : x)),
        (e) => e.map((x, i) => (i === 1 ? { ...x, addresses: [...pick(e).addresses] } : x)), // another node's address (or its own)
        (e) => e.map((x, i) => (i === 0 ? { ...x, name: pick(e).name } : x)), // a duplicate name (or unchanged)
        (e) => [...e, { ...pick(e) }], // an entry listed twice
        (e) => e.map((x, i) => (i === 0 ? { ...x, addresses: [pick(["10.244.1.1", "198.51.100.300", "169.254.169.254", "2001:DB8::1"])] } : x)),
        (e) => e.map((x, i) => (i === e.length - 1 ? { ...x, extra: 1 } : x)),
        (e) => e.map((x, i) => (i === e.length - 1 ? { ...x, role: pick(["master", "worker"]) } : x)),
        (e) => [...e].sort(() => r() - 0.5),
        (e) => e.slice(0, 0),
        (e) => {
          podCidrs = pick([["10.244.0.0/16"], ["10.244.0.0/16", "2001:db8:42::/56"], ["198.51.100.0/24"]]);
          return e;
        },
      ];
      let previous: NodeTable | undefined;
      let previousDoc = "";
      for (let step = 0; step < 8; step++) {
        const candidate = pick(edits)(entries);
        const doc = JSON.stringify({ podCidrs, nodes: candidate });
        const outcome = (f: () => NodeTable) => {
          try {
            return { table: f() };
          } catch (e) {
            if (!(e instanceof NodeTableError)) throw e;
            return { error: e.message };
          }
        };
        const options = seed % 2 === 0 ? { localNodeName: entries[0]?.name } : {};
        const whole = outcome(() => parseNodeTable(doc, undefined, options));
        // As text, or as the bytes NodeTableFile reads, both in one lineage.
        const incremental = outcome(() => parseNodeTable(step % 2 === 0 ? doc : Buffer.from(doc), previous, options));
        const where = `seed ${seed}, step ${step}`;
        expect({ where, ...incremental }).toEqual({ where, ...whole });
        if (!incremental.table) {
          errorsCompared++;
          continue;
        }
        tablesCompared++;
        const next = incremental.table;
        if (previous && doc === previousDoc) {
          // The same document again is the previous table itself.
          expect({ where, same: next === previous }).toEqual({ where, same: true });
          sameDocuments++;
        } else if (previous) {
          const before = new Map(previous.nodes.map((n) => [n.name, n]));
          // Kept: written exactly as in the last good document (same pod CIDRs, same role, same address texts).
          const written = new Map(entries.map((e) => [e.name, JSON.stringify(e)]));
          const now = new Map(candidate.map((e) => [e.name, JSON.stringify(e)]));
          const same = (n: TableNode) => next.podCidrs === previous!.podCidrs && written.get(n.name) !== undefined && written.get(n.name) === now.get(n.name);
          for (const n of next.nodes) expect({ where, name: n.name, kept: n === before.get(n.name) }).toEqual({ where, name: n.name, kept: same(n) });
          const changes = tableChanges(next)!;
          expect({ where, previous: changes.previous === previous }).toEqual({ where, previous: true });
          expect({ where, added: changes.added.map((n) => n.name).sort() }).toEqual({
            where,
            added: next.nodes
              .filter((n) => !same(n))
              .map((n) => n.name)
              .sort(),
          });
          const still = new Set(next.nodes);
          expect({ where, removed: changes.removed.map((n) => n.name).sort() }).toEqual({
            where,
            removed: previous.nodes
              .filter((n) => !still.has(n))
              .map((n) => n.name)
              .sort(),
          });
        }
        previous = next;
        previousDoc = doc;
        entries = candidate;
      }
    }
    // Both kinds of outcome occur often enough to mean something.
    expect(tablesCompared).toBeGreaterThan(2000);
    expect(errorsCompared).toBeGreaterThan(1000);
    expect(sameDocuments).toBeGreaterThan(100);
  });
});

describe("parseNodeTable re-reading the program's compact document", () => {
  const entry = (i: number) => ({ name: `w${i}`, role: "worker", addresses: [`198.51.${100 + (i >> 8)}.${i & 255}`] });
  const doc = (ids: number[]) => JSON.stringify({ podCidrs: ["10.244.0.0/16"], nodes: ids.map(entry) });
  const ids = Array.from({ length: 1000 }, (_, i) => i + 1);

  it("parses only the stretch that changed: a join, a leave and a change each parse a few entries, not the document", () => {
    let table = parseNodeTable(doc(ids));
    const parse = jest.spyOn(JSON, "parse");
    try {
      let current = ids;
      for (const edit of [
        (xs: number[]) => [...xs.slice(0, 500), 5000, ...xs.slice(500)],
        (xs: number[]) => xs.filter((i) => i !== 700),
        (xs: number[]) => [...xs, 5001],
      ]) {
        current = edit(current);
        const text = doc(current);
        parse.mockClear();
        table = parseNodeTable(text, table);
        const longest = Math.max(...parse.mock.calls.map(([t]) => String(t).length));
        expect(longest).toBeLessThan(text.length / 100);
        expect(table).toEqual(parseNodeTable(text));
      }
      // A document written otherwise (indented) is parsed whole, with the same result.
      parse.mockClear();
      const indented = JSON.stringify({ podCidrs: ["10.244.0.0/16"], nodes: ids.map(entry) }, null, 1);
      table = parseNodeTable(indented, table);
      expect(Math.max(...parse.mock.calls.map(([t]) => String(t).length))).toBe(indented.length);
      expect(table).toEqual(parseNodeTable(indented));
    } finally {
      parse.mockRestore();
    }
  });
});

describe("parseNodeTable re-reading the file's bytes", () => {
  const entry = (i: number) => ({ name: `w${i}`, role: "worker", addresses: [`198.51.${100 + (i >> 8)}.${i & 255}`] });
  const doc = (ids: number[]) => JSON.stringify({ podCidrs: ["10.244.0.0/16"], nodes: ids.map(entry) });
  const ids = Array.from({ length: 1000 }, (_, i) => i + 1);
  const bytes = (t: string) => Buffer.from(t);

  it("decodes only the stretch that changed, not the document", () => {
    let table = parseNodeTable(bytes(doc(ids)));
    const decode = jest.spyOn(Buffer.prototype, "toString");
    try {
      let current = ids;
      for (const edit of [
        (xs: number[]) => [...xs, 5000],
        (xs: number[]) => xs.filter((i) => i !== 300),
        (xs: number[]) => [...xs.slice(0, 10), 6000, ...xs.slice(11)],
      ]) {
        current = edit(current);
        const text = doc(current);
        decode.mockClear();
        table = parseNodeTable(bytes(text), table);
        const longest = Math.max(0, ...decode.mock.results.map((r) => String(r.value).length));
        expect(longest).toBeLessThan(text.length / 100);
        expect(table).toEqual(parseNodeTable(text));
      }
    } finally {
      decode.mockRestore();
    }
  });

  it("the same document again is the previous table itself, as long as it lists this node", () => {
    const first = parseNodeTable(bytes(doc(ids)), undefined, { localNodeName: "w1" });
    expect(parseNodeTable(bytes(doc(ids)), first, { localNodeName: "w1" })).toBe(first);
    expect(parseNodeTable(doc(ids), first)).toBe(first);
    expect(() => parseNodeTable(bytes(doc(ids)), first, { localNodeName: "w5000" })).toThrow(/this node "w5000" is not listed/);
  });

  it("a stretch that is not ASCII is judged by the whole-document path, and the lineage goes on", () => {
    const table = parseNodeTable(bytes(doc(ids)));
    const bad = doc(ids).replace('"w500"', '"w\u00e9"').replace("\\u00e9", "é");
    expect(bad).toContain("é");
    expect(() => parseNodeTable(bytes(bad), table)).toThrow(/nodes\[499\] \("wé"\)\.name: must be a Kubernetes node name/);
    // The previous table is still the last good one, and the next good document parses against it.
    const next = parseNodeTable(bytes(doc([...ids, 2000])), table);
    expect(next.nodes[999]).toBe(table.nodes[999]);
    expect(tableChanges(next)?.added.map((n) => n.name)).toEqual(["w2000"]);
  });

  it("keeps only the newest table's record of changes (each record holds its previous table)", () => {
    const a = parseNodeTable(bytes(doc(ids)));
    const b = parseNodeTable(bytes(doc([...ids, 2000])), a);
    const c = parseNodeTable(bytes(doc([...ids, 2000, 2001])), b);
    expect(tableChanges(c)?.previous).toBe(b);
    expect(tableChanges(c)?.added.map((n) => n.name)).toEqual(["w2001"]);
    // b's record would hold a, and so every table ever parsed: dropped once c is made from b.
    expect(tableChanges(b)).toBeUndefined();
  });
});

describe("commonPrefix and commonSuffix", () => {
  const base = Buffer.from(Array.from({ length: 10_000 }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join(""));
  const changedAt = (i: number) => {
    const b = Buffer.from(base);
    b[i] = 48;
    return b;
  };

  it("find the first and the last differing byte, across and at chunk boundaries", () => {
    for (const at of [0, 1, 4095, 4096, 4097, 8191, 8192, 9999]) {
      expect({ at, prefix: commonPrefix(base, changedAt(at)) }).toEqual({ at, prefix: at });
      expect({ at, suffix: commonSuffix(base, changedAt(at), base.length) }).toEqual({ at, suffix: base.length - 1 - at });
    }
    expect(commonPrefix(base, Buffer.from(base))).toBe(base.length);
    expect(commonSuffix(base, Buffer.from(base), base.length)).toBe(base.length);
  });

  it("stop at the shorter document, and the suffix at its bound", () => {
    const longer = Buffer.concat([base, Buffer.from("xyz")]);
    expect(commonPrefix(base, longer)).toBe(base.length);
    expect(commonPrefix(longer, base)).toBe(base.length);
    const inserted = Buffer.concat([base.subarray(0, 5000), Buffer.from("!"), base.subarray(5000)]);
    expect(commonPrefix(base, inserted)).toBe(5000);
    expect(commonSuffix(base, inserted, base.length - 5000)).toBe(base.length - 5000);
    expect(commonSuffix(base, Buffer.from(base), 10)).toBe(10);
  });
});
