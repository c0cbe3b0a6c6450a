// Which nodes of the node table have no WireGuard peer on this node's device, and whether a node
// that left the table still is one (pure). The agent
// steers every packet to another node's address into the device; WireGuard sends a packet only
// to the peer whose allowed IPs contain its destination, and drops it otherwise. Cilium gives
// each remote node's peer that node's addresses (/32, /128) as allowed IPs, so a table node with
// an address that no peer allows is a node this node cannot reach (fail closed, not a leak).
import type { NodeTable } from "./nodeTable";
import { canonicalAddress } from "./nodes";
import { contains, parsePrefix, type Prefix } from "./prefix";

/** The prefixes of `wg show <device> allowed-ips` ("<public key>\t<prefix> <prefix> ..." or "\t(none)"). */
export function parseAllowedIps(text: string): string[] {
  return text
    .split("\n")
    .flatMap((line) => line.split("\t")[1]?.trim().split(/\s+/) ?? [])
    .filter((p) => p !== "" && p !== "(none)");
}

/** Names of the table's nodes (this one excepted) with at least one address that no allowed-IP prefix contains. */
export function tableNodesWithoutPeer(table: NodeTable, localNodeName: string, allowedIps: readonly string[]): string[] {
  const allowed = allowedBy(allowedIps);
  return table.nodes.filter((n) => n.name !== localNodeName && !n.addresses.every(allowed)).map((n) => n.name);
}

/** One peer of `wg show <device> dump`: its endpoint's address (if any) and its allowed-IP prefixes. */
export interface WgPeer {
  endpoint?: string;
  allowedIps: string[];
  /** Seconds since the epoch of the latest handshake; 0 = none yet (absent when the dump has no such field). */
  latestHandshake?: number;
}

/**
 * The peers of `wg show <device> dump`: a first line for the device itself (private key, public
 * key, listen port, fwmark), then one per peer, tab-separated: public key, preshared key, endpoint
 * ("203.0.113.5:51871", "[2001:db8::5]:51871" or "(none)"), allowed IPs (comma-separated or
 * "(none)"), latest handshake, bytes received, bytes sent, keepalive.
 */
export function parseWgDump(text: string): WgPeer[] {
  return text
    .split("\n")
    .slice(1)
    .flatMap((line): WgPeer[] => {
      const f = line.split("\t");
      if (f.length < 4) return [];
      const m = /^\[?(.*?)\]?:\d+$/.exec(f[2]);
      const endpoint = m ? canonicalAddress(m[1]) : undefined;
      const allowedIps =
        f[3] === "(none)"
          ? []
          : f[3]
              .split(",")
              .map((p) => p.trim())
              .filter(Boolean);
      const handshake = f[4] !== undefined && /^\d+$/.test(f[4]) ? { latestHandshake: Number(f[4]) } : {};
      return [{ ...(endpoint ? { endpoint } : {}), allowedIps, ...handshake }];
    });
}

/**
 * Whether a node is still a WireGuard peer of this node: one of its addresses is a peer's endpoint
 * or lies in a peer's allowed IPs (Cilium keeps a peer while the node's CiliumNode exists, i.e.
 * while the instance runs and is in the cluster). Built once per step for every departed node.
 */
export function peerMatcher(peers: readonly WgPeer[]): (addresses: readonly string[]) => boolean {
  const endpoints = new Set(peers.flatMap((p) => (p.endpoint ? [p.endpoint] : [])));
  const allowed = allowedBy(peers.flatMap((p) => p.allowedIps));
  return (addresses) => addresses.some((a) => endpoints.has(a) || allowed(a));
}

/** A test of host addresses against allowed-IP prefixes. */
function allowedBy(allowedIps: readonly string[]): (address: string) => boolean {
  // Host prefixes (what Cilium installs for node addresses) are matched exactly; anything wider
  // (pod CIDRs, or a peer someone gave 0.0.0.0/0) by containment.
  const hosts = new Set<string>();
  const wider: Prefix[] = [];
  for (const p of allowedIps) {
    const [address, len] = p.split("/");
    const canonical = canonicalAddress(address);
    if (canonical === undefined || len === undefined) continue;
    if (len === (canonical.includes(":") ? "128" : "32")) hosts.add(canonical);
    else if (/^\d{1,3}$/.test(len)) wider.push(parsePrefix(`${canonical}/${len}`));
  }
  return (address: string) =>
    hosts.has(address) || (wider.length > 0 && wider.some((w) => contains(w, parsePrefix(`${address}/${address.includes(":") ? 128 : 32}`))));
}

/** A peer whose last handshake is older than this cannot send: WireGuard rejects its keys after 180 s (REJECT_AFTER_TIME); with traffic or a keepalive it renews them every 120 s. */
export const HANDSHAKE_STALE_SECONDS = 180;

export interface Handshakes {
  /** "<node> <age>s" (or "never") for every other table node that has a peer, in table order. */
  ages: string[];
  /** Those with no handshake yet, or none within HANDSHAKE_STALE_SECONDS, and why. */
  stale: string[];
  /** The oldest handshake among them, in seconds (undefined: none has one). */
  maxAgeSeconds?: number;
}

/** The handshake of every other table node's peer (nodes without a peer are tableNodesWithoutPeer's). */
export function tableHandshakes(table: NodeTable, localNodeName: string, peers: readonly WgPeer[], nowSeconds: number): Handshakes {
  const out: Handshakes = { ages: [], stale: [] };
  const withoutPeer = new Set(
    tableNodesWithoutPeer(
      table,
      localNodeName,
      peers.flatMap((p) => p.allowedIps),
    ),
  );
  for (const n of table.nodes) {
    if (n.name === localNodeName || withoutPeer.has(n.name)) continue;
    const at = peers.find((p) => peerMatcher([p])(n.addresses))?.latestHandshake ?? 0;
    const age = at > 0 ? Math.max(0, Math.round(nowSeconds - at)) : undefined;
    out.ages.push(`${n.name} ${age === undefined ? "never" : `${age}s`}`);
    if (age === undefined || age > HANDSHAKE_STALE_SECONDS)
      out.stale.push(`${n.name} (${age === undefined ? "no handshake yet" : `last handshake ${age}s ago`})`);
    if (age !== undefined) out.maxAgeSeconds = Math.max(out.maxAgeSeconds ?? 0, age);
  }
  return out;
}
