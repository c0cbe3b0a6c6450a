// One reconcile step: cluster view -> desired -> diff against the kernel -> one batched apply.
// A step after a few changes (informer events by name, a table re-read, graces ending) is a
// delta step (deltaStep): only the changed nodes are resolved, and only their routes and guard
// elements change; the full step below stays the safety net for everything else.
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
import { ClaimIndex } from "./claims";
import { computeDesired, DesiredMemo, hostPrefix, remoteNodeRoutes, type Desired } from "./desired";
import { diff, planSize } from "./diff";
import { guardElements, guardElementUpdate, guardRuleset, guardShape, type GuardElements, type GuardInput } from "./guard";
import type { GuardPort } from "./guardKernel";
import { IdentityResolver } from "./identity";
import type { ApplyError, KernelPort } from "./kernel";
import type { ClusterLookup } from "./informers";
import type { ClusterNode, Plan, Problem, Route, Rule } from "./model";
import { tableChanges, tableLookup, type NodeTable, type TableNode } from "./nodeTable";
import { familyOf, NodeParseCache, parseClusterNodes } from "./nodes";
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
  /** The informers' objects by name: with it (and noteApiChange), a step after a few API events reads only those. */
  lookup?: ClusterLookup;
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
  /** How many rules and routes the desired state holds (desired.routes without a pass over them). */
  owned: { rules: number; unicast: number; blackhole: number };
  /** A delta step: only the changed nodes were looked at (see Reconciler.deltaStep). */
  delta: boolean;
}

/** The nodes a step covers (current and held), and the peers' read if it still runs. */
interface Departures {
  nodes: ClusterNode[];
  peersError?: string;
  /** Resolves (never rejects) when the peers were read and the graces updated; to the read's error. */
  peersChecked?: Promise<string | undefined>;
}

/**
 * What a delta step starts from: the last full step's facts that no change of a single remote
 * node alters, and the API's pod CIDR claims. Present only after a full step that was synced,
 * applied cleanly and found no problem at all (any claim, overlap or malformed object is judged
 * and named by full steps until it is gone).
 */
interface DeltaView {
  /** The table of the last step (undefined: no table, identity from the API). */
  table?: NodeTable;
  local: ClusterNode;
  deviceUp: boolean;
  rules: Rule[];
  /**
   * With a table: the API's pod CIDR claims. Without: every prefix each covered node steers
   * (host prefixes and pod CIDRs, this node's too), no two nodes' overlapping, which is what
   * makes one node's routes its own (no duplicate address, no address in another's pod CIDR).
   */
  claims: ClaimIndex;
  owned: { unicast: number; blackhole: number };
  /** Remote nodes with a steered prefix (desired.remoteNodesCovered). */
  covered: number;
}

/** Addresses of held nodes -> the one node holding each, or that several do. */
class AddressOwners {
  private readonly owners = new Map<string, string | typeof SEVERAL>();
  add(addresses: readonly string[], name: string): void {
    for (const a of addresses) {
      const o = this.owners.get(a);
      this.owners.set(a, o === undefined || o === name ? name : SEVERAL);
    }
  }
  /** No node but (possibly) `name` has this address. */
  onlyOf(address: string, name: string): boolean {
    const o = this.owners.get(address);
    return o === undefined || o === name;
  }
}
const SEVERAL = Symbol("several nodes");

/** The owned kernel state as last applied: rules, and routes as a set (a delta step adds and deletes a few). */
interface Known {
  rules: Rule[];
  routes: Set<Route>;
}

export class Reconciler {
  private nodes: ClusterNode[] = [];
  private parseProblems: Problem[] = [];
  private synced = false;
  private known?: Known;
  private view?: DeltaView;
  /** Names of Nodes/CiliumNodes changed since the cluster view was last read ("all": read it whole). */
  private apiChanges: Set<string> | "all" = "all";
  /** Departed nodes whose grace ended since a step last covered them (their routes and elements still stand). */
  private graceEnded = new Map<string, ClusterNode>();
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

