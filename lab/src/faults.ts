// The faults the lab plays on a running Lab (lab.ts): a WireGuard device dies and returns, a
// node gets a new key, a node joins or leaves the cluster. Each does to the namespaces what the
// real event does to a node, and leaves the lab in a state destroy() still undoes.
import { forgetPeers } from "./datapath";
import type { Lab } from "./lab";
import { deleteNodeNamespaces } from "./netns";
import { planNode, type NodePlan } from "./plan";
import { generateKeyPair } from "./wgconfig";

/** wireguard-go dies; cilium_wg0 disappears with it. */
export async function killWireGuard(lab: Lab, name: string): Promise<void> {
  await lab.wg.get(name)!.kill();
}

/** Recovery: the device returns and is configured again (what the Cilium agent would do). */
export async function restoreWireGuard(lab: Lab, name: string): Promise<void> {
  await lab.wg.get(name)!.start();
  lab.wireNode(lab.node(name));
}

/** A node "reboots" with a new key; its peers keep the old public key until publication. */
export function rekey(lab: Lab, name: string): void {
  lab.keys.set(name, generateKeyPair());
  lab.wireNode(lab.node(name));
}

/** Publication of the new key (CiliumNode annotation) and the peers' reaction to it. */
export async function publishKey(lab: Lab, name: string): Promise<void> {
  const n = lab.node(name);
  lab.publishedKey.set(name, lab.keys.get(name)!.publicKey);
  await lab.publish(n);
  for (const r of lab.nodes) if (r !== n) lab.wireNode(r);
}

/**
 * A node joins: it enters the node table first (a `pulumi up` publishes it before the instance
 * exists), then namespaces (guard at boot), WireGuard, peers everywhere, API objects, its agent.
 */
export async function joinNode(lab: Lab, index: number, withAgent = true): Promise<NodePlan> {
  const n = planNode(lab.plan.id, index);
  if (lab.nodes.some((x) => x.index === index)) throw new Error(`node index ${index} already in the lab`);
  if (lab.table) {
    lab.table.nodes.push(n);
    lab.table.publish();
  }
  await lab.bringUpNode(n);
  lab.nodes.push(n);
  for (const r of lab.nodes) lab.wireNode(r);
  await lab.publish(n);
  if (withAgent) await lab.startAgents([n]);
  return n;
}

/**
 * The node leaves the cluster's records: its API objects deleted, and it is dropped from the
 * table. The others' WireGuard peers for it stay (Cilium removes them a moment later, dropPeer).
 */
export async function forgetNode(lab: Lab, name: string): Promise<void> {
  await lab.api.delete("nodes", name);
  await lab.api.delete("ciliumnodes", name);
  if (lab.table) {
    lab.table.nodes = lab.table.nodes.filter((x) => x.name !== name);
    lab.table.publish();
  }
}

/**
 * What Cilium does on every other node when a CiliumNode is deleted: removes that node's WireGuard
 * peer and its datapath routes. The node itself (if it still runs) keeps its own configuration.
 */
export function dropPeer(lab: Lab, name: string): void {
  const n = lab.node(name);
  for (const r of lab.nodes) {
    if (r === n) continue;
    lab.wireNode(r, [n]);
    forgetPeers(r, [n]);
  }
}

/** A node that was forgotten goes for good: its peer dropped everywhere, its agent, WireGuard and namespaces removed. */
export async function retireNode(lab: Lab, name: string): Promise<void> {
  const n = lab.node(name);
  dropPeer(lab, name);
  lab.nodes = lab.nodes.filter((x) => x !== n);
  await lab.agents.get(n.name)?.kill();
  lab.agents.get(n.name)?.close();
  lab.agents.delete(n.name);
  await lab.wg
    .get(n.name)
    ?.kill()
    .catch(() => undefined);
  lab.wg.delete(n.name);
  for (const ns of [n.ns, n.podNs]) {
    await lab.helpers.get(ns)?.stop();
    lab.helpers.delete(ns);
  }
  deleteNodeNamespaces(n);
}

/** A node leaves: records forgotten, then (as Cilium does) peers and routes, its namespaces removed. */
export async function removeNode(lab: Lab, name: string): Promise<void> {
  await forgetNode(lab, name);
  await retireNode(lab, name);
}
