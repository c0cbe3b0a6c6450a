// HTTP face of the API stand-in: list (with limit/continue pages) and watch (with bookmarks and
// timeoutSeconds) for Nodes and CiliumNodes, as the agent's list/watch client calls them, plus a
// control API (served only on a unix socket the lab owns) to change objects at runtime.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiStore, WatchEvent } from "./apistore";
import { API_PATHS, type Kind, type KubeObject } from "./objects";

const json = (res: ServerResponse, code: number, body: unknown): void => {
  res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(body));
};

const kindOfPath = (path: string): Kind | undefined => (Object.keys(API_PATHS) as Kind[]).find((k) => API_PATHS[k].path === path);

/** Open watch responses of one stand-in, so its control API can end them all (as an API server restart would). */
export type OpenWatches = Set<ServerResponse>;

export interface KubeHandlerOptions {
  /** With allowWatchBookmarks=true, a BOOKMARK carrying the current resourceVersion this often. */
  bookmarkMs?: number;
  /** Where the handler keeps its open watches (share it with controlHandler); its own set by default. */
  watches?: OpenWatches;
}

export function kubeHandler(store: ApiStore, o: KubeHandlerOptions = {}) {
  const watches = o.watches ?? new Set<ServerResponse>();
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    if (url.pathname === "/healthz" || url.pathname === "/readyz") return void res.end("ok");
    const kind = kindOfPath(url.pathname);
    if (!kind || req.method !== "GET")
      return json(res, 404, {
        kind: "Status",
        apiVersion: "v1",
        status: "Failure",
        code: 404,
        reason: "NotFound",
        message: `${req.method} ${url.pathname} is not served by the lab API stand-in`,
      });
    if (url.searchParams.get("watch") !== "true") return list(store, kind, url.searchParams, res);
    watch(store, kind, url.searchParams, res, o.bookmarkMs ?? 5000, watches);
  };
}

const expired = (message: string) => ({ kind: "Status", apiVersion: "v1", status: "Failure", code: 410, reason: "Expired", message });

/**
 * A list, in pages when `limit` is given. The real API serves every page from one etcd snapshot;
 * the stand-in pages over its current objects (by name) and stamps every page with the first
 * page's resourceVersion, so a watch from there replays whatever changed while paging.
 */
function list(store: ApiStore, kind: Kind, q: URLSearchParams, res: ServerResponse): void {
  const limit = Number(q.get("limit") ?? 0);
  let token: { rv: number; after: string } = { rv: store.resourceVersion, after: "" };
  if (q.get("continue")) {
    try {
      token = JSON.parse(Buffer.from(q.get("continue")!, "base64url").toString()) as typeof token;
    } catch {
      return json(res, 400, { kind: "Status", apiVersion: "v1", status: "Failure", code: 400, reason: "BadRequest", message: "invalid continue token" });
    }
    if (token.rv < store.oldestRv) return json(res, 410, expired("The provided continue parameter is too old to display a consistent list result."));
  }
  const all = store
    .list(kind)
    .filter((o) => o.metadata.name > token.after)
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  const items = limit > 0 ? all.slice(0, limit) : all;
  const more = items.length < all.length;
  const next = more ? Buffer.from(JSON.stringify({ rv: token.rv, after: items[items.length - 1].metadata.name })).toString("base64url") : undefined;
  json(res, 200, {
    apiVersion: API_PATHS[kind].apiVersion,
    kind: API_PATHS[kind].listKind,
    metadata: { resourceVersion: String(token.rv), ...(next ? { continue: next } : {}) },
    items,
  });
}

function watch(store: ApiStore, kind: Kind, q: URLSearchParams, res: ServerResponse, bookmarkMs: number, openWatches: OpenWatches): void {
  const rvParam = q.get("resourceVersion") ?? "";
  res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
  // Headers go out now, as the real API server sends them: clients wait for them before watching.
  res.flushHeaders();
  const send = (type: string, object: unknown) => res.write(JSON.stringify({ type, object }) + "\n");
  const rv = Number(rvParam);
  // No (or "0") resourceVersion: synthetic ADDED for everything, then live events.
  const backlog: WatchEvent[] | "gone" =
    !rvParam || rvParam === "0" || !Number.isFinite(rv)
      ? store.list(kind).map((object) => ({ kind, type: "ADDED" as const, object, rv: store.resourceVersion }))
      : store.since(kind, rv);
  if (backlog === "gone") {
    send("ERROR", expired(`too old resource version: ${rvParam} (${store.oldestRv})`));
    return void res.end();
  }
  for (const e of backlog) send(e.type, e.object);
  const unsubscribe = store.subscribe((e) => {
    if (e.kind === kind) send(e.type, e.object);
  });
  // A bookmark says "you have seen everything up to here": a quiet kind's watch can then resume
  // after the history moved on (other kinds changing, compaction) without a 410 and a relist.
  const bookmarks =
    q.get("allowWatchBookmarks") === "true"
      ? setInterval(
          () =>
            send("BOOKMARK", {
              kind: API_PATHS[kind].objectKind,
              apiVersion: API_PATHS[kind].apiVersion,
              metadata: { resourceVersion: String(store.resourceVersion) },
            }),
          bookmarkMs,
        )
      : undefined;
  const timeoutSeconds = Number(q.get("timeoutSeconds") ?? 0);
  const timeout = timeoutSeconds > 0 ? setTimeout(() => res.end(), timeoutSeconds * 1000) : undefined;
  openWatches.add(res);
  res.on("close", () => {
    clearInterval(bookmarks);
    clearTimeout(timeout);
    unsubscribe();
    openWatches.delete(res);
  });
}

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString() || "null");
}

/** PUT/DELETE /lab/objects/<kind>/<name>, GET /lab/state, POST /lab/end-watches. */
export function controlHandler(store: ApiStore, openWatches: OpenWatches) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://control");
    const m = /^\/lab\/objects\/(nodes|ciliumnodes)\/([^/]+)$/.exec(url.pathname);
    const reply = (f: () => unknown) => {
      try {
        json(res, 200, f());
      } catch (e) {
        json(res, 400, { error: (e as Error).message });
      }
    };
    if (m && req.method === "PUT") {
      body(req).then(
        (obj) => reply(() => ({ resourceVersion: store.put(m[1] as Kind, obj as KubeObject) })),
        (e: Error) => json(res, 400, { error: e.message }),
      );
    } else if (m && req.method === "DELETE") {
      reply(() => ({ resourceVersion: store.delete(m[1] as Kind, decodeURIComponent(m[2])) }));
    } else if (url.pathname === "/lab/state") {
      reply(() => ({ resourceVersion: store.resourceVersion, watches: openWatches.size, objects: store.all() }));
    } else if (url.pathname === "/lab/end-watches" && req.method === "POST") {
      reply(() => {
        const n = openWatches.size;
        for (const w of openWatches) w.end();
        return { ended: n };
      });
    } else {
      json(res, 404, { error: `unknown control request ${req.method} ${url.pathname}` });
    }
  };
}
