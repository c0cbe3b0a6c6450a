// The API side of one node's in-place upgrade (issue 27): cordon, drain honouring
// PodDisruptionBudgets (evictions, not deletions: the API refuses one a budget forbids with 429
// and the drain retries it), run the upgrade as a privileged Job pinned to the node, uncordon,
// wait until the node is Ready again with Cilium's agent and the node-router.
//
// Plain async functions over a KubeApi (kubeApi.ts), tested against a Kubernetes API stand-in
// over HTTP (test/standins/upgradeApi.ts); a dynamic provider only calls them. No node module is
// imported here: what runs in the provider is serialized (see waitForApi.ts).
import { consoleCommand, nodeProblems, type ApiNode, type ApiPod, type NodeInstance } from "../nodesReady";
import type { KubeApi, Method } from "./kubeApi";

/** Label on the upgrade Job's pods (value: the Job's name); a drain leaves them alone. */
export const UPGRADE_LABEL = "wg-mesh.io/upgrade";

/** The annotation the kubelet puts on the API's mirror of a static pod. */
const MIRROR_ANNOTATION = "kubernetes.io/config.mirror";

export interface PollOptions {
  readonly timeoutMs: number;
  readonly intervalMs: number;
}

/** The parts of a Pod the drain reads. */
export interface KubePod {
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
    readonly ownerReferences?: readonly { readonly kind: string; readonly name?: string; readonly uid?: string }[];
    readonly creationTimestamp?: string;
  };
  readonly spec?: { readonly nodeName?: string };
  readonly status?: { readonly phase?: string };
}

/** An answer the caller did not expect; status 0 when there was no answer at all. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Worth retrying until the deadline: no answer (the API server restarting), 429, 5xx. */
const transient = (e: unknown): boolean => e instanceof ApiError && (e.status === 0 || e.status === 429 || e.status >= 500);

/** The API's own words: a Status's message with its causes (a PDB refusal names the budget there), or the text. */
export function apiMessage(body: unknown): string {
  if (body && typeof body === "object") {
    const s = body as { message?: string; details?: { causes?: { message?: string }[] } };
    const causes = (s.details?.causes ?? []).map((c) => c.message).filter((m): m is string => !!m);
    if (s.message) return causes.length > 0 ? `${s.message} (${causes.join("; ")})` : s.message;
    return JSON.stringify(body).slice(0, 300);
  }
  return String(body ?? "").slice(0, 300);
}

