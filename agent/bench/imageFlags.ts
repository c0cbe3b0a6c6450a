// The node flags the image starts the agent with, read from agent/Dockerfile's ENTRYPOINT, so the
// benchmark measures exactly what the DaemonSet runs.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export function imageNodeFlags(repoRoot: string): string[] {
  const file = join(repoRoot, "agent", "Dockerfile");
  if (!existsSync(file)) return [];
  const m = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync(file, "utf8"));
  if (!m) throw new Error(`${file}: no ENTRYPOINT ["node", ...] line`);
  const argv = JSON.parse(m[1]) as string[];
  return argv.slice(1).filter((a) => a.startsWith("--"));
}
