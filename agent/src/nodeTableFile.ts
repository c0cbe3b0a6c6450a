// The node table as a file that changes at run time. kubelet updates a mounted ConfigMap by
// writing a new timestamped directory and swapping the `..data` symlink, so the file's own
// inode never changes in place: the DIRECTORY is watched, and every event re-reads the file.
// A periodic re-read backs the watch up (events can be missed, e.g. while the directory is
// replaced). A bad document (or one refused, nodeTable.ts) is logged and counted; the last good
// table stays in use: the one read before, or at start the persisted or boot table (tableStore.ts).
// The file is read into a buffer kept from read to read and handed to the parse as bytes: at
// 5,000 nodes a fresh 300-400 KB buffer and its decoded text per re-read cost ~2 ms of new
// pages (and the collector's work), about as much as the rest of a join; the parse decodes
// only what changed.
import { watch, type FSWatcher } from "node:fs";
import { open } from "node:fs/promises";
import { dirname } from "node:path";
import { NodeTableError, parseNodeTable, sameTable, type NodeTable } from "./nodeTable";

export interface NodeTableFileOptions {
  path: string;
  /** This node: a table without it is refused. */
  localNodeName?: string;
  /** The table in use before the file is read (the start table, tableStore.ts). The same document in the file is not parsed again. */
  initial?: { table: NodeTable };
  /** A new, different, valid table is in use. */
  onChange(table: NodeTable): void;
  /** The file could not be read or is invalid; the last good table (if any) stays in use. */
  onError(message: string): void;
  /** Backstop re-read period. */
  rereadMs: number;
}

export class NodeTableFile {
  private table?: NodeTable;
  /** Where the file is read to, kept for the next read (the parse keeps a copy of what it needs). */
  private buffer: Buffer = Buffer.alloc(0);
  private lastError = "";
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private debounce?: NodeJS.Timeout;
  private reading?: Promise<void>;

  constructor(private readonly o: NodeTableFileOptions) {
    this.table = o.initial?.table;
  }

  /** The last good table; undefined until one was read. */
  current(): NodeTable | undefined {
    return this.table;
  }

  /** Reads once (awaited, so the first reconcile sees the table), then watches. */
  async start(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => void this.reload(), this.o.rereadMs);
    this.timer.unref();
    this.rewatch();
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    this.watcher?.close();
  }

  private rewatch(): void {
    this.watcher?.close();
    try {
      this.watcher = watch(dirname(this.o.path), { persistent: false }, () => {
        // A symlink swap produces a burst of events: re-read once after it settles.
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => void this.reload(), 50);
      });
      this.watcher.on("error", () => {
        this.watcher = undefined; // the periodic re-read goes on; the next one re-arms the watch
      });
    } catch (e) {
      this.report(`cannot watch ${dirname(this.o.path)}: ${(e as Error).message}; re-reading every ${this.o.rereadMs} ms`);
    }
  }

  /** Re-reads the file now; serialised, never rejects. */
  reload(): Promise<void> {
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    if (!this.watcher && this.timer) this.rewatch();
    return this.reading;
  }

  private async read(): Promise<void> {
    let bytes: Buffer;
    try {
      ({ buffer: this.buffer, bytes } = await readInto(this.o.path, this.buffer));
    } catch (e) {
      return this.report(`cannot read the node table ${this.o.path}: ${(e as Error).message}`);
    }
    let table: NodeTable;
    try {
      // The same document as the table in use is that table (parseNodeTable compares the bytes).
      table = parseNodeTable(bytes, this.table, { localNodeName: this.o.localNodeName });
    } catch (e) {
      if (!(e instanceof NodeTableError)) throw e;
      return this.report(`invalid node table ${this.o.path}: ${e.message}`);
    }
    this.lastError = "";
    if (table === this.table) return;
    const same = sameTable(this.table, table);
    // Kept even when its content is the same: the parse handed its lookups (and what the next
    // parse compares against) to the new object.
    this.table = table;
    if (!same) this.o.onChange(table);
  }

  // The same error is reported once until the file changes or becomes good again.
  private report(message: string): void {
    if (message === this.lastError) return;
    this.lastError = message;
    this.o.onError(
      this.table
        ? `${message}; keeping the last good table (${this.table.nodes.length} nodes)`
        : `${message}; no table yet: changing nothing until one is read`,
    );
  }
}

/** The first buffer's size; it doubles until the file fits, and is kept. */
const FIRST_BUFFER = 64 * 1024;

/**
 * Reads the whole file at `path` into `buffer`, or into a larger one when it has no room (the
 * one to keep for the next read is returned with it); `bytes` is the file's content, a view of
 * that buffer valid until the next read into it. Once the buffer fits the file this is three
 * requests to the thread pool (open, one read, close: no stat), which on a busy node is what a
 * read costs, and it allocates nothing.
 */
export async function readInto(path: string, buffer: Buffer): Promise<{ buffer: Buffer; bytes: Buffer }> {
  const file = await open(path, "r");
  try {
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        const larger = Buffer.allocUnsafe(Math.max(FIRST_BUFFER, 2 * buffer.length));
        buffer.copy(larger, 0, 0, length);
        buffer = larger;
      }
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, length);
      length += bytesRead;
      // A read of a regular file returns less than asked for only at its end.
      if (bytesRead === 0 || length < buffer.length) break;
    }
    return { buffer, bytes: buffer.subarray(0, length) };
  } finally {
    await file.close();
  }
}
