// The node table the agent starts from, and the copy it keeps on the host. The ConfigMap needs
// the API server (kubelet mounts it), so after a reboot with the API down the agent may have only
// what is on the host: the copy it persisted itself (the newest table it used, and the guard it
// rendered from it, which the boot unit loads before kubelet) and the boot files the program wrote
// at instance creation. At start the first valid of the three is used at once, in that order:
//   ConfigMap file (--node-table) > persisted copy (<state dir>/node-table.json) > boot table.
// Every file is written atomically (temporary file in the same directory, fsync, rename, fsync of
// the directory): a crash or power cut leaves the old file or the new one, never a torn one that
// would fail closed at boot for no reason.
//   node-table.json  the last good table (what the agent used)
//   guard.nft        guardRuleset() of it for this node, nodes still held included (parametric in $UNDERLAY)
//   departed.json    nodes that left the table and are still guarded (a restart keeps holding them)
//   local.json       this node's pod CIDRs as the API last said ({"podCidrs": [...]}): throw routes before sync
//   apiserver-proxy.cfg  the local API proxy's configuration for the table's control planes
//                    (apiserverProxy.ts; the host's wg-mesh-apiserver-proxy-sync installs it)
import { open, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { PROXY_STATE_FILE } from "./apiserverProxy";
import { canonicalAddress, canonicalCidr } from "./nodes";
import { NodeTableError, parseNodeTable, type NodeRole, type NodeTable, type TableNode } from "./nodeTable";

export type TableSourceName = "config-map" | "persisted" | "boot";

export interface Candidate {
  source: TableSourceName;
  path: string;
  /** The file's text, or why it could not be read. */
  text?: string;
  readError?: string;
}

export interface Refusal {
  source: TableSourceName;
  path: string;
  message: string;
  /** The file could not be read (e.g. absent: no persisted copy yet), as opposed to refused. */
  unread?: true;
}

export interface StartTable {
  table?: NodeTable;
  source?: TableSourceName;
  path?: string;
  /** Every candidate before the chosen one (or all of them), and why it was not used. */
  refused: Refusal[];
}

/** The first candidate that parses as a valid table for this node (pure). */
export function firstValidTable(candidates: Candidate[], localNodeName: string): StartTable {
  const refused: Refusal[] = [];
  for (const c of candidates) {
    if (c.text === undefined) {
      refused.push({ source: c.source, path: c.path, message: c.readError ?? "not read", unread: true });
      continue;
    }
    try {
      const table = parseNodeTable(c.text, undefined, { localNodeName });
      return { table, source: c.source, path: c.path, refused };
    } catch (e) {
      if (!(e instanceof NodeTableError)) throw e;
      refused.push({ source: c.source, path: c.path, message: e.message });
    }
  }
  return { refused };
}

export interface StatePaths {
  table: string;
  guard: string;
  departed: string;
  local: string;
  proxy: string;
}

export const statePaths = (stateDir: string): StatePaths => ({
  table: join(stateDir, "node-table.json"),
  guard: join(stateDir, "guard.nft"),
  departed: join(stateDir, "departed.json"),
  local: join(stateDir, "local.json"),
  proxy: join(stateDir, PROXY_STATE_FILE),
});

async function readCandidate(source: TableSourceName, path: string): Promise<Candidate> {
  try {
    return { source, path, text: await readFile(path, "utf8") };
  } catch (e) {
    return { source, path, readError: `cannot read ${path}: ${(e as Error).message}` };
  }
}

/** Reads the sources in precedence order (empty paths are absent) and picks the first valid one. */
export async function loadStartTable(o: { configMap?: string; stateDir?: string; bootTable?: string; localNodeName: string }): Promise<StartTable> {
  const wanted: [TableSourceName, string | undefined][] = [
    ["config-map", o.configMap],
    ["persisted", o.stateDir ? statePaths(o.stateDir).table : undefined],
    ["boot", o.bootTable],
  ];
  const candidates = await Promise.all(wanted.filter(([, p]) => p).map(([s, p]) => readCandidate(s, p!)));
  return firstValidTable(candidates, o.localNodeName);
}

/**
 * The nodes the previous instance guarded: the persisted table's and the nodes it still held
 * (departed.json), or, with no persisted table, the boot table's (what the boot guard loaded).
 * The reconciler starts from them, so one missing from the table now is seen leaving.
 */
export async function readPreviousNodes(o: { stateDir?: string; bootTable?: string }): Promise<TableNode[]> {
  const parse = async (path: string | undefined) => {
    try {
      return path ? parseNodeTable(await readFile(path, "utf8")).nodes : undefined;
    } catch {
      return undefined;
    }
  };
  const paths = o.stateDir ? statePaths(o.stateDir) : undefined;
  const persisted = await parse(paths?.table);
  if (!persisted) return (await parse(o.bootTable)) ?? [];
  const departed = paths ? parseDeparted(await readFile(paths.departed, "utf8").catch(() => "")) : [];
  const names = new Set(persisted.map((n) => n.name));
  return [...persisted, ...departed.filter((n) => !names.has(n.name))];
}

/**
 * Replaces `path` with `data` so that, at every instant, the path holds the old content or the new
 * one. The temporary file lives in the same directory (rename is atomic only within a file system)
 * and is named after the target and this process, so a crashed earlier write is overwritten.
 * `beforeRename` exists for the crash test.
 */
export async function atomicWrite(path: string, data: string, hooks: { beforeRename?: () => Promise<void> } = {}): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const file = await open(tmp, "w", 0o644);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await hooks.beforeRename?.();
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  // The rename is durable only once the directory entry is.
  const dir = await open(dirname(path), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** A node held in the guard after it left the table, as departed.json lists it. */
export type HeldNode = TableNode;

/** What the agent persists after it loaded the guard for a table. */
export interface GuardedSnapshot {
  table: NodeTable;
  /** Nodes that left the table and are still guarded and steered. */
  departed: HeldNode[];
  /** guardRuleset() for this node, departed nodes included. */
  guardScript: string;
  /** The local API proxy's configuration for the table's control planes (none: left as it is). */
  proxyConfig?: string;
}

/**
 * The agent's files in the state directory. Writes are serialised (one never races another over
 * the same file, the last one asked for lands last) and a file whose content did not change is
 * not written again.
 */
export class TableStore {
  readonly paths: StatePaths;
  private written: { table?: NodeTable; tableText?: string; guard?: string; departed?: string; local?: string; proxy?: string } = {};
  private next?: () => Promise<void>;
  private writing?: Promise<void>;
  /** The newest snapshot asked for by saveGuardedLatest and not yet written (made when its write runs). */
  private latestGuarded?: () => GuardedSnapshot;

  constructor(
    stateDir: string,
    private readonly onError: (message: string) => void,
  ) {
    this.paths = statePaths(stateDir);
  }

  /** Nodes the previous instance still held (departed.json); empty when absent or unreadable. */
  async readDeparted(): Promise<HeldNode[]> {
    return parseDeparted(await readFile(this.paths.departed, "utf8").catch(() => ""));
  }

  /** This node's pod CIDRs as last persisted (local.json); empty when absent or unreadable. */
  async readLocalPodCidrs(): Promise<string[]> {
    return parseLocal(await readFile(this.paths.local, "utf8").catch(() => ""));
  }

  /**
   * saveGuarded for a snapshot made only when its write runs, off the reconcile step: rendering
   * the guard script for 5,000 nodes costs 7-25 ms, and table changes that come while a write
   * is queued coalesce into one write of the newest (what lands is always the last asked for).
   */
  saveGuardedLatest(make: () => GuardedSnapshot): Promise<void> {
    const queued = this.latestGuarded !== undefined;
    this.latestGuarded = make;
    if (queued) return this.writing ?? Promise.resolve();
    return this.enqueue(async () => {
      const newest = this.latestGuarded;
      this.latestGuarded = undefined;
      if (newest) await this.writeGuarded(newest());
    });
  }

  /** Persists the table, its guard, the held nodes and the proxy's configuration (each file only when it changed). */
  saveGuarded(s: GuardedSnapshot): Promise<void> {
    return this.enqueue(() => this.writeGuarded(s));
  }

  private async writeGuarded(s: GuardedSnapshot): Promise<void> {
    const departed = JSON.stringify({ nodes: s.departed.map(({ name, role, addresses }) => ({ name, role, addresses })) }) + "\n";
    if (this.written.table !== s.table) {
      const text = JSON.stringify({ podCidrs: s.table.podCidrs, nodes: s.table.nodes.map(({ name, role, addresses }) => ({ name, role, addresses })) }) + "\n";
      if (text !== this.written.tableText) await atomicWrite(this.paths.table, text);
      this.written.table = s.table;
      this.written.tableText = text;
    }
    if (this.written.guard !== s.guardScript) {
      await atomicWrite(this.paths.guard, s.guardScript);
      this.written.guard = s.guardScript;
    }
    if (this.written.departed !== departed) {
      await atomicWrite(this.paths.departed, departed);
      this.written.departed = departed;
    }
    if (s.proxyConfig !== undefined && this.written.proxy !== s.proxyConfig) {
      await atomicWrite(this.paths.proxy, s.proxyConfig);
      this.written.proxy = s.proxyConfig;
    }
  }

  /** Persists this node's pod CIDRs learnt from the API. */
  saveLocalPodCidrs(podCidrs: string[]): Promise<void> {
    const text = JSON.stringify({ podCidrs }) + "\n";
    return this.enqueue(async () => {
      if (this.written.local === text) return;
      await atomicWrite(this.paths.local, text);
      this.written.local = text;
    });
  }

  /** Resolves when every write asked for so far is done (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  // One write at a time, in the order asked for.
  private enqueue(write: () => Promise<void>): Promise<void> {
    const before = this.next;
    this.next = async () => {
      await before?.();
      await write();
    };
    if (!this.writing) this.writing = this.drain();
    return this.writing;
  }

  private async drain(): Promise<void> {
    while (this.next) {
      const run = this.next;
      this.next = undefined;
      try {
        await run();
      } catch (e) {
        this.written = {}; // unknown what is on disk now: write everything again next time
        this.onError(`cannot persist the node table state in ${dirname(this.paths.table)}: ${(e as Error).message}`);
      }
    }
    this.writing = undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** departed.json's nodes; anything malformed is skipped (the file only ever widens the guard). */
export function parseDeparted(text: string): HeldNode[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return [];
  }
  if (!isObject(doc) || !Array.isArray(doc.nodes)) return [];
  return doc.nodes.flatMap((n): HeldNode[] => {
    if (!isObject(n) || typeof n.name !== "string" || (n.role !== "worker" && n.role !== "control-plane") || !Array.isArray(n.addresses)) return [];
    const addresses = n.addresses.flatMap((a) => canonicalAddress(a) ?? []);
    return addresses.length > 0 ? [{ name: n.name, role: n.role as NodeRole, addresses }] : [];
  });
}

/** local.json's pod CIDRs (canonical); anything malformed is skipped. */
export function parseLocal(text: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return [];
  }
  if (!isObject(doc) || !Array.isArray(doc.podCidrs)) return [];
  return doc.podCidrs.flatMap((c) => canonicalCidr(c) ?? []);
}
