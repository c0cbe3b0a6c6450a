// `wg-mesh verify`, pure part: which pod answers for which node, what each node's
// `main.js status --json` says, and the rows, progress and summary a person (or CI, as JSON)
// reads. verifyMain.ts does the I/O (the API server's lists and the exec subresource).
import type { Check } from "../src/status";
import type { ExecResult } from "./kubeExec";

export const DEFAULT_NAMESPACE = "kube-system";
/** The DaemonSet's pods (components/nodeRouter/rbac.ts commonLabels). */
export const DEFAULT_SELECTOR = "app.kubernetes.io/name=node-router";
export const DEFAULT_CONTAINER = "node-router";

/** One node of the cluster and the node-router pod to ask about it (or why there is none to ask). */
export interface Target {
  node: string;
  pod?: string;
  problem?: string;
}

export interface NodeRow {
  node: string;
  pod?: string;
  ok: boolean;
  /** status's checks (empty when it could not be asked or did not answer). */
  checks: Check[];
  /** Why the node has no answer, or an answer that cannot be believed. */
  problem?: string;
}

type Obj = { metadata?: { name?: string; creationTimestamp?: string }; spec?: { nodeName?: string }; status?: { phase?: string } };

/**
 * Every Node, each with the Running node-router pod on it. A node without one is a gap in itself:
 * nothing on it keeps the guard in line with the table (the boot guard still holds, but stale).
 */
export function planTargets(nodeObjects: unknown[], podObjects: unknown[]): Target[] {
  const pods = (podObjects as Obj[]).filter((p) => p.metadata?.name && p.spec?.nodeName);
  const names = (nodeObjects as Obj[]).map((n) => n.metadata?.name).filter((n): n is string => typeof n === "string");
  return names.sort().map((node): Target => {
    const here = pods.filter((p) => p.spec!.nodeName === node);
    const running = here.filter((p) => p.status?.phase === "Running").sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
    if (running.length > 0) return { node, pod: running[0].metadata!.name };
    if (here.length > 0)
      return {
        node,
        problem: `node-router pod ${here.map((p) => `${p.metadata!.name} is ${p.status?.phase ?? "in no phase"}`).join(", ")}: kubectl -n <namespace> describe pod says why`,
      };
    return {
      node,
      problem:
        "no node-router pod on this node: the DaemonSet does not run here (a taint it does not tolerate, a nodeSelector, or the node joined before the DaemonSet existed); nothing keeps the guard in line with the table",
    };
  });
}

/** What runs in the pod: the image's agent (WORKDIR /app), with its environment (the DaemonSet's settings). */
export function statusCommand(probe?: number): string[] {
  return ["node", "dist/agent/src/main.js", "status", "--json", ...(probe !== undefined ? ["--probe", String(probe)] : [])];
}

const tail = (s: string) => s.trim().split("\n").slice(-3).join(" | ").slice(0, 400);

/** A node's row from its pod's answer. status exits 0 (all hold) or 1 (a check fails) with its JSON; anything else is a problem. */
export function rowFromExec(target: Target, r: ExecResult): NodeRow {
  const base = { node: target.node, pod: target.pod, checks: [] as Check[] };
  if (r.error) return { ...base, ok: false, problem: r.error };
  let doc: { node?: unknown; ok?: unknown; checks?: unknown };
  try {
    doc = JSON.parse(r.stdout) as typeof doc;
  } catch {
    return { ...base, ok: false, problem: `status gave no report (exit ${r.exitCode}): ${tail(r.stderr || r.stdout) || "no output"}` };
  }
  if (!Array.isArray(doc.checks) || typeof doc.ok !== "boolean")
    return { ...base, ok: false, problem: `status's report has no checks (exit ${r.exitCode}); is the pod's image older than status?` };
  const checks = doc.checks as Check[];
  if (doc.node !== target.node) return { ...base, checks, ok: false, problem: `the pod answered for node ${JSON.stringify(doc.node)}, not ${target.node}` };
  const consistent = doc.ok === checks.every((c) => c.ok) && (r.exitCode === 0) === doc.ok;
  if (!consistent) return { ...base, checks, ok: false, problem: `status said ok=${doc.ok} with exit ${r.exitCode}: the report contradicts itself` };
  return { ...base, checks, ok: doc.ok };
}

export function rowFromTarget(target: Target): NodeRow {
  return { node: target.node, pod: target.pod, ok: false, checks: [], problem: target.problem };
}

/** One line per node, and under a failing one, each failing check (or the problem) with what to do. */
export function renderRow(row: NodeRow, nodeWidth: number): string {
  const head = `${row.ok ? "ok  " : "FAIL"}  ${row.node.padEnd(nodeWidth)}  ${(row.pod ?? "-").padEnd(24)}`;
  if (row.problem) return `${head}  ${row.problem}\n`;
  const probe = row.checks.find((c) => c.name === "probe");
  if (row.ok) return `${head}  ${row.checks.length} checks hold${probe ? `; probe: ${probe.detail}` : ""}\n`;
  const failing = row.checks.filter((c) => !c.ok);
  return `${head}  ${failing.map((c) => c.name).join(", ")}\n${failing.map((c) => `        ${c.name}: ${c.detail}${c.fix ? `\n          -> ${c.fix}` : ""}\n`).join("")}`;
}

export function renderSummary(rows: NodeRow[], seconds: number): string {
  const failing = rows.filter((r) => !r.ok);
  const verdict =
    failing.length === 0
      ? `every node holds: no byte leaves in the clear (${rows.length} nodes)`
      : `${failing.length} of ${rows.length} nodes FAIL: ${failing.map((r) => r.node).join(", ")}`;
  return `${verdict}; asked in ${seconds.toFixed(1)} s\n`;
}

/** `[#########.........] 5/12 nodes` (rewritten in place on a terminal). */
export function progressBar(done: number, total: number, width = 30): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} nodes`;
}

export interface VerifyReport {
  ok: boolean;
  nodes: number;
  failing: string[];
  rows: NodeRow[];
}

export function report(rows: NodeRow[]): VerifyReport {
  return { ok: rows.length > 0 && rows.every((r) => r.ok), nodes: rows.length, failing: rows.filter((r) => !r.ok).map((r) => r.node), rows };
}
