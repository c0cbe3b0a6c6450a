// The node table: the program's declaration of every node it provisions (name, role, host
// addresses) and of the cluster's pod CIDRs. It is the agent's identity authority: which
// addresses are nodes, and which of them are control planes, come only from here (the API can
// be forged by any node). Strict on purpose: unknown keys are typos, and every error names the
// entry and the fix. A table that would switch the guard off, or cut nodes off what they need
// outside the cluster, is refused whole (see the pod CIDR bounds below): the agent then keeps the
// last good table. Format (also documented in agent/README.md):
//   {"podCidrs": ["10.244.0.0/16"],
//    "nodes": [{"name": "cp-0", "role": "control-plane", "addresses": ["203.0.113.10"]}, ...]}
import { GUARD_MAP_SIZE } from "./guard";
import { canonicalAddress, canonicalCidr, familyOf } from "./nodes";
import { overlaps, parsePrefix } from "./prefix";

export type NodeRole = "control-plane" | "worker";

export interface TableNode {
  name: string;
  role: NodeRole;
  /** Canonical host addresses, either family, at least one. */
  addresses: string[];
}

export interface NodeTable {
  /** The cluster's pod CIDRs, canonical network/len. */
  podCidrs: string[];
  nodes: TableNode[];
}

export class NodeTableError extends Error {}

export interface ParseOptions {
  /** This node's name: a table without it is refused (the agent would guard as an unknown node). */
  localNodeName?: string;
}

/**
 * The widest pod CIDR accepted, per family. kube-controller-manager's node IPAM allows at most 16
 * bits between the cluster CIDR's mask and the node CIDR mask (cidrset's clusterSubnetMaxDiff), so
 * with the usual /24 per node an IPv4 cluster CIDR is at most a /8, and with /48 per node an IPv6
 * one at most a /32. Anything wider is no cluster's pod range: it is a typo or an attempt to steer
 * (and guard) the internet, which cuts every node off DNS, metadata and everything outside.
 */
export const WIDEST_POD_CIDR = { 4: 8, 6: 32 } as const;

/**
 * Addresses a pod CIDR (or a node address) must never cover: steered into WireGuard and guarded,
 * they would cut every node off the cloud's metadata service (and GCP's DNS at the same address),
 * itself (loopback), its link (link-local, which ND and DHCP need) or multicast.
 */
export const METADATA_ADDRESSES = ["169.254.169.254", "fd00:ec2::254", "fd20:ce::254"] as const;
const RESERVED: { cidr: string; what: string }[] = [
  ...METADATA_ADDRESSES.map((a) => ({ cidr: a.includes(":") ? `${a}/128` : `${a}/32`, what: `the metadata address ${a}` })),
  { cidr: "0.0.0.0/8", what: `"this network" (0.0.0.0/8)` },
  { cidr: "127.0.0.0/8", what: "loopback (127.0.0.0/8)" },
  { cidr: "169.254.0.0/16", what: "link-local (169.254.0.0/16)" },
  { cidr: "224.0.0.0/4", what: "multicast (224.0.0.0/4)" },
  { cidr: "255.255.255.255/32", what: "broadcast (255.255.255.255)" },
  { cidr: "::/128", what: "the unspecified address (::)" },
  { cidr: "::1/128", what: "loopback (::1)" },
  { cidr: "fe80::/10", what: "link-local (fe80::/10)" },
  { cidr: "ff00::/8", what: "multicast (ff00::/8)" },
];
const RESERVED_PREFIXES = RESERVED.map((r) => ({ ...r, prefix: parsePrefix(r.cidr) }));
const reservedIn = (p: ReturnType<typeof parsePrefix>) => RESERVED_PREFIXES.find((r) => overlaps(r.prefix, p));

