// The real agent process (main.js, with the image's node flags) against the lab's API stand-in
// serving 5,000 realistic Nodes and CiliumNodes, in a network namespace: its RSS after the full
// apply, two resyncs and one node joining, and again some seconds later; its peak RSS (what a
// memory limit must allow), the RSS of its long-running children (ip, nft) and the time from
// start to the last route of the full apply. With a node table (the shipped configuration) the
// agent also reads a table file, which the join rewrites. The agent and the stand-in run in the
// same namespace; the stand-in listens on its loopback.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeKubeconfig } from "../../lab/src/agents";
import { ApiServerProcess } from "../../lab/src/apiserverProcess";
import { nodeBinary, sleep, spawnInNs, stopChild, waitFor } from "../../lab/src/exec";
import { benchTable, cleanupNamespaces, localNode, writeTable } from "./benchNet";
import { procMemory, type MemorySample } from "./memory";
import { realisticCiliumNode, realisticNode } from "./realisticObjects";
import { nodeNamespace } from "./reconcileChild";
import type { KubeObject } from "../../lab/src/objects";

export interface AgentVariant {
  label: string;
  /** The agent's entry point (dist/agent/src/main.js of some build). */
  mainJs: string;
  nodeFlags: string[];
}

export interface ProcessRow {
  label: string;
  family: string;
  nodes: number;
  routes: number;
  mode?: "table" | "no-table";
  startToAppliedMs: number;
  joined: MemorySample;
  /** settleSeconds after `joined`, resyncs continuing: shows whether RSS keeps growing. */
  settled: MemorySample;
  /** RSS of the agent's child processes together (long-running ip and nft), after the join. */
  childrenRssMB?: number;
}

/** RSS of every descendant of `pid`, together (MB). */
function descendantsRss(pid: number): number {
  const parent = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid ...": comm may contain spaces, so read after its closing paren.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const isDescendant = (p: number): boolean => {
    for (let q = parent.get(p); q !== undefined && q > 1; q = parent.get(q)) if (q === pid) return true;
    return false;
  };
  let total = 0;
  for (const p of parent.keys()) {
    if (!isDescendant(p)) continue;
    try {
      total += procMemory(p).rssMB;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

export interface ProcessTiming {
  /** The agent's --resync-seconds: 2 exercises resyncs quickly; the agent's default is 30. */
  resyncSeconds: number;
  /** A second sample this long after the join, resyncs continuing: RSS settles or it grows. */
  settleSeconds: number;
}

export const DEFAULT_PROCESS_TIMING: ProcessTiming = { resyncSeconds: 2, settleSeconds: 20 };

function ownedRoutes(ns: string): number {
  let n = 0;
  for (const f of ["-4", "-6"])
    for (const table of ["51871", "51872"]) {
      // A table that never held a route does not exist yet ("FIB table does not exist"): none.
      const r = spawnSync("ip", ["-n", ns, f, "route", "show", "table", table, "proto", "211"], { encoding: "utf8", maxBuffer: 1 << 28 });
      n += r.status === 0 ? r.stdout.split("\n").filter(Boolean).length : 0;
    }
  return n;
}

export async function processBench(
  variant: AgentVariant,
  nodes: number,
  dual: boolean,
  withTable: boolean,
  timing = DEFAULT_PROCESS_TIMING,
): Promise<ProcessRow> {
  const ns = nodeNamespace(`p${dual ? "d" : "4"}${withTable ? "t" : "n"}${variant.label.length}`, "198.51.100.1");
  const dir = mkdtempSync(join(tmpdir(), "nr-bench-"));
  const api = new ApiServerProcess(ns, "127.0.0.1:6443", dir);
  let agent: ReturnType<typeof spawnInNs> | undefined;
  try {
    await api.put("nodes", localNode("198.51.100.1", dual) as KubeObject);
    for (let i = 0; i < nodes; i++) {
      await api.put("nodes", realisticNode(i, dual) as KubeObject);
      await api.put("ciliumnodes", realisticCiliumNode(i, dual) as KubeObject);
    }
    await api.start();
    const kubeconfig = writeKubeconfig(dir, "http://127.0.0.1:6443");
    // The table in a directory of its own, mounted the way the DaemonSet mounts the ConfigMap.
    const tablePath = join(dir, "table", "node-table.json");
    if (withTable) {
      mkdirSync(join(dir, "table"));
      writeTable(tablePath, benchTable(nodes, "198.51.100.1", dual));
    }
    const started = Date.now();
    agent = spawnInNs(ns, [
      nodeBinary(),
      ...variant.nodeFlags,
      variant.mainJs,
      "run",
      "--node-name",
      "local",
      "--kubeconfig",
      kubeconfig,
      "--health-address",
      "127.0.0.1:9871",
      "--metrics-address",
      "127.0.0.1:9871",
      "--resync-seconds",
      String(timing.resyncSeconds),
      "--log-level",
      "warn",
      ...(withTable ? ["--node-table", tablePath] : []),
    ]);
    let output = "";
    agent.stdout?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    agent.stderr?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    const child = agent;
    // Per remote node: its addresses and (no table) its pod CIDRs, each a device route and a blackhole.
    const perNode = (dual ? 2 : 1) * (withTable ? 2 : 4);
    // Applied: every remote node has its routes (the local node has none), and the count is stable.
    await waitFor(
      "the full apply",
      () => {
        if (child.exitCode !== null) throw new Error(`agent exited: ${output}`);
        return ownedRoutes(ns) >= nodes * perNode;
      },
      120_000,
      200,
    );
    const startToAppliedMs = Date.now() - started;
    await sleep(timing.resyncSeconds * 2000 + 500); // two resyncs: full kernel reads
    const joiner = nodes + 1000;
    const before = ownedRoutes(ns);
    if (withTable) writeTable(tablePath, benchTable(nodes, "198.51.100.1", dual, [joiner]));
    await api.put("nodes", realisticNode(joiner, dual) as KubeObject);
    await api.put("ciliumnodes", realisticCiliumNode(joiner, dual) as KubeObject);
    await waitFor("the join", () => ownedRoutes(ns) >= before + perNode, 30_000, 20);
    await sleep(300);
    const joined = procMemory(child.pid!);
    const childrenRssMB = descendantsRss(child.pid!);
    await sleep(timing.settleSeconds * 1000);
    const settled = procMemory(child.pid!);
    return {
      label: variant.label,
      family: dual ? "dual" : "ipv4",
      mode: withTable ? "table" : "no-table",
      nodes,
      routes: ownedRoutes(ns),
      startToAppliedMs,
      joined,
      settled,
      childrenRssMB,
    };
  } finally {
    if (agent) await stopChild(agent, "SIGTERM", 5000);
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
    cleanupNamespaces();
  }
}
