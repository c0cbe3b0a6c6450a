// Runs a dynamic provider the way the CLI's dynamic-provider host does
// (@pulumi/pulumi/cmd/dynamic-provider: `requireFromString(props.__provider).handler()`), in a
// fresh Node process started in the project directory, on the serialized text the program
// registered: the code that runs under `pulumi up`, not the test's transpiled module.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** One provider call: its method and arguments, as the host passes them. */
export interface ProviderCall {
  readonly method: "check" | "create" | "diff" | "update" | "delete" | "read";
  readonly args: unknown[];
}

export type CallResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string } | { readonly absent: true };

const HOST = `
const requireFromString = require("require-from-string");
const { readFileSync } = require("node:fs");
(async () => {
  const text = readFileSync(process.argv[1], "utf8");
  const calls = JSON.parse(readFileSync(process.argv[2], "utf8"));
  const provider = requireFromString(text).handler();
  const results = [];
  for (const c of calls) {
    if (typeof provider[c.method] !== "function") { results.push({ absent: true }); continue; }
    try {
      const value = await provider[c.method](...c.args);
      results.push({ ok: true, value: value === undefined ? null : value });
    } catch (e) {
      results.push({ ok: false, error: String(e && e.message || e) });
    }
  }
  process.stdout.write(JSON.stringify(results));
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

/** Calls the serialized provider's methods in order, in one fresh process; rejects if loading it fails. */
export function runSerializedProvider(serialized: string, calls: readonly ProviderCall[], cwd = join(__dirname, "..")): Promise<CallResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "provider-host-"));
  writeFileSync(join(dir, "provider.js"), serialized);
  writeFileSync(join(dir, "calls.json"), JSON.stringify(calls));
  return new Promise<CallResult[]>((resolve, reject) => {
    execFile(
      process.execPath,
      ["-e", HOST, join(dir, "provider.js"), join(dir, "calls.json")],
      { cwd, timeout: 60_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`the serialized provider failed to load or run: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout) as CallResult[]);
      },
    );
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}
