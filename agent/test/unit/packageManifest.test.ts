// The image installs agent/package.json, not the root one: it must list every package the
// agent imports, at the versions the tests ran with (the root package.json's pins).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const agentDir = join(__dirname, "..", "..");
const read = (p: string) => JSON.parse(readFileSync(p, "utf8")) as { dependencies: Record<string, string> };
const agentPkg = read(join(agentDir, "package.json"));
const rootPkg = read(join(agentDir, "..", "package.json"));
const agentLock = JSON.parse(readFileSync(join(agentDir, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string }> };

function importedPackages(): Set<string> {
  const found = new Set<string>();
  const dir = join(agentDir, "src");
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((n) => n.endsWith(".ts"));
  for (const f of files) {
    for (const m of readFileSync(join(dir, f), "utf8").matchAll(/(?:from |require\(|import\()"([^".][^"]*)"/g)) {
      if (m[1].startsWith("node:")) continue;
      found.add(m[1].startsWith("@") ? m[1].split("/").slice(0, 2).join("/") : m[1].split("/")[0]);
    }
  }
  return found;
}

describe("agent/package.json", () => {
  it("lists every package agent/src imports", () => {
    const imported = [...importedPackages()].sort();
    expect(imported.length).toBeGreaterThan(3);
    expect(imported.filter((p) => !(p in agentPkg.dependencies))).toEqual([]);
  });

  it("pins each at the root package.json's version, and its lockfile agrees", () => {
    for (const [name, version] of Object.entries(agentPkg.dependencies)) {
      expect({ name, version }).toEqual({ name, version: rootPkg.dependencies[name] });
      expect({ name, locked: agentLock.packages[`node_modules/${name}`]?.version }).toEqual({ name, locked: version });
    }
  });
});