/** Why a (canonical) pod CIDR can be no cluster's pod range, or undefined when it can be one. */
function podCidrRefusal(c: string): string | undefined {
  const len = Number(c.split("/")[1]);
  const family = familyOf(c);
  if (len === 0) return `${c} is the default route: it would steer and guard every destination; list the cluster's pod range (e.g. "10.244.0.0/16")`;
  if (len < WIDEST_POD_CIDR[family]) {
    return `${c} is wider than /${WIDEST_POD_CIDR[family]}, more than any cluster can use (kube-controller-manager allows 16 bits between the cluster and node CIDR masks); list the cluster's pod range (e.g. "${family === 4 ? "10.244.0.0/16" : "fd00:10:244::/48"}")`;
  }
  const reserved = reservedIn(parsePrefix(c));
  if (reserved) return `${c} covers ${reserved.what}: steering it into WireGuard would cut every node off it; use a private range that leaves it out`;
  return undefined;
}

const ROLES: NodeRole[] = ["control-plane", "worker"];
const TOP_KEYS = ["podCidrs", "nodes"];
const NODE_KEYS = ["name", "role", "addresses"];
// A Kubernetes node name: a DNS subdomain (RFC 1123), at most 253 characters.
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function strictKeys(obj: Json, allowed: string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new NodeTableError(`${where}: unknown key "${key}" (allowed: ${allowed.join(", ")}); fix the spelling or remove it`);
  }
  for (const key of allowed) {
    if (!(key in obj)) throw new NodeTableError(`${where}: missing "${key}"`);
  }
}

/** Node addresses per family a table may list (GUARD_MAP_SIZE: the other half is for departed nodes). */
export const MAX_ADDRESSES_PER_FAMILY = GUARD_MAP_SIZE / 2;

/**
 * Parses and validates a node table document; throws NodeTableError naming the entry at fault.
 * The document is text, or its UTF-8 bytes as read from the file (NodeTableFile hands its read
 * buffer over, which the parse does not keep). With `previous` (the last good table), an entry
 * written exactly as that table's entry of the same name is that entry, the same object: it was
 * validated then. The table is re-read whole whenever the kubelet rewrites the ConfigMap, so the
 * cost per re-read matters at 5,000 nodes: the same document again is `previous` itself, an
 * unchanged entry costs one lookup by name and a compare (incrementally, against the previous
 * table's index), only changed entries are validated, and the checks across entries (names and
 * addresses once, the guard's room) look only at what changed. Anything that might be an error is
 * judged by the whole-document path, whose message names the entry at fault in document order.
 * tableChanges(result) tells what changed from `previous` (the reconciler's delta steps).
 */
