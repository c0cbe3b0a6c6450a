// The agent's only door to the kernel: read owned state, apply a plan, look at the device,
// watch for changes. Implemented with the `ip` command: JSON reads; writes through a
// long-running `ip -batch` child per family for small changes (ipBatch.ts), one-shot batches
// (split in two) for large ones; `ip monitor` for events (linkMonitor.ts). Every `ip` the agent
// runs is started here. `netns` lets tests drive a network namespace exactly the way
// production drives the host.
import { spawn, type ChildProcess } from "node:child_process";
import type { Family, KernelState, Plan } from "./model";
import { addRouteLine, addRuleLine, delRouteLine, delRuleLine, isBenignError, parseBatchErrors, parseRoute, parseRule, type Ownership } from "./iproute2";
import { IpBatchWorker, MARKER } from "./ipBatch";
import { startLinkMonitor, type LinkMonitorOptions } from "./linkMonitor";

/** Plans up to this many lines (a node joining, drift repair) go to the long-running ip child. */
const SMALL_PLAN_LINES = 2000;
/** Phases of at least this many lines are split across two ip processes. */
const SPLIT_LINES = 4000;

/** Keeps the failures that do not mean "already so" (0-based line index -> message). */
function attribute(family: Family, lines: string[], failed: Map<number, string>): ApplyError[] {
  const errors: ApplyError[] = [];
  for (const [index, message] of failed) {
    const line = lines[index] ?? `line ${index + 1}`;
    if (!isBenignError(line, message)) errors.push({ family, line, message });
  }
  return errors;
}

export interface LinkState {
  exists: boolean;
  /** Administratively up: routes through it can be installed. */
  up: boolean;
}

export interface ApplyError {
  family: Family;
  line: string;
  message: string;
}

export interface KernelPort {
  readOwned(): Promise<KernelState>;
  /** Applies adds (routes, then rules by priority) before removals; returns per-item failures. */
  apply(plan: Plan): Promise<ApplyError[]>;
  linkState(device: string): Promise<LinkState>;
}

export interface IpResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class Iproute2Kernel implements KernelPort {
  private readonly workers = new Map<Family, IpBatchWorker>();
  private deviceIndex?: number;

  constructor(
    private readonly ownership: Ownership,
    private readonly netns?: string,
    private readonly ipBinary = "ip",
  ) {}

  /** Starts `ip [-n NETNS] ARGS...`. */
  private spawnIp(args: string[], stdin: "ignore" | "pipe" = "ignore"): ChildProcess {
    return spawn(this.ipBinary, this.netns ? ["-n", this.netns, ...args] : args, { stdio: [stdin, "pipe", "pipe"] });
  }

  /** Runs `ip [-n NETNS] ARGS...`, optionally feeding stdin. Never rejects on exit status. */
  run(args: string[], stdin?: string): Promise<IpResult> {
    return new Promise((resolve, reject) => {
      const child = this.spawnIp(args, stdin === undefined ? "ignore" : "pipe");
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout?.on("data", (d: Buffer) => out.push(d));
      child.stderr?.on("data", (d: Buffer) => err.push(d));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
      if (stdin !== undefined) child.stdin?.end(stdin);
    });
  }

  private async json(args: string[]): Promise<Record<string, unknown>[]> {
    const r = await this.run(["-j", ...args]);
    // An IPv4 table that never held a route does not exist yet: that is an empty table.
    if (r.code !== 0 && /FIB table does not exist/.test(r.stderr)) return [];
    if (r.code !== 0) throw new Error(`ip ${args.join(" ")} failed: ${r.stderr.trim()}`);
    const text = r.stdout.trim();
    return text ? (JSON.parse(text) as Record<string, unknown>[]) : [];
  }

  async readOwned(): Promise<KernelState> {
    const state: KernelState = { rules: [], routes: [] };
    const own = this.ownership;
    const reads = ([4, 6] as Family[]).flatMap((family) => [
      this.json([`-${family}`, "-d", "rule", "show"]).then((rows) => {
        for (const row of rows) {
          const rule = parseRule(row, family, own);
          if (rule) state.rules.push(rule);
        }
      }),
      ...own.tables.map((table) =>
        // No `proto` filter: with one, ip omits the protocol field that parseRoute checks.
        this.json([`-${family}`, "route", "show", "table", String(table)]).then((rows) => {
          for (const row of rows) {
            const route = parseRoute(row, family, table, own);
            if (route) state.routes.push(route);
          }
        }),
      ),
    ]);
    await Promise.all(reads);
    return state;
  }

  async apply(plan: Plan): Promise<ApplyError[]> {
    // Families are independent (separate rules and tables): apply them concurrently.
    const perFamily = await Promise.all(([4, 6] as Family[]).map((family) => this.applyFamily(plan, family)));
    return perFamily.flat();
  }

