// The image installs agent/package.json, not the root one: it must list every package the
// agent imports, at the versions the tests ran with (the root package.json's pins).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { importedPackages, pinProblems, sourceFiles } from "../../../test/packagePins";

const agentDir = join(__dirname, "..", "..");
const read = (p: string) => JSON.parse(readFileSync(p, "utf8")) as { dependencies: Record<string, string> };
const agentPkg = read(join(agentDir, "package.json"));
const rootPkg = read(join(agentDir, "..", "package.json"));
const agentLock = JSON.parse(readFileSync(join(agentDir, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string }> };

describe("agent/package.json", () => {
  it("lists every package agent/src imports", () => {
    const imported = importedPackages(sourceFiles(join(agentDir, "src")));
    expect(imported.length).toBeGreaterThan(3);
    expect(imported.filter((p) => !(p in agentPkg.dependencies))).toEqual([]);
  });

  it("pins each at the root package.json's version, and its lockfile agrees", () => {
    expect(pinProblems(agentPkg.dependencies, rootPkg, agentLock)).toEqual([]);
  });
});
