// The addresses a node's traffic to other nodes comes from. This project's nodes talk to each
// other through their static public addresses (Kubernetes InternalIP = Elastic IP / GCP static
// external address), so by default those are a node's peer addresses; `private` reads the VPC
// addresses instead, for clusters whose nodes share one private network.
//   AWS: an Eip on the instance (`instance`) or one of its network interfaces (`networkInterface`),
//        an EipAssociation to either (its allocation's publicIp, or `publicIp`), else the
//        instance's own `publicIp` output. Private: `privateIp` and the interfaces' addresses.
//   GCP: `networkInterfaces[].accessConfigs[].natIp`; private: `networkInterfaces[].networkIp`.
// Matching is by id once ids are known and by property dependency while they are not.
import { cloudOf } from "./nodes";
import { refersTo, TYPES, type Res } from "./resources";
import { isUnknown, UNKNOWN, type Unknown } from "./unknowns";
import { asArray, at } from "./values";

export type PeerAddressing = "public" | "private";

export interface AddressIndex {
  enis: Res[];
  eniAttachments: Res[];
  /** Resources by the id or URN a property of theirs refers to (see keyed()). */
  eipsByInstance: Map<string, Res[]>;
  eipsByInterface: Map<string, Res[]>;
  assocsByInstance: Map<string, Res[]>;
  assocsByInterface: Map<string, Res[]>;
  /** Elastic IPs by allocation id, id and URN. */
  eipsByKey: Map<string, Res>;
}

const deps = (r: Res, k: string) => r.propertyDependencies[k] ?? [];

/**
 * The keys a reference is filed under: the id it names when known, else the URNs the property
 * depends on (ids are unknown at preview). The same rule as resources.ts' refersTo, as an index.
 */
function keyed(value: unknown, propDeps: readonly string[]): string[] {
  return typeof value === "string" ? [value] : isUnknown(value) ? [...propDeps] : [];
}

function fileUnder(map: Map<string, Res[]>, keys: string[], r: Res): void {
  for (const k of keys) map.set(k, [...(map.get(k) ?? []), r]);
}

export function addressIndex(resources: readonly Res[]): AddressIndex {
  const ix: AddressIndex = {
    enis: [],
    eniAttachments: [],
    eipsByInstance: new Map(),
    eipsByInterface: new Map(),
    assocsByInstance: new Map(),
    assocsByInterface: new Map(),
    eipsByKey: new Map(),
  };
  for (const r of resources) {
    if (r.type === TYPES.awsNetworkInterface) ix.enis.push(r);
    else if (r.type === TYPES.awsNetworkInterfaceAttachment) ix.eniAttachments.push(r);
    else if (r.type === TYPES.awsEip) {
      fileUnder(ix.eipsByInstance, keyed(r.props["instance"], deps(r, "instance")), r);
      fileUnder(ix.eipsByInterface, keyed(r.props["networkInterface"], deps(r, "networkInterface")), r);
      for (const k of [r.props["allocationId"], r.props["id"], r.urn]) if (typeof k === "string") ix.eipsByKey.set(k, r);
    } else if (r.type === TYPES.awsEipAssociation) {
      fileUnder(ix.assocsByInstance, keyed(r.props["instanceId"], deps(r, "instanceId")), r);
      fileUnder(ix.assocsByInterface, keyed(r.props["networkInterfaceId"], deps(r, "networkInterfaceId")), r);
    }
  }
  return ix;
}

/** What is filed under a resource: by its id, or by its URN. */
function lookup(map: Map<string, Res[]>, target: Res): Res[] {
  const id = target.props["id"];
  const out = [...(typeof id === "string" ? (map.get(id) ?? []) : []), ...(map.get(target.urn) ?? [])];
  return [...new Set(out)];
}

/** Network interfaces (resources in the stack) attached to an AWS instance. */
export function interfacesOf(node: Res, ix: AddressIndex): Res[] {
  if (ix.enis.length === 0) return [];
  const listed = asArray(node.props["networkInterfaces"]);
  const items = Array.isArray(listed) ? listed : [];
  return ix.enis.filter(
    (eni) =>
      refersTo(at(node.props, "primaryNetworkInterface.networkInterfaceId"), deps(node, "primaryNetworkInterface"), eni) ||
      items.some((ni) => refersTo(at(ni, "networkInterfaceId"), deps(node, "networkInterfaces"), eni)) ||
      ix.eniAttachments.some(
        (a) => refersTo(a.props["instanceId"], deps(a, "instanceId"), node) && refersTo(a.props["networkInterfaceId"], deps(a, "networkInterfaceId"), eni),
      ) ||
      (asArray(eni.props["attachments"]) as unknown[]).some((att) => refersTo(at(att, "instance"), deps(eni, "attachments"), node)) ||
      refersTo(at(eni.props, "attachment.instance"), deps(eni, "attachment"), node),
  );
}

