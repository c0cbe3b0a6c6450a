// Runs the real promtool (Debian's `prometheus` package; scripts/setup.sh installs it) for tests.
import { spawnSync } from "node:child_process";

export interface PromtoolResult {
  status: number | null;
  output: string;
}

/** Throws with the fix when promtool is missing: a check that cannot run must not pass. */
export function promtool(args: string[], cwd?: string, input?: string): PromtoolResult {
  const r = spawnSync("promtool", args, { cwd, input, encoding: "utf8" });
  if (r.error) throw new Error(`promtool: ${r.error.message}; install it with \`apt-get install prometheus\` (scripts/setup.sh does)`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
