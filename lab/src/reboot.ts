// A node as it is after a reboot, before anything of ours ran: the agent is dead (SIGKILL, as
// a power cut), its ip rules and routes are gone and so is the egress guard (both nftables
// tables), but its files on disk (boot files, the agent's state directory) are still there.
// The lab's sanity controls use the same state: "the guard absent" means the probe meets no
// rule, route or table of ours, so whatever the probe sends can be seen by the capture.
import { ipIn, run } from "./exec";
import type { Lab } from "./lab";
import type { NodePlan } from "./plan";

/** The agent's routing-rule protocol and tables (its defaults). */
const AGENT_RULE_PROTOCOL = "211";
const AGENT_TABLES = ["51871", "51872"];
/** Every nftables table of the guard (the inet guard and the netdev underlay chain). */
export const GUARD_TABLES = ["inet node_router_guard", "netdev node_router_guard_underlay"];

/** Deletes the agent's ip rules (both families) and routes, and the guard's tables. */
export function removeAgentState(n: NodePlan): void {
  for (const family of ["-4", "-6"]) {
    const rules = JSON.parse(ipIn(n.ns, `${family} -j rule show`).stdout || "[]") as { priority: number; protocol?: string }[];
    for (const r of rules) if (String(r.protocol) === AGENT_RULE_PROTOCOL) ipIn(n.ns, `${family} rule del priority ${r.priority}`, { allowFailure: true });
    for (const t of AGENT_TABLES) ipIn(n.ns, `${family} route flush table ${t}`, { allowFailure: true });
  }
  removeGuard(n);
}

/** Deletes the guard's nftables tables (whichever exist). */
export function removeGuard(n: NodePlan): void {
  for (const t of GUARD_TABLES) run("ip", ["netns", "exec", n.ns, "nft", "delete", "table", ...t.split(" ")], { allowFailure: true });
}

/** Is any of the guard's tables loaded on the node? */
export function hasGuard(n: NodePlan): boolean {
  return GUARD_TABLES.some((t) => run("ip", ["netns", "exec", n.ns, "nft", "list", "table", ...t.split(" ")], { allowFailure: true }).code === 0);
}

/** The node "reboots": its agent killed, its kernel state of ours removed; files stay. */
export async function crash(lab: Lab, name: string): Promise<void> {
  const n = lab.node(name);
  await lab.agents.get(name)?.kill();
  removeAgentState(n);
}
