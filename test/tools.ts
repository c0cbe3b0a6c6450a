// Test helpers: run real Debian tools (cloud-init, shellcheck, openssl, jq, bash) and fail
// with a clear message when one is missing instead of skipping.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";

/** Where the boot scripts live (bootstrap.sh and the libraries it sources). */
export const BOOTSTRAP_DIR = join(__dirname, "..", "components", "cluster", "bootstrap");

export function requireTool(tool: string, debianPackage: string): void {
  const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" });
  if (found.status !== 0)
    throw new Error(
      `'${tool}' is not installed: this test runs the real tool. Install it with: apt-get install -y ${debianPackage} (scripts/setup.sh does this)`,
    );
}

export interface RunResult {
  status: number | null;
  output: string;
}

export function run(cmd: string, args: readonly string[], input?: string, env?: NodeJS.ProcessEnv): RunResult {
  const r = spawnSync(cmd, args, { encoding: "utf8", input, env: env ?? process.env, timeout: 30_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** A scratch directory that is removed after `fn`, even when it throws. */
export function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "wgmesh-bootstrap-test-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function cloudInitSchema(document: string): RunResult {
  return withTempDir((dir) => {
    const file = join(dir, "user-data.yaml");
    writeFileSync(file, document);
    return run("cloud-init", ["schema", "--config-file", file]);
  });
}

export function shellcheck(script: string, extraArgs: readonly string[] = []): RunResult {
  return run("shellcheck", ["--shell=bash", ...extraArgs, "-"], script);
}

export interface WriteFileEntry {
  path: string;
  content: string;
  permissions: string;
  owner: string;
}

export interface ParsedCloudConfig {
  write_files: WriteFileEntry[];
  runcmd: string[][];
  [key: string]: unknown;
}

export function parseCloudConfig(userData: string): ParsedCloudConfig {
  return parse(userData) as ParsedCloudConfig;
}

export function writtenFile(config: ParsedCloudConfig, path: string): WriteFileEntry {
  const entry = config.write_files.find((f) => f.path === path);
  if (!entry) throw new Error(`write_files has no ${path}`);
  return entry;
}

export interface BashResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Sources the real bootstrap.sh (which only defines functions, and sources its libraries
 * from this directory) in real bash, then runs `body`: tests stub a function by defining
 * it again after the source, exactly as a later definition overrides an earlier one.
 */
export function withBootstrap(body: string, env: Record<string, string> = {}, input?: string): BashResult {
  const script = join(BOOTSTRAP_DIR, "bootstrap.sh");
  const r = spawnSync("bash", ["-c", `source "$1"\n${body}`, "_", script], {
    encoding: "utf8",
    input,
    env: { ...process.env, WG_MESH_LIB_DIR: BOOTSTRAP_DIR, ...env },
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
