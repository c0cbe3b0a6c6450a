// Shared by the lab's fault tests: environment checks that fail (never skip), the per-file lab
// lifecycle, a background traffic generator, kernel-state snapshots and the leak count every test reports.
import { existsSync } from "node:fs";
import ipaddr from "ipaddr.js";
import { join } from "node:path";
import { ipIn, repoRoot, sleep, waitFor } from "../src/exec";
import { leaks, planFlows, type Flow } from "../src/flows";
import { Lab, type LabOptions } from "../src/lab";
import type { Packet } from "../src/capture";
import type { NodePlan } from "../src/plan";
import { requireTools } from "../src/preflight";
import { OUTSIDE_ADDRESSES } from "../src/outside";
import { attack, newMarker, probeLabel, type AttackArgs, type AttackOptions, type AttackResult, type Probe } from "../src/attack";
import { crash } from "../src/reboot";
import { packetText } from "../src/pcap";
import type { GuardReason } from "../../agent/src/guard";
import { NftGuard } from "../../agent/src/guardKernel";

/** Root, tools and a build of the agent and the lab's child processes. */
export function requireLabEnvironment(): void {
  requireTools();
  const root = repoRoot(__dirname);
  for (const f of ["dist/agent/src/main.js", "dist/lab/src/helperMain.js", "dist/lab/src/apiserverMain.js"]) {
    if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run \`tsc -p tsconfig.build.json\` before the lab tests (scripts/test.sh does)`);
  }
}

export interface Round {
  /** When the round's probes started and when the last one finished. */
  t: number;
  end: number;
  results: { flow: Flow; ok: boolean; error?: string }[];
}

/** Probes the given flows over and over (each round all at once) until stopped. */
export class Traffic {
  readonly rounds: Round[] = [];
  private stopped = false;
  private loop?: Promise<void>;
  private failure?: Error;

  constructor(
    private readonly lab: Lab,
    private readonly flows: () => Flow[],
    private readonly timeoutMs = 1000,
  ) {}

  start(): this {
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          this.rounds.push(await this.round());
        } catch (e) {
          // A helper that cannot be asked is a broken lab, not a failed flow: stop and report.
          this.failure = e as Error;
          return;
        }
        await sleep(50);
      }
    })();
    return this;
  }

  async round(): Promise<Round> {
    const t = Date.now();
    const flows = this.flows();
    const byNs = new Map<string, Flow[]>();
    for (const f of flows) byNs.set(f.clientNs, [...(byNs.get(f.clientNs) ?? []), f]);
    const results: Round["results"] = [];
    await Promise.all(
      [...byNs].map(async ([ns, fs]) => {
        const res = await this.lab.helper(ns).probes(fs.map((f) => ({ host: f.dstIp, port: f.port, timeoutMs: this.timeoutMs })));
        fs.forEach((flow, i) => results.push({ flow, ok: res[i].ok, error: res[i].error }));
      }),
    );
    return { t, end: Date.now(), results };
  }

  /** Waits for a round that starts after now in which `pred` holds for every result; returns ms until it ended. */
  async waitFor(what: string, pred: (r: Round["results"][number]) => boolean, timeoutMs = 15_000): Promise<number> {
    const since = Date.now();
    const r = await waitFor(
      what,
      () => {
        if (this.failure) throw this.failure;
        return this.rounds.find((x) => x.t >= since && x.results.length > 0 && x.results.every(pred));
      },
      timeoutMs,
      50,
    );
    return r.end - since;
  }

  /** Results of rounds that started at or after t. */
  resultsSince(t: number): Round["results"] {
    return this.rounds.filter((r) => r.t >= t).flatMap((r) => r.results);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    if (this.failure) throw new Error(`traffic generator failed: ${this.failure.message}`);
  }
}

export interface FaultLab {
  /** The lab started in beforeAll (3 nodes, agents running). */
  readonly lab: Lab;
  /** Starts background traffic among `names` (every node when omitted); the latest one is stopped in afterAll too. */
  startTraffic(names?: string[]): Traffic;
}

