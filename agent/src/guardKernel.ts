// The guard's door to the kernel: `nft -f -` with a generated script (one atomic transaction),
// element changes through a long-running `nft -i` (nftSession.ts), `nft -j list counters` for
// the drop counters. `netns` lets tests and the lab drive a network namespace exactly the way
// production drives the host.
import { spawn } from "node:child_process";
import { GUARD_REASONS, GUARD_TABLE, guardRemoval, type GuardReason } from "./guard";
import { NftSession } from "./nftSession";

export interface GuardPort {
  /** Loads a script from guardRuleset(); rejects with nft's message when the kernel refuses it. */
  apply(script: string): Promise<void>;
  /** Applies guardElementUpdate()'s commands as one transaction; rejects when nft refuses them. */
  update(commands: string[]): Promise<void>;
  /** Deletes the guard's table; true if there was one. */
  remove(): Promise<boolean>;
  /** Dropped packets per reason; undefined when the guard is not installed. */
  dropped(): Promise<Record<GuardReason, number> | undefined>;
}

export class NftGuard implements GuardPort {
  /** Started by the first update(); the one-shot commands (guard apply, uninstall) never need it. */
  private session?: NftSession;

  constructor(private readonly netns?: string, private readonly nftBinary = "nft") {}

  private run(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const [cmd, full] = this.netns ? ["ip", ["netns", "exec", this.netns, this.nftBinary, ...args]] : [this.nftBinary, args];
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, full, { stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout?.on("data", (d: Buffer) => out.push(d));
      child.stderr?.on("data", (d: Buffer) => err.push(d));
      child.on("error", (e) => reject(new Error(`${this.nftBinary}: ${e.message} (is the nftables package installed?)`)));
      child.on("close", (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
      if (stdin !== undefined) child.stdin?.end(stdin);
    });
  }

  async apply(script: string): Promise<void> {
    const r = await this.run(["-f", "-"], script);
    if (r.code !== 0) throw new Error(`nft -f refused the guard: ${r.stderr.trim().slice(0, 2000)}`);
  }

  async update(commands: string[]): Promise<void> {
    this.session ??= new NftSession(this.netns ? ["ip", "netns", "exec", this.netns] : [], this.nftBinary);
    const refused = await this.session.run(commands);
    if (refused) throw new Error(`nft refused the guard's element update: ${refused.slice(0, 2000)}`);
  }

  /** Ends the long-running nft (tests, benchmark); the agent keeps it for its lifetime. */
  close(): void {
    this.session?.close();
  }

  async remove(): Promise<boolean> {
    let existed: boolean;
    try {
      existed = (await this.run(["list", "table", "inet", GUARD_TABLE])).code === 0;
    } catch (e) {
      if (/ENOENT/.test((e as Error).message)) return false; // no nft on this host: no guard either
      throw e;
    }
    if (!existed) return false;
    const r = await this.run(["-f", "-"], guardRemoval());
    if (r.code !== 0) throw new Error(`nft could not delete table inet ${GUARD_TABLE}: ${r.stderr.trim()}`);
    return existed;
  }

  async dropped(): Promise<Record<GuardReason, number> | undefined> {
    const r = await this.run(["-j", "list", "counters", "table", "inet", GUARD_TABLE]);
    if (r.code !== 0) {
      if (/No such file or directory|does not exist/.test(r.stderr)) return undefined;
      throw new Error(`nft list counters: ${r.stderr.trim()}`);
    }
    const doc = JSON.parse(r.stdout) as { nftables: { counter?: { name: string; packets: number } }[] };
    const byName = new Map(doc.nftables.flatMap((x) => (x.counter ? [[x.counter.name, x.counter.packets] as const] : [])));
    return Object.fromEntries((Object.entries(GUARD_REASONS) as [GuardReason, string][]).map(([reason, name]) => [reason, byName.get(name) ?? 0])) as Record<GuardReason, number>;
  }
}
