// Checks GitHub Actions workflow files the way GitHub reads them, and holds them to this
// repository's rules. Plain ESM because GitHub's own parser (@actions/workflow-parser) is
// ESM-only; run directly or through test/workflows.test.ts:
//
//   node scripts/validate-workflows.mjs [--root DIR] [FILE ...]   (default: .github/workflows/*.y*ml)
//
// Prints one JSON line: {"files": [{"file", "problems": [...]}]}; exits 1 when any file has a problem.
// Rules, beyond GitHub's workflow schema:
//  - every action is pinned by a full commit SHA (`owner/repo@<40 hex>`), with the release
//    it stands for in a trailing comment (`# v7.0.0`), so a moved tag cannot change what runs;
//  - permissions are least privilege: the workflow-level block exists and grants nothing or
//    only read access; write scopes are granted per job, where they are needed;
//  - every repository path a workflow names exists (an expression inside a path, such as
//    `${{ matrix.stack }}`, is matched as a wildcard and must match at least one file).
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { register } from "node:module";
import { parse as parseYaml } from "yaml";

// The parser imports its JSON schemas without `with { type: "json" }` (it is written for
// bundlers); this resolve hook supplies the attribute so Node loads it as published.
register(
  `data:text/javascript,${encodeURIComponent(
    "export async function resolve(s, c, next) { const r = await next(s, c);" +
      " return r.url.endsWith('.json') ? { ...r, importAttributes: { ...c.importAttributes, type: 'json' } } : r; }",
  )}`,
);
const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await import("@actions/workflow-parser");

const { values, positionals } = parseArgs({ options: { root: { type: "string", default: process.cwd() } }, allowPositionals: true });
const root = values.root;

function workflowFiles() {
  const dir = join(root, ".github", "workflows");
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f));
}

/** Every file of the repository (relative paths), for the "named paths exist" rule. */
function repositoryFiles(dir = root, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === ".git" || entry.name === "dist") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      out.push(relative(root, path) + "/");
      repositoryFiles(path, out);
    } else {
      out.push(relative(root, path));
    }
  }
  return out;
}

async function schemaProblems(name, content) {
  const result = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const problems = result.context.errors.getErrors().map((e) => `schema: ${e.message}`);
  if (result.value && problems.length === 0) {
    const template = await convertWorkflowTemplate(result.context, result.value);
    for (const e of template.errors ?? []) problems.push(`schema: ${e.Message}`);
  }
  return problems;
}

const SHA_PINNED = /^[\w.-]+\/[\w.\/-]+@[0-9a-f]{40}$/;

function pinningProblems(content) {
  const problems = [];
  for (const line of content.split("\n")) {
    const m = /^\s*(?:-\s*)?uses:\s*(["']?)([^"'\s#]+)\1\s*(#.*)?$/.exec(line);
    if (!m) continue;
    const [, , ref, comment] = m;
    if (ref.startsWith("./") || ref.startsWith("docker://")) continue;
    if (!SHA_PINNED.test(ref)) problems.push(`pinning: ${ref} is not pinned by a full commit SHA (use owner/repo@<40-hex sha> # vX.Y.Z)`);
    else if (!comment || !/#\s*v?\d+(\.\d+)*/.test(comment)) problems.push(`pinning: ${ref} has no "# vX.Y.Z" comment naming the release the SHA stands for`);
  }
  return problems;
}

const grantsWrite = (permissions) =>
  permissions === "write-all" || (permissions !== null && typeof permissions === "object" && Object.values(permissions).some((v) => v === "write"));

function permissionProblems(doc) {
  if (!("permissions" in doc)) return ["permissions: no workflow-level permissions block; add `permissions: {}` (or read-only) and grant writes per job"];
  const top = doc.permissions;
  if (top === "read-all" || top === "write-all" || grantsWrite(top)) {
    return [`permissions: the workflow-level block grants ${JSON.stringify(top)}; keep it empty or read-only and grant writes in the jobs that need them`];
  }
  return Object.entries(doc.jobs ?? {})
    .filter(([, job]) => job && job.permissions === "write-all")
    .map(([id]) => `permissions: job ${id} grants write-all; list the scopes it needs`);
}

/** Strings anywhere in the workflow (run scripts, `with` inputs, working directories). */
function strings(node, out = []) {
  if (typeof node === "string") out.push(node);
  else if (Array.isArray(node)) node.forEach((n) => strings(n, out));
  else if (node && typeof node === "object") Object.values(node).forEach((n) => strings(n, out));
  return out;
}

function pathProblems(doc, files, topDirs) {
  const problems = [];
  const seen = new Set();
  const dirs = topDirs.map((d) => d.replace(/[.]/g, "\\.")).join("|");
  const pattern = new RegExp(`(?:^|[\\s"'=(:,])((?:${dirs})/[\\w.*/-]*[\\w*/])`, "g");
  for (const raw of strings(doc)) {
    // An expression (or a shell glob) inside a path stands for any name.
    const text = raw.replace(/\$\{\{[^}]*\}\}/g, "*");
    for (const m of text.matchAll(pattern)) {
      const path = m[1];
      if (seen.has(path)) continue;
      seen.add(path);
      const re = new RegExp(`^${path.replace(/[.+?^()|[\]\\$]/g, "\\$&").replace(/\*/g, "[^/]*")}/?$`);
      if (!files.some((f) => re.test(f))) problems.push(`paths: ${path} names nothing in the repository`);
    }
  }
  return problems;
}

const files = repositoryFiles();
const topDirs = [...new Set(files.filter((f) => f.endsWith("/") && !f.slice(0, -1).includes("/")).map((f) => f.slice(0, -1)))];
const targets = positionals.length > 0 ? positionals : workflowFiles();
const report = [];
for (const file of targets) {
  const content = readFileSync(file, "utf8");
  const problems = await schemaProblems(relative(root, file), content);
  let doc;
  try {
    doc = parseYaml(content);
  } catch (e) {
    problems.push(`yaml: ${e.message}`);
  }
  if (doc && typeof doc === "object") {
    problems.push(...pinningProblems(content), ...permissionProblems(doc), ...pathProblems(doc, files, topDirs));
  }
  report.push({ file: existsSync(file) ? relative(root, file) : file, problems });
}
process.stdout.write(JSON.stringify({ files: report }) + "\n");
process.exit(report.every((r) => r.problems.length === 0) ? 0 : 1);
