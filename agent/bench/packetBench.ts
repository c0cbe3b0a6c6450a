// Per-packet cost of installed routing state and of the egress guard, in network namespaces: a
// ping flood from one sender namespace per configuration to a NON-cluster address (every packet
// walks all rules, misses every agent table and, with the guard, misses its map: the worst case
// for a destination the agent leaves alone). Configurations (SENDERS):
//   none            no state at all
//   ours            the agent's rules and routes for N nodes, no table (before the node table)
//   rulePerDest     one ip rule per destination (the design the agent replaced)
//   cilium          a Cilium node's own rules (local table moved to 100, proxy fwmark rule)
//   ciliumCt        the same, with conntrack on (a real node: kubelet's and Cilium's iptables rules use it)
//   ciliumEmpty     Cilium's rules + EMPTY chains hooked where the guard hooks (the floor of any netfilter guard)
//   ciliumGuard     Cilium's rules + the guard for N nodes (turns conntrack on: it labels WireGuard connections)
//   ciliumFull      Cilium's rules + the agent's rules, routes (node table: whole pod CIDRs) and guard for N nodes
//                   (the netdev raw-frame chain on the underlay included: every frame walks it too)
//   ciliumFullInet  the same without the netdev table: the difference is the netdev chain's own cost
// Noise on a shared machine is larger than the effect, so: every ping runs pinned to one CPU
// (the veth hop and the reply run in softirq on the sending CPU, so the whole round trip stays
// there); each comparison's two configurations run back to back in every round, alternating
// which goes first; the cost is the median of the per-round ratios, and their spread is reported.
// Packets per second come from ping's own elapsed time, so process start-up is not counted.
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { GUARD_TABLE, GUARD_UNDERLAY_TABLE } from "../src/guard";
import { NftGuard } from "../src/guardKernel";
import { Iproute2Kernel, ownershipFrom } from "../src/kernel";
import { Reconciler } from "../src/reconciler";
import { OWNED_PRIORITY_SPAN, parseSettings, type Settings } from "../src/settings";
import { benchTable, cleanupNamespaces, ensureCgroup, ip, localNode, median, netns, remoteNode } from "./benchNet";

const SENDERS = ["none", "ours", "rulePerDest", "cilium", "ciliumCt", "ciliumEmpty", "ciliumGuard", "ciliumFull", "ciliumFullInet"] as const;
type Sender = (typeof SENDERS)[number];
/** [baseline, with state]: the pairs measured back to back. */
export const COMPARISONS = {
  full: ["cilium", "ciliumFull"],
  fullInetOnly: ["cilium", "ciliumFullInet"],
  netdevChain: ["ciliumFullInet", "ciliumFull"],
  fullOnConntrack: ["ciliumCt", "ciliumFull"],
  guardOnly: ["cilium", "ciliumGuard"],
  emptyChain: ["cilium", "ciliumEmpty"],
  conntrack: ["cilium", "ciliumCt"],
  ours: ["none", "ours"],
  rulePerDest: ["none", "rulePerDest"],
} as const satisfies Record<string, readonly [Sender, Sender]>;
type Comparison = keyof typeof COMPARISONS;

export interface PacketResult {
  nodes: number;
  cpu: number;
  rounds: number;
  packetsPerSecond: Record<Sender, number>;
  ipRules: Record<Sender, number>;
  /** Median over rounds of (packets/s of the baseline) / (packets/s with the state). */
  cost: Record<Comparison, number>;
  costSpread: Record<Comparison, string>;
  /** Best packets/s of the baseline over best packets/s with the state: noise from other work on
   * the machine only ever slows a run down, so the best run is the closest to the intrinsic cost. */
  bestCost: Record<Comparison, number>;
}

async function install(ns: string, n: number, local: string, settings: Settings, o: { table: boolean; routes: boolean }): Promise<void> {
  const port = new Iproute2Kernel(ownershipFrom(settings, OWNED_PRIORITY_SPAN), ns);
  try {
    const objects = [localNode(local, false), ...Array.from({ length: n }, (_, i) => remoteNode(i, false))];
    const table = o.table ? benchTable(n, local) : undefined;
    const guard = new NftGuard(ns);
    const r = new Reconciler(port, settings, "local", () => ({ nodes: objects, ciliumNodes: [] }), table ? { nodeTable: () => table, guard } : {});
    r.markSynced();
    const result = await r.step({ readKernel: true });
    if (!result || result.errors.length > 0 || result.guard?.error)
      throw new Error(`installing our state failed: ${JSON.stringify(result?.errors.slice(0, 3) ?? result?.guard)}`);
    if (!o.routes) {
      // The guard alone: take the rules and routes away again, keep the table.
      const gone = await port.readOwned();
      await port.apply({ add: { rules: [], routes: [] }, remove: gone });
    }
  } finally {
    port.close();
  }
}

