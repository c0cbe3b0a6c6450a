// Which nodes of the node table have no WireGuard peer on this node's device (pure). The agent
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
  const allowed = (address: string) =>
    hosts.has(address) || wider.some((w) => contains(w, parsePrefix(`${address}/${address.includes(":") ? 128 : 32}`)));
  return table.nodes.filter((n) => n.name !== localNodeName && !n.addresses.every(allowed)).map((n) => n.name);
}
