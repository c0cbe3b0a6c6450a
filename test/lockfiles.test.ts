// Every lockfile in the repository must satisfy `npm ci` on any platform, with no fallback:
// `npm ci` refuses a lockfile that lacks an entry its package.json needs (for example another
// platform's optional build of @swc/core), which is what a laptop or a CI runner hits first.
// Each lockfile is checked the way a fresh clone uses it: package.json + lockfile alone in an
// empty folder, `npm ci --dry-run` (resolves against the lockfile, installs nothing).
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const root = join(__dirname, "..");
const lockfiles = execFileSync("git", ["ls-files", "--", "*package-lock.json"], { cwd: root, encoding: "utf8" }).split("\n").filter(Boolean);

/** `npm ci --dry-run` on a copy of the folder's package.json and lockfile (optionally edited). */
function npmCiDryRun(folder: string, editLock: (lock: any) => void = () => undefined) {
  const dir = mkdtempSync(join(tmpdir(), "lockcheck-"));
  try {
    cpSync(join(root, folder, "package.json"), join(dir, "package.json"));
    const lock = JSON.parse(readFileSync(join(root, folder, "package-lock.json"), "utf8"));
    editLock(lock);
    writeFileSync(join(dir, "package-lock.json"), JSON.stringify(lock, null, 2));
    const r = spawnSync("npm", ["ci", "--dry-run", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error", "--engine-strict=false"], {
      cwd: dir,
      encoding: "utf8",
    });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("lockfiles", () => {
  it("covers the root, the policy pack and the agent", () => {
    expect(lockfiles).toEqual(expect.arrayContaining(["package-lock.json", "policy/package-lock.json", "agent/package-lock.json"]));
  });

  it.each(lockfiles)("%s satisfies npm ci on a fresh clone", (lockfile) => {
    const r = npmCiDryRun(dirname(lockfile));
    expect({ lockfile, status: r.status, output: r.status === 0 ? "" : r.output }).toEqual({ lockfile, status: 0, output: "" });
  });

  it("fails when another platform's optional build is missing from a lockfile", () => {
    // The same check on the root lockfile with one platform package removed: npm ci names it.
    const r = npmCiDryRun(".", (lock) => {
      const platformBuild = Object.keys(lock.packages).find((p) => p.startsWith("node_modules/@swc/core-darwin-"));
      expect(platformBuild).toBeDefined();
      delete lock.packages[platformBuild!];
    });
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/Missing: @swc\/core-darwin-\S+ from lock file/);
  });
});
