// One reconcile step: cluster view -> desired -> diff against the kernel -> one batched apply.
// The kernel view is cached after a clean apply (it then equals the desired state) so that a
// node joining costs only the diff;
// a full re-read happens on periodic resync, link events, after any failed apply, and at start
// (which is how existing state is adopted rather than rebuilt).
import { computeDesired, type Desired } from "./desired";
import { diff, planSize } from "./diff";
import type { ApplyError, KernelPort } from "./kernel";
import type { ClusterNode, KernelState, Plan, Problem } from "./model";
import { parseClusterNodes } from "./nodes";
import type { Settings } from "./settings";

export interface ReconcileResult {
  plan: Plan;
  errors: ApplyError[];
  problems: Problem[];
  desired: Desired;
  readKernel: boolean;
  deviceUp: boolean;
  durationSeconds: number;
}

export class Reconciler {
  private nodes: ClusterNode[] = [];
  private parseProblems: Problem[] = [];
  private synced = false;
  private known?: KernelState;
  private deviceUp?: boolean;

  /** `source`, when given, is read at the start of every step (the informers' caches). */
  constructor(
    private readonly port: KernelPort,
    private readonly settings: Settings,
    private readonly localNodeName: string,
    private readonly source?: () => { nodes: unknown[]; ciliumNodes: unknown[] },
  ) {}

  /** Replaces the cluster view with the informers' current caches. */
  setCluster(nodeObjects: unknown[], ciliumNodeObjects: unknown[]): void {
    const parsed = parseClusterNodes(nodeObjects, ciliumNodeObjects, this.settings.controlPlaneSelector);
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
  }

  /**
   * Returns undefined before the first sync: without a complete cluster view the agent leaves
   * whatever is installed (a restart adopts the previous instance's state untouched).
   */
  async step(options: { readKernel: boolean }): Promise<ReconcileResult | undefined> {
    if (!this.synced) return undefined;
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
    const [link, current] = reads ? await reads : [undefined, this.known!];
    const deviceUp = link ? link.exists && link.up : this.deviceUp!;
    this.deviceUp = deviceUp;
    const desired = computeDesired({ localNodeName: this.localNodeName, nodes: this.nodes, deviceUp, settings: this.settings });
    const plan = diff(desired, current, { prune: this.synced });
    const errors = planSize(plan) > 0 ? await this.port.apply(plan) : [];
    // After a clean, pruning apply the owned kernel state is exactly the desired state. Keeping
    // the desired objects themselves lets the next diff match almost everything by identity.
    this.known = errors.length === 0 ? { rules: desired.rules, routes: desired.routes } : undefined;
    const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { plan, errors, problems: [...this.parseProblems, ...desired.problems], desired, readKernel, deviceUp, durationSeconds };
  }
}

/** Removes every rule and route the agent owns, and nothing else. */
export async function uninstall(port: KernelPort): Promise<{ plan: Plan; errors: ApplyError[] }> {
  const current = await port.readOwned();
  const plan = diff({ rules: [], routes: [] }, current);
  const errors = planSize(plan) > 0 ? await port.apply(plan) : [];
  return { plan, errors };
}
