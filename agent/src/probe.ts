// `main.js status --probe N`: proof that the guard is live, without a packet capture. The probe
// sends one UDP datagram in the clear to every address of N other table nodes, with a routing
// exception that sends it past the agent's steering straight out of the underlay (as a lost or
// deleted route would), and reads the guard's drop counters before and after: every probe must
// be dropped and counted. A probe that is not counted could have left in the clear.
// This file is pure (which nodes, which rule, the verdict); probeSend.ts does the I/O.
import type { Check } from "./status";
import type { NodeTable } from "./nodeTable";
import type { GuardReason } from "./guard";
import { SLOT } from "./desired";
import type { Settings } from "./settings";

/** The discard port: a probe that escaped the guard reaches nothing that answers. */
export const PROBE_PORT = 9;

export interface ProbeTarget {
  node: string;
  address: string;
}

/**
 * Every address of `count` other nodes: the ones after this node in name order, wrapping
 * around, so that across the cluster every node is some node's target when count >= 1.
 */
export function probeTargets(table: NodeTable, localNodeName: string, count: number): ProbeTarget[] {
  const names = table.nodes.map((n) => n.name).sort();
  const at = names.indexOf(localNodeName);
  const chosen: string[] = [];
  for (let i = 1; i < names.length && chosen.length < count; i++) {
    const name = names[(at + i) % names.length];
    if (name !== localNodeName) chosen.push(name);
  }
  const byName = new Map(table.nodes.map((n) => [n.name, n]));
  return chosen.flatMap((name) => byName.get(name)!.addresses.map((address) => ({ node: name, address })));
}

/**
 * The rule that sends probes past the steering: before the agent's first rule, so outside the
 * span it owns (inside it, the running agent would see the rule through `ip monitor` and prune
 * it before the probe is sent), and only for UDP to the discard port of one address.
 */
export function probeRule(settings: Pick<Settings, "rulePriority">, address: string): string[] {
  const family = address.includes(":") ? "-6" : "-4";
  const prefix = address.includes(":") ? `${address}/128` : `${address}/32`;
  return [
    family,
    "rule",
    "add",
    "priority",
    String(probeRulePriority(settings)),
    "to",
    prefix,
    "ipproto",
    "udp",
    "dport",
    String(PROBE_PORT),
    "lookup",
    "main",
  ];
}

export function probeRulePriority(settings: Pick<Settings, "rulePriority">): number {
  // The agent's rules start at rulePriority (its WireGuard-mark exemption in slot 0): one before.
  return settings.rulePriority + SLOT.wgMark - 1;
}

export interface ProbeResult {
  targets: ProbeTarget[];
  /** Drop counters before and after (before undefined: no guard loaded, nothing was sent). */
  before?: Record<GuardReason, number>;
  after?: Record<GuardReason, number>;
  /** Targets whose datagram the kernel refused outright (EPERM: netfilter dropped it on output). */
  refused: number;
  /** Why the probe could not run at all (a rule the kernel refused, no table). */
  error?: string;
}

/** Every probe must show as a drop of a node address. */
export function probeCheck(r: ProbeResult): Check {
  const name = "probe";
  const fix =
    "a probe the guard did not count could have left in the clear: restart this node's node-router pod (it reloads the guard) and run status again; if it stays, see the guard check";
  if (r.error)
    return {
      name,
      ok: false,
      detail: `could not probe: ${r.error}`,
      fix: "run status --probe in the node-router pod (it needs NET_ADMIN for the probe's rule)",
    };
  if (r.targets.length === 0) return { name, ok: false, detail: "no other node in the table to probe", fix: "the table lists only this node: see node-table" };
  if (!r.before || !r.after)
    return { name, ok: false, detail: "no guard loaded (inet node_router_guard): nothing sent, a probe would have left in the clear", fix };
  const counted = r.after["node-address"] - r.before["node-address"];
  const nodes = [...new Set(r.targets.map((t) => t.node))];
  const what = `${r.targets.length} probes in the clear to ${nodes.join(", ")} (UDP ${PROBE_PORT}, past the routes)`;
  if (counted >= r.targets.length) return { name, ok: true, detail: `${what}: all dropped by the guard (node-address +${counted})` };
  return { name, ok: false, detail: `${what}: the guard counted ${counted} of ${r.targets.length} (refused on send: ${r.refused})`, fix };
}
