// The API stand-in's state: objects by kind and name, one resourceVersion counter, and an event
// history so a watch that resumes from a known resourceVersion gets exactly what it missed.
// A resourceVersion older than the history answers 410 Gone, which makes clients relist - the
// real API's contract, and what happens after the stand-in restarts.
import type { Kind, KubeObject } from "./objects";

export type EventType = "ADDED" | "MODIFIED" | "DELETED";
export interface WatchEvent {
  kind: Kind;
  type: EventType;
  object: KubeObject;
  rv: number;
}

export class ApiStore {
  private objects: Record<Kind, Map<string, KubeObject>> = { nodes: new Map(), ciliumnodes: new Map() };
  private history: WatchEvent[] = [];
  private listeners = new Set<(e: WatchEvent) => void>();
  private rv: number;
  /** Oldest resourceVersion a watch (or a list's continue token) may resume from. */
  oldestRv: number;

  constructor(initialRv = 1, initial: { kind: Kind; object: KubeObject }[] = []) {
    this.rv = initialRv;
    this.oldestRv = initialRv;
    for (const { kind, object } of initial) this.objects[kind].set(object.metadata.name, this.stamp(object, initialRv));
  }

  get resourceVersion(): number {
    return this.rv;
  }

  list(kind: Kind): KubeObject[] {
    return [...this.objects[kind].values()];
  }

  all(): { kind: Kind; object: KubeObject }[] {
    return (Object.keys(this.objects) as Kind[]).flatMap((kind) => this.list(kind).map((object) => ({ kind, object })));
  }

  put(kind: Kind, object: KubeObject): number {
    const name = object?.metadata?.name;
    if (typeof name !== "string" || !name) throw new Error("object needs metadata.name");
    const type: EventType = this.objects[kind].has(name) ? "MODIFIED" : "ADDED";
    const stored = this.stamp(object, ++this.rv);
    this.objects[kind].set(name, stored);
    this.emit({ kind, type, object: stored, rv: this.rv });
    return this.rv;
  }

  delete(kind: Kind, name: string): number {
    const old = this.objects[kind].get(name);
    if (!old) return this.rv;
    this.objects[kind].delete(name);
    this.emit({ kind, type: "DELETED", object: this.stamp(old, ++this.rv), rv: this.rv });
    return this.rv;
  }

  /** Events of a kind after `rv`, or "gone" if the history does not reach back that far. */
  since(kind: Kind, rv: number): WatchEvent[] | "gone" {
    if (rv < this.oldestRv) return "gone";
    return this.history.filter((e) => e.kind === kind && e.rv > rv);
  }

  /** Forgets the history before `rv`, as etcd compaction does: older versions answer 410. */
  compact(rv = this.rv): void {
    this.oldestRv = Math.max(this.oldestRv, Math.min(rv, this.rv));
    this.history = this.history.filter((e) => e.rv > this.oldestRv);
  }

  subscribe(listener: (e: WatchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: WatchEvent): void {
    this.history.push(e);
    for (const l of this.listeners) l(e);
  }

  private stamp(object: KubeObject, rv: number): KubeObject {
    return { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } };
  }
}
