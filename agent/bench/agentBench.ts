// node-router benchmark (root; creates and removes its own network namespaces).
//   sudo npm run bench:agent                       # = tsc -p tsconfig.build.json && node dist/agent/bench/agentBench.js
//   sudo npm run bench:agent -- --baseline DIR     # side by side with another build (prepareBaseline.sh)
//   node dist/agent/bench/agentBench.js --quick --only reconcile,process
// 1. reconcile: 100 / 1,000 / 5,000 simulated remote nodes, IPv4-only and dual stack, each size
//    in a FRESH child process started with the image's node flags (agent/Dockerfile ENTRYPOINT):
//    rules, full reconcile from empty, restart adoption, one node joining, memory by phase.
// 2. process: the real agent (main.js) against the lab's API stand-in serving 5,000 realistic
//    Nodes and CiliumNodes: RSS after full apply + resyncs + one join, peak RSS, start to applied.
// 3. table: before/after the node table (whole pod CIDRs, guard): routes, full reconcile, one join
//    (tableBench.ts).
// 4. packets: per-packet cost of host-originated traffic to a NON-cluster address: rules, routes
//    and guard for 5,000 nodes against a node with only Cilium's rules, the guard's own cost and
//    its floor, the one-rule-per-destination design (packetBench.ts).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseSettings } from "../src/settings";
import { cleanupNamespaces } from "./benchNet";
import { imageNodeFlags } from "./imageFlags";
import { fmt } from "./memory";
import { packetBench, printPackets } from "./packetBench";
import { printTable, tableBench } from "./tableBench";
import { processBench, type AgentVariant, type ProcessRow } from "./processBench";
import { reconcileChild, type ReconcileRow } from "./reconcileChild";

const QUICK = process.argv.includes("--quick");
const SIZES = [100, 1000, 5000];
const REPEATS = QUICK ? 3 : 7;
const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const ONLY = (arg("--only") ?? "reconcile,process,table,packets").split(",");
const THIS_ROOT = resolve(__dirname, "..", "..", "..");

const settings = parseSettings([], { NODE_NAME: "local" });

/** A build to run: its dist/ root and the node flags its image uses. */
interface Build {
  label: string;
  dist: string;
  nodeFlags: string[];
}

function builds(): Build[] {
  // --node-flags "..." tries other flags on this build instead of the image's.
  const flags = arg("--node-flags")?.split(" ").filter(Boolean) ?? imageNodeFlags(THIS_ROOT);
  const here: Build = { label: "this build", dist: join(THIS_ROOT, "dist"), nodeFlags: flags };
  const list: Build[] = [];
  const baseline = arg("--baseline");
  if (baseline) {
    const dist = join(resolve(baseline), "dist");
    if (!existsSync(join(dist, "agent", "bench", "agentBench.js"))) throw new Error(`--baseline ${baseline}: no dist/agent/bench/agentBench.js (see agent/bench/prepareBaseline.sh)`);
    list.push({ label: "baseline", dist, nodeFlags: imageNodeFlags(resolve(baseline)) });
  }
  list.push(here);
  // The same build without node flags: what the flags alone are worth.
  if (here.nodeFlags.length > 0) list.push({ ...here, label: "this, no flags", nodeFlags: [] });
  return list;
}