  /** Watches the device, and the agent's own rules and routes, for changes made behind its back. */
  monitor(o: LinkMonitorOptions): { stop(): void } {
    return startLinkMonitor(o, (args) => this.spawnIp(args));
  }

  /** Ends the long-running ip children (tests, benchmark); the agent keeps them for its lifetime. */
  close(): void {
    for (const family of [...this.workers.keys()]) this.closeWorker(family);
  }

  private closeWorker(family: Family): void {
    this.workers.get(family)?.close();
    this.workers.delete(family);
  }

  private async applyFamily(plan: Plan, family: Family): Promise<ApplyError[]> {
    const mine = <T extends { family: Family }>(items: T[]) => items.filter((i) => i.family === family);
    // Order matters: routes exist before the rules that lead to them; removed rules go before
    // their routes. Adds in ascending priority: exempt-port rules before the control-plane table rule.
    const phases = [
      mine(plan.add.routes).map(addRouteLine),
      [
        ...mine(plan.add.rules)
          .sort((a, b) => a.priority - b.priority)
          .map(addRuleLine),
        ...mine(plan.remove.rules).map(delRuleLine),
      ],
      mine(plan.remove.routes).map(delRouteLine),
    ];
    const total = phases.reduce((n, p) => n + p.length, 0);
    if (total === 0) return [];
    if (total <= SMALL_PLAN_LINES) return this.runOnWorker(family, phases.flat());
    const errors: ApplyError[] = [];
    for (const lines of phases) {
      // Each route is its own netlink request; two ip processes keep both cores busy.
      const chunks = lines.length >= SPLIT_LINES ? [lines.slice(0, lines.length >> 1), lines.slice(lines.length >> 1)] : [lines];
      const results = await Promise.all(chunks.filter((c) => c.length > 0).map((c) => this.runOneShot(family, c)));
      errors.push(...results.flat());
    }
    return errors;
  }

  private async runOnWorker(family: Family, lines: string[]): Promise<ApplyError[]> {
    let worker = this.workers.get(family);
    if (!worker) {
      worker = new IpBatchWorker([...(this.netns ? ["-n", this.netns] : []), `-${family}`], this.ipBinary);
      this.workers.set(family, worker);
    }
    let failed: Map<number, string>;
    try {
      failed = await worker.run(lines);
    } catch (e) {
      // The child died mid-request (ip exits on a line it cannot parse): which lines ran is
      // unknown, so the whole request failed; the retry re-reads the kernel with a new child.
      this.closeWorker(family);
      return [{ family, line: "(batch)", message: (e as Error).message }];
    }
    const errors = attribute(family, lines, failed);
    // ip resolves a device name to its index once and caches it: after the device was recreated
    // the child would keep failing with "No such device". Any failure gets a fresh child.
    if (errors.length > 0) this.closeWorker(family);
    return errors;
  }

  private async runOneShot(family: Family, lines: string[]): Promise<ApplyError[]> {
    // The marker's own failure, as the last line, proves that ip got to the end: ip exits at
    // once on a line it cannot parse, and with -force a failed line also sets the exit code.
    const r = await this.run([`-${family}`, "-force", "-batch", "-"], `${lines.join("\n")}\n${MARKER}\n`);
    const failed = new Map([...parseBatchErrors(r.stderr)].map(([lineNo, message]) => [lineNo - 1, message]));
    const completed = failed.delete(lines.length);
    const errors = attribute(family, lines, failed);
    if (!completed)
      errors.push({ family, line: "(batch)", message: `ip stopped before the end of the batch (exit ${r.code}): ${r.stderr.trim().slice(-500)}` });
    return errors;
  }

  async linkState(device: string): Promise<LinkState> {
    const r = await this.run(["-j", "link", "show", "dev", device]);
    if (r.code !== 0) {
      if (/does not exist|Cannot find device/.test(r.stderr)) {
        this.deviceIndex = undefined;
        return { exists: false, up: false };
      }
      throw new Error(`ip link show dev ${device} failed: ${r.stderr.trim()}`);
    }
    const rows = JSON.parse(r.stdout) as { ifindex?: number; flags?: string[] }[];
    // A recreated device has a new index that the long-running ip children do not know yet.
    const index = rows[0]?.ifindex;
    if (index !== this.deviceIndex) this.close();
    this.deviceIndex = index;
    return { exists: rows.length > 0, up: rows[0]?.flags?.includes("UP") ?? false };
  }
}

export function ownershipFrom(s: { rulePriority: number; routeProtocol: number; steeringTable: number; controlPlaneTable: number }, span: number): Ownership {
  return { firstPriority: s.rulePriority, endPriority: s.rulePriority + span, protocol: s.routeProtocol, tables: [s.steeringTable, s.controlPlaneTable] };
}
