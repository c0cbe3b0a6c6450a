// One reconcile step: cluster view -> desired -> diff against the kernel -> one batched apply.
// The kernel view is cached after a clean apply (it then equals the desired state) so that a
// node joining costs only the diff;
// a full re-read happens on periodic resync, link events, after any failed apply, and at start
// (which is how existing state is adopted rather than rebuilt).
// With a node table, identity comes from the table (identity.ts), the cluster's whole pod CIDRs
// are steered, and the egress guard (guard.ts) is kept in line with the table. The table needs
// no API: its guard and routes are applied from the first step, before and independently of the
// informers' sync (the API may be down for as long as it likes); until the sync, identity comes
// from the table alone (a partial list could make a forged pod CIDR look uncontested), this
// node's own pod CIDRs from the persisted local.json, and nothing is pruned (what a previous
// instance or anyone else installed survives). A node that leaves (the table, or the API) stays
// steered and guarded while it is still a WireGuard peer of this node, then for the leave grace
// period: the table may shrink the protected set only as fast as nodes really go.
import { computeDesired, DesiredMemo, type Desired } from "./desired";
import { diff, planSize } from "./diff";
import { guardElements, guardElementUpdate, guardRuleset, guardShape, type GuardElements, type GuardInput } from "./guard";
import type { GuardPort } from "./guardKernel";
import { IdentityResolver } from "./identity";
import type { ApplyError, KernelPort } from "./kernel";
import type { ClusterNode, KernelState, Plan, Problem } from "./model";
import type { NodeTable, TableNode } from "./nodeTable";
import { NodeParseCache, parseClusterNodes } from "./nodes";
import { peerMatcher, type WgPeer } from "./peers";
import { contains, parsePrefix } from "./prefix";
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
  /** This node's pod CIDRs as last persisted (local.json): its throw routes until the API names them. */
  localPodCidrs?: string[];
  /** Nodes the guard covered before this start (the previous table and the nodes it still held):
   * one of them missing from the table has left, and is held as if it left now. */
  seedPresent?: TableNode[];
  /** This node's WireGuard peers; read in a step only while a node that left is held. */
  peers?: () => Promise<WgPeer[]>;
  /** Told after the guard was loaded for a new table or set of held nodes (persistence). */
  onGuarded?: (state: GuardedState) => void;
  /** Told this node's pod CIDRs whenever the API's answer changes (persistence). */
  onLocalPodCidrs?: (podCidrs: string[]) => void;
}

export interface GuardedState {
  table: NodeTable;
  /** Nodes that left the table and are still guarded and steered. */
  departed: TableNode[];
  /** What the guard was loaded from (guardRuleset(input) is its script). */
  input: GuardInput;
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
  /** Nodes that left and are still steered (still a peer, or grace period), and when the first grace ends (ms clock). */
  departed: number;
  nextGraceEnd?: number;
  /** The WireGuard peers could not be read: every departed node was held. */
  peersError?: string;
  /** Departed nodes held because they are still WireGuard peers (their grace has not begun):
   * the peers are looked at again soon, since Cilium removes a peer without an event we see. */
  awaitingPeerRemoval: number;
  /** The step had the complete cluster view (after the informers' sync): it installed all that
   * is wanted (this node's pod CIDRs from the API, stale state pruned), not just the table's part. */
  synced: boolean;
}