/** Runs one size in a fresh process of the given build (its agentBench.js --child) and returns its row. */
function reconcileInChild(b: Build, n: number, dual: boolean): ReconcileRow {
  const args = [...b.nodeFlags, join(b.dist, "agent", "bench", "agentBench.js"), "--child", String(n), dual ? "dual" : "ipv4", ...(QUICK ? ["--quick"] : [])];
  const r = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`benchmark child (${b.label}) for ${n} nodes failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as ReconcileRow;
}

function printReconcile(rows: (ReconcileRow & { label: string })[]): void {
  console.log("\nnode-router reconcile (medians of %d; each size in a fresh process, builds interleaved)", REPEATS);
  console.log("build            nodes  family  ip-rules  routes  full-from-empty-ms (first)  adopt-restart-ms  one-node-join-ms  rss-MB (modules loaded)");
  for (const r of rows) {
    console.log(`${r.label.padEnd(15)}  ${String(r.nodes).padStart(5)}  ${r.family.padEnd(6)}  ${String(r.rules).padStart(8)}  ${String(r.routes).padStart(6)}  ${fmt(r.fullMs, 18, 1)} (${fmt(r.firstFullMs, 4)})  ${fmt(r.adoptMs, 16, 1)}  ${fmt(r.joinMs, 16, 1)}  ${fmt(r.rssMB)} (${fmt(r.runtimeRssMB, 3)})`);
  }
  const phased = rows.filter((r) => r.phases && r.nodes === Math.max(...SIZES));
  if (phased.length === 0) return;
  console.log("\nmemory by phase, %d nodes (MB; rss = anon + file-backed; file-backed is mostly the node binary, shared)", Math.max(...SIZES));
  console.log("build            family  phase     rss   anon   file  heap-total  heap-used  external");
  for (const r of phased) {
    for (const [phase, m] of Object.entries(r.phases!)) {
      console.log(`${r.label.padEnd(15)}  ${r.family.padEnd(6)}  ${phase.padEnd(8)} ${fmt(m.rssMB, 4)} ${fmt(m.anonMB)} ${fmt(m.fileMB)} ${fmt(m.heapTotalMB, 11)} ${fmt(m.heapUsedMB, 10)} ${fmt(m.externalMB, 9)}`);
    }
  }
}

function printProcess(rows: ProcessRow[]): void {
  console.log("\nthe real agent process against the API stand-in (5,000 realistic Nodes + CiliumNodes; resync every 2 s)");
  console.log("build            family  routes  start-to-applied-ms  rss-MB after apply+2 resyncs+join (anon/file)  peak-rss-MB");
  for (const r of rows) {
    console.log(`${r.label.padEnd(15)}  ${r.family.padEnd(6)}  ${String(r.routes).padStart(6)}  ${fmt(r.startToAppliedMs, 19)}  ${fmt(r.joined.rssMB, 6)} (${fmt(r.joined.anonMB, 3)}/${fmt(r.joined.fileMB, 3)})${" ".repeat(30)}${fmt(r.joined.peakMB, 6)}`);
  }
}

function printTargets(rows: (ReconcileRow & { label: string })[], proc: ProcessRow[]): void {
  console.log("\ntargets at 5,000 remote nodes (this build; the process row is the real agent)");
  const check = (what: string, value: number | undefined, limit: number) =>
    value !== undefined && console.log(`  ${what.padEnd(44)} ${fmt(value, 7, 1)} < ${String(limit).padEnd(4)} ${value < limit ? "met" : "NOT MET"}`);
  for (const family of ["ipv4", "dual"]) {
    const r = rows.find((x) => x.label === "this build" && x.nodes === 5000 && x.family === family);
    const p = proc.find((x) => x.label === "this build" && x.family === family);
    const rssLimit = family === "ipv4" ? 100 : 120;
    check(`${family}: RSS after apply+resync+join (bench), MB`, r?.rssMB, rssLimit);
    check(`${family}: RSS, real agent process, MB`, p?.joined.rssMB, rssLimit);
    check(`${family}: full reconcile from empty, ms`, r?.fullMs, family === "ipv4" ? 150 : 250);
    check(`${family}: one node joining, ms`, r?.joinMs, 10);
    check(`${family}: adopt on restart, ms`, r?.adoptMs, 100);
  }
}

/** RSS of a bare Node process and of one that has loaded the agent's modules (what main.js imports). */
function runtimeBaseline(list: Build[]): Record<string, number> {
  const rss = (flags: string[], code: string) => {
    const r = spawnSync(process.execPath, [...flags, "-e", `${code}; console.log(process.memoryUsage().rss / 2 ** 20)`], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`runtime baseline failed: ${r.stderr}`);
    return Number(r.stdout.trim());
  };
  const modules = (dist: string) => ["informers", "controller", "http", "kernel", "linkMonitor", "log", "metrics", "reconciler", "settings"]
    .map((m) => `require(${JSON.stringify(join(dist, "agent", "src", `${m}.js`))})`).join(";");
  const out: Record<string, number> = { "bare node": rss([], "") };
  for (const b of list) out[`${b.label}: agent modules`] = rss(b.nodeFlags, modules(b.dist));
  return out;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("the benchmark needs root (network namespaces)");
  const child = process.argv.indexOf("--child");
  if (child >= 0) {
    const row = await reconcileChild(Number(process.argv[child + 1]), process.argv[child + 2] === "dual", REPEATS);
    process.stdout.write(JSON.stringify(row) + "\n");
    return;
  }
  execFileSync("ip", ["-V"]);
  const list = builds();
  console.log(`builds: ${list.map((b) => `${b.label} = ${b.dist} [${b.nodeFlags.join(" ") || "no node flags"}]`).join("; ")}`);
  const rows: (ReconcileRow & { label: string })[] = [];
  if (ONLY.includes("reconcile")) {
    for (const dual of [false, true]) for (const n of SIZES) for (const b of list) rows.push({ ...reconcileInChild(b, n, dual), label: b.label });
  }
  const proc: ProcessRow[] = [];
  if (ONLY.includes("process")) {
    for (const dual of [false, true]) for (const b of list.filter((x) => x.label !== "this, no flags")) {
      const variant: AgentVariant = { label: b.label, mainJs: join(b.dist, "agent", "src", "main.js"), nodeFlags: b.nodeFlags };
      proc.push(await processBench(variant, 5000, dual));
    }
  }
  const runtime = runtimeBaseline(list);
  const table = ONLY.includes("table") ? await tableBench([1000, 5000], REPEATS, settings) : undefined;
  const packets = ONLY.includes("packets") ? await packetBench(5000, QUICK, settings) : undefined;
  if (rows.length > 0) printReconcile(rows);
  console.log(`\nRSS right after start, MB: ${Object.entries(runtime).map(([k, v]) => `${k} ${v.toFixed(0)}`).join("; ")}`);
  if (proc.length > 0) printProcess(proc);
  printTargets(rows, proc);
  if (table) printTable(table, REPEATS);
  if (packets) printPackets(packets);
  console.log("\n" + JSON.stringify({ reconcile: rows, process: proc, runtime, table, packets }, null, 2));
}

process.on("exit", cleanupNamespaces);
main().catch((e: Error) => {
  cleanupNamespaces();
  console.error(e.stack ?? e.message);
  process.exit(1);
});
