// Polls the API server's /readyz over TLS, trusting only the cluster CA, until it answers
// "ok" or the deadline passes. Used before anything talks to the cluster (Helm, kubectl):
// instances report "running" minutes before kubeadm has brought the API server up.
import type * as Https from "node:https";

export interface WaitForApiOptions {
  /** `https://<host>:6443` */
  readonly url: string;
  /** PEM of the cluster CA: the only CA the check trusts. */
  readonly caPem: string;
  readonly timeoutMs: number;
  readonly intervalMs: number;
}

export interface ApiReadiness {
  readonly attempts: number;
  readonly elapsedMs: number;
}

/** One GET: resolves with the HTTP status and body, rejects on network or TLS errors. */
function get(url: string, caPem: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  // Required here, not imported at the top: this runs inside the readiness resource's dynamic
  // provider, which Pulumi serializes. A module-level import compiled by SWC (jest) is an
  // interop wrapper the serializer copies as a plain object without its functions
  // (`_nodehttps.get is not a function`); a require in the function body is serialized as
  // `require("node:https")` and resolved in the provider host (test/serializedProviders.test.ts).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const https = require("node:https") as typeof Https;
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: caPem, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

export async function waitForApiServer(o: WaitForApiOptions): Promise<ApiReadiness> {
  const start = Date.now();
  let attempts = 0;
  let last = "no attempt";
  while (Date.now() - start < o.timeoutMs) {
    attempts++;
    try {
      const r = await get(`${o.url}/readyz`, o.caPem, Math.min(o.intervalMs * 2, 10_000));
      if (r.status === 200 && r.body.trim() === "ok") return { attempts, elapsedMs: Date.now() - start };
      last = `HTTP ${r.status}: ${r.body.slice(0, 200)}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, o.intervalMs));
  }
  throw new Error(
    `API server ${o.url} not ready after ${Math.round(o.timeoutMs / 1000)} s (${attempts} attempts; last: ${last}); check the first control plane's serial console (journal unit wg-mesh-bootstrap)`,
  );
}

/**
 * The cluster's identity: the UID of kube-public/cluster-info, which `kubeadm init` creates
 * once per cluster and lets anyone read (joining nodes bootstrap from it). A control plane
 * that ran `kubeadm init` again (a new, empty cluster at the same address with the same CA)
 * has a new one.
 */
export async function readClusterId(url: string, caPem: string, timeoutMs = 10_000): Promise<string> {
  const r = await get(`${url}/api/v1/namespaces/kube-public/configmaps/cluster-info`, caPem, timeoutMs);
  let uid: unknown;
  try {
    uid = (JSON.parse(r.body) as { metadata?: { uid?: unknown } }).metadata?.uid;
  } catch {
    uid = undefined;
  }
  if (r.status !== 200 || typeof uid !== "string" || uid === "") {
    throw new Error(
      `${url} did not serve kube-public/cluster-info (HTTP ${r.status}: ${r.body.slice(0, 200)}); kubeadm creates it, readable without credentials, when it initialises the cluster`,
    );
  }
  return uid;
}

/** Waits for /readyz, then reads the cluster's identity, retrying both until the deadline. */
export async function waitForCluster(o: WaitForApiOptions): Promise<ApiReadiness & { clusterId: string }> {
  const start = Date.now();
  const ready = await waitForApiServer(o);
  let last = "no attempt";
  while (Date.now() - start < o.timeoutMs) {
    try {
      return { ...ready, clusterId: await readClusterId(o.url, o.caPem) };
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, o.intervalMs));
  }
  throw new Error(`API server ${o.url} answered /readyz but not with the cluster's identity within ${Math.round(o.timeoutMs / 1000)} s; last: ${last}`);
}
