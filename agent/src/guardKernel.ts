// The guard's door to the kernel: `nft -D UNDERLAY=... -f -` with a generated script (one atomic
// transaction over both tables), element changes through a long-running `nft -i` (nftSession.ts),
// `nft -j list counters` of both tables for the drop counters. `netns` lets tests and the lab
// drive a network namespace exactly the way production drives the host; there nft runs in a
// mount namespace of its own with cgroup2 at /sys/fs/cgroup (`ip netns exec` remounts /sys, which
// hides the host's cgroup mount, and nft resolves the metadata rule's cgroup paths there).
import { spawn } from "node:child_process";
import { GUARD_REASONS, GUARD_TABLE, GUARD_UNDERLAY_TABLE, guardRemoval, underlayDefine, type GuardElements, type GuardReason } from "./guard";
import { NftSession } from "./nftSession";

export interface GuardPort {
  /** Loads a script from guardRuleset() for these underlay devices; rejects with nft's message when nft refuses it. */
  apply(script: string, underlay: string[]): Promise<void>;
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

  constructor(
    private readonly netns?: string,
    private readonly nftBinary = "nft",
  ) {}

  private run(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const [cmd, full] = this.netns
      ? [
          "ip",
          [
            "netns",
            "exec",
            this.netns,
            "unshare",
            "--mount",
            "sh",
            "-c",
            'mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null; exec "$@"',
            "sh",
            this.nftBinary,
            ...args,
          ],
        ]
      : [this.nftBinary, args];
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

  async apply(script: string, underlay: string[]): Promise<void> {
    const r = await this.run(["-D", underlayDefine(underlay), "-f", "-"], script);
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
      const found = await Promise.all(
        [
          ["inet", GUARD_TABLE],
          ["netdev", GUARD_UNDERLAY_TABLE],
        ].map(async ([family, name]) => (await this.run(["list", "table", family, name])).code === 0),
      );
      existed = found.some(Boolean);
    } catch (e) {
      if (/ENOENT/.test((e as Error).message)) return false; // no nft on this host: no guard either
      throw e;
    }
    if (!existed) return false;
    const r = await this.run(["-f", "-"], guardRemoval());
    if (r.code !== 0) throw new Error(`nft could not delete the guard's tables (inet ${GUARD_TABLE}, netdev ${GUARD_UNDERLAY_TABLE}): ${r.stderr.trim()}`);
    return existed;
  }

  /** The node maps of the inet table (address -> chain); undefined when the table is absent. */
  async elements(): Promise<GuardElements | undefined> {
    const out: GuardElements = { 4: new Map(), 6: new Map() };
    for (const family of [4, 6] as const) {
      const r = await this.run(["-j", "list", "map", "inet", GUARD_TABLE, `nodes${family}`]);
      if (r.code !== 0) {
        if (/No such file or directory|does not exist/.test(r.stderr)) return undefined;
        throw new Error(`nft list map inet ${GUARD_TABLE} nodes${family}: ${r.stderr.trim()}`);
      }
      const doc = JSON.parse(r.stdout) as { nftables: { map?: { elem?: [unknown, { jump?: { target: string } }][] } }[] };
      for (const x of doc.nftables) {
        for (const [key, verdict] of x.map?.elem ?? []) if (typeof key === "string" && verdict.jump) out[family].set(key, verdict.jump.target);
      }
    }
    return out;
  }

  /** Both tables' counters (their names differ); undefined when the inet table is absent. */
  async dropped(): Promise<Record<GuardReason, number> | undefined> {
    const byName = new Map<string, number>();
    for (const [family, table] of [
      ["inet", GUARD_TABLE],
      ["netdev", GUARD_UNDERLAY_TABLE],
    ]) {
      const r = await this.run(["-j", "list", "counters", "table", family, table]);
      if (r.code !== 0) {
        if (/No such file or directory|does not exist/.test(r.stderr)) {
          if (family === "inet") return undefined;
          continue; // an inet table alone (a guard loaded before the netdev table existed): its counters still count
        }
        throw new Error(`nft list counters table ${family} ${table}: ${r.stderr.trim()}`);
      }
      const doc = JSON.parse(r.stdout) as { nftables: { counter?: { name: string; packets: number } }[] };
      for (const x of doc.nftables) if (x.counter) byName.set(x.counter.name, x.counter.packets);
    }
    return Object.fromEntries((Object.entries(GUARD_REASONS) as [GuardReason, string][]).map(([reason, name]) => [reason, byName.get(name) ?? 0])) as Record<
      GuardReason,
      number
    >;
  }
}
