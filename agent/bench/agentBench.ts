// node-router benchmark (root; creates and removes its own network namespaces).
//   sudo npm run bench:agent                # = tsc -p tsconfig.build.json && node dist/agent/bench/agentBench.js
//   node dist/agent/bench/agentBench.js --quick
// 1. Reconcile cost for 100 / 1,000 / 5,000 simulated remote nodes, IPv4-only and dual stack,
//    each size in a FRESH child process (so its RSS is what an agent holding that state uses):
//    rules installed, full reconcile from empty, restart adoption, one node joining, RSS.
// 2. Before/after the node table (whole pod CIDRs, guard): routes, full reconcile, one join;
//    see tableBench.ts.
// 3. Per-packet cost of host-originated traffic to a NON-cluster address (ping flood): rules,
//    routes and guard for 5,000 nodes against a node with only Cilium's rules, the guard's own
//    cost and its floor, the one-rule-per-destination design; see packetBench.ts.
import { execFileSync, spawnSync } from "node:child_process";
import { planSize } from "../src/diff";
import { Iproute2Kernel, ownershipFrom } from "../src/kernel";
import { createLogger } from "../src/log";
import { Metrics } from "../src/metrics";
import { Reconciler, uninstall } from "../src/reconciler";
import { OWNED_PRIORITY_SPAN, parseSettings } from "../src/settings";
import { packetBench, printPackets } from "./packetBench";
import { printTable, tableBench } from "./tableBench";
import { cleanupNamespaces, ip, localNode, median, ms, netns, remoteNode } from "./benchNet";

const QUICK = process.argv.includes("--quick");
const SIZES = [100, 1000, 5000];
const REPEATS = QUICK ? 3 : 7;

/** A node namespace with the underlay address and a stand-in WireGuard device (a veth). */
function nodeNamespace(suffix: string, address4: string): string {
  const ns = netns(suffix);
  ip(ns, "link add cilium_wg0 type veth peer name wgsink");
  ip(ns, "link set wgsink up");
  ip(ns, "link set cilium_wg0 up");
  ip(ns, `addr add ${address4}/30 dev wgsink`);
  ip(ns, "-6 addr add 2001:db8:ff::1/64 dev wgsink nodad");
  return ns;
}

const settings = parseSettings([], { NODE_NAME: "local" });

interface ReconcileRow {
  nodes: number; family: string; rules: number; routes: number;
  firstFullMs: number; fullMs: number; adoptMs: number; joinMs: number;
  rssMB: number; heapMB: number; runtimeRssMB: number;
}

/** Runs in the child: one size, one family mode, in a fresh process. */
async function reconcileBench(n: number, dual: boolean): Promise<ReconcileRow> {
  // Load what the real agent loads (main.js), so the RSS includes its libraries too.
  await import("@kubernetes/client-node");
  new Metrics();
  createLogger("info");
  const runtimeRssMB = process.memoryUsage().rss / 2 ** 20;
  const ns = nodeNamespace(`r${n}${dual ? "d" : "4"}`, "198.51.100.1");
  const port = new Iproute2Kernel(ownershipFrom(settings, OWNED_PRIORITY_SPAN), ns);
  try {
    let objects = [localNode("198.51.100.1", dual), ...Array.from({ length: n }, (_, i) => remoteNode(i, dual))];
    // The informer cache hands out a new array and, for a changed node, a new object; the rest
    // are the same objects as before.
    const fresh = () => {
      const r = new Reconciler(port, settings, "local", () => ({ nodes: objects, ciliumNodes: [] }));
      r.markSynced();
      return r;
    };
    // What an agent holding this state uses: a fresh process that applied everything from empty,
    // then resynced once (a full kernel read) and took one node joining. Measured before the
    // timing loops below, which create and drop many more states than an agent ever does.
    let reconciler = fresh();
    await uninstall(port);
    const t0 = process.hrtime.bigint();
    const first = await reconciler.step({ readKernel: true });
    const full: number[] = [ms(t0)];
    if (!first || first.errors.length > 0) throw new Error(`apply failed: ${JSON.stringify(first?.errors.slice(0, 3))}`);
    await reconciler.step({ readKernel: true });
    objects = [...objects, remoteNode(n + 1000, dual)];
    await reconciler.step({ readKernel: false });
    const { rss, heapUsed } = process.memoryUsage();
    // With --expose-gc (diagnostics only): what the state itself keeps alive.
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) {
      gc();
      process.stderr.write(`after gc: rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MB\n`);
    }
    objects = objects.slice(0, -1);

    for (let rep = 1; rep < REPEATS; rep++) {
      await uninstall(port);
      reconciler = fresh();
      const t0 = process.hrtime.bigint();
      const result = await reconciler.step({ readKernel: true });
      full.push(ms(t0));
      if (!result || result.errors.length > 0) throw new Error(`apply failed: ${JSON.stringify(result?.errors.slice(0, 3))}`);
    }
    const adopt: number[] = [];
    for (let rep = 0; rep < REPEATS; rep++) {
      const restarted = fresh();
      const t0 = process.hrtime.bigint();
      const result = await restarted.step({ readKernel: true });
      adopt.push(ms(t0));
      if (planSize(result!.plan) !== 0) throw new Error("restart adoption changed something");
    }
    const join: number[] = [];
    for (let rep = 0; rep < REPEATS; rep++) {
      objects = [...objects, remoteNode(n + rep, dual)];
      const t0 = process.hrtime.bigint();
      const result = await reconciler.step({ readKernel: false });
      join.push(ms(t0));
      if (!result || result.plan.add.routes.length === 0 || result.errors.length > 0) throw new Error("join did not add routes");
    }
    const rules = ip(ns, "-4 rule show").trim().split("\n").length + ip(ns, "-6 rule show").trim().split("\n").length - 5; // minus the 5 default rules
    const owned = await port.readOwned();
    return {
      nodes: n, family: dual ? "dual" : "ipv4", rules, routes: owned.routes.length,
      firstFullMs: full[0], fullMs: median(full), adoptMs: median(adopt), joinMs: median(join),
      rssMB: rss / 2 ** 20, heapMB: heapUsed / 2 ** 20, runtimeRssMB,
    };
  } finally {
    port.close();
    cleanupNamespaces();
  }
}