/** One request whose status must be one of `accept`; any other, or no answer, throws an ApiError. */
async function call(
  api: KubeApi,
  method: Method,
  path: string,
  accept: readonly number[],
  body?: unknown,
  contentType?: string,
): Promise<{ status: number; body: unknown }> {
  let r: { status: number; body: unknown };
  try {
    r = await api.request(method, path, body, contentType);
  } catch (e) {
    throw new ApiError(0, `${method} ${path}: no answer: ${(e as Error).message}`);
  }
  if (!accept.includes(r.status)) throw new ApiError(r.status, `${method} ${path}: HTTP ${r.status}: ${apiMessage(r.body)}`);
  return r;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A timeout as people read it: minutes, or seconds below one. */
const duration = (ms: number) => (ms >= 60_000 ? `${+(ms / 60_000).toFixed(1)} min` : `${+(ms / 1000).toFixed(1)} s`);

/**
 * Calls `step` every intervalMs until it returns a value. Transient API errors are remembered and
 * retried; any other error rejects at once. At the deadline rejects with `timedOut(lastError)`.
 */
async function poll<T>(o: PollOptions, deadline: number, step: () => Promise<T | undefined>, timedOut: (lastError?: string) => Error): Promise<T> {
  let lastError: string | undefined;
  for (;;) {
    try {
      const v = await step();
      if (v !== undefined) return v;
      lastError = undefined;
    } catch (e) {
      if (!transient(e)) throw e;
      lastError = (e as Error).message;
    }
    if (Date.now() + o.intervalMs > deadline) throw timedOut(lastError);
    await sleep(o.intervalMs);
  }
}

const podKey = (p: KubePod) => `${p.metadata.namespace ?? "default"}/${p.metadata.name}`;
const seg = encodeURIComponent;

/** Pods a drain evicts: not mirror (static) pods, not DaemonSets' pods, not finished ones, not our upgrade Job's. */
export function podsToEvict<P extends KubePod>(pods: readonly P[]): P[] {
  return pods.filter(
    (p) =>
      p.metadata.annotations?.[MIRROR_ANNOTATION] === undefined &&
      !(p.metadata.ownerReferences ?? []).some((o) => o.kind === "DaemonSet") &&
      p.status?.phase !== "Succeeded" &&
      p.status?.phase !== "Failed" &&
      p.metadata.labels?.[UPGRADE_LABEL] === undefined,
  );
}

/** Marks the node (un)schedulable. */
export async function cordon(api: KubeApi, node: string, unschedulable: boolean): Promise<void> {
  await call(api, "PATCH", `/api/v1/nodes/${seg(node)}`, [200], { spec: { unschedulable } }, "application/strategic-merge-patch+json");
}

export const uncordon = (api: KubeApi, node: string): Promise<void> => cordon(api, node, false);

async function podsOn(api: KubeApi, node: string): Promise<KubePod[]> {
  const r = await call(api, "GET", `/api/v1/pods?fieldSelector=${seg(`spec.nodeName=${node}`)}`, [200]);
  return (r.body as { items: KubePod[] }).items;
}

/**
 * Cordons the node and evicts its pods (podsToEvict), retrying an eviction a PodDisruptionBudget
 * refuses (429) every intervalMs; resolves once every evicted pod is gone from the node (deleted,
 * or its name now another pod's). No answer, or a 5xx outside the eviction (the API server
 * restarting), is retried; any other refusal rejects at once; at the deadline rejects naming each pod still there and the
 * API's last word on it.
 */
export async function drainNode(api: KubeApi, node: string, o: PollOptions): Promise<{ evicted: string[] }> {
  const start = Date.now();
  let left: Map<string, { pod: KubePod; evicted: boolean; why: string }> | undefined;
  const evicted: string[] = [];
  let lastError: string | undefined;
  for (;;) {
    try {
      // The API may be briefly away (a control plane's API server restarting behind the
      // endpoint): any step is retried until the deadline, from where it stopped.
      if (!left) {
        await cordon(api, node, true);
        left = new Map(podsToEvict(await podsOn(api, node)).map((pod) => [podKey(pod), { pod, evicted: false, why: "not evicted yet" }]));
      }
      for (const [key, s] of left) {
        if (s.evicted) continue;
        const { name, namespace = "default" } = s.pod.metadata;
        const path = `/api/v1/namespaces/${seg(namespace)}/pods/${seg(name)}/eviction`;
        const r = await call(api, "POST", path, [200, 201, 404, 429, 500], { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace } });
        // The eviction subresource answers 500 for what no retry changes (a pod under two budgets).
        if (r.status === 500) throw new Error(`POST ${path}: HTTP 500: ${apiMessage(r.body)}`);
        if (r.status === 404) left.delete(key);
        else if (r.status === 429) s.why = `eviction refused (HTTP 429): ${apiMessage(r.body)}`;
        else {
          s.evicted = true;
          s.why = "evicted, still terminating";
          evicted.push(key);
        }
      }
      if ([...left.values()].some((s) => s.evicted)) {
        const now = await podsOn(api, node);
        for (const [key, s] of left) if (s.evicted && !now.some((p) => podKey(p) === key && p.metadata.uid === s.pod.metadata.uid)) left.delete(key);
      }
      lastError = undefined;
      if (left.size === 0) return { evicted };
    } catch (e) {
      if (!transient(e)) throw e;
      lastError = (e as Error).message;
    }
    if (Date.now() - start + o.intervalMs > o.timeoutMs) {
      const pods = left ? [...left].map(([key, s]) => `  - ${key}: ${s.why}`) : [];
      throw new Error(
        `drain of node ${node} did not finish within ${duration(o.timeoutMs)} (cluster.upgrade.drainTimeoutMinutes raises it); ` +
          (left ? `${left.size} pod(s) still on it:\n${pods.join("\n")}` : "the node was not cordoned and its pods not listed") +
          (lastError ? `\nLast API error: ${lastError}` : ""),
      );
    }
    await sleep(o.intervalMs);
  }
}

