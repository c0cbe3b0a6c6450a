// One reading of "what a package.json must pin", shared by the three folders the CLI or the image
// install on their own (the agent image, the policy pack, the component plugin): which packages
// some code imports, and how each listed dependency differs from the root's pin and a lockfile.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const IMPORT = /(?:from |import\(|require\()"([^"]+)"/g;

/** The package a module specifier names (`@scope/name`, `name`), or undefined for relative and `node:` ones. */
export function packageOf(spec: string): string | undefined {
  if (spec.startsWith(".") || spec.startsWith("node:")) return undefined;
  return spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
}

/** Every `.ts` file under `dir` but tests, skipping the named folders (and node_modules). */
export function sourceFiles(dir: string, skipDirs: readonly string[] = []): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "node_modules" || skipDirs.includes(name) ? [] : sourceFiles(path, skipDirs);
    return name.endsWith(".ts") && !name.endsWith(".test.ts") ? [path] : [];
  });
}

/** Packages the files import; with `followRelative`, also those of every file they reach through relative imports. */
export function importedPackages(files: readonly string[], followRelative = false): string[] {
  const found = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of readFileSync(file, "utf8").matchAll(IMPORT)) {
      const pkg = packageOf(m[1]);
      if (pkg) found.add(pkg);
      else if (followRelative && m[1].startsWith(".")) {
        const base = resolve(dirname(file), m[1]);
        const target = [`${base}.ts`, join(base, "index.ts"), base].find((p) => existsSync(p) && p.endsWith(".ts"));
        if (target) visit(target);
      }
    }
  };
  for (const f of files) visit(f);
  return [...found].sort();
}

type Lock = { packages: Record<string, { version?: string }> };

/**
 * Each dependency whose version differs from the root's pin (dependencies or devDependencies) or
 * from what the lockfile installs, as "<name>: ..."; throws on an empty list (nothing to check).
 */
export function pinProblems(
  dependencies: Record<string, string>,
  root: { dependencies: Record<string, string>; devDependencies?: Record<string, string> },
  lock: Lock,
): string[] {
  const entries = Object.entries(dependencies);
  if (entries.length === 0) throw new Error("no dependencies to check");
  return entries.flatMap(([name, version]) => {
    const pinned = root.dependencies[name] ?? root.devDependencies?.[name];
    const locked = lock.packages[`node_modules/${name}`]?.version;
    return [
      ...(version !== pinned ? [`${name}: ${version}, the root pins ${pinned ?? "nothing"}`] : []),
      ...(locked !== version ? [`${name}: ${version}, the lockfile installs ${locked ?? "nothing"}`] : []),
    ];
  });
}
