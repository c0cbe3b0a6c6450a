// `pulumi preview --policy-pack policy` may install the pack's own dependencies from
// policy/package.json: it must list every package the pack's code imports, at the versions
// this repository tests with (the root package.json's pins), and its lockfile must agree.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { importedPackages, pinProblems, sourceFiles } from "../../test/packagePins";

const packDir = join(__dirname, "..");
const read = (p: string) => JSON.parse(readFileSync(p, "utf8")) as { dependencies: Record<string, string> };
const packPkg = read(join(packDir, "package.json"));
const rootPkg = read(join(packDir, "..", "package.json"));
const lock = JSON.parse(readFileSync(join(packDir, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string }> };

describe("policy/package.json", () => {
  it("lists every package the pack's code imports", () => {
    // Tests and the benchmark run from the repository, with its node_modules.
    const imported = importedPackages(sourceFiles(packDir, ["test", "bench"]));
    expect(imported).toContain("@pulumi/policy");
    expect(imported.filter((p) => !(p in packPkg.dependencies))).toEqual([]);
  });

  it("pins each at the root package.json's version, and its lockfile agrees", () => {
    expect(pinProblems(packPkg.dependencies, rootPkg, lock)).toEqual([]);
  });
});
