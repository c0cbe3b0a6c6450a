// Drives the Reconciler: coalesces bursts of events into one step (debounce), never runs two
// steps at once, resyncs periodically with a full kernel read, retries failures with backoff,
// and turns each result into metrics and logs.
import type { Logger } from "./log";
import type { Metrics } from "./metrics";
import type { ReconcileResult, Reconciler } from "./reconciler";

export interface ControllerOptions {
  debounceMs: number;
  resyncMs: number;
  retryMs: number;
  /** How often the WireGuard peers are looked at again while a departed node is still a peer
   * (Cilium removes the peer when the CiliumNode goes, with no event of its own): the leave
   * grace begins at most this late. Default 1000. */
  peerCheckMs?: number;
}

export class Controller {
  private pending?: { readKernel: boolean; reasons: Set<string> };
  private timer?: NodeJS.Timeout;
  private resyncTimer?: NodeJS.Timeout;
  /** Fires when the first leave grace period ends, so the departed node's routes go on time. */
  private graceTimer?: NodeJS.Timeout;
  /** Fires to look at the peers again while a departed node is still one. */
  private peerTimer?: NodeJS.Timeout;
  private running = false;
  private succeededOnce = false;
  private appliedEarly = false;
  private loggedProblems = new Set<string>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly reconciler: Reconciler,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly o: ControllerOptions,
  ) {}

  ready(): boolean {
    return this.succeededOnce;
  }

  start(): void {
    this.resyncTimer = setInterval(() => this.request("resync", true), this.o.resyncMs);
  }

  stop(): void {
    clearInterval(this.resyncTimer);
    clearTimeout(this.timer);
    clearTimeout(this.graceTimer);
    clearTimeout(this.peerTimer);
  }

  /** Asks for a step soon; readKernel forces a fresh read of the kernel (drift, link change). */
  request(reason: string, readKernel = false, delayMs = this.o.debounceMs): void {
    this.pending ??= { readKernel: false, reasons: new Set() };
    this.pending.readKernel ||= readKernel;
    this.pending.reasons.add(reason);
    if (!this.timer && !this.running) this.timer = setTimeout(() => void this.run(), delayMs);
  }

  /** Resolves when no step is running or scheduled (used by tests and the benchmark). */
  whenIdle(): Promise<void> {
    if (!this.running && !this.timer) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    const job = this.pending;
    this.pending = undefined;
    if (!job) return this.settle();
    this.running = true;
    let retry = false;
    try {
      const result = await this.reconciler.step({ readKernel: job.readKernel });
      if (result) retry = this.record(result, [...job.reasons]);
    } catch (e) {
      this.reconciler.invalidate();
      this.metrics.errors.inc({ kind: "kernel-read" });
      this.log.error({ err: (e as Error).message, reasons: [...job.reasons] }, "reconcile failed; keeping installed state and retrying");
      retry = true;
    } finally {
      this.running = false;
    }
    if (retry) this.request("retry", true, this.o.retryMs);
    else if (this.pending) this.timer = setTimeout(() => void this.run(), this.o.debounceMs);
    this.settle();
  }

  private settle(): void {
    if (this.running || this.timer) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private record(r: ReconcileResult, reasons: string[]): boolean {
    const m = this.metrics;
    m.reconcileDuration.observe({ kernel_read: String(r.readKernel) }, r.durationSeconds);
    m.deviceUp.set(r.deviceUp ? 1 : 0);
    m.remoteNodes.set(r.desired.remoteNodesCovered);
    m.departedNodes.set(r.departed);
    this.scheduleGraceEnd(r.nextGraceEnd);
    this.schedulePeerCheck(r.awaitingPeerRemoval > 0);
    this.logProblems(r);
    if (r.peersError) {
      m.errors.inc({ kind: "wireguard" });
      this.log.warn({ err: r.peersError, departed: r.departed }, "cannot read the WireGuard peers: every node that left the table stays guarded and steered");
    }
    if (r.guard) m.guardLoaded.set(r.guard.error ? 0 : 1);
    if (r.guard?.error) {
      m.errors.inc({ kind: "guard" });
      this.log.error({ reasons, err: r.guard.error }, "egress guard could not be loaded; the installed guard stays; retrying");
    } else if (r.guard?.applied) {
      this.log.debug({ reasons }, "egress guard loaded");
    }
    const changes = {
      addRules: r.plan.add.rules.length,
      addRoutes: r.plan.add.routes.length,
      removeRules: r.plan.remove.rules.length,
      removeRoutes: r.plan.remove.routes.length,
    };
    if (r.errors.length > 0 || r.guard?.error) {
      m.errors.inc({ kind: "apply" }, r.errors.length);
      this.log.error({ reasons, changes, failed: r.errors.length, errors: r.errors.slice(0, 20) }, "some kernel changes failed; will re-read and retry");
      return true;
    }
    m.ownedRules.set(r.owned.rules);
    for (const type of ["unicast", "blackhole"] as const) m.ownedRoutes.set({ type }, r.owned[type]);
    m.lastSuccess.set(Date.now() / 1000);
    // Ready once a step with the complete cluster view applied cleanly. A step before the sync
    // (node-table mode) installs the table's guard and routes but may lack what only the API
    // tells (this node's pod CIDRs on a first start) and prunes nothing: not yet the agent's state.
    if (!this.succeededOnce && r.synced) this.log.info({ ...changes, deviceUp: r.deviceUp }, "first reconcile with the complete cluster view applied; ready");
    else if (!this.succeededOnce && !this.appliedEarly)
      this.log.info({ ...changes, deviceUp: r.deviceUp }, "node table applied before the cluster view (guard and routes); ready after the sync");
    this.appliedEarly = true;
    if (r.synced) this.succeededOnce = true;
    const level = changes.addRules + changes.addRoutes + changes.removeRules + changes.removeRoutes > 0 ? "info" : "debug";
    this.log[level](
      { reasons, changes, deviceUp: r.deviceUp, remoteNodes: r.desired.remoteNodesCovered, delta: r.delta, ms: Math.round(r.durationSeconds * 1000) },
      "reconciled",
    );
    return false;
  }

  private scheduleGraceEnd(at: number | undefined): void {
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    if (at === undefined) return;
    this.graceTimer = setTimeout(() => this.request("leave-grace-ended"), Math.max(0, at - Date.now()) + 10);
  }

  private schedulePeerCheck(waiting: boolean): void {
    clearTimeout(this.peerTimer);
    this.peerTimer = undefined;
    if (waiting) this.peerTimer = setTimeout(() => this.request("departed-peer-check"), this.o.peerCheckMs ?? 500);
  }

  /** Each distinct problem is logged once while it persists, not on every resync. */
  private logProblems(r: ReconcileResult): void {
    const now = new Set(r.problems.map((p) => `${p.object}: ${p.message}`));
    for (const p of r.problems) {
      const key = `${p.object}: ${p.message}`;
      if (!this.loggedProblems.has(key)) {
        this.metrics.errors.inc({ kind: p.kind === "claim" ? "claim" : "input" });
        this.log.warn({ object: p.object, kind: p.kind }, p.message);
      }
    }
    this.loggedProblems = now;
  }
}