/** What runs on the node: a script run in the host's namespaces, its arguments and environment. */
export interface NodeJobSpec {
  readonly name: string;
  readonly namespace: string;
  readonly node: string;
  readonly image: string;
  readonly script: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Pull secrets in the namespace for a private image (the agent's, which is usually on the node already). */
  readonly imagePullSecrets?: readonly string[];
}

/**
 * The Job, pure: one privileged pod pinned to the node that enters PID 1's namespaces and runs the
 * script with bash (`$0` is `wg-mesh-upgrade`, then the args). It tolerates every taint (the node
 * is cordoned; a control plane is tainted), is never retried by the Job controller, and is node
 * critical so a full node still admits it.
 */
export function upgradeJob(spec: NodeJobSpec) {
  const labels = { [UPGRADE_LABEL]: spec.name };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: spec.name, namespace: spec.namespace, labels },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels },
        spec: {
          nodeName: spec.node,
          hostPID: true,
          hostNetwork: true,
          restartPolicy: "Never",
          priorityClassName: "system-node-critical",
          tolerations: [{ operator: "Exists" }],
          ...(spec.imagePullSecrets?.length ? { imagePullSecrets: spec.imagePullSecrets.map((name) => ({ name })) } : {}),
          containers: [
            {
              name: "upgrade",
              image: spec.image,
              // The agent's image is on every node already (the boot pulls it, the DaemonSet runs it).
              imagePullPolicy: "IfNotPresent",
              command: [
                "nsenter",
                "--target",
                "1",
                "--mount",
                "--uts",
                "--ipc",
                "--net",
                "--pid",
                "--",
                "bash",
                "-c",
                spec.script,
                "wg-mesh-upgrade",
                ...spec.args,
              ],
              env: Object.entries(spec.env).map(([name, value]) => ({ name, value })),
              securityContext: { privileged: true },
            },
          ],
        },
      },
    },
  };
}

interface KubeJob {
  readonly metadata: { readonly uid?: string };
  readonly status?: {
    readonly succeeded?: number;
    readonly failed?: number;
    readonly conditions?: readonly { readonly type: string; readonly status: string; readonly reason?: string; readonly message?: string }[];
  };
}

/** The log of the Job's newest pod (by label, owned by that very Job), or undefined when it has none. */
async function jobPodLog(api: KubeApi, spec: NodeJobSpec, jobUid: string | undefined, tailLines?: number): Promise<{ pod: string; log: string } | undefined> {
  const ns = seg(spec.namespace);
  const list = await call(api, "GET", `/api/v1/namespaces/${ns}/pods?labelSelector=${seg(`${UPGRADE_LABEL}=${spec.name}`)}`, [200]);
  const pods = (list.body as { items: KubePod[] }).items
    .filter((p) => !jobUid || (p.metadata.ownerReferences ?? []).some((o) => o.kind === "Job" && o.uid === jobUid))
    .sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""));
  const pod = pods[pods.length - 1];
  if (!pod) return undefined;
  const r = await call(api, "GET", `/api/v1/namespaces/${ns}/pods/${seg(pod.metadata.name)}/log${tailLines ? `?tailLines=${tailLines}` : ""}`, [200]);
  const log = typeof r.body === "string" ? r.body : r.body === undefined ? "" : JSON.stringify(r.body);
  return { pod: pod.metadata.name, log: tailLines ? log.replace(/\n$/, "").split("\n").slice(-tailLines).join("\n") : log };
}

/**
 * Runs the script on the node as upgradeJob(spec): deletes a previous Job of that name first (and
 * waits until it is gone) so a rerun starts fresh, creates the Job, polls it. Resolves with its
 * pod's log once it succeeded ("" if no pod is left to read); rejects when it failed (with the
 * last 30 lines of the log) or at the deadline. Transient API errors (no answer, 5xx: the API
 * server restarts while a control plane upgrades) are retried until the deadline.
 */
