// Per-packet cost of installed routing state, in network namespaces: a ping flood from three
// sender namespaces to a NON-steered address (every packet walks all rules and misses every
// agent table, the worst case for a destination the agent leaves alone):
//   (a) no state, (b) the agent's state for N nodes, (c) one rule per destination, and the
//   references described at SENDERS.
// Noise on a shared machine is larger than the effect, so: every ping runs pinned to one CPU
// (the veth hop and the reply run in softirq on the sending CPU, so the whole round trip stays
// there); (a) and (b) run back to back in each round, alternating which goes first; the cost is
// the median of the per-round ratios, and the spread of those ratios is reported.
// Packets per second come from ping's own elapsed time, so process start-up is not counted.
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { Iproute2Kernel, ownershipFrom } from "../src/kernel";
import { Reconciler } from "../src/reconciler";
import { OWNED_PRIORITY_SPAN, type Settings } from "../src/settings";
import { cleanupNamespaces, ip, localNode, median, netns, remoteNode } from "./benchNet";

export interface PacketResult {
  nodes: number;
  cpu: number;
  rounds: number;
  packetsPerSecond: Record<Sender, number>;
  ipRules: Record<Sender, number>;
  /** Median over rounds of (packets/s of the baseline) / (packets/s with the state). */
  cost: Record<Comparison, number>;
  costSpread: Record<Comparison, string>;
}

// (a) none, (b) ours, (c) rulePerDestination as the issue asks; plus two references that
// explain the result: oneRule (the smallest custom rule set: the first rule the agent adds)
// and a Cilium node's own rules (local table moved to 100, proxy fwmark rule) with and
// without ours on top, which is the marginal cost on a real node.
const SENDERS = ["none", "ours", "oneRule", "cilium", "ciliumOurs", "rulePerDestination"] as const;
type Sender = (typeof SENDERS)[number];
const COMPARISONS = { ours: ["none", "ours"], oneRule: ["none", "oneRule"], oursOnCilium: ["cilium", "ciliumOurs"], rulePerDestination: ["none", "rulePerDestination"] } as const;
type Comparison = keyof typeof COMPARISONS;

async function installOurs(ns: string, n: number, local: string, settings: Settings): Promise<void> {
  const port = new Iproute2Kernel(ownershipFrom(settings, OWNED_PRIORITY_SPAN), ns);
  try {
    const r = new Reconciler(port, settings, "local", () => ({ nodes: [localNode(local, false), ...Array.from({ length: n }, (_, i) => remoteNode(i, false))], ciliumNodes: [] }));
    r.markSynced();
    const result = await r.step({ readKernel: true });
    if (!result || result.errors.length > 0) throw new Error("installing our state failed");
  } finally {
    port.close();
  }
}

export async function packetBench(n: number, quick: boolean, settings: Settings): Promise<PacketResult> {
  const rounds = quick ? 5 : 21;
  const count = (s: Sender) => (s === "rulePerDestination" ? (quick ? 1_000 : 2_000) : quick ? 10_000 : 20_000);
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
  for (const name of ["cilium", "ciliumOurs"] as const) {
    const { ns } = senders[name];
    ip(ns, "rule add priority 100 lookup local");
    ip(ns, "rule del priority 0 lookup local");
    ip(ns, "rule add priority 9 fwmark 0x200/0xf00 lookup 2004");
    ip(ns, "route add local 0.0.0.0/0 dev lo table 2004");
  }
  await installOurs(senders.ours.ns, n, senders.ours.local, settings);
  await installOurs(senders.ciliumOurs.ns, n, senders.ciliumOurs.local, settings);
  ip(senders.oneRule.ns, `rule add priority ${settings.rulePriority} fwmark 0xe00/0xf00 lookup main`);
  // (c) one rule per remote node address and per remote pod CIDR, as in the proof of concept.
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const node = remoteNode(i, false) as { spec: { podCIDRs: string[] }; status: { addresses: { address: string }[] } };
    for (const dst of [`${node.status.addresses[0].address}/32`, node.spec.podCIDRs[0]]) lines.push(`rule add to ${dst} lookup 51999 priority 2000`);
  }
  ip(senders.rulePerDestination.ns, "route add 198.18.0.0/15 dev cilium_wg0 table 51999");
  ip(senders.rulePerDestination.ns, "-4 -batch -", lines.join("\n") + "\n");

  const pps = (name: Sender): number => {
    const { ns, dst } = senders[name];
    const p = spawnSync("taskset", ["-c", String(cpu), "ip", "netns", "exec", ns, "ping", "-f", "-q", "-c", String(count(name)), dst], { encoding: "utf8" });
    const elapsed = / 0% packet loss, time (\d+)ms/.exec(p.stdout);
    if (p.status !== 0 || !elapsed) throw new Error(`ping from ${name} failed: ${p.stdout}${p.stderr}`);
    return count(name) / (Math.max(1, Number(elapsed[1])) / 1000);
  };
  SENDERS.forEach(pps); // warm-up, discarded
  const samples = Object.fromEntries(SENDERS.map((s) => [s, [] as number[]])) as Record<Sender, number[]>;
  const ratios = Object.fromEntries(Object.keys(COMPARISONS).map((c) => [c, [] as number[]])) as Record<Comparison, number[]>;
  for (let round = 0; round < rounds; round++) {
    const got = {} as Record<Sender, number>;
    // Each pair back to back, alternating which goes first; then the single references.
    for (const [base, state] of [COMPARISONS.ours, COMPARISONS.oursOnCilium]) {
      for (const s of round % 2 === 0 ? [base, state] : [state, base]) got[s] = pps(s);
    }
    got.oneRule = pps("oneRule");
    got.rulePerDestination = pps("rulePerDestination");
    for (const s of SENDERS) samples[s].push(got[s]);
    for (const [c, [base, state]] of Object.entries(COMPARISONS) as [Comparison, readonly [Sender, Sender]][]) ratios[c].push(got[base] / got[state]);
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
  };
  cleanupNamespaces();
  return result;
}

/** Interquartile range and extremes of the per-round ratios, as text. */
function spread(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const q = (f: number) => s[Math.min(s.length - 1, Math.floor(f * s.length))].toFixed(3);
  return `IQR ${q(0.25)}-${q(0.75)}, min ${s[0].toFixed(3)}, max ${s[s.length - 1].toFixed(3)}`;
}
