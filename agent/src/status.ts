// `main.js status`: whether this node could send anything in the clear to another node, judged
// from what is on the host, not from what the agent believes. The facts (the ConfigMap's table,
// the table the agent persisted as in use, the guard's maps, the owned rules and routes, the
// WireGuard peers, the agent's metrics) are gathered by statusCommand.ts; this file turns them
// into checks (pure). Each failing check says what to do. The desired rules and routes are
// recomputed here from the persisted table, the held nodes and this node's pod CIDRs, the same
// inputs the agent uses with a table (the API adds nothing to them but those pod CIDRs, which
// the agent persists too).
import { createHash } from "node:crypto";
import { computeDesired } from "./desired";
import { diff, planSize } from "./diff";
import { guardElements, type GuardElements, type GuardReason } from "./guard";
import type { KernelState } from "./model";
import type { NodeTable, TableNode } from "./nodeTable";
import { HANDSHAKE_STALE_SECONDS, tableHandshakes, tableNodesWithoutPeer, type WgPeer } from "./peers";
import type { Settings } from "./settings";

export { HANDSHAKE_STALE_SECONDS };

export interface TableFact {
  path: string;
  table?: NodeTable;
  /** Why there is no table (absent, unreadable, refused). */
  error?: string;
}

export interface StatusFacts {
  nodeName: string;
  /** Milliseconds since the epoch. */
  now: number;
  /** The mounted ConfigMap's table (undefined: the agent runs without --node-table). */
  configMap?: TableFact;
  /** The table the agent persisted after loading the guard for it: the one in use. */
  inUse: TableFact;
  /** Nodes that left the table and are still held (departed.json). */
  departed: TableNode[];
  /** This node's pod CIDRs as the agent persisted them (local.json). */
  localPodCidrs: string[];
  deviceUp: boolean;
  /** The rules and routes the agent owns in the kernel. */
  kernel: KernelState;
  /** The guard's node maps in the kernel; undefined when the guard's table is absent. */
  guard?: GuardElements;
  dropped?: Record<GuardReason, number>;
  /** The WireGuard device's peers, or why they could not be read. */
  peers: WgPeer[] | { error: string };
  /** The agent's node_router_last_successful_reconcile_timestamp_seconds, or why it is unknown. */
  lastSuccess: number | { error: string };
}

export interface Check {
  name: "node-table" | "guard" | "rules-and-routes" | "wireguard-peers" | "reconcile" | "guard-drops" | "probe";
  ok: boolean;
  detail: string;
  /** What to do when it fails. */
  fix?: string;
}

/** Short content hash of a table (its canonical JSON), to compare tables at a glance. */
export function tableHash(t: NodeTable): string {
  const canonical = JSON.stringify({ podCidrs: t.podCidrs, nodes: t.nodes.map((n) => ({ name: n.name, role: n.role, addresses: n.addresses })) });
  return createHash("sha256").update(canonical).digest("hex").slice(0, 12);
}

const some = (xs: readonly string[], n = 5) => (xs.length <= n ? xs.join(", ") : `${xs.slice(0, n).join(", ")} and ${xs.length - n} more`);

function tableCheck(f: StatusFacts): Check {
  const name = "node-table";
  if (!f.inUse.table) {
    return {
      name,
      ok: false,
      detail: `no table in use: ${f.inUse.error ?? "none persisted"} (${f.inUse.path})`,
      fix: "the agent persists the table once it has guarded it: is it running on this node with --state-dir, and what does its log say about the node table?",
    };
  }
  const inUse = `${tableHash(f.inUse.table)}, ${f.inUse.table.nodes.length} nodes`;
  if (!f.configMap) return { name, ok: true, detail: `${inUse} (no ConfigMap mounted)` };
  if (!f.configMap.table) {
    return {
      name,
      ok: false,
      detail: `in use ${inUse}; the ConfigMap's ${f.configMap.path} is not usable: ${f.configMap.error}`,
      fix: 'fix the node-router-node-table ConfigMap (the agent keeps the last good table meanwhile; node_router_errors_total{kind="node-table"} counts the refusals)',
    };
  }
  const cm = tableHash(f.configMap.table);
  if (cm !== tableHash(f.inUse.table)) {
    return {
      name,
      ok: false,
      detail: `in use ${inUse}; the ConfigMap holds ${cm} (${f.configMap.table.nodes.length} nodes)`,
      fix: 'the agent has not applied the ConfigMap\'s table yet or refused it: its log says which ("node table"); it re-reads the file at least every 30 s',
    };
  }
  return { name, ok: true, detail: `${inUse}, the ConfigMap's` };
}

