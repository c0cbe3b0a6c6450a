// Thin wrappers over child processes: run a command (optionally in a namespace), fail with the
// command line and its stderr, and start long-running children in a namespace.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; throws unless it exits 0 (or allowFailure). */
export function run(cmd: string, args: string[], o: { input?: string; allowFailure?: boolean } = {}): RunResult {
  const r = spawnSync(cmd, args, { encoding: "utf8", input: o.input, timeout: 20_000 });
  const result = { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: (r.stderr ?? "") + (r.error ? String(r.error) : "") };
  if (result.code !== 0 && !o.allowFailure) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${result.code}): ${result.stderr.trim()}`);
  }
  return result;
}

/** `ip -n NS ...`, or `ip ...` in the current namespace when ns is undefined. */
export function ipIn(ns: string | undefined, args: string, o: { allowFailure?: boolean; input?: string } = {}): RunResult {
  return run("ip", [...(ns ? ["-n", ns] : []), ...args.split(/\s+/).filter(Boolean)], o);
}

/** Runs one command inside a network namespace. */
export function inNs(ns: string, cmd: string[], o: { allowFailure?: boolean; input?: string } = {}): RunResult {
  return run("ip", ["netns", "exec", ns, ...cmd], o);
}

export function sysctl(ns: string, settings: Record<string, string | number>): void {
  inNs(ns, ["sysctl", "-q", "-w", ...Object.entries(settings).map(([k, v]) => `${k}=${v}`)]);
}

/** Starts a long-running process inside a namespace (its stdio piped, not inherited). */
export function spawnInNs(ns: string, cmd: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn("ip", ["netns", "exec", ns, ...cmd], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...env } });
}

/** Resolves when the child has exited (immediately if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Sends a signal and waits for the exit, escalating to SIGKILL after a grace period. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM", graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited(child);
  clearTimeout(timer);
}

/**
 * `cmd` under `sh -c script` in a private mount namespace (unshare: its mounts, e.g. a node's
 * /run/wireguard or cgroup v2 on /sys/fs/cgroup, are seen by it alone); the script ends with
 * `exec "$@"`-style so the pid stays the command's. `args` are the script's $0, $1, ...
 */
export const inPrivateMounts = (script: string, args: string[]): string[] => ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, ...args];

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until check() returns a truthy value or the deadline passes (then throws `what`). */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await sleep(everyMs);
  }
}

/** The repository root (where package.json lives), from src/ or from dist/. */
export function repoRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

/** Node 22 (the repository's pinned runtime) for the children: the agent needs it. */
export function nodeBinary(): string {
  const major = Number(process.versions.node.split(".")[0]);
  if (major >= 22) return process.execPath;
  const pinned = join(repoRoot(), "node_modules", "node", "bin", "node");
  if (existsSync(pinned)) return pinned;
  throw new Error(
    `Node ${process.versions.node} is too old for the agent: run it through npm (npm run lab / npm test), which puts the repository's node_modules/.bin (Node 22) first on PATH`,
  );
}

/** A compiled file under dist/, with a clear error when the build is missing. */
export function distFile(rel: string): string {
  const file = join(repoRoot(), "dist", rel);
  if (!existsSync(file)) throw new Error(`${file} is missing: build first with \`tsc -p tsconfig.build.json\` (npm run build)`);
  return file;
}
