// The agent's only door to the kernel: read owned state, apply a plan, look at the device.
// Implemented with the `ip` command (JSON reads, one `-force -batch` per family for writes).
// `netns` lets tests drive a network namespace exactly the way production drives the host.
import { spawn } from "node:child_process";
import type { Family, KernelState, Plan } from "./model";
import {
  addRouteLine, addRuleLine, delRouteLine, delRuleLine, isBenignError, parseBatchErrors, parseRoute, parseRule, type Ownership,
} from "./iproute2";

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
  constructor(
    private readonly ownership: Ownership,
    private readonly netns?: string,
    private readonly ipBinary = "ip",
  ) {}

  /** Runs `ip [-n NETNS] ARGS...`, optionally feeding stdin. Never rejects on exit status. */
  run(args: string[], stdin?: string): Promise<IpResult> {
    const full = this.netns ? ["-n", this.netns, ...args] : args;
    return new Promise((resolve, reject) => {
      const child = spawn(this.ipBinary, full, { stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
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
        })),
    ]);
    await Promise.all(reads);
    return state;
  }

  async apply(plan: Plan): Promise<ApplyError[]> {
    const errors: ApplyError[] = [];
    for (const family of [4, 6] as Family[]) {
      const mine = <T extends { family: Family }>(items: T[]) => items.filter((i) => i.family === family);
      const lines = [
        ...mine(plan.add.routes).map(addRouteLine),
        // Ascending priority: the exempt-port rules exist before the control-plane table rule.
        ...mine(plan.add.rules).sort((a, b) => a.priority - b.priority).map(addRuleLine),
        ...mine(plan.remove.rules).map(delRuleLine),
        ...mine(plan.remove.routes).map(delRouteLine),
      ];
      if (lines.length === 0) continue;
      const r = await this.run([`-${family}`, "-force", "-batch", "-"], lines.join("\n") + "\n");
      for (const [lineNo, message] of parseBatchErrors(r.stderr)) {
        const line = lines[lineNo - 1] ?? `line ${lineNo}`;
        if (!isBenignError(line, message)) errors.push({ family, line, message });
      }
      if (r.code !== 0 && errors.length === 0 && parseBatchErrors(r.stderr).size === 0) {
        errors.push({ family, line: "(batch)", message: r.stderr.trim() || `ip exited with ${r.code}` });
      }
    }
    return errors;
  }

  async linkState(device: string): Promise<LinkState> {
    const r = await this.run(["-j", "link", "show", "dev", device]);
    if (r.code !== 0) {
      if (/does not exist|Cannot find device/.test(r.stderr)) return { exists: false, up: false };
      throw new Error(`ip link show dev ${device} failed: ${r.stderr.trim()}`);
    }
    const rows = JSON.parse(r.stdout) as { flags?: string[] }[];
    return { exists: rows.length > 0, up: rows[0]?.flags?.includes("UP") ?? false };
  }
}

export function ownershipFrom(s: { rulePriority: number; routeProtocol: number; steeringTable: number; controlPlaneTable: number }, span: number): Ownership {
  return { firstPriority: s.rulePriority, endPriority: s.rulePriority + span, protocol: s.routeProtocol, tables: [s.steeringTable, s.controlPlaneTable] };
}