  /** An informer event for this object name; without a name (a relist), anything may have changed. */
  noteApiChange(name?: string): void {
    if (name === undefined) this.apiChanges = "all";
    else if (this.apiChanges !== "all") this.apiChanges.add(name);
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
    this.view = undefined;
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
    if (!options.readKernel && this.view && this.known && this.deviceUp !== undefined) {
      const result = await this.deltaStep(table, started);
      if (result) return result;
    }
    this.view = undefined;
    const readKernel = options.readKernel || this.known === undefined || this.deviceUp === undefined;
    // The device is looked at whenever the kernel is read: at start, on resync, on every link
    // event and after any failure. A cluster-only step (a node joining) reuses the last answer;
    // if the device went away unseen, the device routes fail to apply and the retry re-reads.
    // The reads run in child processes, so they are started before the cluster view is parsed.
    const reads = readKernel ? Promise.all([this.port.linkState(this.settings.device), this.port.readOwned()]) : undefined;
    reads?.catch(() => undefined); // awaited below; a failure must not count as unhandled meanwhile
    if (this.source && this.synced) {
      this.apiChanges = new Set(); // read whole now: what changes from here on is the next step's
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
      // This step covers whoever is still held now; a grace that the peers' read, still running
      // alongside, ends later is the next step's.
      this.graceEnded.clear();
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
      : [undefined, { rules: this.known!.rules, routes: [...this.known!.routes] }];
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
    this.known = errors.length === 0 && prune ? { rules: desired.rules, routes: new Set(desired.routes) } : undefined;
    if (table && guard && !guard.error) this.tellGuarded(table, () => nodes);
    const problems = [...this.parseProblems, ...identity.problems, ...desired.problems];
    const owned = { unicast: 0, blackhole: 0 };
    for (const r of desired.routes) if (r.type === "unicast" || r.type === "blackhole") owned[r.type]++;
    const local = nodes.find((n) => n.name === this.localNodeName);
    // With a table, the API's pod CIDR claims; without, every prefix of every covered node (this
    // node's too), which must not overlap across nodes for a delta to touch one node's routes alone.
    const claims =
      this.known && (!table || (guard && !guard.error)) && problems.length === 0 && local && this.options.lookup
        ? table
          ? ClaimIndex.of(
              this.nodes.map((n) => [n.name, n.podCidrs]),
              (c) => this.identity.spanOf(c),
            )
          : ClaimIndex.of(nodes.map((n) => [n.name, [...n.addresses.map(hostPrefix), ...n.podCidrs]]))
        : undefined;
    this.view = claims && local ? { table, local, deviceUp, rules: desired.rules, claims, owned, covered: desired.remoteNodesCovered } : undefined;
    const peersError = departures.peersError ?? (departures.peersChecked ? await departures.peersChecked : undefined);
    const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const graceEnds = [...this.departed.values()].flatMap((d) => (d.until === undefined ? [] : [d.until]));
    const awaitingPeerRemoval = [...this.departed.values()].filter((d) => d.until === undefined).length;
    return {
      synced: prune,
      awaitingPeerRemoval,
      plan,
      errors,
      problems,
      desired,
      owned: { rules: desired.rules.length, ...owned },
      delta: false,
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
   * A step that looks only at what changed since the last one: the table's added and removed
   * entries (tableChanges), the Nodes and CiliumNodes the informers named (noteApiChange), and
   * the held nodes whose grace ended. Each changed node is resolved as the full step would (with a
   * table: its addresses and role, the API's pod CIDRs, claims checked against the claim index;
   * without: what its objects say, every prefix checked against every other node's), its routes
   * and guard elements before and after are compared, and only the difference is applied.
   * Undefined, having changed nothing, whenever the full step must judge: anything it would
   * report (a claim, an overlap, a malformed object, an address two covered nodes share), this
   * node itself changing, the pod CIDRs changing, or changes it cannot see (a relist, two table
   * reads in between). Periodic resyncs, kernel reads and failures are full steps, and a seeded
   * property test holds both paths to the same kernel state (reconcilerDelta.test.ts).
   */
  private async deltaStep(table: NodeTable | undefined, started: bigint): Promise<ReconcileResult | undefined> {
    const view = this.view!;
    const lookup = this.options.lookup;
    const tableIndex = table && tableLookup(table);
    const api = this.apiChanges;
    if (api === "all" || !lookup || (this.options.guard && !this.guardLoaded)) return undefined;
    if (table ? !tableIndex || !view.table || table.podCidrs !== view.table.podCidrs : view.table) return undefined;
    let added: TableNode[] = [];
    let removed: TableNode[] = [];
    if (table && table !== view.table) {
      const c = tableChanges(table);
      if (!c || c.previous !== view.table) return undefined;
      ({ added, removed } = c);
    }
    const names = new Set([...api, ...added.map((n) => n.name), ...removed.map((n) => n.name)]);
    if (names.has(this.localNodeName)) return undefined;
    const cluster = (table?.podCidrs ?? []).map(parsePrefix);
    const usable = (c: string) => !table!.podCidrs.includes(c) && cluster.some((p) => contains(p, parsePrefix(c)));

    // 1. Each changed node as the full step would resolve it, or undefined (nothing changed yet).
    const resolved = new Map<string, { node?: ClusterNode; claims: readonly string[] }>();
    for (const name of names) {
      const obj = lookup.node(name);
      const cilium = lookup.ciliumNode(name);
      let apiNode: ClusterNode | undefined;
      if (obj !== undefined || cilium !== undefined) {
        const parsed = parseClusterNodes(obj === undefined ? [] : [obj], cilium === undefined ? [] : [cilium], this.settings.controlPlaneSelector, this.parsed);
        apiNode = parsed.nodes[0];
        if (parsed.problems.length > 0 || parsed.nodes.length !== 1 || apiNode.name !== name) return undefined;
      }
      if (!tableIndex) {
        // Identity from the API: the node is what its objects say; its prefixes must overlap no one else's.
        const claims = apiNode ? [...apiNode.addresses.map(hostPrefix), ...apiNode.podCidrs] : [];
        if (view.claims.conflicts(name, claims)) return undefined;
        resolved.set(name, { claims, node: apiNode });
        continue;
      }
      const entry = tableIndex.entry(name);
      let claims: readonly string[] = [];
      if (apiNode) {
        if (apiNode.addresses.some((a) => !entry?.addresses.includes(a))) return undefined; // a claim on an address
        if (!apiNode.podCidrs.every(usable)) return undefined; // a claim outside the cluster's pod CIDRs
        claims = apiNode.podCidrs;
      }
      if (view.claims.conflicts(name, claims)) return undefined;
      resolved.set(name, {
        claims,
        node: entry && { name, addresses: entry.addresses, podCidrs: [...claims], controlPlane: entry.role === "control-plane" },
      });
    }
    // An address of a changed node that another covered node (held after leaving) also has: the full step decides who gets it.
    const heldAddresses = new AddressOwners();
    for (const [name, d] of this.departed) heldAddresses.add(d.node.addresses, name);
    for (const n of removed) if (tableIndex?.entry(n.name) === undefined) heldAddresses.add(n.addresses, n.name);
    const before = new Map<string, ClusterNode | undefined>();
    const routesAfter = new Map<string, Route[]>();
    // (Before as well as after the change: which of two nodes sharing an address wins it can
    // change when either goes, without the other changing.)
    const sharedBy = (name: string, n: ClusterNode | undefined) =>
      n?.addresses.some((a) => !heldAddresses.onlyOf(a, name) || (tableIndex?.ownerOf(a) ?? name) !== name) ?? false;
    for (const [name, r] of resolved) {
      const was = this.present.get(name) ?? this.departed.get(name)?.node ?? this.graceEnded.get(name);
      before.set(name, was);
      if (table && (sharedBy(name, was) || sharedBy(name, r.node))) return undefined;
      if (!r.node) continue;
      const routes = remoteNodeRoutes(this.memo, view.local, r.node, view.deviceUp, this.settings, !table);
      if (!routes) return undefined;
      routesAfter.set(name, routes);
    }

    // 2. From here on the step goes through: claims, holders, presence and departures. Events
    // from now on are the next step's.
    this.apiChanges = new Set();
    for (const [name, r] of resolved) {
      if (table) this.identity.hold(name, view.claims.of(name), r.node ? r.claims : []);
      // Without a table, a node that left (or leaves now) keeps its prefixes in the index while it is held.
      if (table || r.node || (!this.present.has(name) && !this.departed.has(name))) view.claims.set(name, r.claims);
      if (r.node) {
        this.present.set(name, r.node);
        this.departed.delete(name);
        this.graceEnded.delete(name);
      } else {
        const was = this.present.get(name);
        this.present.delete(name);
        if (was && !this.departed.has(name)) this.departed.set(name, { node: was });
      }
    }
    const ended = new Map(this.graceEnded);
    this.graceEnded.clear();
    let peersError: string | undefined;
    let peersChecked: Promise<string | undefined> | undefined;
    if (this.departed.size > 0) {
      const now = this.now();
      const settled = this.settings.leaveGraceSeconds > 0 && [...this.departed.values()].every((d) => d.until === undefined || d.until > now);
      const checked = this.checkPeers(now);
      if (settled) peersChecked = checked;
      else peersError = await checked;
      // Graces the read ended by now are this step's (as the full step's held nodes leave them
      // out); one that the read, still running alongside, ends later is the next step's.
      for (const [name, n] of this.graceEnded) ended.set(name, n);
      this.graceEnded.clear();
    }

    // 3. What each examined node had in the kernel and what it has now: routes and guard elements.
    const own = new Set(view.local.addresses);
    const elementsBefore: GuardElements = { 4: new Map(), 6: new Map() };
    const elementsAfter: GuardElements = { 4: new Map(), 6: new Map() };
    const elements = (into: GuardElements, n: ClusterNode | undefined) => {
      if (!this.options.guard) return;
      for (const a of n?.addresses ?? []) if (!own.has(a)) into[familyOf(a)].set(a, n!.controlPlane ? "to_control_plane" : "to_node");
    };
    const steers = (n: ClusterNode) => n.addresses.length + n.podCidrs.length > 0;
    const wantedBefore = new Set<Route>();
    const wantedAfter = new Set<Route>();
    const examined = new Set([...before.keys(), ...ended.keys()]);
    // An address another covered node also has (a node that left, and one that took its address):
    // its routes and element are that node's too; the full step decides (as it does at the start).
    const held = new AddressOwners();
    for (const [name, d] of this.departed) held.add(d.node.addresses, name);
    const shared = (name: string, n: ClusterNode | undefined) =>
      n?.addresses.some((a) => (tableIndex?.ownerOf(a) ?? name) !== name || !held.onlyOf(a, name)) ?? false;
    for (const name of examined) {
      const was = before.has(name) ? (before.get(name) ?? ended.get(name)) : ended.get(name);
      const is = this.present.get(name) ?? this.departed.get(name)?.node;
      if (was === is) continue;
      if (table && (shared(name, was) || shared(name, is))) {
        this.view = undefined;
        return undefined;
      }
      // Without a table the index holds who steers what: a node whose grace ended leaves it.
      if (!table && !is) view.claims.set(name, []);
      view.covered += (is && steers(is) ? 1 : 0) - (was && steers(was) ? 1 : 0);
      elements(elementsBefore, was);
      elements(elementsAfter, is);
      const routesWas = was ? remoteNodeRoutes(this.memo, view.local, was, view.deviceUp, this.settings, !table) : [];
      const routesIs = is ? (routesAfter.get(name) ?? remoteNodeRoutes(this.memo, view.local, is, view.deviceUp, this.settings, !table)) : [];
      if (!routesWas || !routesIs) {
        // Covered by the last full step without a problem, so not expected: let the full step judge.
        this.view = undefined;
        return undefined;
      }
      for (const r of routesWas) wantedBefore.add(r);
      for (const r of routesIs) wantedAfter.add(r);
    }
    const known = this.known!;
    const plan: Plan = {
      add: { rules: [], routes: [...wantedAfter].filter((r) => !known.routes.has(r)) },
      remove: { rules: [], routes: [...wantedBefore].filter((r) => !wantedAfter.has(r) && known.routes.has(r)) },
    };
    // Against what the guard holds: an element already deleted (a grace that ended while a step
    // ran, seen again) or already there is no command.
    const loaded = this.guardLoaded?.elements ?? { 4: new Map(), 6: new Map() };
    const holds: GuardElements = { 4: new Map(), 6: new Map() };
    for (const family of [4, 6] as const) {
      for (const a of [...elementsBefore[family].keys(), ...elementsAfter[family].keys()]) {
        const v = loaded[family].get(a);
        if (v !== undefined) holds[family].set(a, v);
      }
    }
    const update = this.options.guard ? guardElementUpdate(holds, elementsAfter) : undefined;
    const guardDone: Promise<GuardResult> | undefined = !this.options.guard
      ? undefined
      : update
        ? this.options.guard.update(update).then(
            () => ({ applied: true }),
            (e: unknown) => ({ applied: false, error: (e as Error).message }),
          )
        : Promise.resolve({ applied: false });
    let errors: ApplyError[] = [];
    let guard: GuardResult | undefined;
    try {
      if (planSize(plan) > 0) errors = await this.port.apply(plan);
    } finally {
      guard = await guardDone;
    }
    if (guard?.error) {
      this.guardLoaded = undefined; // loaded whole by the next step
      this.view = undefined;
    } else if (guard) {
      for (const family of [4, 6] as const) {
        for (const a of holds[family].keys()) if (!elementsAfter[family].has(a)) loaded[family].delete(a);
        for (const [a, v] of elementsAfter[family]) loaded[family].set(a, v);
      }
    }
    if (errors.length > 0) {
      this.known = undefined;
      this.view = undefined;
    } else {
      for (const r of plan.remove.routes) known.routes.delete(r);
      for (const r of plan.add.routes) known.routes.add(r);
      for (const r of plan.remove.routes) if (r.type === "unicast" || r.type === "blackhole") view.owned[r.type]--;
      for (const r of plan.add.routes) if (r.type === "unicast" || r.type === "blackhole") view.owned[r.type]++;
    }
    view.table = table;
    if (table && guard && !guard.error) this.tellGuarded(table, () => [...this.present.values(), ...[...this.departed.values()].map((d) => d.node)]);
    peersError ??= peersChecked ? await peersChecked : undefined;
    const graceEnds = [...this.departed.values()].flatMap((d) => (d.until === undefined ? [] : [d.until]));
    // With a table every remote node counts; without, those with something to steer (as computeDesired counts).
    const remoteNodesCovered = table ? this.present.size - 1 + this.departed.size : view.covered;
    return {
      synced: true,
      delta: true,
      awaitingPeerRemoval: [...this.departed.values()].filter((d) => d.until === undefined).length,
      plan,
      errors,
      problems: [],
      desired: {
        rules: view.rules,
        // Built only when asked (tests): the controller counts through `owned`.
        get routes() {
          return [...known.routes];
        },
        problems: [],
        remoteNodesCovered,
      },
      owned: { rules: view.rules.length, ...view.owned },
      readKernel: false,
      deviceUp: view.deviceUp,
      durationSeconds: Number(process.hrtime.bigint() - started) / 1e9,
      ...(guard ? { guard } : {}),
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
      if (d.until !== undefined && d.until <= now) {
        this.departed.delete(name);
        if (!this.present.has(name)) this.graceEnded.set(name, d.node);
      }
    }
    return peersError;
  }

  /** Tells onGuarded when the guard now stands for a new table or a new set of held nodes. */
  private tellGuarded(table: NodeTable, nodes: () => ClusterNode[]): void {
    if (!this.options.onGuarded) return;
    const departed = [...this.departed.values()].map((d) => d.node);
    const key = departed.map((n) => `${n.name}=${n.addresses.join(",")}`).join(";");
    if (this.guardedKey?.table === table && this.guardedKey.departed === key) return;
    this.guardedKey = { table, departed: key };
    this.options.onGuarded({
      table,
      departed: departed.map((n) => ({ name: n.name, role: n.controlPlane ? "control-plane" : "worker", addresses: n.addresses })),
      input: this.guardInput(table, nodes()),
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