export function parseNodeTable(document: string | Uint8Array, previous?: NodeTable, options: ParseOptions = {}): NodeTable {
  const bytes = typeof document === "string" ? Buffer.from(document, "utf8") : Buffer.from(document.buffer, document.byteOffset, document.byteLength);
  const index = previous && indexes.get(previous);
  if (previous && index) {
    const old = index.document.bytes.subarray(0, index.document.length);
    // The same document again (every backstop re-read, and the start table's own file): nothing to parse.
    if (old.equals(bytes) && (options.localNodeName === undefined || index.byName.has(options.localNodeName))) return previous;
    if (index.document.layout) {
      const spliced = parseWindow(bytes, previous, index, index.document.layout, options);
      if (spliced) return spliced;
    }
  }
  // The whole-document path: the text at once (the only place a whole re-read is decoded).
  const text = typeof document === "string" ? document : bytes.toString("utf8");
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new NodeTableError(`not JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw new NodeTableError(`the document must be an object {"podCidrs": [...], "nodes": [...]}`);
  strictKeys(doc, TOP_KEYS, "node table");

  if (!Array.isArray(doc.podCidrs) || doc.podCidrs.length === 0)
    throw new NodeTableError(`podCidrs: must be a non-empty list of CIDRs such as "10.244.0.0/16"`);
  const podCidrs: string[] = [];
  doc.podCidrs.forEach((raw, i) => {
    const c = canonicalCidr(raw);
    if (!c) throw new NodeTableError(`podCidrs[${i}]: ${JSON.stringify(raw)} is not a network/prefix-length with the host bits clear (e.g. "10.244.0.0/16")`);
    const refusal = podCidrRefusal(c);
    if (refusal) throw new NodeTableError(`podCidrs[${i}]: ${refusal}`);
    const clash = podCidrs.find((o) => overlaps(parsePrefix(o), parsePrefix(c)));
    if (clash) throw new NodeTableError(`podCidrs[${i}]: ${c} overlaps ${clash}; list each pod CIDR once`);
    podCidrs.push(c);
  });

  const samePods = previous !== undefined && sameStrings(podCidrs, previous.podCidrs);
  if (samePods && index && Array.isArray(doc.nodes)) {
    const onto = parseSpliced(previous, index, 0, previous.nodes.length, doc.nodes, options);
    if (onto) {
      keepDocument(index.document, bytes, layoutOf(text, bytes.length, doc));
      return onto;
    }
  }
  const table = parseWhole(doc.nodes, samePods ? previous : undefined, samePods ? previous.podCidrs : podCidrs, options);
  const kept: KeptDocument = { bytes: Buffer.alloc(0), length: 0 };
  keepDocument(kept, bytes, layoutOf(text, bytes.length, doc));
  indexes.set(table, { ...indexOf(table.nodes), document: kept });
  setChanges(table, previous ? changesFrom(previous, table) : { previous, added: table.nodes, removed: [] });
  return table;
}

/** What a parse with `previous` changed: entries that are new objects, and previous entries no longer in the table. */
export interface TableChanges {
  /** The table this one was parsed against (undefined: none). */
  previous?: NodeTable;
  /** Entries that were not in `previous` as they are now (new nodes, and changed ones' new entries). */
  added: TableNode[];
  /** Entries of `previous` that are gone (left nodes, and changed ones' old entries). */
  removed: TableNode[];
}

const changes = new WeakMap<NodeTable, TableChanges>();

/**
 * Records how `table` came from its previous table, and drops the previous table's own record:
 * only the newest table of a lineage is asked (the reconciler, in the step that reads it), and a
 * record holds its previous table, so keeping every record would keep every table ever parsed
 * (each record's table is the key of the one before: ~60 KB per re-read at 5,000 nodes, forever).
 */
function setChanges(table: NodeTable, c: TableChanges): void {
  if (c.previous) changes.delete(c.previous);
  changes.set(table, c);
}

/** What changed from the table it was parsed against; undefined for a table not made by parseNodeTable. */
export function tableChanges(table: NodeTable): TableChanges | undefined {
  return changes.get(table);
}

/** Lookups the next parse needs: entries by name, address -> the name of the node it belongs to, addresses per family. */
interface TableIndex {
  byName: Map<string, TableNode>;
  owners: Map<string, string>;
  count: Record<4 | 6, number>;
  /** The document the table was parsed from, which the next one is compared with. */
  document: KeptDocument;
}

/**
 * A copy of a document's bytes, in a buffer that the lineage reuses (a re-read copies into it:
 * allocating 300-400 KB per re-read cost ~1 ms of fresh pages each, and the collector's work).
 */
interface KeptDocument {
  /** Room for the document and some growth; bytes [0, length) are the document. */
  bytes: Buffer;
  length: number;
  /** Where each entry lies, when the document was written compactly (as the program writes it). */
  layout?: Layout;
}

/**
 * A compact document (`JSON.stringify` of {podCidrs, nodes}, the program's form): the start and
 * end byte offset of every entry in the nodes list, in table order. With it, the next document
 * is compared as bytes: only the entries in the stretch that differs are decoded and parsed.
 */
interface Layout {
  starts: number[];
  ends: number[];
}

/** Copies `bytes` into `kept` (growing its buffer when it has no room) and sets its layout. */
function keepDocument(kept: KeptDocument, bytes: Buffer, layout: Layout | undefined): void {
  if (kept.bytes.length < bytes.length) kept.bytes = Buffer.allocUnsafe(bytes.length + (bytes.length >> 3));
  bytes.copy(kept.bytes);
  kept.length = bytes.length;
  kept.layout = layout;
}

/**
 * The layout of `text` if it is exactly the compact rendering of `doc`; undefined otherwise (then
 * every re-read parses the whole document). Offsets are in characters, which are the bytes' only
 * when every character is ASCII (as in every valid table: names, roles, addresses and the
 * format's keys are): `byteLength` tells.
 */
function layoutOf(text: string, byteLength: number, doc: Json): Layout | undefined {
  if (text.length !== byteLength) return undefined;
  if (!Array.isArray(doc.nodes) || doc.nodes.length === 0 || Object.keys(doc).join() !== TOP_KEYS.join()) return undefined;
  const head = `{"podCidrs":${JSON.stringify(doc.podCidrs)},"nodes":[`;
  if (!text.startsWith(head) || !text.endsWith("]}")) return undefined;
  const starts: number[] = [];
  const ends: number[] = [];
  let at = head.length;
  for (const entry of doc.nodes) {
    const written = JSON.stringify(entry);
    if (starts.length > 0 && text[at++] !== ",") return undefined;
    if (!text.startsWith(written, at)) return undefined;
    starts.push(at);
    ends.push((at += written.length));
  }
  return at + 2 === text.length ? { starts, ends } : undefined;
}

/** Bytes compared at a time while looking for where two documents start to differ (a native compare each). */
const CHUNK = 4096;

/** How many leading bytes `a` and `b` share. */
export function commonPrefix(a: Buffer, b: Buffer): number {
  const max = Math.min(a.length, b.length);
  let i = 0;
  while (i + CHUNK <= max && a.compare(b, i, i + CHUNK, i, i + CHUNK) === 0) i += CHUNK;
  while (i < max && a[i] === b[i]) i++;
  return i;
}

/** How many trailing bytes `a` and `b` share, counting at most `max`. */
export function commonSuffix(a: Buffer, b: Buffer, max: number): number {
  let i = 0;
  while (i + CHUNK <= max && a.compare(b, b.length - i - CHUNK, b.length - i, a.length - i - CHUNK, a.length - i) === 0) i += CHUNK;
  while (i < max && a[a.length - 1 - i] === b[b.length - 1 - i]) i++;
  return i;
}

/** The first index whose value exceeds `x` in an ascending list. */
function firstAbove(xs: number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The byte path: `bytes` against the previous document, which it shares all but one stretch
 * with (a node joining, leaving or changing). The entries that stretch touches, and one more on
 * each side, are replaced by the new text between the same two boundaries, which must parse as
 * whole JSON values; the text before and after is the previous document's, so the whole document
 * parses exactly as those entries, the new ones and these entries. Only that stretch is decoded
 * (a boundary is always next to an ASCII byte, which UTF-8 never splits), so a re-read allocates
 * nothing in proportion to the table. Undefined whenever that does not hold (a change outside
 * the node list, text that is no list of values), and the document is parsed whole.
 */
function parseWindow(bytes: Buffer, previous: NodeTable, index: TableIndex, layout: Layout, options: ParseOptions): NodeTable | undefined {
  const old = index.document.bytes.subarray(0, index.document.length);
  const { starts, ends } = layout;
  const prefix = commonPrefix(old, bytes);
  const suffix = commonSuffix(old, bytes, Math.min(old.length, bytes.length) - prefix);
  const changedEnd = old.length - suffix;
  if (prefix < starts[0] || changedEnd > ends[ends.length - 1]) return undefined;
  const from = Math.max(0, firstAbove(ends, prefix) - 1);
  const to = Math.min(starts.length, firstAbove(starts, changedEnd - 1) + 1);
  const tail = old.length - ends[to - 1];
  const end = bytes.length - tail;
  if (end < starts[from]) return undefined;
  const middle = bytes.toString("utf8", starts[from], end);
  let raw: unknown;
  try {
    raw = JSON.parse(`[${middle}]`);
  } catch {
    return undefined;
  }
  if (!Array.isArray(raw) || raw.length === 0) return undefined;
  const table = parseSpliced(previous, index, from, to, raw, options);
  if (!table) return undefined;
  // The index is the new table's now: it keeps the new document, and the new layout when the
  // stretch is written compactly (its entries where the compact rendering puts them, the rest
  // shifted), or none (the next re-read is parsed whole, and lays the document out again).
  keepDocument(index.document, bytes, spliceLayout(layout, from, to, middle, raw, starts[from], end - starts[from], bytes.length - old.length));
  return table;
}

/**
 * `layout` with its entries [from, to) replaced by those of the stretch `middle` (the text of
 * `raw`, starting at byte `at` and `byteLength` bytes long), and the entries after it moved by
 * `shift`; undefined when the stretch is not the compact rendering of `raw` or is not ASCII
 * (offsets in characters are then not bytes). Updated in place: the layout belongs to the index,
 * which passes to the new table.
 */
function spliceLayout(
  layout: Layout,
  from: number,
  to: number,
  middle: string,
  raw: unknown[],
  at: number,
  byteLength: number,
  shift: number,
): Layout | undefined {
  if (middle.length !== byteLength) return undefined;
  const midStarts: number[] = [];
  const midEnds: number[] = [];
  let i = 0;
  for (const entry of raw) {
    if (midStarts.length > 0 && middle[i++] !== ",") return undefined;
    const written = JSON.stringify(entry);
    if (!middle.startsWith(written, i)) return undefined;
    midStarts.push(at + i);
    midEnds.push(at + (i += written.length));
  }
  if (i !== middle.length) return undefined;
  layout.starts.splice(from, to - from, ...midStarts);
  layout.ends.splice(from, to - from, ...midEnds);
  for (let k = from + raw.length; k < layout.starts.length; k++) {
    layout.starts[k] += shift;
    layout.ends[k] += shift;
  }
  return layout;
}

/** Each table's index, until a parse against it takes it over (one index lives per lineage of tables). */
const indexes = new WeakMap<NodeTable, TableIndex>();

function indexOf(nodes: TableNode[]): Omit<TableIndex, "document"> {
  const index: Omit<TableIndex, "document"> = { byName: new Map(), owners: new Map(), count: { 4: 0, 6: 0 } };
  for (const n of nodes) {
    index.byName.set(n.name, n);
    for (const a of n.addresses) {
      index.owners.set(a, n.name);
      index.count[familyOf(a)]++;
    }
  }
  return index;
}

function changesFrom(previous: NodeTable, table: NodeTable): TableChanges {
  const now = new Set(table.nodes);
  const before = new Set(previous.nodes);
  return { previous, added: table.nodes.filter((n) => !before.has(n)), removed: previous.nodes.filter((n) => !now.has(n)) };
}

/**
 * The incremental path: `previous` with its entries [from, to) replaced by `rawNodes` (the whole
 * list, or the stretch of a document that changed), looking only at those, or undefined when the
 * whole-document path must judge it (an entry that fails a check). The previous table's index is
 * updated in place and passes to the result.
 */
function parseSpliced(previous: NodeTable, index: TableIndex, from: number, to: number, rawNodes: unknown[], options: ParseOptions): NodeTable | undefined {
  if (rawNodes.length === 0) return undefined; // an empty stretch is no list of values; an empty table is refused whole
  const window = new Set(from === 0 && to === previous.nodes.length ? previous.nodes : previous.nodes.slice(from, to));
  const middle: TableNode[] = new Array<TableNode>(rawNodes.length);
  const names = new Set<string>();
  const reused = new Set<TableNode>();
  const fresh: { raw: Json; i: number }[] = [];
  for (let i = 0; i < rawNodes.length; i++) {
    const raw: unknown = rawNodes[i];
    if (!isObject(raw) || typeof raw.name !== "string" || names.has(raw.name)) return undefined;
    names.add(raw.name);
    const old = index.byName.get(raw.name);
    if (old && !window.has(old)) return undefined; // listed twice: once outside the stretch
    if (old && unchanged(raw, old) && Object.keys(raw).length === NODE_KEYS.length) {
      middle[i] = old;
      reused.add(old);
    } else fresh.push({ raw, i });
  }
  const local = options.localNodeName;
  if (local !== undefined) {
    const entry = index.byName.get(local);
    if (!(entry && !window.has(entry)) && !names.has(local)) return undefined;
  }
  // Entries of the stretch that are not kept: gone, or changed (their new entry is fresh).
  const removed = reused.size === window.size ? [] : [...window].filter((n) => !reused.has(n));
  const gone = new Set(removed.map((n) => n.name));
  const pods = previous.podCidrs.map(parsePrefix);
  const added: TableNode[] = [];
  const claimed = new Map<string, string>();
  const count = { ...index.count };
  for (const n of removed) for (const a of n.addresses) count[familyOf(a)]--;
  for (const { raw, i } of fresh) {
    let entry: TableNode;
    try {
      entry = validEntry(raw, `nodes[${from + i}]`, previous.podCidrs, pods);
    } catch (e) {
      if (e instanceof NodeTableError) return undefined;
      throw e;
    }
    for (const a of entry.addresses) {
      const owner = index.owners.get(a);
      if ((owner !== undefined && owner !== entry.name && !gone.has(owner)) || claimed.has(a)) return undefined;
      claimed.set(a, entry.name);
      count[familyOf(a)]++;
    }
    middle[i] = entry;
    added.push(entry);
  }
  if (count[4] > MAX_ADDRESSES_PER_FAMILY || count[6] > MAX_ADDRESSES_PER_FAMILY) return undefined;
  // Commit: the index now describes the new table.
  for (const n of removed) {
    if (index.byName.get(n.name) === n) index.byName.delete(n.name);
    for (const a of n.addresses) if (index.owners.get(a) === n.name) index.owners.delete(a);
  }
  for (const n of added) {
    index.byName.set(n.name, n);
    for (const a of n.addresses) index.owners.set(a, n.name);
  }
  index.count = count;
  // One copy of the list (the previous table stays as it is: the reconciler's last step holds it).
  const nodes = from === 0 && to === previous.nodes.length ? middle : [...previous.nodes.slice(0, from), ...middle, ...previous.nodes.slice(to)];
  const table: NodeTable = { podCidrs: previous.podCidrs, nodes };
  indexes.delete(previous);
  indexes.set(table, index);
  setChanges(table, { previous, added, removed });
  return table;
}

/** One entry, checked on its own (the checks across entries are the caller's); throws NodeTableError naming it. */
function validEntry(raw: unknown, at: string, podCidrs: string[], pods: ReturnType<typeof parsePrefix>[]): TableNode {
  const label = isObject(raw) && typeof raw.name === "string" ? `${at} (${JSON.stringify(raw.name)})` : at;
  if (!isObject(raw)) throw new NodeTableError(`${label}: must be an object {"name", "role", "addresses"}`);
  strictKeys(raw, NODE_KEYS, label);
  const name = raw.name;
  if (typeof name !== "string" || name.length > 253 || !NODE_NAME.test(name))
    throw new NodeTableError(`${label}.name: must be a Kubernetes node name (lower-case DNS subdomain)`);
  if (!ROLES.includes(raw.role as NodeRole)) throw new NodeTableError(`${label}.role: ${JSON.stringify(raw.role)} must be one of ${ROLES.join(", ")}`);
  if (!Array.isArray(raw.addresses) || raw.addresses.length === 0) throw new NodeTableError(`${label}.addresses: must be a non-empty list of host addresses`);
  const addresses: string[] = [];
  raw.addresses.forEach((a, j) => {
    const addr = canonicalAddress(a);
    if (!addr || (typeof a === "string" && a.includes("/")))
      throw new NodeTableError(
        `${label}.addresses[${j}]: ${JSON.stringify(a)} is not a host address (no prefix length), e.g. "203.0.113.10" or "2001:db8::10"`,
      );
    if (addresses.includes(addr))
      throw new NodeTableError(`${label}.addresses[${j}]: ${addr} is also an address of node "${name}"; every address belongs to one node`);
    const host = parsePrefix(addr.includes(":") ? `${addr}/128` : `${addr}/32`);
    const inside = podCidrs.find((_, k) => overlaps(pods[k], host));
    if (inside) throw new NodeTableError(`${label}.addresses[${j}]: ${addr} lies inside the pod CIDR ${inside}; node addresses and pod CIDRs must not overlap`);
    const reserved = reservedIn(host);
    if (reserved)
      throw new NodeTableError(
        `${label}.addresses[${j}]: ${addr} lies in ${reserved.what}, never a node's address to guard; list the node's public and private unicast addresses`,
      );
    addresses.push(addr);
  });
  const entry: TableNode = { name, role: raw.role as NodeRole, addresses };
  if (!sameStrings(raw.addresses, addresses)) writtenAs.set(entry, raw.addresses as string[]);
  return entry;
}

/** Addresses as the document wrote them, for the entries where that is not their canonical form. */
const writtenAs = new WeakMap<TableNode, string[]>();

/** The next document writes this entry exactly as before (role and address texts). */
const unchanged = (raw: Json, old: TableNode) => raw.role === old.role && sameStrings(raw.addresses, writtenAs.get(old) ?? old.addresses);

/** The whole-document path: every entry in order, each error naming the first entry at fault. */
function parseWhole(rawNodes: unknown, previous: NodeTable | undefined, podCidrs: string[], options: ParseOptions): NodeTable {
  const before = previous ? new Map(previous.nodes.map((n) => [n.name, n])) : undefined;
  if (!Array.isArray(rawNodes)) throw new NodeTableError(`nodes: must be a list of {"name", "role", "addresses"}`);
  // An empty table would empty the guard on every node at once: never a real cluster's table.
  if (rawNodes.length === 0)
    throw new NodeTableError(`nodes: the list is empty; a cluster has at least the node reading it: list every node (a table cannot switch the guard off)`);
  const nodes: TableNode[] = [];
  const names = new Set<string>();
  const owners = new Map<string, string>();
  const pods = podCidrs.map(parsePrefix);
  rawNodes.forEach((raw: unknown, i) => {
    const label = isObject(raw) && typeof raw.name === "string" ? `nodes[${i}] (${JSON.stringify(raw.name)})` : `nodes[${i}]`;
    if (!isObject(raw)) throw new NodeTableError(`${label}: must be an object {"name", "role", "addresses"}`);
    strictKeys(raw, NODE_KEYS, label);
    const name = raw.name;
    if (typeof name === "string" && names.has(name)) throw new NodeTableError(`${label}.name: node "${name}" is listed twice`);
    const old = typeof name === "string" ? before?.get(name) : undefined;
    const entry = old && unchanged(raw, old) ? old : validEntry(raw, `nodes[${i}]`, podCidrs, pods);
    names.add(entry.name);
    entry.addresses.forEach((addr, j) => {
      const owner = owners.get(addr);
      if (owner !== undefined) throw new NodeTableError(`${label}.addresses[${j}]: ${addr} is also an address of ${owner}; every address belongs to one node`);
      owners.set(addr, `node "${entry.name}"`);
    });
    nodes.push(entry);
  });
  // The guard's maps have a fixed size; half of it is for the table, half for nodes held after they leave.
  for (const family of [4, 6] as const) {
    const count = [...owners.keys()].filter((a) => familyOf(a) === family).length;
    if (count > MAX_ADDRESSES_PER_FAMILY)
      throw new NodeTableError(
        `nodes: ${count} IPv${family} addresses; the guard holds at most ${MAX_ADDRESSES_PER_FAMILY} per family (about 5,000 nodes with three addresses each): split the cluster`,
      );
  }
  if (options.localNodeName !== undefined && !names.has(options.localNodeName)) {
    throw new NodeTableError(
      `nodes: this node "${options.localNodeName}" is not listed; a table without it is not this cluster's (or is older than this node): add its entry`,
    );
  }
  return { podCidrs, nodes };
}

/** Same content, when unchanged entries are shared (parseNodeTable with `previous`): a compare of references. */
export function sameTable(a: NodeTable | undefined, b: NodeTable): boolean {
  const c = changes.get(b);
  if (a !== undefined && c?.previous === a && (c.added.length > 0 || c.removed.length > 0)) return false;
  return a !== undefined && a.podCidrs === b.podCidrs && a.nodes.length === b.nodes.length && a.nodes.every((n, i) => n === b.nodes[i]);
}

const sameStrings = (a: unknown, b: string[]) => Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);

/** Entries of `table` by name and the node an address belongs to, while it is the newest table of its lineage (a later parse takes the index over); undefined otherwise. */
export function tableLookup(table: NodeTable): { entry(name: string): TableNode | undefined; ownerOf(address: string): string | undefined } | undefined {
  const index = indexes.get(table);
  return index && { entry: (name) => index.byName.get(name), ownerOf: (address) => index.owners.get(address) };
}
