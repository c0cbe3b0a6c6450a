// Pure translation of Kubernetes Node and CiliumNode objects (as JSON) into ClusterNodes.
// Nothing here throws on data: every defect is reported as a Problem naming the object,
// the offending value is skipped and the rest of the object is still used.
import ipaddr from "ipaddr.js";
import type { ClusterNode, Family, Problem } from "./model";
import { canonicalIPv4ToInt, parseCanonicalIPv4Prefix } from "./prefix";
import { matchesSelector, type LabelSelector } from "./selector";

export interface ParsedNodes {
  nodes: ClusterNode[];
  problems: Problem[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Canonical host address ("2001:db8::1"), or undefined if not an IP address. */
export function canonicalAddress(text: unknown): string | undefined {
  if (typeof text === "string" && canonicalIPv4ToInt(text) !== undefined) return text; // already canonical
  if (typeof text !== "string" || !ipaddr.isValid(text.trim())) return undefined;
  return ipaddr.process(text.trim()).toString();
}

/** Canonical "network/len"; undefined if malformed or host bits are set. */
export function canonicalCidr(text: unknown): string | undefined {
  if (typeof text !== "string") return undefined;
  if (parseCanonicalIPv4Prefix(text)) return text; // already canonical
  try {
    const [addr, len] = ipaddr.parseCIDR(text.trim());
    const network = addr.kind() === "ipv4" ? ipaddr.IPv4.networkAddressFromCIDR(text.trim()) : ipaddr.IPv6.networkAddressFromCIDR(text.trim());
    if (network.toString() !== addr.toString()) return undefined;
    return `${addr.toString()}/${len}`;
  } catch {
    return undefined;
  }
}

export function familyOf(addressOrCidr: string): Family {
  return addressOrCidr.includes(":") ? 6 : 4;
}

/** Kubernetes address types used for node addresses, in preference order. */
const ADDRESS_TYPES = ["InternalIP", "ExternalIP"];

/**
 * What parseClusterNodes learnt from objects it saw before, kept by its caller (the reconciler)
 * from one step to the next. Informers replace an object on every change, so an object seen
 * before (with the same CiliumNode partner and selector) parses to the same result: it is reused,
 * and the same ClusterNode object lets desired.ts reuse what it computed for that node.
 */
export class NodeParseCache {
  readonly byObject = new WeakMap<object, { partner: unknown; selector: LabelSelector; node: ClusterNode; problems: Problem[] }>();
}

export function parseClusterNodes(
  nodeObjects: unknown[],
  ciliumNodeObjects: unknown[],
  controlPlaneSelector: LabelSelector,
  cache: NodeParseCache = new NodeParseCache(),
): ParsedNodes {
  const problems: Problem[] = [];
  const ciliumByName = new Map<string, Json>();
  for (const obj of ciliumNodeObjects) {
    const name = nameOf(obj);
    if (!name || !isObject(obj)) {
      problems.push({ object: "CiliumNode/?", kind: "shape", message: "object without metadata.name skipped" });
      continue;
    }
    ciliumByName.set(name, obj);
  }

  const nodes: ClusterNode[] = [];
  const seen = new Set<string>();
  for (const obj of nodeObjects) {
    const name = nameOf(obj);
    if (!name || !isObject(obj)) {
      problems.push({ object: "Node/?", kind: "shape", message: "object without metadata.name skipped" });
      continue;
    }
    seen.add(name);
    const cilium = ciliumByName.get(name);
    nodes.push(
      cached(cache, obj, cilium, controlPlaneSelector, problems, () => {
        const metadata = obj.metadata as Json;
        const labels = isObject(metadata.labels) ? (metadata.labels as Record<string, string>) : undefined;
        return buildNode(name, obj, cilium, matchesSelector(controlPlaneSelector, labels), problems);
      }),
    );
  }
  // A CiliumNode without its Node (e.g. the Node watch lags) still gets encrypted; its
  // labels are unknown, so it is never treated as control plane (the only clear path).
  for (const [name, cn] of ciliumByName) {
    if (!seen.has(name)) nodes.push(cached(cache, cn, undefined, controlPlaneSelector, problems, () => buildNode(name, undefined, cn, false, problems)));
  }
  reportDuplicateAddresses(nodes, problems);
  return { nodes, problems };
}

const NO_PROBLEMS: Problem[] = [];
function cached(cache: NodeParseCache, obj: object, partner: unknown, selector: LabelSelector, problems: Problem[], build: () => ClusterNode): ClusterNode {
  const hit = cache.byObject.get(obj);
  if (hit && hit.partner === partner && hit.selector === selector) {
    if (hit.problems.length > 0) problems.push(...hit.problems);
    return hit.node;
  }
  const before = problems.length;
  const node = build();
  // Most nodes have no problem: share one empty list rather than keep 5,000 of them.
  cache.byObject.set(obj, { partner, selector, node, problems: problems.length > before ? problems.slice(before) : NO_PROBLEMS });
  return node;
}

function nameOf(obj: unknown): string | undefined {
  if (!isObject(obj) || !isObject(obj.metadata)) return undefined;
  const name = obj.metadata.name;
  return typeof name === "string" && name.length > 0 ? name : undefined;
}

function buildNode(name: string, node: Json | undefined, cilium: Json | undefined, controlPlane: boolean, problems: Problem[]): ClusterNode {
  const addresses: string[] = [];
  const addressSources: string[] = [];
  const add = (object: string, value: unknown) => {
    const a = canonicalAddress(value);
    if (!a) {
      problems.push({ object, kind: "malformed", message: `address ${JSON.stringify(value)} is not an IP address; skipped` });
    } else if (!addresses.includes(a)) {
      addresses.push(a);
      addressSources.push(object);
    }
  };
  const nodeAddresses = listAt(node, ["status", "addresses"], `Node/${name}`, problems);
  const ciliumAddresses = listAt(cilium, ["spec", "addresses"], `CiliumNode/${name}`, problems);
  for (const type of ADDRESS_TYPES) {
    for (const a of nodeAddresses) if (isObject(a) && a.type === type) add(`Node/${name}`, a.address);
    // CiliumInternalIP is the cilium_host address inside the pod CIDR: covered by that CIDR.
    for (const a of ciliumAddresses) if (isObject(a) && a.type === type) add(`CiliumNode/${name}`, a.ip);
  }
  if (node && addresses.length === 0) {
    problems.push({ object: `Node/${name}`, kind: "missing", message: "no usable InternalIP or ExternalIP address" });
  }

  const ciliumCidrs = listAt(cilium, ["spec", "ipam", "podCIDRs"], `CiliumNode/${name}`, problems);
  const nodeCidrs = listAt(node, ["spec", "podCIDRs"], `Node/${name}`, problems);
  // Cluster-pool IPAM publishes CIDRs only on the CiliumNode; kubernetes IPAM on the Node.
  const [source, rawCidrs] = ciliumCidrs.length > 0 ? [`CiliumNode/${name}`, ciliumCidrs] : [`Node/${name}`, nodeCidrs];
  const podCidrs: string[] = [];
  for (const raw of rawCidrs) {
    const c = canonicalCidr(raw);
    if (!c) problems.push({ object: source, kind: "malformed", message: `pod CIDR ${JSON.stringify(raw)} is not a network/prefix-length; skipped` });
    else if (!podCidrs.includes(c)) podCidrs.push(c);
  }
  return { name, addresses, podCidrs, controlPlane, addressSources, podCidrSource: source };
}

function listAt(obj: Json | undefined, path: string[], object: string, problems: Problem[]): unknown[] {
  let v: unknown = obj;
  for (const key of path) {
    if (!isObject(v)) return [];
    v = v[key];
  }
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    problems.push({ object, kind: "shape", message: `${path.join(".")} is not a list; ignored` });
    return [];
  }
  return v;
}

/** Duplicates are reported here and resolved in desired.ts (always toward encryption). */
function reportDuplicateAddresses(nodes: ClusterNode[], problems: Problem[]): void {
  const owners = new Map<string, string>();
  for (const n of nodes) {
    for (const a of n.addresses) {
      const first = owners.get(a);
      if (first === undefined) owners.set(a, n.name);
      else problems.push({ object: `Node/${n.name}`, kind: "duplicate", message: `address ${a} is also claimed by ${first}` });
    }
  }
}