function nft(ns: string, script: string): void {
  const r = spawnSync("ip", ["netns", "exec", ns, "nft", "-f", "-"], { input: script, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`nft in ${ns}: ${r.stderr}`);
}

export async function packetBench(n: number, quick: boolean, agentSettings: Settings): Promise<PacketResult> {
  // Each sender's underlay is its eth0; the guard's metadata rule needs its cgroup to exist.
  const settings: Settings = { ...agentSettings, underlayDevices: ["eth0"] };
  ensureCgroup("system.slice");
  const rounds = quick ? 5 : 21;
  const count = (s: Sender) => (s === "rulePerDest" ? (quick ? 1_000 : 2_000) : quick ? 10_000 : 20_000);
  const cpu = cpus().length - 1;
  const receiver = netns("rx");
  const senders = {} as Record<Sender, { ns: string; dst: string; local: string }>;
  SENDERS.forEach((name, k) => {
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
    senders[name] = { ns, dst, local };
  });
  for (const name of ["cilium", "ciliumCt", "ciliumEmpty", "ciliumGuard", "ciliumFull", "ciliumFullInet"] as const) {
    const { ns } = senders[name];
    ip(ns, "rule add priority 100 lookup local");
    ip(ns, "rule del priority 0 lookup local");
    ip(ns, "rule add priority 9 fwmark 0x200/0xf00 lookup 2004");
    ip(ns, "route add local 0.0.0.0/0 dev lo table 2004");
  }
  await install(senders.ours.ns, n, senders.ours.local, settings, { table: false, routes: true });
  await install(senders.ciliumFull.ns, n, senders.ciliumFull.local, settings, { table: true, routes: true });
  await install(senders.ciliumFullInet.ns, n, senders.ciliumFullInet.local, settings, { table: true, routes: true });
  nft(senders.ciliumFullInet.ns, `delete table netdev ${GUARD_UNDERLAY_TABLE}\n`);
  await install(senders.ciliumGuard.ns, n, senders.ciliumGuard.local, settings, { table: true, routes: false });
  // The floor: chains hooked where the guard hooks, with nothing in them.
  nft(
    senders.ciliumEmpty.ns,
    `table inet ${GUARD_TABLE} {\n chain output { type filter hook output priority filter; policy accept; }\n chain prerouting { type filter hook prerouting priority filter; policy accept; }\n chain forward { type filter hook forward priority filter; policy accept; }\n}\n`,
  );
  // Conntrack on, as on a real node, through a hook that is not on the flood's path (input of a never-matching port).
  nft(
    senders.ciliumCt.ns,
    "table inet conntrack_on {\n chain input { type filter hook input priority filter; policy accept;\n  tcp dport 1 ct state invalid drop\n }\n}\n",
  );
  // One rule per remote node address and per remote pod CIDR, as in the proof of concept.
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const node = remoteNode(i, false) as { spec: { podCIDRs: string[] }; status: { addresses: { address: string }[] } };
    for (const dst of [`${node.status.addresses[0].address}/32`, node.spec.podCIDRs[0]]) lines.push(`rule add to ${dst} lookup 51999 priority 2000`);
  }
  ip(senders.rulePerDest.ns, "route add 198.18.0.0/15 dev cilium_wg0 table 51999");
  ip(senders.rulePerDest.ns, "-4 -batch -", lines.join("\n") + "\n");

  const pps = (name: Sender): number => {
    const { ns, dst } = senders[name];
    const p = spawnSync("taskset", ["-c", String(cpu), "ip", "netns", "exec", ns, "ping", "-f", "-q", "-c", String(count(name)), dst], { encoding: "utf8" });
    const elapsed = / 0% packet loss, time (\d+)ms/.exec(p.stdout);
    if (p.status !== 0 || !elapsed) throw new Error(`ping from ${name} failed: ${p.stdout}${p.stderr}`);
    return count(name) / (Math.max(1, Number(elapsed[1])) / 1000);
  };
  SENDERS.forEach(pps); // warm-up, discarded (and proof that every configuration passes the flood)
  const samples = Object.fromEntries(SENDERS.map((s) => [s, [] as number[]])) as Record<Sender, number[]>;
  const ratios = Object.fromEntries(Object.keys(COMPARISONS).map((c) => [c, [] as number[]])) as Record<Comparison, number[]>;
  for (let round = 0; round < rounds; round++) {
    for (const [c, [base, state]] of Object.entries(COMPARISONS) as [Comparison, readonly [Sender, Sender]][]) {
      const got: Partial<Record<Sender, number>> = {};
      for (const s of round % 2 === 0 ? [base, state] : [state, base]) got[s] = pps(s);
      samples[base].push(got[base]!);
      samples[state].push(got[state]!);
      ratios[c].push(got[base]! / got[state]!);
    }
  }
  const ruleCount = (s: Sender) => ip(senders[s].ns, "-4 rule show").trim().split("\n").length;
  const result: PacketResult = {
    nodes: n,
    cpu,
    rounds,
    packetsPerSecond: Object.fromEntries(SENDERS.map((s) => [s, Math.round(median(samples[s]))])) as Record<Sender, number>,
    ipRules: Object.fromEntries(SENDERS.map((s) => [s, ruleCount(s)])) as Record<Sender, number>,
    cost: Object.fromEntries(Object.keys(COMPARISONS).map((c) => [c, median(ratios[c as Comparison])])) as Record<Comparison, number>,
    costSpread: Object.fromEntries(Object.keys(COMPARISONS).map((c) => [c, spread(ratios[c as Comparison])])) as Record<Comparison, string>,
    bestCost: Object.fromEntries(
      (Object.entries(COMPARISONS) as [Comparison, readonly [Sender, Sender]][]).map(([c, [base, state]]) => [
        c,
        Math.max(...samples[base]) / Math.max(...samples[state]),
      ]),
    ) as Record<Comparison, number>,
  };
  cleanupNamespaces();
  return result;
}

