// A node as it is after a reboot, before anything of ours ran: the agent is dead (SIGKILL, as
// a power cut), its ip rules and routes are gone and so is the egress guard (both nftables
// tables), but its files on disk (boot files, the agent's state directory) are still there.
// The lab's sanity controls use the same state: "the guard absent" means the probe meets no
// rule, route or table of ours, so whatever the probe sends can be seen by the capture.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bootGuard, GUARD_MOUNTS } from "./agents";
import { inPrivateMounts, ipIn, repoRoot, run } from "./exec";
import type { Lab } from "./lab";
import { IFACE, type NodePlan } from "./plan";

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

const GUARD_SH = join(repoRoot(__dirname), "components", "cluster", "bootstrap", "guard.sh");

/**
 * The node's boot step, before kubelet and the agent: the shipped guard.sh (host nft, the newest
 * of the boot files' and the state directory's ruleset) with its paths pointed at the lab's files
 * and run in the node's namespace; while the shipped script still is the previous round's (it
 * runs the agent image through ctr), the agent's own `guard apply` from the boot table. Returns
 * which ran.
 */
export function bootStep(lab: Lab, n: NodePlan): "guard.sh" | "guard apply (boot table)" {
  const bootDir = lab.bootDir(n);
  if (!readFileSync(GUARD_SH, "utf8").includes("WG_MESH_STATE_RULESET")) {
    bootGuard(n, join(bootDir, "node-table.json"), lab.guardArgs);
    return "guard apply (boot table)";
  }
  const envFile = join(bootDir, "bootstrap.env");
  writeFileSync(envFile, [`NODE_IP=${n.underlayIp}`, `GUARD_DEVICE=${IFACE.wg}`, `GUARD_LOCAL_INTERFACES="lo,cilium_host,cilium_net,lxc*"`, ""].join("\n"));
  const env = {
    WG_MESH_ENV_FILE: envFile,
    WG_MESH_BOOT_RULESET: join(bootDir, "guard.nft"),
    WG_MESH_BOOT_NODES: join(bootDir, "guard-nodes.nft"),
    WG_MESH_RUN_DIR: join(bootDir, "run"),
    WG_MESH_STATE_RULESET: join(lab.stateDir(n), "guard.nft"),
  };
  const r = spawnSync("ip", ["netns", "exec", n.ns, ...inPrivateMounts(GUARD_MOUNTS, ["sh", "bash", GUARD_SH])], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 20_000,
  });
  if (r.status !== 0) throw new Error(`guard.sh in ${n.ns} failed (${r.status}): ${r.stderr}`);
  return "guard.sh";
}

/** Does node `n`'s guard list `address` (is it guarded)? */
export function guards(n: NodePlan, address: string): boolean {
  const r = run("ip", ["netns", "exec", n.ns, "nft", "list", "table", "inet", "node_router_guard"], { allowFailure: true });
  return r.code === 0 && new RegExp(`\\b${address.replace(/\./g, "\\.")}\\b`).test(r.stdout);
}
