// JSON over HTTP on a unix socket: how the lab talks to its helpers inside other network
// namespaces (a unix socket path is reachable from every network namespace).
import { request } from "node:http";

export function unixRequest<T = unknown>(socketPath: string, method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    // agent: false: a fresh connection per request. Node's default agent keeps connections alive,
    // and the helper's server closes an idle one after 5 s: a request that picks it up just as the
    // server closes it fails with EPIPE (seen when traffic resumed after an API outage). A unix
    // socket connection costs next to nothing, so no request ever reuses one.
    const req = request(
      { agent: false, socketPath, method, path, headers: payload ? { "content-type": "application/json" } : {}, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            return reject(new Error(`${method} ${path} on ${socketPath}: not JSON: ${text.slice(0, 200)}`));
          }
          if ((res.statusCode ?? 500) >= 300) return reject(new Error(`${method} ${path} on ${socketPath}: ${res.statusCode} ${text.slice(0, 300)}`));
          resolve(parsed as T);
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path} on ${socketPath}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(payload);
  });
}