/**
 * Registers the lifecycle every fault test file shares: a 3-node lab with its agents started
 * before the tests, and afterwards the traffic stopped and the lab destroyed - also when a test
 * failed halfway, so no namespace or process outlives the file.
 */
export function useFaultLab(options: LabOptions = {}): FaultLab {
  let lab: Lab | undefined;
  let traffic: Traffic | undefined;

  beforeAll(async () => {
    requireLabEnvironment();
    lab = await Lab.create({ nodes: 3, ...options });
    await lab.startAgents();
  }, 60_000);

  afterAll(async () => {
    await traffic?.stop().catch(() => undefined);
    await lab?.destroy();
  }, 30_000);

  return {
    get lab() {
      if (!lab) throw new Error("the lab did not start (see the beforeAll failure above)");
      return lab;
    },
    startTraffic(names) {
      traffic = new Traffic(this.lab, flowsAmong(this.lab, names)).start();
      return traffic;
    },
  };
}

/** Flows whose both ends are in `names` (all flows of the lab when omitted). */
export const flowsAmong = (lab: Lab, names?: string[]) => () =>
  planFlows(lab.nodes).filter((f) => !names || (names.includes(f.from.name) && names.includes(f.to.name)));

/** Cleartext packets outside the exemption captured since `mark`, printed for the CI log. */
export async function reportLeaks(lab: Lab, test: string, mark: number): Promise<Packet[]> {
  await lab.capture.settle();
  // Traffic to the outside stand-ins (metadata, DNS, internet) is not between nodes.
  const outside = new Set(OUTSIDE_ADDRESSES);
  const all = lab.capture.since(mark).filter((p) => !outside.has(p.src) && !outside.has(p.dst));
  const leaked = leaks(all, lab.nodes);
  const dropped = await lab.capture.droppedByKernel();
  console.log(
    `[lab] ${test}: ${leaked.length} cleartext packets outside the exempt ports (${all.length - leaked.length} exempt API/etcd packets; capture drops: ${dropped})` +
      (leaked.length
        ? `\n  first: ${leaked
            .slice(0, 5)
            .map((p) => p.line)
            .join("\n  ")}`
        : ""),
  );
  if (dropped > 0) throw new Error(`tcpdump lost ${dropped} packets: the leak count cannot be trusted`);
  return leaked;
}

/** The agent's rules and routes on a node, as text (for "unchanged" comparisons). */
export function ownedState(ns: string): string {
  const rules = ipIn(ns, "rule show")
    .stdout.split("\n")
    .filter((l) => l.includes("proto 211"));
  const routes = ["51871", "51872"].flatMap((t) =>
    ipIn(ns, `route show table ${t}`, { allowFailure: true })
      .stdout.split("\n")
      .filter(Boolean)
      .map((l) => `table ${t}: ${l.trim()}`),
  );
  return [...rules, ...routes].join("\n");
}

/** The agent's routes on a node (both tables, any type); dst "a.b.c.d" means a /32. */
export function agentRoutes(ns: string): { dst: string; type?: string; dev?: string }[] {
  return ["51871", "51872"].flatMap((t) => {
    // A table that never held a route does not exist (ip prints "[" and fails): empty.
    const r = ipIn(ns, `-j route show table ${t}`, { allowFailure: true });
    return r.code === 0 ? (JSON.parse(r.stdout) as { dst: string; type?: string; dev?: string }[]) : [];
  });
}

/**
 * How the agent's tables on a node cover an address: "device" (a route via cilium_wg0 contains
 * it), "blackhole" (only the fail-closed fallback does), or "none". Prefixes may be aggregated
 * (two adjacent /24 become a /23), so this tests containment, not equality.
 */
