// One reconcile step: cluster view -> desired -> diff against the kernel -> one batched apply.
// The kernel view is cached after a clean apply (it then equals the desired state) so that a
// node joining costs only the diff;
// a full re-read happens on periodic resync, link events, after any failed apply, and at start
// (which is how existing state is adopted rather than rebuilt).
// With a node table, identity comes from the table (identity.ts), the cluster's whole pod CIDRs
// are steered, and the egress guard (guard.ts) is kept in line with the table. A node that
// leaves (the table, or the API) stays steered and guarded for the leave grace period.
import { computeDesired, DesiredMemo, type Desired } from "./desired";
import { diff, planSize } from "./diff";
import { guardElements, guardElementUpdate, guardRuleset, guardShape, type GuardElements } from "./guard";
import type { GuardPort } from "./guardKernel";
import { IdentityResolver } from "./identity";
import type { ApplyError, KernelPort } from "./kernel";
import type { ClusterNode, KernelState, Plan, Problem } from "./model";
import type { NodeTable } from "./nodeTable";
import { NodeParseCache, parseClusterNodes } from "./nodes";
import type { Settings } from "./settings";

export interface ReconcilerOptions {
  /** Node-table mode: the last good table (undefined until one was read). Absent: no table. */
  nodeTable?: () => NodeTable | undefined;
  /** Where the egress guard is installed (node-table mode only). */
  guard?: GuardPort;
  /** The underlay devices the guard's raw-frame chain watches (underlay.ts), read at each whole load. */
  underlayDevices?: () => Promise<string[]>;
  /** Milliseconds clock (tests). */
  now?: () => number;
}

export interface GuardResult {
  /** The guard was (re)loaded in this step. */
  applied: boolean;
  error?: string;
}

export interface ReconcileResult {
  plan: Plan;
  errors: ApplyError[];
  problems: Problem[];
  desired: Desired;
  readKernel: boolean;
  deviceUp: boolean;
  durationSeconds: number;
  guard?: GuardResult;
  /** Nodes that left and are still steered (grace period), and when the first grace ends (ms clock). */
  departed: number;
  nextGraceEnd?: number;
}

export class Reconciler {
  private nodes: ClusterNode[] = [];
  private parseProblems: Problem[] = [];
  private synced = false;
  private known?: KernelState;
  private deviceUp?: boolean;
  /** What one step hands the next: parsed objects and computed parts (state this reconciler owns). */
  private readonly parsed = new NodeParseCache();
  private readonly memo = new DesiredMemo();
  private readonly identity = new IdentityResolver();
  /** Nodes of the last step, by name, and those that left since, until their grace ends. */
  private present = new Map<string, ClusterNode>();
  private readonly departed = new Map<string, { node: ClusterNode; until: number }>();
  /** What the guard was last loaded with (undefined: unknown, reload it whole). */
  private guardLoaded?: { shape: string; elements: GuardElements };
  private readonly now: () => number;

  /** `source`, when given, is read at the start of every step (the informers' caches). */
  constructor(
    private readonly port: KernelPort,
    private readonly settings: Settings,
    private readonly localNodeName: string,
    private readonly source?: () => { nodes: unknown[]; ciliumNodes: unknown[] },
    private readonly options: ReconcilerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }


  /** Replaces the cluster view with the informers' current caches. */
  setCluster(nodeObjects: unknown[], ciliumNodeObjects: unknown[]): void {
    const parsed = parseClusterNodes(nodeObjects, ciliumNodeObjects, this.settings.controlPlaneSelector, this.parsed);
    this.nodes = parsed.nodes;
    this.parseProblems = parsed.problems;
  }

  /** Called once every informer has listed: from now on stale kernel items may be removed. */
  markSynced(): void {
    this.synced = true;
  }

  get isSynced(): boolean {
    return this.synced;
  }

  /** Forget the cached kernel view: the next step reads the kernel. */
  invalidate(): void {
    this.known = undefined;
    this.deviceUp = undefined;
    this.guardLoaded = undefined;
  }

