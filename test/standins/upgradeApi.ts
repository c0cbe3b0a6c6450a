// A Kubernetes API stand-in over plain HTTP on 127.0.0.1 for a node's in-place upgrade: Nodes
// (get, list, merge PATCH), Pods (list by spec.nodeName and label selector, get, the eviction and
// log subresources), PodDisruptionBudgets as the eviction subresource applies them, and Jobs
// (create, get, delete with Background propagation). State is plain objects the test edits; the
// test plays the kubelet and the Job controller (onJobCreated, then setting a Job's status).
// `intercept` answers a request in the API's place (a 503, or a dropped connection, as an API
// server restarting does).
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { TestPki } from "./tls";
import type { AddressInfo } from "node:net";

export interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion?: string; kind: string; name?: string; uid?: string; controller?: boolean }[];
    creationTimestamp?: string;
    deletionTimestamp?: string;
  };
  spec?: any;
  status?: any;
}

export interface UpgradeApiState {
  nodes: Obj[];
  pods: Obj[];
  /** policy/v1 PodDisruptionBudgets: spec.selector.matchLabels, status.disruptionsAllowed. */
  pdbs: Obj[];
  jobs: Obj[];
  /** Pod logs by `namespace/name`. */
  logs: Record<string, string>;
}

export interface Seen {
  method: string;
  /** Path and query, as sent. */
  path: string;
  body: unknown;
  status: number;
}

export interface UpgradeApiStandIn {
  readonly url: string;
  readonly state: UpgradeApiState;
  /** Every request with the status it got ("dropped" requests: 0). */
  readonly requests: Seen[];
  /** Answers a request instead of the stand-in: a status and body, or "drop" (connection destroyed); undefined passes it on. */
  intercept?: (method: string, path: string) => { status: number; body?: unknown } | "drop" | undefined;
  /** Plays the Job controller: called once a Job is created. */
  onJobCreated?: (job: Obj) => void;
  /** Called after an eviction is granted, before the pod goes. */
  onEvicted?: (pod: Obj) => void;
  /** How long an evicted pod stays (terminating) before it is gone; 0 by default. */
  evictionGraceMs: number;
  /** How long a deleted Job stays (finalizers) before it is gone; 0 by default. */
  jobDeletionMs: number;
  close(): Promise<void>;
}

const status = (code: number, reason: string, message: string, details?: unknown) => ({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: code < 300 ? "Success" : "Failure",
  message,
  reason,
  ...(details ? { details } : {}),
  code,
});
const notFound = (kind: string, name: string) => status(404, "NotFound", `${kind} "${name}" not found`, { name, kind });

/** `a=b,c=d` (equality only, as the upgrade uses it). */
const selectorMatches = (selector: string | null, labels: Record<string, string> = {}): boolean =>
  !selector ||
  selector.split(",").every((term) => {
    const [k, v] = term.split("=");
    return labels[k] === v;
  });

/** RFC 7386 JSON merge patch: what a strategic merge patch of plain fields does too. */
function mergePatch(target: any, patch: any): any {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out = target && typeof target === "object" && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const later = (ms: number, f: () => void, timers: Set<NodeJS.Timeout>) => {
  if (ms <= 0) return f();
  const t = setTimeout(() => {
    timers.delete(t);
    f();
  }, ms);
  timers.add(t);
};

/** A pod on a node, owned by a ReplicaSet unless `owner` says otherwise. */
export const podOn = (
  node: string,
  namespace: string,
  name: string,
  o: { labels?: Record<string, string>; annotations?: Record<string, string>; owner?: string | null; phase?: string } = {},
): Obj => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name,
    namespace,
    uid: randomUUID(),
    labels: o.labels ?? {},
    ...(o.annotations ? { annotations: o.annotations } : {}),
    ...(o.owner === null
      ? {}
      : { ownerReferences: [{ apiVersion: "apps/v1", kind: o.owner ?? "ReplicaSet", name: `${name}-owner`, uid: randomUUID(), controller: true }] }),
    creationTimestamp: new Date().toISOString(),
  },
  spec: { nodeName: node },
  status: { phase: o.phase ?? "Running" },
});

