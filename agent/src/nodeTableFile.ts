// The node table as a file that changes at run time. kubelet updates a mounted ConfigMap by
// writing a new timestamped directory and swapping the `..data` symlink, so the file's own
// inode never changes in place: the DIRECTORY is watched, and every event re-reads the file.
// A periodic re-read backs the watch up (events can be missed, e.g. while the directory is
// replaced). A bad document (or one refused, nodeTable.ts) is logged and counted; the last good
// table stays in use: the one read before, or at start the persisted or boot table (tableStore.ts).
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { NodeTableError, parseNodeTable, sameTable, type NodeTable } from "./nodeTable";

export interface NodeTableFileOptions {
  path: string;
  /** This node: a table without it is refused. */
  localNodeName?: string;
  /** The table in use before the file is read (the start table, tableStore.ts); with `text` when it came from this file. */
  initial?: { table: NodeTable; text?: string };
  /** A new, different, valid table is in use. */
  onChange(table: NodeTable): void;
  /** The file could not be read or is invalid; the last good table (if any) stays in use. */
  onError(message: string): void;
  /** Backstop re-read period. */
  rereadMs: number;
}

export class NodeTableFile {
  private table?: NodeTable;
  /** The text the current table was parsed from: an unchanged file is not parsed again. */
  private text = "";
  private lastError = "";
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private debounce?: NodeJS.Timeout;
  private reading?: Promise<void>;

  constructor(private readonly o: NodeTableFileOptions) {
    this.table = o.initial?.table;
    this.text = o.initial?.text ?? "";
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
    let text: string;
    try {
      text = await readFile(this.o.path, "utf8");
    } catch (e) {
      return this.report(`cannot read the node table ${this.o.path}: ${(e as Error).message}`);
    }
    if (this.table && text === this.text) {
      this.lastError = "";
      return;
    }
    let table: NodeTable;
    try {
      table = parseNodeTable(text, this.table, { localNodeName: this.o.localNodeName });
    } catch (e) {
      if (!(e instanceof NodeTableError)) throw e;
      return this.report(`invalid node table ${this.o.path}: ${e.message}`);
    }
    this.lastError = "";
    this.text = text;
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
