// `pulumi preview --policy-pack policy` may install the pack's own dependencies from
// policy/package.json: it must list every package the pack's code imports, at the versions
// this repository tests with (the root package.json's pins), and its lockfile must agree.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const packDir = join(__dirname, "..");
const read = (p: string) => JSON.parse(readFileSync(p, "utf8")) as { dependencies: Record<string, string> };
const packPkg = read(join(packDir, "package.json"));
const rootPkg = read(join(packDir, "..", "package.json"));
const lock = JSON.parse(readFileSync(join(packDir, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string }> };

/** Packages imported by the pack's code (tests excluded: they run from the repository). */
function importedPackages(dir = packDir, found = new Set<string>()): Set<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== "test" && name !== "node_modules") importedPackages(path, found);
      continue;
    }
    if (!name.endsWith(".ts") || name.endsWith(".test.ts")) continue;
    for (const m of readFileSync(path, "utf8").matchAll(/(?:from |require\()"([^".][^"]*)"/g)) {
      if (m[1].startsWith("node:")) continue;
      found.add(m[1].startsWith("@") ? m[1].split("/").slice(0, 2).join("/") : m[1].split("/")[0]);
    }
  }
  return found;
}

describe("policy/package.json", () => {
  it("lists every package the pack's code imports", () => {
    const imported = [...importedPackages()].sort();
    expect(imported).toContain("@pulumi/policy");
    expect(imported.filter((p) => !(p in packPkg.dependencies))).toEqual([]);
  });

  it("pins each at the root package.json's version, and its lockfile agrees", () => {
    for (const [name, version] of Object.entries(packPkg.dependencies)) {
      expect({ name, version }).toEqual({ name, version: rootPkg.dependencies[name] });
      expect({ name, locked: lock.packages[`node_modules/${name}`]?.version }).toEqual({ name, locked: version });
    }
  });
});