/** The guard's input as the agent builds it: the table's nodes and the held ones. */
function guardNodes(table: NodeTable, departed: TableNode[]) {
  const names = new Set(table.nodes.map((n) => n.name));
  return [...table.nodes, ...departed.filter((d) => !names.has(d.name))].map((n) => ({
    name: n.name,
    addresses: n.addresses,
    controlPlane: n.role === "control-plane",
  }));
}

function guardCheck(f: StatusFacts, settings: Settings): Check {
  const name = "guard";
  const fix =
    "the agent reloads the guard at its next resync; to restore it now, restart the node-router pod of this node (or run `main.js guard apply` with the table)";
  if (!f.guard) return { name, ok: false, detail: "the guard's nftables table (inet node_router_guard) is not loaded", fix };
  if (!f.inUse.table) return { name, ok: false, detail: "loaded, but there is no table in use to compare it with", fix };
  const want = guardElements({ localNodeName: f.nodeName, nodes: guardNodes(f.inUse.table, f.departed), podCidrs: f.inUse.table.podCidrs, settings });
  const missing: string[] = [];
  const wrong: string[] = [];
  const extra: string[] = [];
  for (const family of [4, 6] as const) {
    for (const [address, chain] of want[family]) {
      const got = f.guard[family].get(address);
      if (got === undefined) missing.push(address);
      else if (got !== chain) wrong.push(`${address} (${got}, not ${chain})`);
    }
    for (const address of f.guard[family].keys()) if (!want[family].has(address)) extra.push(address);
  }
  const total = want[4].size + want[6].size;
  if (missing.length + wrong.length + extra.length === 0) return { name, ok: true, detail: `loaded, ${total} node addresses, as the table renders it` };
  const parts = [
    ...(missing.length ? [`${missing.length} of ${total} addresses missing (${some(missing)})`] : []),
    ...(wrong.length ? [`${wrong.length} judged by the wrong chain (${some(wrong)})`] : []),
    ...(extra.length ? [`${extra.length} not in the table (${some(extra)})`] : []),
  ];
  return { name, ok: false, detail: parts.join("; "), fix };
}

function routesCheck(f: StatusFacts, settings: Settings): Check {
  const name = "rules-and-routes";
  if (!f.inUse.table) return { name, ok: false, detail: "no table in use: nothing to compare the kernel with", fix: "see node-table" };
  const nodes = guardNodes(f.inUse.table, f.departed).map((n) => ({ ...n, podCidrs: n.name === f.nodeName ? f.localPodCidrs : [] }));
  const desired = computeDesired({ localNodeName: f.nodeName, nodes, deviceUp: f.deviceUp, settings, clusterPodCidrs: f.inUse.table.podCidrs });
  const plan = diff(desired, f.kernel, { prune: true });
  if (planSize(plan) === 0)
    return {
      name,
      ok: true,
      detail: `${desired.rules.length} rules and ${desired.routes.length} routes, as the table says${f.deviceUp ? "" : " (device down: blackholes)"}`,
    };
  const describeRule = (r: (typeof plan.add.rules)[number]) => `rule ${r.priority}${r.ipproto ? ` ${r.ipproto}` : ""}`;
  const describeRoute = (r: (typeof plan.add.routes)[number]) => `${r.type} ${r.dst} table ${r.table}`;
  const parts = [
    ...(plan.add.rules.length ? [`missing rules: ${some(plan.add.rules.map(describeRule))}`] : []),
    ...(plan.add.routes.length ? [`missing routes: ${some(plan.add.routes.map(describeRoute))}`] : []),
    ...(plan.remove.rules.length ? [`rules not wanted: ${some(plan.remove.rules.map(describeRule))}`] : []),
    ...(plan.remove.routes.length ? [`routes not wanted: ${some(plan.remove.routes.map(describeRoute))}`] : []),
  ];
  return {
    name,
    ok: false,
    detail: parts.join("; "),
    fix: "the agent repairs its rules and routes on the next link event or resync; if this stays, its log and node_router_errors_total say why",
  };
}