export async function runNodeJob(api: KubeApi, spec: NodeJobSpec, o: PollOptions): Promise<string> {
  const deadline = Date.now() + o.timeoutMs;
  const what = `Job ${spec.namespace}/${spec.name} on node ${spec.node}`;
  const jobs = `/apis/batch/v1/namespaces/${seg(spec.namespace)}/jobs`;
  const job = `${jobs}/${seg(spec.name)}`;
  const timedOut = (while_: string) => (lastError?: string) =>
    new Error(`${what} did not finish within ${duration(o.timeoutMs)} (${while_})${lastError ? `; last API error: ${lastError}` : ""}`);

  let deleted = false;
  await poll(
    o,
    deadline,
    async () => {
      if (!deleted) {
        const r = await call(api, "DELETE", `${job}?propagationPolicy=Background`, [200, 202, 404]);
        if (r.status === 404) return true;
        deleted = true;
      }
      return (await call(api, "GET", job, [200, 404])).status === 404 ? true : undefined;
    },
    timedOut("the previous Job of that name was still being deleted"),
  );

  const uid = await poll(
    o,
    deadline,
    async () => {
      const r = await call(api, "POST", jobs, [200, 201, 409], upgradeJob(spec));
      // 409: an earlier attempt was created but its answer lost.
      const created = r.status === 409 ? (await call(api, "GET", job, [200])).body : r.body;
      return (created as KubeJob).metadata.uid ?? "";
    },
    timedOut("the Job could not be created"),
  );

  const done = await poll(
    o,
    deadline,
    async () => {
      const s = ((await call(api, "GET", job, [200])).body as KubeJob).status;
      if ((s?.succeeded ?? 0) >= 1) return { ok: true, failure: undefined };
      if ((s?.failed ?? 0) >= 1) {
        const c = s?.conditions?.find((c) => c.type === "Failed" && c.status === "True");
        return { ok: false, failure: c ? `${c.reason ?? "Failed"}${c.message ? `: ${c.message}` : ""}` : undefined };
      }
      return undefined;
    },
    timedOut("still running"),
  );

  if (done.ok) {
    const r = await poll(
      o,
      deadline,
      async () => (await jobPodLog(api, spec, uid || undefined)) ?? { pod: "", log: "" },
      timedOut("its log could not be read"),
    );
    return r.log;
  }
  let tail: string;
  try {
    const r = await poll(o, deadline, () => jobPodLog(api, spec, uid || undefined, 30), timedOut("its log could not be read"));
    tail = `the last 30 lines of pod ${r.pod}'s log:\n${r.log}`;
  } catch (e) {
    tail = `its pod's log could not be read: ${(e as Error).message}`;
  }
  throw new Error(`${what} failed${done.failure ? ` (${done.failure})` : ""}; ${tail}`);
}

/** What a node's kubelet reports of itself (status.nodeInfo). */
export interface NodeInfo {
  readonly status?: { readonly nodeInfo?: { readonly kubeletVersion?: string; readonly containerRuntimeVersion?: string } };
}

/** The versions an upgraded node must report: "1.35.0" and "1.7.28". */
export interface ExpectedVersions {
  readonly kubernetesVersion: string;
  readonly containerdVersion: string;
}

/** Why the node's own report is not the target versions (empty when it is): its kubelet posts them once restarted. */
export function versionProblems(node: NodeInfo, want: ExpectedVersions): string[] {
  const info = node.status?.nodeInfo ?? {};
  const problems: string[] = [];
  if (info.kubeletVersion !== `v${want.kubernetesVersion}`)
    problems.push(`kubelet reports ${info.kubeletVersion ?? "no version"}, not v${want.kubernetesVersion}`);
  if (info.containerRuntimeVersion !== `containerd://${want.containerdVersion}`)
    problems.push(`runtime reports ${info.containerRuntimeVersion ?? "no version"}, not containerd://${want.containerdVersion}`);
  return problems;
}

/**
 * Polls until the node is back: registered, Ready, Cilium's agent and the node-router Running on
 * it (nodeProblems). API errors are retried (the API server may still be restarting); at the
 * deadline rejects with what is missing and the command that prints the node's serial console.
 */
export async function waitNodeBack(api: KubeApi, node: NodeInstance, o: PollOptions & { readonly versions?: ExpectedVersions }): Promise<{ attempts: number }> {
  let attempts = 0;
  let problems = ["not checked yet"];
  return poll(
    o,
    Date.now() + o.timeoutMs,
    async () => {
      attempts++;
      const n = await call(api, "GET", `/api/v1/nodes/${seg(node.name)}`, [200, 404]);
      const apiNode = n.status === 404 ? undefined : (n.body as ApiNode & NodeInfo);
      const pods = apiNode ? ((await podsOn(api, node.name)) as ApiPod[]) : [];
      problems = [...nodeProblems(apiNode, pods), ...(apiNode && o.versions ? versionProblems(apiNode, o.versions) : [])];
      return problems.length === 0 ? { attempts } : undefined;
    },
    (lastError) =>
      new Error(
        `node ${node.name} (${node.cloud} instance ${node.instanceId}) not back within ${duration(o.timeoutMs)} after its upgrade: ${problems.join("; ")}\n` +
          `  serial console: ${consoleCommand(node)}` +
          (lastError ? `\n  last API error: ${lastError}` : ""),
      ),
  );
}
