// What `pulumi package add` needs from the folder: PulumiPlugin.yaml naming the nodejs runtime, a
// package.json whose name is the package's (run-plugin and the schema take it from there) and whose
// main is the entry, and dependencies the CLI can install. The CLI's "install dependencies" step
// finds the npm workspace root (the repository) and installs there, so the plugin and the
// components it imports from ../components share one node_modules and one @pulumi/pulumi: the
// plugin lists every package its code (and the code it imports) uses, at the root's pins.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { importedPackages, pinProblems } from "../../test/packagePins";
import { parse } from "yaml";
import { PACKAGE_NAME } from "../provider";

const pluginDir = join(__dirname, "..");
const root = join(pluginDir, "..");
const readJson = (p: string) => JSON.parse(readFileSync(p, "utf8"));
const pluginPkg = readJson(join(pluginDir, "package.json")) as { name: string; main: string; dependencies: Record<string, string> };
const rootPkg = readJson(join(root, "package.json")) as {
  workspaces?: string[];
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const rootLock = readJson(join(root, "package-lock.json")) as { packages: Record<string, { resolved?: string; link?: boolean; version?: string }> };

describe("the plugin folder", () => {
  it("is a nodejs plugin whose package.json names the package and its entry", () => {
    expect(parse(readFileSync(join(pluginDir, "PulumiPlugin.yaml"), "utf8"))).toEqual({ runtime: "nodejs" });
    expect(pluginPkg.name).toBe(PACKAGE_NAME);
    expect(existsSync(join(pluginDir, pluginPkg.main))).toBe(true);
  });

  it("lists every package its code imports, and what run-plugin compiles it with", () => {
    // The entry and every file it reaches through relative imports (the components it serves).
    const imported = importedPackages([join(pluginDir, pluginPkg.main)], true);
    expect(imported).toEqual(expect.arrayContaining(["@pulumi/pulumi", "@pulumi/aws", "@pulumi/gcp", "@pulumi/kubernetes"]));
    expect([...imported, "typescript", "@types/node"].filter((p) => !(p in pluginPkg.dependencies))).toEqual([]);
  });

  it("pins each at the root package.json's version (one copy in node_modules), and the root lockfile agrees", () => {
    expect(pinProblems(pluginPkg.dependencies, rootPkg, rootLock)).toEqual([]);
  });

  it("is a workspace of the repository, so the CLI installs its dependencies at the root", () => {
    expect(rootPkg.workspaces).toContain("provider");
    expect(rootLock.packages[`node_modules/${PACKAGE_NAME}`]).toEqual({ resolved: "provider", link: true });
  });
});