/** The nodes a step covers (current and held), and the peers' read if it still runs. */
interface Departures {
  nodes: ClusterNode[];
  peersError?: string;
  /** Resolves (never rejects) when the peers were read and the graces updated; to the read's error. */
  peersChecked?: Promise<string | undefined>;
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
  /** `until` is unset while the node is still a WireGuard peer (its grace has not begun). */
  private readonly departed = new Map<string, { node: ClusterNode; until?: number }>();
  /** What the last onGuarded call was told (table object and departed names). */
  private guardedKey?: { table: NodeTable; departed: string };
  private localPodCidrsSeen = "";
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
    for (const t of options.seedPresent ?? []) {
      this.present.set(t.name, { name: t.name, addresses: t.addresses, podCidrs: [], controlPlane: t.role === "control-plane" });
    }
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
   * Returns undefined when there is nothing to go by: with a node table, until one was read;
   * without, before the first sync (without a complete cluster view the agent leaves whatever is
   * installed: a restart adopts the previous instance's state untouched). With a table, a step
   * before the sync adds and never removes.
   */
  async step(options: { readKernel: boolean }): Promise<ReconcileResult | undefined> {
    const table = this.options.nodeTable?.();
    if (this.options.nodeTable && !table) return undefined; // fail closed: keep what is installed
    if (!table && !this.synced) return undefined;
    const started = process.hrtime.bigint();
    const readKernel = options.readKernel || this.known === undefined || this.deviceUp === undefined;
    // The device is looked at whenever the kernel is read: at start, on resync, on every link
    // event and after any failure. A cluster-only step (a node joining) reuses the last answer;
    // if the device went away unseen, the device routes fail to apply and the retry re-reads.
    // The reads run in child processes, so they are started before the cluster view is parsed.
    const reads = readKernel ? Promise.all([this.port.linkState(this.settings.device), this.port.readOwned()]) : undefined;
    reads?.catch(() => undefined); // awaited below; a failure must not count as unhandled meanwhile
    if (this.source && this.synced) {
      const { nodes, ciliumNodes } = this.source();
      this.setCluster(nodes, ciliumNodes);
    }
    const identity = table ? this.identity.resolve(table, this.synced ? this.nodes : []) : { nodes: this.nodes, problems: [] };
    const identified = table ? this.localPodCidrs(table, identity.nodes) : identity.nodes;
    let departures: Departures;
    // A whole guard load (at start, on every kernel read, after a failure) needs the underlay
    // devices: read them while the kernel and the peers are read, not after.
    const underlay =
      table && this.options.guard && this.options.underlayDevices && (readKernel || !this.guardLoaded) ? this.options.underlayDevices() : undefined;
    underlay?.catch(() => undefined); // awaited by the guard load; a failure is its error
    try {
      departures = await this.trackDepartures(identified);
    } catch (e) {
      await reads?.catch(() => undefined); // a step ends only when its reads did
      throw e;
    }
    const nodes = departures.nodes;
    // The guard does not depend on the kernel reads: it is loaded while they and the route apply
    // run (different kernel subsystems, each change atomic in itself; a whole load at start or
    // resync is an nft process of its own). A node added to the table is guarded and steered in
    // this step, one whose grace ended leaves both in this step, and every state in between is
    // at least as closed as the one before or after it.
    const guardDone = table && this.options.guard ? this.applyGuard(table, nodes, readKernel, underlay) : undefined;
    const [link, current] = reads
      ? await reads.catch(async (e: unknown) => {
          await guardDone; // a step ends only when its guard change did
          await departures.peersChecked; // ... and its peers' read
          throw e;
        })
      : [undefined, this.known!];
    const deviceUp = link ? link.exists && link.up : this.deviceUp!;
    this.deviceUp = deviceUp;
    const desired = computeDesired(
      { localNodeName: this.localNodeName, nodes, deviceUp, settings: this.settings, clusterPodCidrs: table?.podCidrs },
      this.memo,
    );
    const prune = this.synced;
    const plan = diff(desired, current, { prune });
    let errors: ApplyError[] = [];
    let guard: GuardResult | undefined;
    try {
      if (planSize(plan) > 0) errors = await this.port.apply(plan);
    } finally {
      guard = await guardDone; // never rejects; a step ends only when its guard change did
    }
    // After a clean, pruning apply the owned kernel state is exactly the desired state. Keeping
    // the desired objects themselves lets the next diff match almost everything by identity.
    // Before the sync nothing was pruned: the kernel may hold more, the next step reads it.
    this.known = errors.length === 0 && prune ? { rules: desired.rules, routes: desired.routes } : undefined;
    if (table && guard && !guard.error) this.tellGuarded(table, nodes);
    const peersError = departures.peersError ?? (departures.peersChecked ? await departures.peersChecked : undefined);
    const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const graceEnds = [...this.departed.values()].flatMap((d) => (d.until === undefined ? [] : [d.until]));
    const awaitingPeerRemoval = [...this.departed.values()].filter((d) => d.until === undefined).length;
    return {
      synced: prune,
      awaitingPeerRemoval,
      plan,
      errors,
      problems: [...this.parseProblems, ...identity.problems, ...desired.problems],
      desired,
      readKernel,
      deviceUp,
      durationSeconds,
      guard,
      departed: this.departed.size,
      nextGraceEnd: graceEnds.length > 0 ? Math.min(...graceEnds) : undefined,
      ...(peersError ? { peersError } : {}),
    };
  }

  /**
   * This node's pod CIDRs: the API's once synced (persisted through onLocalPodCidrs when they
   * change), before that the persisted ones, each only if it lies inside the table's pod CIDRs
   * and is not one of them whole (as identity.ts requires of the API's).
   */
  private localPodCidrs(table: NodeTable, nodes: ClusterNode[]): ClusterNode[] {
    const i = nodes.findIndex((n) => n.name === this.localNodeName);
    if (i < 0) return nodes;
    const local = nodes[i];
    if (this.synced || local.podCidrs.length > 0) {
      const seen = local.podCidrs.join(",");
      if (this.synced && seen !== this.localPodCidrsSeen && local.podCidrs.length > 0) this.options.onLocalPodCidrs?.(local.podCidrs);
      this.localPodCidrsSeen = seen;
      return nodes;
    }
    const cluster = table.podCidrs.map(parsePrefix);
    const persisted = (this.options.localPodCidrs ?? []).filter((c) => !table.podCidrs.includes(c) && cluster.some((p) => contains(p, parsePrefix(c))));
    if (persisted.length === 0) return nodes;
    const out = [...nodes];
    out[i] = { ...local, podCidrs: persisted };
    return out;
  }

  /**
   * Adds the nodes that left and are still held to the current ones: while a node is a WireGuard
   * peer of this one its grace has not begun; from the step that sees it is not, it is held for
   * the leave grace. Peers that cannot be read hold every departed node (fail closed).
   * When the peers' answer cannot release anyone in this step (a grace to run, none ended: e.g.
   * every start that finds departed nodes), every departed node is held at once and the peers are
   * read alongside the guard and route changes (peersChecked), which then do not wait for `wg`.
   */
  private async trackDepartures(nodes: ClusterNode[]): Promise<Departures> {
    const current = new Map(nodes.map((n) => [n.name, n]));
    for (const [name, n] of this.present) {
      if (!current.has(name) && name !== this.localNodeName && !this.departed.has(name)) this.departed.set(name, { node: n });
    }
    for (const name of this.departed.keys()) if (current.has(name)) this.departed.delete(name);
    this.present = current;
    if (this.departed.size === 0) return { nodes };
    const now = this.now();
    const held = () => (this.departed.size === 0 ? nodes : [...nodes, ...[...this.departed.values()].map((d) => d.node)]);
    const settled = this.settings.leaveGraceSeconds > 0 && [...this.departed.values()].every((d) => d.until === undefined || d.until > now);
    const checked = this.checkPeers(now);
    if (settled) {
      const all = held();
      return { nodes: all, peersChecked: checked };
    }
    const peersError = await checked;
    return { nodes: held(), peersError };
  }

  /** Reads the peers and starts, stops or ends each departed node's grace; the read's error, if any. */
  private async checkPeers(now: number): Promise<string | undefined> {
    let isPeer: (addresses: readonly string[]) => boolean = () => false;
    let peersError: string | undefined;
    if (this.options.peers) {
      try {
        isPeer = peerMatcher(await this.options.peers());
      } catch (e) {
        peersError = (e as Error).message;
        isPeer = () => true;
      }
    }
    for (const [name, d] of this.departed) {
      if (isPeer(d.node.addresses)) d.until = undefined;
      else d.until ??= now + this.settings.leaveGraceSeconds * 1000;
      if (d.until !== undefined && d.until <= now) this.departed.delete(name);
    }
    return peersError;
  }

  /** Tells onGuarded when the guard now stands for a new table or a new set of held nodes. */
  private tellGuarded(table: NodeTable, nodes: ClusterNode[]): void {
    if (!this.options.onGuarded) return;
    const departed = [...this.departed.values()].map((d) => d.node);
    const key = departed.map((n) => `${n.name}=${n.addresses.join(",")}`).join(";");
    if (this.guardedKey?.table === table && this.guardedKey.departed === key) return;
    this.guardedKey = { table, departed: key };
    this.options.onGuarded({
      table,
      departed: departed.map((n) => ({ name: n.name, role: n.controlPlane ? "control-plane" : "worker", addresses: n.addresses })),
      input: this.guardInput(table, nodes),
    });
  }

  private guardInput(table: NodeTable, nodes: ClusterNode[]): GuardInput {
    return { localNodeName: this.localNodeName, nodes, podCidrs: table.podCidrs, settings: this.settings };
  }

  /**
   * Keeps the guard in line: element changes only (a node joining the table is one element), or
   * a whole reload when the shape changed, on every kernel read (which repairs a guard changed
   * behind our back), and after any failure.
   */
  private async applyGuard(table: NodeTable, nodes: ClusterNode[], force: boolean, underlay?: Promise<string[]>): Promise<GuardResult> {
    const port = this.options.guard!;
    const input = this.guardInput(table, nodes);
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
      await port.apply(
        guardRuleset(input, loaded.elements),
        this.options.underlayDevices ? await (underlay ?? this.options.underlayDevices()) : this.settings.underlayDevices,
      );
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
