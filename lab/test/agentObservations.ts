// What the agents show of a fault, read the same way by the node-lifecycle faults
// (fault-node-upgrade, fault-node-rebuild): how many reconcile steps each took, everything each
// owns in its node's kernel, and the kernel changes each logged.
import { readFileSync } from "node:fs";
import type { Lab } from "../src/lab";
import type { NodePlan } from "../src/plan";
import { NftGuard } from "../../agent/src/guardKernel";
import { metric, ownedState } from "./harness";

/** Reconcile steps an agent has taken (both kinds: with and without a kernel read). */
export async function steps(l: Lab, name: string): Promise<number> {
  const text = await l.agent(name).metrics();
  return ["true", "false"]
    .map((k) => `node_router_reconcile_duration_seconds_count{kernel_read="${k}"}`)
    .reduce((sum, series) => sum + (text.split("\n").some((x) => x.startsWith(series + " ")) ? metric(text, series) : 0), 0);
}

/** Everything the agents own on a node: rules and routes (ownedState) and the guard's node maps. */
export async function kernelState(n: NodePlan): Promise<string> {
  const e = await new NftGuard(n.ns).elements();
  const guard = e ? ([4, 6] as const).flatMap((f) => [...e[f]].map(([addr, chain]) => `guard${f}: ${addr} -> ${chain}`)).sort() : ["no guard"];
  return [ownedState(n.ns), ...guard].join("\n");
}

/** Kernel changes (rules, routes) an agent logged after `offset` of its log, one line each. */
export function loggedChanges(l: Lab, name: string, offset: number): string[] {
  return readFileSync(l.agent(name).logFile, "utf8")
    .slice(offset)
    .split("\n")
    .flatMap((line) => {
      try {
        const j = JSON.parse(line) as Record<string, unknown> & { msg: string; changes?: Record<string, number> };
        const c = j.changes ?? (j as Record<string, number>);
        const n = ["addRules", "addRoutes", "removeRules", "removeRoutes"].reduce((s, k) => s + (Number(c[k]) || 0), 0);
        return n > 0 ? [`${name}: ${j.msg} ${JSON.stringify(c)}`] : [];
      } catch {
        return [];
      }
    });
}