/** The pod the Job controller would make for `job` on its template's node. */
export const jobPod = (job: Obj, phase = "Running"): Obj => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: `${job.metadata.name}-${randomUUID().slice(0, 5)}`,
    namespace: job.metadata.namespace,
    uid: randomUUID(),
    labels: { ...job.spec.template.metadata.labels, "job-name": job.metadata.name },
    ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: job.metadata.name, uid: job.metadata.uid, controller: true }],
    creationTimestamp: new Date().toISOString(),
  },
  spec: structuredClone(job.spec.template.spec),
  status: { phase },
});

/** With `pki`, served over TLS with client certificates required, as the real API server (a kubeconfig reaches it). */
export async function startUpgradeApi(state: Partial<UpgradeApiState> = {}, pki?: TestPki): Promise<UpgradeApiStandIn> {
  const timers = new Set<NodeJS.Timeout>();
  const s: UpgradeApiState = { nodes: [], pods: [], pdbs: [], jobs: [], logs: {}, ...state };
  const named = (list: Obj[], ns: string | undefined, name: string) => list.find((o) => o.metadata.name === name && o.metadata.namespace === ns);
  const remove = (list: Obj[], o: Obj) => {
    const i = list.indexOf(o);
    if (i >= 0) list.splice(i, 1);
  };

  const evict = (ns: string, name: string, body: any): [number, unknown] => {
    if (body?.kind !== "Eviction" || body?.apiVersion !== "policy/v1" || body?.metadata?.name !== name)
      return [400, status(400, "BadRequest", `expected a policy/v1 Eviction for ${name}, got ${JSON.stringify(body)}`)];
    const pod = named(s.pods, ns, name);
    if (!pod) return [404, notFound("pods", name)];
    const pdbs = s.pdbs.filter(
      (b) => b.metadata.namespace === ns && Object.entries(b.spec.selector.matchLabels).every(([k, v]) => pod.metadata.labels?.[k] === v),
    );
    if (pdbs.length > 1)
      return [500, status(500, "InternalError", "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.")];
    const pdb = pdbs[0];
    if (pdb && !pod.metadata.deletionTimestamp) {
      if ((pdb.status?.disruptionsAllowed ?? 0) <= 0)
        return [
          429,
          status(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.", {
            causes: [
              {
                reason: "DisruptionBudget",
                message: `The disruption budget ${pdb.metadata.name} needs ${pdb.status?.desiredHealthy ?? 1} healthy pods and has ${pdb.status?.currentHealthy ?? 1} currently`,
              },
            ],
          }),
        ];
      pdb.status.disruptionsAllowed -= 1;
    }
    pod.metadata.deletionTimestamp ??= new Date().toISOString();
    standIn.onEvicted?.(pod);
    later(standIn.evictionGraceMs, () => remove(s.pods, pod), timers);
    return [201, status(201, "", "")];
  };

  const route = (method: string, url: URL, body: any): [number, unknown] => {
    const p = url.pathname;
    let m: RegExpExecArray | null;
    if (method === "GET" && p === "/api/v1/nodes") return [200, { kind: "NodeList", apiVersion: "v1", items: s.nodes }];
    if ((m = /^\/api\/v1\/nodes\/([^/]+)$/.exec(p))) {
      const node = s.nodes.find((n) => n.metadata.name === decodeURIComponent(m![1]));
      if (!node) return [404, notFound("nodes", decodeURIComponent(m[1]))];
      if (method === "GET") return [200, node];
      if (method === "PATCH") {
        Object.assign(node, mergePatch(node, body));
        return [200, node];
      }
    }
    if (method === "GET" && (m = /^\/api\/v1(?:\/namespaces\/([^/]+))?\/pods$/.exec(p))) {
      const ns = m[1] && decodeURIComponent(m[1]);
      const field = url.searchParams.get("fieldSelector");
      const node = field ? /^spec\.nodeName=(.+)$/.exec(field)?.[1] : undefined;
      if (field && !node) return [400, status(400, "BadRequest", `field selector ${field} not served by this stand-in`)];
      const items = s.pods.filter(
        (o) =>
          (!ns || o.metadata.namespace === ns) &&
          (!node || o.spec?.nodeName === node) &&
          selectorMatches(url.searchParams.get("labelSelector"), o.metadata.labels),
      );
      return [200, { kind: "PodList", apiVersion: "v1", items }];
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)(?:\/(eviction|log))?$/.exec(p))) {
      const [ns, name, sub] = [decodeURIComponent(m[1]), decodeURIComponent(m[2]), m[3]];
      if (method === "POST" && sub === "eviction") return evict(ns, name, body);
      const pod = named(s.pods, ns, name);
      if (!pod) return [404, notFound("pods", name)];
      if (method === "GET" && !sub) return [200, pod];
      if (method === "GET" && sub === "log") {
        const tail = Number(url.searchParams.get("tailLines") ?? 0);
        const lines = (s.logs[`${ns}/${name}`] ?? "").split(/(?<=\n)/);
        return [200, (tail > 0 ? lines.slice(-tail) : lines).join("")];
      }
    }
    if ((m = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs(?:\/([^/]+))?$/.exec(p))) {
      const ns = decodeURIComponent(m[1]);
      if (method === "POST" && !m[2]) {
        if (named(s.jobs, ns, body?.metadata?.name)) return [409, status(409, "AlreadyExists", `jobs.batch "${body.metadata.name}" already exists`)];
        const job: Obj = { ...body, metadata: { ...body.metadata, namespace: ns, uid: randomUUID(), creationTimestamp: new Date().toISOString() }, status: {} };
        s.jobs.push(job);
        standIn.onJobCreated?.(job);
        return [201, job];
      }
      const name = m[2] && decodeURIComponent(m[2]);
      const job = name ? named(s.jobs, ns, name) : undefined;
      if (name && !job) return [404, notFound("jobs.batch", name)];
      if (job && method === "GET") return [200, job];
      if (job && method === "DELETE") {
        job.metadata.deletionTimestamp ??= new Date().toISOString();
        later(
          standIn.jobDeletionMs,
          () => {
            remove(s.jobs, job);
            // Background propagation: the garbage collector deletes the Job's pods after it.
            if (url.searchParams.get("propagationPolicy") === "Background")
              for (const pod of s.pods.filter((o) => o.metadata.ownerReferences?.some((r) => r.uid === job.metadata.uid))) remove(s.pods, pod);
          },
          timers,
        );
        return [200, status(200, "", "")];
      }
    }
    return [404, status(404, "NotFound", `${method} ${p} is not served by the upgrade API stand-in`)];
  };

  const requests: Seen[] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    const seen: Seen = { method: req.method ?? "", path: req.url ?? "/", body: text ? JSON.parse(text) : undefined, status: 0 };
    requests.push(seen);
    const url = new URL(seen.path, "http://stand-in");
    const caught = standIn.intercept?.(seen.method, seen.path);
    if (caught === "drop") return void res.socket?.destroy();
    const type = req.headers["content-type"] ?? "";
    const [code, out] = caught
      ? [caught.status, caught.body]
      : req.method === "PATCH" && !/^application\/(strategic-merge-patch|merge-patch)\+json$/.test(type)
        ? [
            415,
            status(
              415,
              "UnsupportedMediaType",
              `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json (got ${type})`,
            ),
          ]
        : route(seen.method, url, seen.body);
    seen.status = code;
    if (typeof out === "string") res.writeHead(code, { "content-type": "text/plain" }).end(out);
    else res.writeHead(code, { "content-type": "application/json" }).end(out === undefined ? "" : JSON.stringify(out));
  };
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((e: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(`stand-in failed: ${e.stack}`));
  };
  const server: Server = pki
    ? (createTlsServer(
        { key: pki.serverKeyPem, cert: pki.serverCertPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: true },
        serve,
      ) as unknown as Server)
    : createServer(serve);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const standIn: UpgradeApiStandIn = {
    url: `${pki ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state: s,
    requests,
    evictionGraceMs: 0,
    jobDeletionMs: 0,
    close: () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
  return standIn;
}
