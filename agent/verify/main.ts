#!/usr/bin/env node
// `wg-mesh verify`: asks every node of the cluster, through the Kubernetes exec API, whether any
// byte could leave it in the clear (`main.js status` in its node-router pod; with --probe, a
// probe in the clear that the guard must drop and count). One row per node, a summary, and exit
// 0 only when every node holds; 1 on any gap; 2 when the cluster cannot be asked at all.
//   npx wg-mesh verify [--kubeconfig FILE] [--probe N] [--output text|json]
//   npm run verify -- --kubeconfig FILE
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { kubeconfigTarget, KubeConfigError, type KubeTarget } from "../src/kube/config";
import { KubeTransport } from "../src/kube/transport";
import { execInPod } from "./kubeExec";
import {
  DEFAULT_CONTAINER,
  DEFAULT_NAMESPACE,
  DEFAULT_SELECTOR,
  planTargets,
  progressBar,
  renderRow,
  renderSummary,
  report,
  rowFromExec,
  rowFromTarget,
  statusCommand,
  type NodeRow,
  type Target,
} from "./verify";

const USAGE = `usage: wg-mesh verify [options]
  --kubeconfig FILE        the cluster (default $KUBECONFIG, then ~/.kube/config); client certificate, token or basic auth
  --namespace NS           where the node-router DaemonSet runs (default ${DEFAULT_NAMESPACE})
  --selector LABELS        its pods' labels (default ${DEFAULT_SELECTOR})
  --container NAME         its container (default ${DEFAULT_CONTAINER})
  --probe N                each node also sends a probe in the clear to N other nodes, past its routes: the guard must drop and count it
  --output text|json       json: one document for CI (default text)
  --concurrency N          nodes asked at once (default 8)
  --timeout-seconds S      per node (default 60)
Needs: list nodes, list pods and create pods/exec in the namespace.
`;

class UsageError extends Error {}

function options(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      kubeconfig: { type: "string" },
      namespace: { type: "string", default: DEFAULT_NAMESPACE },
      selector: { type: "string", default: DEFAULT_SELECTOR },
      container: { type: "string", default: DEFAULT_CONTAINER },
      probe: { type: "string" },
      output: { type: "string", default: "text" },
      concurrency: { type: "string", default: "8" },
      "timeout-seconds": { type: "string", default: "60" },
      help: { type: "boolean", short: "h" },
    },
  });
  const whole = (flag: string, v: string | undefined, min: number) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${flag}: ${JSON.stringify(v)} must be a whole number >= ${min}`);
    return n;
  };
  if (values.output !== "text" && values.output !== "json") throw new UsageError(`--output: ${JSON.stringify(values.output)} must be text or json`);
  const command = positionals[0];
  if (!values.help && command !== "verify") throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : "no command");
  return {
    help: values.help === true,
    kubeconfig: values.kubeconfig ?? process.env.KUBECONFIG?.split(":")[0] ?? join(homedir(), ".kube", "config"),
    namespace: values.namespace!,
    selector: values.selector!,
    container: values.container!,
    probe: whole("probe", values.probe, 1),
    json: values.output === "json",
    concurrency: whole("concurrency", values.concurrency, 1)!,
    timeoutMs: whole("timeout-seconds", values["timeout-seconds"], 1)! * 1000,
  };
}

/** Every item of a list, in pages of 500 as kubectl asks for them. */
async function listAll(api: KubeTransport, path: string, query: Record<string, string> = {}): Promise<unknown[]> {
  const items: unknown[] = [];
  for await (const page of api.listPages(path, 500, { idleMs: 30_000 }, query)) items.push(...page.items);
  return items;
}

async function askAll(target: KubeTarget, o: ReturnType<typeof options>, targets: Target[], onDone: (row: NodeRow) => void): Promise<NodeRow[]> {
  const rows: NodeRow[] = [];
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const t = targets[next++];
      const row = t.pod
        ? rowFromExec(
            t,
            await execInPod(target, { namespace: o.namespace, pod: t.pod, container: o.container, command: statusCommand(o.probe), timeoutMs: o.timeoutMs }),
          )
        : rowFromTarget(t);
      rows.push(row);
      onDone(row);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, targets.length) }, worker));
  return rows.sort((a, b) => (a.node < b.node ? -1 : 1));
}

async function main(argv: string[]): Promise<number> {
  let o: ReturnType<typeof options>;
  try {
    o = options(argv);
  } catch (e) {
    process.stderr.write(`wg-mesh: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const started = Date.now();
  let target: KubeTarget;
  try {
    target = await kubeconfigTarget(o.kubeconfig);
  } catch (e) {
    if (!(e instanceof KubeConfigError)) throw e;
    process.stderr.write(`wg-mesh: ${e.message.replace("node-router", "wg-mesh verify")}\n`);
    return 2;
  }
  const api = new KubeTransport(target);
  let targets: Target[];
  try {
    const [nodes, pods] = await Promise.all([
      listAll(api, "/api/v1/nodes"),
      listAll(api, `/api/v1/namespaces/${encodeURIComponent(o.namespace)}/pods`, { labelSelector: o.selector }),
    ]);
    targets = planTargets(nodes, pods);
  } catch (e) {
    process.stderr.write(`wg-mesh: cannot list the cluster's nodes and node-router pods at ${target.server.origin}: ${(e as Error).message}\n`);
    return 2;
  } finally {
    api.close();
  }
  if (targets.length === 0) {
    process.stderr.write("wg-mesh: the cluster lists no nodes\n");
    return 1;
  }
  const tty = !o.json && process.stderr.isTTY === true;
  let done = 0;
  const width = Math.max(...targets.map((t) => t.node.length));
  if (!o.json) process.stdout.write(`asking ${targets.length} nodes at ${target.server.origin}${o.probe ? ` (probe: ${o.probe} nodes each)` : ""}\n`);
  const rows = await askAll(target, o, targets, () => {
    done++;
    if (tty) process.stderr.write(`\r${progressBar(done, targets.length)}`);
  });
  if (tty) process.stderr.write("\n");
  const r = report(rows);
  if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  else process.stdout.write(rows.map((row) => renderRow(row, width)).join("") + renderSummary(rows, (Date.now() - started) / 1000));
  return r.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`wg-mesh: fatal: ${e.stack ?? e.message}\n`);
    process.exit(2);
  },
);