  /**
   * Returns undefined before the first sync: without a complete cluster view the agent leaves
   * whatever is installed (a restart adopts the previous instance's state untouched).
   */
  async step(options: { readKernel: boolean }): Promise<ReconcileResult | undefined> {
    if (!this.synced) return undefined;
    const table = this.options.nodeTable?.();
    if (this.options.nodeTable && !table) return undefined; // fail closed: keep what is installed
    const started = process.hrtime.bigint();
    const readKernel = options.readKernel || this.known === undefined || this.deviceUp === undefined;
    // The device is looked at whenever the kernel is read: at start, on resync, on every link
    // event and after any failure. A cluster-only step (a node joining) reuses the last answer;
    // if the device went away unseen, the device routes fail to apply and the retry re-reads.
    // The reads run in child processes, so they are started before the cluster view is parsed.
    const reads = readKernel ? Promise.all([this.port.linkState(this.settings.device), this.port.readOwned()]) : undefined;
    reads?.catch(() => undefined); // awaited below; a failure must not count as unhandled meanwhile
    if (this.source) {
      const { nodes, ciliumNodes } = this.source();
      this.setCluster(nodes, ciliumNodes);
    }
    const identity = table ? this.identity.resolve(table, this.nodes) : { nodes: this.nodes, problems: [] };
    const nodes = this.trackDepartures(identity.nodes);
    // The guard does not depend on the kernel reads: it is loaded while they and the route apply
    // run (different kernel subsystems, each change atomic in itself; a whole load at start or
    // resync is an nft process of its own). A node added to the table is guarded and steered in
    // this step, one whose grace ended leaves both in this step, and every state in between is
    // at least as closed as the one before or after it.
    const guardDone = table && this.options.guard ? this.applyGuard(table, nodes, readKernel) : undefined;
    const [link, current] = reads ? await reads.catch(async (e: unknown) => {
      await guardDone; // a step ends only when its guard change did
      throw e;
    }) : [undefined, this.known!];
    const deviceUp = link ? link.exists && link.up : this.deviceUp!;
    this.deviceUp = deviceUp;
    const desired = computeDesired({ localNodeName: this.localNodeName, nodes, deviceUp, settings: this.settings, clusterPodCidrs: table?.podCidrs }, this.memo);
    const plan = diff(desired, current, { prune: this.synced });
    let errors: ApplyError[] = [];
    let guard: GuardResult | undefined;
    try {
      if (planSize(plan) > 0) errors = await this.port.apply(plan);
    } finally {
      guard = await guardDone; // never rejects; a step ends only when its guard change did
    }
    // After a clean, pruning apply the owned kernel state is exactly the desired state. Keeping
    // the desired objects themselves lets the next diff match almost everything by identity.
    this.known = errors.length === 0 ? { rules: desired.rules, routes: desired.routes } : undefined;
    const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const graceEnds = [...this.departed.values()].map((d) => d.until);
    return {
      plan, errors, problems: [...this.parseProblems, ...identity.problems, ...desired.problems], desired, readKernel, deviceUp, durationSeconds, guard,
      departed: this.departed.size, nextGraceEnd: graceEnds.length > 0 ? Math.min(...graceEnds) : undefined,
    };
  }

  /** Adds the nodes that left within their grace period to the current ones. */
  private trackDepartures(nodes: ClusterNode[]): ClusterNode[] {
    const now = this.now();
    const current = new Map(nodes.map((n) => [n.name, n]));
    for (const [name, n] of this.present) {
      if (!current.has(name) && name !== this.localNodeName && this.settings.leaveGraceSeconds > 0) {
        this.departed.set(name, { node: n, until: now + this.settings.leaveGraceSeconds * 1000 });
      }
    }
    for (const [name, d] of this.departed) if (current.has(name) || d.until <= now) this.departed.delete(name);
    this.present = current;
    return this.departed.size === 0 ? nodes : [...nodes, ...[...this.departed.values()].map((d) => d.node)];
  }

  /**
   * Keeps the guard in line: element changes only (a node joining the table is one element), or
   * a whole reload when the shape changed, on every kernel read (which repairs a guard changed
   * behind our back), and after any failure.
   */
  private async applyGuard(table: NodeTable, nodes: ClusterNode[], force: boolean): Promise<GuardResult> {
    const port = this.options.guard!;
    const input = { localNodeName: this.localNodeName, nodes, podCidrs: table.podCidrs, settings: this.settings };
    const loaded = { shape: guardShape(input), elements: guardElements(input) };
    const last = this.guardLoaded;
    this.guardLoaded = undefined;
    try {
      if (!force && last && last.shape === loaded.shape) {
        const update = guardElementUpdate(last.elements, loaded.elements);
        if (update) await port.update(update);
        this.guardLoaded = loaded;
        return { applied: update !== undefined };
      }
    } catch {
      // fall through: load it whole
    }
    try {
      await port.apply(guardRuleset(input, loaded.elements), this.options.underlayDevices ? await this.options.underlayDevices() : this.settings.underlayDevices);
      this.guardLoaded = loaded;
      return { applied: true };
    } catch (e) {
      return { applied: false, error: (e as Error).message };
    }
  }
}

/** Removes every rule and route the agent owns, then the guard's table, and nothing else. */
export async function uninstall(port: KernelPort, guard?: GuardPort): Promise<{ plan: Plan; errors: ApplyError[]; guardRemoved: boolean }> {
  const current = await port.readOwned();
  const plan = diff({ rules: [], routes: [] }, current);
  const errors = planSize(plan) > 0 ? await port.apply(plan) : [];
  const guardRemoved = errors.length === 0 && guard ? await guard.remove() : false;
  return { plan, errors, guardRemoved };
}