function peersCheck(f: StatusFacts): Check {
  const name = "wireguard-peers";
  if ("error" in f.peers)
    return {
      name,
      ok: false,
      detail: `cannot read the WireGuard peers: ${f.peers.error}`,
      fix: "run status where `wg` can read the device (the node-router pod has NET_ADMIN)",
    };
  if (!f.inUse.table) return { name, ok: false, detail: "no table in use: nothing to compare the peers with", fix: "see node-table" };
  const peers = f.peers;
  const remotes = f.inUse.table.nodes.filter((n) => n.name !== f.nodeName);
  const withoutPeer = tableNodesWithoutPeer(
    f.inUse.table,
    f.nodeName,
    peers.flatMap((p) => p.allowedIps),
  );
  const { ages, stale } = tableHandshakes(f.inUse.table, f.nodeName, peers, f.now / 1000);
  if (withoutPeer.length + stale.length === 0)
    return { name, ok: true, detail: `${remotes.length} nodes, each a peer with a handshake within ${HANDSHAKE_STALE_SECONDS}s: ${some(ages, 8)}` };
  const parts = [
    ...(withoutPeer.length ? [`no peer for ${some(withoutPeer)} (their traffic is dropped, not sent in the clear)`] : []),
    ...(stale.length ? [`stale: ${some(stale)}`] : []),
  ];
  return {
    name,
    ok: false,
    detail: parts.join("; "),
    fix: "Cilium manages the peers: check the CiliumNode of each node named (its WireGuard public key) and `cilium-dbg encrypt status`; a peer that never completes a handshake usually means UDP 51871 is blocked between the two nodes",
  };
}

function reconcileCheck(f: StatusFacts, settings: Settings): Check {
  const name = "reconcile";
  const fix = "the agent's log says why its steps fail (kubectl -n kube-system logs on this node's node-router pod)";
  if (typeof f.lastSuccess !== "number")
    return { name, ok: false, detail: `unknown: ${f.lastSuccess.error}`, fix: "is the agent running? status reads its /metrics (--metrics-address)" };
  if (f.lastSuccess === 0) return { name, ok: false, detail: "no successful reconcile yet", fix };
  const age = Math.max(0, Math.round(f.now / 1000 - f.lastSuccess));
  const bound = 3 * settings.resyncSeconds;
  if (age > bound) return { name, ok: false, detail: `last successful reconcile ${age}s ago (a resync every ${settings.resyncSeconds}s)`, fix };
  return { name, ok: true, detail: `last successful reconcile ${age}s ago` };
}

function dropsCheck(f: StatusFacts): Check {
  const counts = f.dropped
    ? Object.entries(f.dropped)
        .map(([reason, n]) => `${reason} ${n}`)
        .join(", ")
    : "no guard";
  return { name: "guard-drops", ok: true, detail: `packets the guard dropped since it was loaded: ${counts}` };
}

/** Every check, in the order a person reads them. */
export function statusChecks(f: StatusFacts, settings: Settings): Check[] {
  return [tableCheck(f), guardCheck(f, settings), routesCheck(f, settings), peersCheck(f), reconcileCheck(f, settings), dropsCheck(f)];
}

/** The report as a person reads it. */
export function renderStatus(nodeName: string, checks: Check[]): string {
  const lines = [`node-router status of ${nodeName}: ${checks.every((c) => c.ok) ? "no byte leaves in the clear" : "ATTENTION"}`];
  for (const c of checks) {
    lines.push(`  ${c.ok ? "ok  " : "FAIL"}  ${c.name.padEnd(16)} ${c.detail}`);
    if (!c.ok && c.fix) lines.push(`        ${"".padEnd(16)} -> ${c.fix}`);
  }
  return lines.join("\n") + "\n";
}