/** Runs one size in a child process (this script with --child) and returns its row. */
function reconcileInChild(n: number, dual: boolean): ReconcileRow {
  const args = [...process.execArgv, __filename, "--child", String(n), dual ? "dual" : "ipv4", ...(QUICK ? ["--quick"] : [])];
  const r = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`benchmark child for ${n} nodes failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as ReconcileRow;
}

function printReconcile(rows: ReconcileRow[]): void {
  console.log("\nnode-router reconcile (medians of %d; each size in a fresh process)", REPEATS);
  console.log("nodes  family  ip-rules  routes  full-from-empty-ms (first)  adopt-restart-ms  one-node-join-ms  rss-MB (runtime alone)  heap-MB");
  for (const r of rows) {
    console.log(`${String(r.nodes).padStart(5)}  ${r.family.padEnd(6)}  ${String(r.rules).padStart(8)}  ${String(r.routes).padStart(6)}  ${r.fullMs.toFixed(1).padStart(18)} (${r.firstFullMs.toFixed(0).padStart(4)})  ${r.adoptMs.toFixed(1).padStart(16)}  ${r.joinMs.toFixed(1).padStart(16)}  ${r.rssMB.toFixed(0).padStart(6)} (${r.runtimeRssMB.toFixed(0).padStart(3)})           ${r.heapMB.toFixed(0).padStart(7)}`);
  }
}

/** RSS of a bare Node process and of one that only loads @kubernetes/client-node (what main.js imports). */
function runtimeBaseline(): { nodeAloneMB: number; withClientNodeMB: number } {
  const rss = (code: string) => {
    const r = spawnSync(process.execPath, ["-e", `${code}; console.log(process.memoryUsage().rss / 2 ** 20)`], { encoding: "utf8", cwd: __dirname });
    if (r.status !== 0) throw new Error(`baseline failed: ${r.stderr}`);
    return Number(r.stdout.trim());
  };
  return { nodeAloneMB: rss(""), withClientNodeMB: rss('require("@kubernetes/client-node")') };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("the benchmark needs root (network namespaces)");
  const child = process.argv.indexOf("--child");
  if (child >= 0) {
    const row = await reconcileBench(Number(process.argv[child + 1]), process.argv[child + 2] === "dual");
    process.stdout.write(JSON.stringify(row) + "\n");
    return;
  }
  execFileSync("ip", ["-V"]);
  const rows: ReconcileRow[] = [];
  for (const dual of [false, true]) for (const n of SIZES) rows.push(reconcileInChild(n, dual));
  const baseline = runtimeBaseline();
  const table = await tableBench([1000, 5000], REPEATS, settings);
  const packets = await packetBench(5000, QUICK, settings);
  printReconcile(rows);
  printTable(table, REPEATS);
  console.log(`RSS of a bare Node process: ${baseline.nodeAloneMB.toFixed(0)} MB; after loading @kubernetes/client-node alone: ${baseline.withClientNodeMB.toFixed(0)} MB`);
  printPackets(packets);
  console.log("\n" + JSON.stringify({ reconcile: rows, runtimeBaseline: baseline, table, packets }, null, 2));
}

process.on("exit", cleanupNamespaces);
main().catch((e: Error) => {
  cleanupNamespaces();
  console.error(e.stack ?? e.message);
  process.exit(1);
});