export function coverage(ns: string, address: string): "device" | "blackhole" | "none" {
  const addr = ipaddr.parse(address);
  const containing = agentRoutes(ns).filter((r) => {
    const [net, len] = r.dst.includes("/") ? ipaddr.parseCIDR(r.dst) : [ipaddr.parse(r.dst), 32];
    return net.kind() === addr.kind() && addr.match(net, len);
  });
  if (containing.some((r) => r.dev === "cilium_wg0")) return "device";
  return containing.length > 0 ? "blackhole" : "none";
}

/** The egress guard's drop counters in a node's namespace, read the way the agent reads them for /metrics. */
export async function guardDrops(ns: string): Promise<Record<GuardReason, number>> {
  const counts = await new NftGuard(ns).dropped();
  if (!counts) throw new Error(`no egress guard in ${ns}`);
  return counts;
}

/** One sample of a Prometheus text exposition, e.g. metric(text, 'node_router_errors_total{kind="claim"}'). */
export function metric(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  if (line === undefined) throw new Error(`no ${series} in the agent's /metrics`);
  return Number(line.slice(series.length + 1));
}

/**
 * Frames on the underlay carrying `marker` (WireGuard UDP and ARP excluded by the capture), per
 * probe label (`<marker>-<label>`), printed for the CI log; throws when the capture lost packets.
 */
export async function markerReport(lab: Lab, test: string, marker: string): Promise<{ count: number; byProbe: Record<string, number> }> {
  const found = await lab.capture.markerPackets(marker);
  const byProbe: Record<string, number> = {};
  for (const p of found) {
    const label = probeLabel(p.data, marker);
    byProbe[label] = (byProbe[label] ?? 0) + 1;
  }
  const dropped = await lab.capture.droppedByKernel();
  console.log(
    `[lab] ${test}: ${found.length} packets carrying the marker ${marker} on the underlay (by probe: ${JSON.stringify(byProbe)}; capture drops: ${dropped})` +
      (found.length ? `\n  first: ${found.slice(0, 5).map(packetText).join("\n  ")}` : ""),
  );
  if (dropped > 0) throw new Error(`tcpdump lost ${dropped} packets: the marker count cannot be trusted`);
  return { count: found.length, byProbe };
}

/** One attacker probe, with the label its marker carries (`<marker>-<label>`). */
export interface Shot {
  label: string;
  probe: Probe;
  args: Omit<AttackArgs, "marker">;
  options?: AttackOptions;
}

/** Fires every shot at once from `ns` (each as its own process), all with `marker`. */
export const fire = (ns: string, shots: Shot[], marker: string): Promise<AttackResult[]> =>
  Promise.all(shots.map((s) => attack(ns, s.probe, { ...s.args, marker: `${marker}-${s.label}` }, s.options)));

/**
 * The shape of every attack fault: the shots from `from` with the guard and agents in place
 * (counted), then the sanity control: `from` "rebooted" (agent dead, its rules, routes and guard
 * gone: reboot.ts) and the same shots again with a fresh marker (`more`: shots from another
 * namespace, e.g. node-1's pod, fired alongside). Returns both counts; the test
 * expects the attack to be 0 and every shot to be seen in the control.
 */
export async function attackWithControl(lab: Lab, test: string, from: NodePlan, shots: Shot[], more?: { ns: string; shots: Shot[] }) {
  const all = (marker: string) => Promise.all([fire(from.ns, shots, marker), more ? fire(more.ns, more.shots, marker) : []]).then(([a, b]) => [...a, ...b]);
  const marker = newMarker();
  const results = await all(marker);
  const attacked = await markerReport(lab, `${test} (guard and agent)`, marker);
  const control = newMarker();
  await crash(lab, from.name);
  const controlResults = await all(control);
  const seen = await markerReport(lab, `${test} sanity control (${from.name} without agent state or guard)`, control);
  return { attacked, seen, results, controlResults, labels: [...shots, ...(more?.shots ?? [])].map((s) => s.label).sort() };
}
