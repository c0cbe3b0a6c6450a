// GET requests to the API server over node:https (node:http for the lab's plain-http stand-in),
// with the target's CA, client certificate and a bearer token read afresh for every request.
import * as http from "node:http";
import * as https from "node:https";
import type { KubeTarget } from "./config";

/** One page of a list: its items and the resourceVersion the server listed them at. */
export interface ListPage {
  items: unknown[];
  resourceVersion: string;
}

/** A non-2xx answer from the API server, with the Status reason when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface OpenOptions {
  signal?: AbortSignal;
  /** The socket may stay silent this long before the request is abandoned (watch: > timeoutSeconds). */
  idleMs: number;
}

export class KubeTransport {
  private readonly agent: http.Agent;
  private readonly secure: boolean;

  constructor(private readonly target: KubeTarget) {
    this.secure = target.server.protocol === "https:";
    // Keep-alive: list pages reuse one connection. A watch holds its own for its lifetime.
    this.agent = this.secure
      ? new https.Agent({
          keepAlive: true,
          ca: target.ca,
          cert: target.cert,
          key: target.key,
          rejectUnauthorized: target.verifyTls,
          servername: target.tlsServerName,
        })
      : new http.Agent({ keepAlive: true });
  }

  get server(): string {
    return this.target.server.origin;
  }

  /** Resolves with the response once a 2xx status arrived; rejects with ApiError otherwise. */
  async open(path: string, o: OpenOptions): Promise<http.IncomingMessage> {
    const headers: http.OutgoingHttpHeaders = { accept: "application/json", "user-agent": "node-router" };
    const token = await this.target.token?.();
    if (token) headers.authorization = `Bearer ${token}`;
    else if (this.target.basic)
      headers.authorization = `Basic ${Buffer.from(`${this.target.basic.username}:${this.target.basic.password}`).toString("base64")}`;
    const url = new URL(path, this.target.server);
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = (this.secure ? https : http).request(url, { agent: this.agent, headers, signal: o.signal, timeout: o.idleMs }, resolve);
      // The socket's idle timeout covers the whole response: a half-open connection during a
      // watch ends it with an error instead of waiting forever.
      req.on("timeout", () => req.destroy(new Error(`no data from ${url.origin} for ${o.idleMs} ms`)));
      req.on("error", reject);
      req.end();
    });
    if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) return res;
    const text = await readBody(res).catch(() => "");
    let status: { reason?: string; message?: string } = {};
    try {
      status = JSON.parse(text) as typeof status;
    } catch {
      // not a Status object: keep the raw text
    }
    throw new ApiError(res.statusCode ?? 0, status.reason ?? "", `GET ${url.pathname}: ${res.statusCode} ${status.message ?? text.slice(0, 200)}`);
  }

  async getJson(path: string, o: OpenOptions): Promise<unknown> {
    const res = await this.open(path, o);
    return JSON.parse(await readBody(res));
  }

  /**
   * A collection listed page by page (`limit`, then `continue` until the server sends none), as
   * client-go's pager does; each page checked to be a list. `query` adds selectors.
   */
  async *listPages(path: string, pageSize: number, o: OpenOptions, query: Record<string, string> = {}): AsyncGenerator<ListPage> {
    let next: string | undefined;
    do {
      const q = new URLSearchParams({ ...query, limit: String(pageSize) });
      if (next) q.set("continue", next);
      const page = (await this.getJson(`${path}?${q}`, o)) as { metadata?: { resourceVersion?: unknown; continue?: unknown }; items?: unknown };
      if (!Array.isArray(page?.items) || typeof page.metadata?.resourceVersion !== "string") {
        throw new Error(`GET ${path}: not a list (no items or metadata.resourceVersion)`);
      }
      yield { items: page.items as unknown[], resourceVersion: page.metadata.resourceVersion };
      next = typeof page.metadata.continue === "string" && page.metadata.continue ? page.metadata.continue : undefined;
    } while (next);
  }

  close(): void {
    this.agent.destroy();
  }
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    res.on("error", reject);
    res.on("close", () => {
      if (!res.complete) reject(new Error("connection closed before the response ended"));
    });
  });
}
