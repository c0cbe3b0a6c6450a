// The shared pin check can fail: a version apart from the root's pin or the lockfile is named.
import { packageOf, pinProblems } from "./packagePins";

describe("packagePins", () => {
  it("names a dependency apart from the root's pin or the lockfile, and refuses an empty list", () => {
    const root = { dependencies: { a: "1.0.0" }, devDependencies: { b: "2.0.0" } };
    const lock = { packages: { "node_modules/a": { version: "1.0.0" }, "node_modules/b": { version: "2.0.1" } } };
    expect(pinProblems({ a: "1.0.0", b: "2.0.0" }, root, lock)).toEqual(["b: 2.0.0, the lockfile installs 2.0.1"]);
    expect(pinProblems({ a: "^1.0.0", c: "3.0.0" }, root, lock)).toEqual([
      "a: ^1.0.0, the root pins 1.0.0",
      "a: ^1.0.0, the lockfile installs 1.0.0",
      "c: 3.0.0, the root pins nothing",
      "c: 3.0.0, the lockfile installs nothing",
    ]);
    expect(() => pinProblems({}, root, lock)).toThrow(/no dependencies/);
  });

  it("reads the package a specifier names", () => {
    expect(["@pulumi/pulumi/runtime", "yaml", "./x", "node:fs", "prom-client/lib"].map(packageOf)).toEqual([
      "@pulumi/pulumi",
      "yaml",
      undefined,
      undefined,
      "prom-client",
    ]);
  });
});
