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
 * With `previous` (the last good table), an entry written exactly as that table's entry of the
 * same name is that entry, the same object: it was validated then, only the checks across entries
 * run again. A re-read after a node joined costs one entry's validation, and the reconciler's
 * caches (keyed by object) see one changed node, not a new table.
 */
export function parseNodeTable(text: string, previous?: NodeTable, options: ParseOptions = {}): NodeTable {
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
  const before = samePods ? new Map(previous.nodes.map((n) => [n.name, n])) : undefined;

  if (!Array.isArray(doc.nodes)) throw new NodeTableError(`nodes: must be a list of {"name", "role", "addresses"}`);
  // An empty table would empty the guard on every node at once: never a real cluster's table.
  if (doc.nodes.length === 0)
    throw new NodeTableError(`nodes: the list is empty; a cluster has at least the node reading it: list every node (a table cannot switch the guard off)`);
  const nodes: TableNode[] = [];
  const names = new Set<string>();
  const owners = new Map<string, string>();
  const pods = podCidrs.map(parsePrefix);
  doc.nodes.forEach((raw, i) => {
    const label = isObject(raw) && typeof raw.name === "string" ? `nodes[${i}] (${JSON.stringify(raw.name)})` : `nodes[${i}]`;
    if (!isObject(raw)) throw new NodeTableError(`${label}: must be an object {"name", "role", "addresses"}`);
    strictKeys(raw, NODE_KEYS, label);
    const name = raw.name;
    if (typeof name !== "string" || name.length > 253 || !NODE_NAME.test(name))
      throw new NodeTableError(`${label}.name: must be a Kubernetes node name (lower-case DNS subdomain)`);
    if (names.has(name)) throw new NodeTableError(`${label}.name: node "${name}" is listed twice`);
    names.add(name);
    const old = before?.get(name);
    if (old && raw.role === old.role && sameStrings(raw.addresses, old.addresses)) {
      old.addresses.forEach((addr, j) => {
        const owner = owners.get(addr);
        if (owner !== undefined)
          throw new NodeTableError(`${label}.addresses[${j}]: ${addr} is also an address of ${owner}; every address belongs to one node`);
        owners.set(addr, `node "${name}"`);
      });
      nodes.push(old);
      return;
    }
    if (!ROLES.includes(raw.role as NodeRole)) throw new NodeTableError(`${label}.role: ${JSON.stringify(raw.role)} must be one of ${ROLES.join(", ")}`);
    if (!Array.isArray(raw.addresses) || raw.addresses.length === 0) throw new NodeTableError(`${label}.addresses: must be a non-empty list of host addresses`);
    const addresses: string[] = [];
    raw.addresses.forEach((a, j) => {
      const addr = canonicalAddress(a);
      if (!addr || (typeof a === "string" && a.includes("/")))
        throw new NodeTableError(
          `${label}.addresses[${j}]: ${JSON.stringify(a)} is not a host address (no prefix length), e.g. "203.0.113.10" or "2001:db8::10"`,
        );
      const owner = owners.get(addr);
      if (owner !== undefined) throw new NodeTableError(`${label}.addresses[${j}]: ${addr} is also an address of ${owner}; every address belongs to one node`);
      const host = parsePrefix(addr.includes(":") ? `${addr}/128` : `${addr}/32`);
      const inside = podCidrs.find((_, k) => overlaps(pods[k], host));
      if (inside)
        throw new NodeTableError(`${label}.addresses[${j}]: ${addr} lies inside the pod CIDR ${inside}; node addresses and pod CIDRs must not overlap`);
      const reserved = reservedIn(host);
      if (reserved)
        throw new NodeTableError(
          `${label}.addresses[${j}]: ${addr} lies in ${reserved.what}, never a node's address to guard; list the node's public and private unicast addresses`,
        );
      owners.set(addr, `node "${name}"`);
      if (!addresses.includes(addr)) addresses.push(addr);
    });
    nodes.push({ name, role: raw.role as NodeRole, addresses });
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
  return { podCidrs: samePods ? previous.podCidrs : podCidrs, nodes };
}

/** Same content, when unchanged entries are shared (parseNodeTable with `previous`): a compare of references. */
export function sameTable(a: NodeTable | undefined, b: NodeTable): boolean {
  return a !== undefined && a.podCidrs === b.podCidrs && a.nodes.length === b.nodes.length && a.nodes.every((n, i) => n === b.nodes[i]);
}

const sameStrings = (a: unknown, b: string[]) => Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);
