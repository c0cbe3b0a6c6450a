// node-router benchmark (root; creates and removes its own network namespaces).
//   node dist/agent/bench/agentBench.js [--quick]
// 1. Reconcile cost for 100 / 1,000 / 5,000 simulated remote nodes, IPv4-only and dual stack:
//    rules installed, full reconcile from empty, restart adoption, one node joining, RSS.
// 2. Per-packet cost of host-originated traffic to a NON-steered address (ping flood), with
//    (a) no state, (b) our state for 5,000 nodes, (c) the same destinations as one rule each,
//    measured interleaved in one run.
import { execFileSync, spawnSync } from "node:child_process";
import { planSize } from "../src/diff";
import { Iproute2Kernel, ownershipFrom } from "../src/kernel";
import { Reconciler, uninstall } from "../src/reconciler";
import { OWNED_PRIORITY_SPAN, parseSettings } from "../src/settings";

const QUICK = process.argv.includes("--quick");
const SIZES = [100, 1000, 5000];
const REPEATS = QUICK ? 3 : 5;
const PING_COUNT = QUICK ? 5000 : 20000;
const PING_ROUNDS = QUICK ? 3 : 7;
const ID = `nrb${process.pid}`;
const namespaces: string[] = [];

function ip(ns: string, args: string, input?: string): string {
  const r = spawnSync("ip", ["-n", ns, ...args.split(" ")], { encoding: "utf8", input, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`ip -n ${ns} ${args}: ${r.stderr.trim()}`);
  return r.stdout;
}

function netns(suffix: string): string {
  const ns = `${ID}${suffix}`;
  execFileSync("ip", ["netns", "add", ns]);
  namespaces.push(ns);
  ip(ns, "link set lo up");
  return ns;
}

function cleanup(): void {
  for (const ns of namespaces.splice(0)) spawnSync("ip", ["netns", "del", ns]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const hex4 = (n: number) => n.toString(16);

/** Remote node i. Addresses and pod CIDRs are spaced so that nothing aggregates (worst case). */
function remoteNode(i: number, dual: boolean): Record<string, unknown> {
  const v4 = `198.18.${(2 * i) >> 8}.${(2 * i) & 255}`;
  const pod = `198.19.${(8 * i) >> 8}.${(8 * i) & 255}/30`;
  const addresses = [{ type: "InternalIP", address: v4 }, ...(dual ? [{ type: "InternalIP", address: `2001:db8:0:1::${hex4(2 * i + 1)}` }] : [])];
  const podCIDRs = [pod, ...(dual ? [`2001:db8:1:${hex4(2 * i)}::/64`] : [])];
  return { metadata: { name: `n${i}`, labels: i < 3 ? { "node-role.kubernetes.io/control-plane": "" } : {} }, spec: { podCIDRs }, status: { addresses } };
}

function localNode(address4: string, dual: boolean): Record<string, unknown> {
  const addresses = [{ type: "InternalIP", address: address4 }, ...(dual ? [{ type: "InternalIP", address: "2001:db8:ff::1" }] : [])];
  return { metadata: { name: "local" }, spec: { podCIDRs: ["198.51.100.128/25"] }, status: { addresses } };
}

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

interface ReconcileRow { nodes: number; family: string; rules: number; routes: number; fullMs: number; adoptMs: number; joinMs: number; rssMB: number }

async function reconcileBench(n: number, dual: boolean): Promise<ReconcileRow> {
  const ns = nodeNamespace(`r${n}${dual ? "d" : "4"}`, "198.51.100.1");
  const port = new Iproute2Kernel(ownershipFrom(settings, OWNED_PRIORITY_SPAN), ns);
  const objects = [localNode("198.51.100.1", dual), ...Array.from({ length: n }, (_, i) => remoteNode(i, dual))];
  const fresh = () => {
    const r = new Reconciler(port, settings, "local", () => ({ nodes: objects, ciliumNodes: [] }));
    r.markSynced();
    return r;
  };
  const full: number[] = [];
  let reconciler = fresh();
  for (let rep = 0; rep < REPEATS; rep++) {
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
    objects.push(remoteNode(n + rep, dual));
    const t0 = process.hrtime.bigint();
    const result = await reconciler.step({ readKernel: false });
    join.push(ms(t0));
    if (!result || result.plan.add.routes.length === 0 || result.errors.length > 0) throw new Error("join did not add routes");
  }
  const rules = ip(ns, "-4 rule show").trim().split("\n").length + ip(ns, "-6 rule show").trim().split("\n").length - 5; // minus the 5 default rules
  const routes = (await port.readOwned()).routes.length;
  const rssMB = process.memoryUsage().rss / 2 ** 20;
  cleanup();
  return { nodes: n, family: dual ? "dual" : "ipv4", rules, routes, fullMs: median(full), adoptMs: median(adopt), joinMs: median(join), rssMB };
}

/** Packets per second of a ping flood from each sender namespace, rounds interleaved. */
async function packetBench(n: number): Promise<Record<string, number>> {
  const receiver = netns("rx");
  const senders: Record<string, { ns: string; dst: string }> = {};
  ["none", "ours", "rulePerDestination"].forEach((name, k) => {
    const ns = netns(`s${k}`);
    const local = `192.0.2.${4 * k + 1}`;
    const dst = `192.0.2.${4 * k + 2}`;
    ip(ns, `link add eth0 type veth peer name rx${k} netns ${receiver}`);
    ip(ns, `addr add ${local}/30 dev eth0`);
    ip(receiver, `addr add ${dst}/30 dev rx${k}`);
    ip(ns, "link set eth0 up");
    ip(receiver, `link set rx${k} up`);
    ip(ns, "link add cilium_wg0 type veth peer name wgsink");
    ip(ns, "link set wgsink up");
    ip(ns, "link set cilium_wg0 up");
    senders[name] = { ns, dst };
  });
  // (b) our state for n nodes, installed exactly as the agent does it.
  const ours = senders.ours;
  const port = new Iproute2Kernel(ownershipFrom(settings, OWNED_PRIORITY_SPAN), ours.ns);
  const r = new Reconciler(port, settings, "local", () => ({ nodes: [localNode("192.0.2.5", false), ...Array.from({ length: n }, (_, i) => remoteNode(i, false))], ciliumNodes: [] }));
  r.markSynced();
  const result = await r.step({ readKernel: true });
  if (!result || result.errors.length > 0) throw new Error("installing our state failed");
  // (c) one rule per remote node address and per remote pod CIDR, as in the proof of concept.
  const per = senders.rulePerDestination;
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const node = remoteNode(i, false) as { spec: { podCIDRs: string[] }; status: { addresses: { address: string }[] } };
    for (const dst of [`${node.status.addresses[0].address}/32`, node.spec.podCIDRs[0]]) lines.push(`rule add to ${dst} lookup 51999 priority 2000`);
  }
  ip(per.ns, "route add 198.18.0.0/15 dev cilium_wg0 table 51999");
  ip(per.ns, "-4 -batch -", lines.join("\n") + "\n");
  const ruleCounts = Object.fromEntries(Object.entries(senders).map(([k, s]) => [k, ip(s.ns, "-4 rule show").trim().split("\n").length]));

  const samples: Record<string, number[]> = { none: [], ours: [], rulePerDestination: [] };
  const names = Object.keys(senders);
  for (let round = 0; round < PING_ROUNDS; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round) % names.length]; // rotate the order every round
      const { ns, dst } = senders[name];
      const t0 = process.hrtime.bigint();
      const p = spawnSync("ip", ["netns", "exec", ns, "ping", "-f", "-q", "-c", String(PING_COUNT), dst], { encoding: "utf8" });
      const seconds = ms(t0) / 1000;
      if (p.status !== 0 || !/ 0% packet loss/.test(p.stdout)) throw new Error(`ping from ${name} failed: ${p.stdout}${p.stderr}`);
      samples[name].push(PING_COUNT / seconds);
    }
  }
  cleanup();
  const out: Record<string, number> = {};
  for (const name of names) out[`${name}PacketsPerSecond`] = Math.round(median(samples[name]));
  for (const name of names) out[`${name}Rules`] = ruleCounts[name];
  out.oursCostVsNone = out.nonePacketsPerSecond / out.oursPacketsPerSecond;
  out.rulePerDestinationCostVsNone = out.nonePacketsPerSecond / out.rulePerDestinationPacketsPerSecond;
  return out;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("the benchmark needs root (network namespaces)");
  const rows: ReconcileRow[] = [];
  for (const dual of [false, true]) for (const n of SIZES) rows.push(await reconcileBench(n, dual));
  const packets = await packetBench(5000);

  console.log("\nnode-router reconcile (medians of %d)", REPEATS);
  console.log("nodes  family  ip-rules  routes  full-from-empty-ms  adopt-restart-ms  one-node-join-ms  rss-MB");
  for (const r of rows) {
    console.log(`${String(r.nodes).padStart(5)}  ${r.family.padEnd(6)}  ${String(r.rules).padStart(8)}  ${String(r.routes).padStart(6)}  ${r.fullMs.toFixed(1).padStart(18)}  ${r.adoptMs.toFixed(1).padStart(16)}  ${r.joinMs.toFixed(1).padStart(16)}  ${r.rssMB.toFixed(0).padStart(6)}`);
  }
  console.log("\nper-packet cost, ping flood to a non-steered address, 5,000 remote nodes (medians of %d interleaved rounds of %d packets)", PING_ROUNDS, PING_COUNT);
  console.log(`(a) no state:              ${packets.nonePacketsPerSecond} packets/s  (${packets.noneRules} ip rules)`);
  console.log(`(b) node-router state:     ${packets.oursPacketsPerSecond} packets/s  (${packets.oursRules} ip rules)  cost x${packets.oursCostVsNone.toFixed(3)}`);
  console.log(`(c) one rule/destination:  ${packets.rulePerDestinationPacketsPerSecond} packets/s  (${packets.rulePerDestinationRules} ip rules)  cost x${packets.rulePerDestinationCostVsNone.toFixed(3)}`);
  console.log("\n" + JSON.stringify({ reconcile: rows, packets }, null, 2));
}

process.on("exit", cleanup);
main().catch((e: Error) => {
  cleanup();
  console.error(e.stack ?? e.message);
  process.exit(1);
});
