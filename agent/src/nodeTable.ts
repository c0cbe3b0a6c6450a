// The node table: the program's declaration of every node it provisions (name, role, host
// addresses) and of the cluster's pod CIDRs. It is the agent's identity authority: which
// addresses are nodes, and which of them are control planes, come only from here (the API can
// be forged by any node). Strict on purpose: unknown keys are typos, and every error names the
// entry and the fix. Format (also documented in agent/README.md):
//   {"podCidrs": ["10.244.0.0/16"],
//    "nodes": [{"name": "cp-0", "role": "control-plane", "addresses": ["203.0.113.10"]}, ...]}
import { canonicalAddress, canonicalCidr } from "./nodes";
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

/**
 * Parses and validates a node table document; throws NodeTableError naming the entry at fault.
 * With `previous` (the last good table), an entry written exactly as that table's entry of the
 * same name is that entry, the same object: it was validated then, only the checks across entries
 * run again. A re-read after a node joined costs one entry's validation, and the reconciler's
 * caches (keyed by object) see one changed node, not a new table.
 */
export function parseNodeTable(text: string, previous?: NodeTable): NodeTable {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new NodeTableError(`not JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw new NodeTableError(`the document must be an object {"podCidrs": [...], "nodes": [...]}`);
  strictKeys(doc, TOP_KEYS, "node table");

  if (!Array.isArray(doc.podCidrs) || doc.podCidrs.length === 0) throw new NodeTableError(`podCidrs: must be a non-empty list of CIDRs such as "10.244.0.0/16"`);
  const podCidrs: string[] = [];
  doc.podCidrs.forEach((raw, i) => {
    const c = canonicalCidr(raw);
    if (!c) throw new NodeTableError(`podCidrs[${i}]: ${JSON.stringify(raw)} is not a network/prefix-length with the host bits clear (e.g. "10.244.0.0/16")`);
    const clash = podCidrs.find((o) => overlaps(parsePrefix(o), parsePrefix(c)));
    if (clash) throw new NodeTableError(`podCidrs[${i}]: ${c} overlaps ${clash}; list each pod CIDR once`);
    podCidrs.push(c);
  });

  const samePods = previous !== undefined && sameStrings(podCidrs, previous.podCidrs);
  const before = samePods ? new Map(previous.nodes.map((n) => [n.name, n])) : undefined;

  if (!Array.isArray(doc.nodes)) throw new NodeTableError(`nodes: must be a list of {"name", "role", "addresses"}`);
  const nodes: TableNode[] = [];
  const names = new Set<string>();
  const owners = new Map<string, string>();
  const pods = podCidrs.map(parsePrefix);
  doc.nodes.forEach((raw, i) => {
    const label = isObject(raw) && typeof raw.name === "string" ? `nodes[${i}] (${JSON.stringify(raw.name)})` : `nodes[${i}]`;
    if (!isObject(raw)) throw new NodeTableError(`${label}: must be an object {"name", "role", "addresses"}`);
    strictKeys(raw, NODE_KEYS, label);
    const name = raw.name;
    if (typeof name !== "string" || name.length > 253 || !NODE_NAME.test(name)) throw new NodeTableError(`${label}.name: must be a Kubernetes node name (lower-case DNS subdomain)`);
    if (names.has(name)) throw new NodeTableError(`${label}.name: node "${name}" is listed twice`);
    names.add(name);
    const old = before?.get(name);
    if (old && raw.role === old.role && sameStrings(raw.addresses, old.addresses)) {
      old.addresses.forEach((addr, j) => {
        const owner = owners.get(addr);
        if (owner !== undefined) throw new NodeTableError(`${label}.addresses[${j}]: ${addr} is also an address of ${owner}; every address belongs to one node`);
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
      if (!addr || (typeof a === "string" && a.includes("/"))) throw new NodeTableError(`${label}.addresses[${j}]: ${JSON.stringify(a)} is not a host address (no prefix length), e.g. "203.0.113.10" or "2001:db8::10"`);
      const owner = owners.get(addr);
      if (owner !== undefined) throw new NodeTableError(`${label}.addresses[${j}]: ${addr} is also an address of ${owner}; every address belongs to one node`);
      const host = parsePrefix(addr.includes(":") ? `${addr}/128` : `${addr}/32`);
      const inside = podCidrs.find((_, k) => overlaps(pods[k], host));
      if (inside) throw new NodeTableError(`${label}.addresses[${j}]: ${addr} lies inside the pod CIDR ${inside}; node addresses and pod CIDRs must not overlap`);
      owners.set(addr, `node "${name}"`);
      if (!addresses.includes(addr)) addresses.push(addr);
    });
    nodes.push({ name, role: raw.role as NodeRole, addresses });
  });
  return { podCidrs: samePods ? previous.podCidrs : podCidrs, nodes };
}

/** Same content, when unchanged entries are shared (parseNodeTable with `previous`): a compare of references. */
export function sameTable(a: NodeTable | undefined, b: NodeTable): boolean {
  return a !== undefined && a.podCidrs === b.podCidrs && a.nodes.length === b.nodes.length && a.nodes.every((n, i) => n === b.nodes[i]);
}

const sameStrings = (a: unknown, b: string[]) => Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);