function text(v: unknown): string | Unknown | undefined {
  return isUnknown(v) ? UNKNOWN : typeof v === "string" && v !== "" ? v : undefined;
}

function awsPublic(node: Res, ix: AddressIndex): { addresses: Array<string | Unknown>; missing?: string } {
  const enis = interfacesOf(node, ix);
  const out: Array<string | Unknown> = [];
  const eips = new Set([...lookup(ix.eipsByInstance, node), ...enis.flatMap((e) => lookup(ix.eipsByInterface, e))]);
  for (const eip of eips) out.push(text(eip.props["publicIp"]) ?? UNKNOWN);
  const assocs = new Set([...lookup(ix.assocsByInstance, node), ...enis.flatMap((e) => lookup(ix.assocsByInterface, e))]);
  for (const a of assocs) {
    const direct = text(a.props["publicIp"]);
    if (direct !== undefined) {
      out.push(direct);
      continue;
    }
    const alloc = a.props["allocationId"];
    const eip =
      (typeof alloc === "string" ? ix.eipsByKey.get(alloc) : undefined) ??
      deps(a, "allocationId")
        .map((u) => ix.eipsByKey.get(u))
        .find(Boolean);
    if (eip) out.push(text(eip.props["publicIp"]) ?? UNKNOWN);
    else if (isUnknown(alloc)) out.push(UNKNOWN);
    else return { addresses: out, missing: `Elastic IP allocation ${String(alloc)} (not in this stack)` };
  }
  if (out.length > 0) return { addresses: out };
  const own = text(node.props["publicIp"]);
  return own !== undefined ? { addresses: [own] } : { addresses: [] };
}

function awsPrivate(node: Res, ix: AddressIndex): Array<string | Unknown> {
  const out: Array<string | Unknown> = [];
  const own = text(node.props["privateIp"]);
  if (own !== undefined) out.push(own);
  for (const eni of interfacesOf(node, ix)) {
    const list = asArray(eni.props["privateIps"]);
    if (isUnknown(list)) out.push(UNKNOWN);
    else
      for (const ip of list) {
        const t = text(ip);
        if (t !== undefined) out.push(t);
      }
    const single = text(eni.props["privateIp"]);
    if (single !== undefined) out.push(single);
  }
  return out;
}

function gcp(node: Res, key: "natIp" | "networkIp"): Array<string | Unknown> {
  const nis = asArray(node.props["networkInterfaces"]);
  if (isUnknown(nis)) return [UNKNOWN];
  const out: Array<string | Unknown> = [];
  for (const ni of nis) {
    if (key === "networkIp") {
      const t = text(at(ni, "networkIp"));
      out.push(t ?? UNKNOWN);
      continue;
    }
    const acs = asArray(at(ni, "accessConfigs"));
    if (isUnknown(acs)) {
      out.push(UNKNOWN);
      continue;
    }
    // An access config without natIp gets an ephemeral address when the instance starts.
    for (const ac of acs) out.push(text(at(ac, "natIp")) ?? UNKNOWN);
  }
  return out;
}

/** A node's peer addresses, or why none will ever be visible (`missing`). */
export function peerAddresses(node: Res, ix: AddressIndex, mode: PeerAddressing): { addresses: Array<string | Unknown>; missing?: string } {
  const cloud = cloudOf(node);
  if (node.type !== TYPES.awsInstance && node.type !== TYPES.gcpInstance) {
    return { addresses: [], missing: `the addresses of the instances ${node.type.split(":").pop()} '${node.name}' starts (assigned at boot)` };
  }
  if (cloud === "aws") {
    if (mode === "private") return { addresses: awsPrivate(node, ix) };
    const found = awsPublic(node, ix);
    return found.addresses.length > 0 || found.missing
      ? found
      : { addresses: [], missing: `a public address of '${node.name}' (no Elastic IP or publicIp in this stack)` };
  }
  const list = gcp(node, mode === "private" ? "networkIp" : "natIp");
  return list.length > 0 ? { addresses: list } : { addresses: [], missing: `a ${mode} address of '${node.name}' (no access config with natIp)` };
}