export function printPackets(p: PacketResult): void {
  console.log("\nper-packet cost, ping flood to a NON-cluster address, %d remote nodes, pinned to CPU %d", p.nodes, p.cpu);
  console.log(
    "%d rounds; in each, the two sides of every comparison run back to back (order alternating); cost = median of per-round ratios; best-of = best baseline run / best run with the state",
    p.rounds,
  );
  const label: Record<Comparison, string> = {
    full: "rules + routes + full guard (node table) vs Cilium's rules",
    fullInetOnly: "rules + routes + guard without netdev vs Cilium's rules",
    netdevChain: "netdev chain alone: full guard vs without netdev",
    fullOnConntrack: "rules + routes + guard vs Cilium's rules with conntrack on",
    guardOnly: "guard alone (5,000 nodes) vs Cilium's rules",
    emptyChain: "floor: empty hooked chains vs Cilium's rules",
    conntrack: "conntrack on vs Cilium's rules",
    ours: "rules + routes, no table vs no state",
    rulePerDest: "one rule per destination vs no state",
  };
  for (const [c, [base, state]] of Object.entries(COMPARISONS) as [Comparison, readonly [Sender, Sender]][]) {
    console.log(
      `${label[c].padEnd(60)} ${String(p.packetsPerSecond[base]).padStart(7)} -> ${String(p.packetsPerSecond[state]).padStart(7)} packets/s  ip rules ${p.ipRules[base]} -> ${p.ipRules[state]}  cost x${p.cost[c].toFixed(3)}  best-of x${p.bestCost[c].toFixed(3)}  (${p.costSpread[c]})`,
    );
  }
}

/** Interquartile range and extremes of the per-round ratios, as text. */
function spread(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const q = (f: number) => s[Math.min(s.length - 1, Math.floor(f * s.length))].toFixed(3);
  return `IQR ${q(0.25)}-${q(0.75)}, min ${s[0].toFixed(3)}, max ${s[s.length - 1].toFixed(3)}`;
}

// `node dist/agent/bench/packetBench.js [--quick] [--nodes N]`: the per-packet part alone (root).
if (require.main === module) {
  const argv = process.argv.slice(2);
  const nodes = argv.includes("--nodes") ? Number(argv[argv.indexOf("--nodes") + 1]) : 5000;
  process.on("exit", cleanupNamespaces);
  packetBench(nodes, argv.includes("--quick"), parseSettings([], { NODE_NAME: "local" })).then(printPackets, (e: Error) => {
    cleanupNamespaces();
    console.error(e.stack ?? e.message);
    process.exit(1);
  });
}
