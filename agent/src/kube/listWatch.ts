// A cache of one kind of cluster-scoped object, kept current the way client-go's reflector does:
// list (in pages) -> watch from the list's resourceVersion, with bookmarks so that version stays
// fresh even when this kind is quiet -> on a broken watch, resume from the last version seen ->
// on 410 Gone (that version was compacted away), list again. Failures back off exponentially
// with jitter. The cache is replaced only by a list that completed, so during an outage it keeps
// the last known state, and "listed" is reported only after a real list succeeded.
import { createInterface } from "node:readline";
import { ApiError, type KubeTransport } from "./transport";

export type KubeObject = { metadata: { name: string; resourceVersion?: string; [k: string]: unknown }; [k: string]: unknown };

export interface ListWatchOptions {
  /** Collection path, e.g. /api/v1/nodes. */
  path: string;
  /** Objects per list page (the API server's `limit`; default 100, client-go uses 500). */
  pageSize?: number;
  /** Drops what the agent never reads before an object is cached (real Nodes are mostly status). */
  trim?: (o: KubeObject) => KubeObject;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** The server ends each watch after a random time in [n, 2n] s (client-go: 5-10 min). */
  watchSeconds?: number;
  /** Any change to the cache: an event (with the object's name), or a completed list (without: anything may have changed). */
  onChange(name?: string): void;
  /** A list completed (the first one makes the cache authoritative). */
  onListed(): void;
  /** A failed list or watch; the cache is kept and the step is retried after retryMs. */
  onError(error: Error, phase: "list" | "watch", retryMs: number): void;
  /** An object the cache cannot hold (no metadata.name): skipped. */
  onBadObject(message: string): void;
}

type WatchEnd = "ended" | "expired";

export const DEFAULT_PAGE_SIZE = 100;

export class ListWatch {
  private items = new Map<string, KubeObject>();
  private resourceVersion?: string;
  private stopped = false;
  private abort = new AbortController();
  private failures = 0;
  private wake?: () => void;
  private loop?: Promise<void>;

  constructor(
    private readonly transport: KubeTransport,
    private readonly o: ListWatchOptions,
  ) {}

  list(): KubeObject[] {
    return [...this.items.values()];
  }

  /** The cached object of this name (the same object list() holds). */
  get(name: string): KubeObject | undefined {
    return this.items.get(name);
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let phase: "list" | "watch" = "list";
      try {
        if (this.resourceVersion === undefined) await this.relist();
        phase = "watch";
        const started = Date.now();
        const end = await this.watch();
        if (end === "expired") this.resourceVersion = undefined; // relist at once, as client-go does
        // A watch the server ended at once (a proxy closing it, a server refusing) must not spin.
        if (end === "ended" && Date.now() - started < 1000) await this.sleep(this.nextBackoff());
      } catch (e) {
        if (this.stopped) break;
        if (e instanceof ApiError && e.status === 410 && phase === "watch") {
          this.resourceVersion = undefined; // the version to resume from is gone: list again
          continue;
        }
        const retryMs = this.nextBackoff();
        this.o.onError(e as Error, phase, retryMs);
        await this.sleep(retryMs);
      }
    }
  }

  private nextBackoff(): number {
    const min = this.o.minBackoffMs ?? 1000;
    const ceiling = Math.min(this.o.maxBackoffMs ?? 60_000, min * 2 ** Math.min(this.failures++, 16));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async relist(): Promise<void> {
    const fresh = new Map<string, KubeObject>();
    let resourceVersion: string | undefined;
    // 100, not client-go's 500: a page of kubelet Nodes is ~9 KB each as JSON, and V8 (in the
    // image's --optimize-for-size mode) keeps the heap that the largest page needed. Pages of 100
    // took the real agent from 129 to 98 MB RSS at 5,000 Nodes (agent/README.md, Benchmark);
    // 50 saved nothing more. Listing takes 5x the requests, once per start or relist.
    const pages = this.transport.listPages(this.o.path, this.o.pageSize ?? DEFAULT_PAGE_SIZE, { signal: this.abort.signal, idleMs: 60_000 });
    for await (const page of pages) {
      resourceVersion = page.resourceVersion;
      for (const raw of page.items) this.put(fresh, raw);
    }
    this.items = fresh;
    this.resourceVersion = resourceVersion;
    this.failures = 0;
    this.o.onListed();
    this.o.onChange();
  }

  /** Adds or replaces; an unchanged object (same resourceVersion) keeps its identity (parse caches). */
  private put(into: Map<string, KubeObject>, raw: unknown): boolean {
    const name = (raw as KubeObject)?.metadata?.name;
    if (typeof name !== "string" || !name) {
      this.o.onBadObject(`${this.o.path}: object without metadata.name skipped`);
      return false;
    }
    const old = this.items.get(name);
    const rv = (raw as KubeObject).metadata.resourceVersion;
    if (old && rv !== undefined && old.metadata.resourceVersion === rv) into.set(name, old);
    else into.set(name, this.o.trim ? this.o.trim(raw as KubeObject) : (raw as KubeObject));
    return true;
  }

  private async watch(): Promise<WatchEnd> {
    const seconds = this.o.watchSeconds ?? 300;
    const timeoutSeconds = Math.round(seconds * (1 + Math.random()));
    const query = new URLSearchParams({
      watch: "true",
      resourceVersion: this.resourceVersion!,
      allowWatchBookmarks: "true",
      timeoutSeconds: String(timeoutSeconds),
    });
    const res = await this.transport.open(`${this.o.path}?${query}`, { signal: this.abort.signal, idleMs: (timeoutSeconds + 30) * 1000 });
    const lines = createInterface({ input: res, crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        if (!line.trim()) continue;
        const end = this.event(line);
        if (end) return end;
      }
    } finally {
      lines.close();
      res.destroy();
    }
    if (!res.complete) throw new Error(`watch ${this.o.path}: connection lost`);
    return "ended";
  }

  /** Applies one watch event; returns "expired" on 410. Throws on anything unusable. */
  private event(line: string): WatchEnd | undefined {
    let e: { type?: unknown; object?: KubeObject & { code?: unknown; message?: unknown } };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      // The stream cannot be trusted past this point: resume from the last version applied.
      throw new Error(`watch ${this.o.path}: undecodable event ${JSON.stringify(line.slice(0, 80))}`);
    }
    const rv = e.object?.metadata?.resourceVersion;
    switch (e.type) {
      case "ADDED":
      case "MODIFIED":
        if (this.put(this.items, e.object)) this.o.onChange(e.object!.metadata.name);
        break;
      case "DELETED":
        if (typeof e.object?.metadata?.name === "string" && this.items.delete(e.object.metadata.name)) this.o.onChange(e.object.metadata.name);
        break;
      case "BOOKMARK":
        break;
      case "ERROR":
        if (e.object?.code === 410) return "expired";
        throw new ApiError(Number(e.object?.code) || 0, "", `watch ${this.o.path}: ${String(e.object?.message ?? "error event")}`);
      default:
        throw new Error(`watch ${this.o.path}: unknown event type ${JSON.stringify(e.type)}`);
    }
    if (typeof rv === "string" && rv) this.resourceVersion = rv;
    this.failures = 0;
    return undefined;
  }
}
