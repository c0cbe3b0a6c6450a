// The controller's readiness and the steps it asks for on its own (peers looked at again).
import { Controller } from "../../src/controller";
import { createLogger } from "../../src/log";
import { Metrics } from "../../src/metrics";
import type { ReconcileResult, Reconciler } from "../../src/reconciler";

const empty = { rules: [], routes: [] };
const result = (o: Partial<ReconcileResult>): ReconcileResult => ({
  plan: { add: empty, remove: empty },
  errors: [],
  problems: [],
  desired: { rules: [], routes: [], problems: [], remoteNodesCovered: 0 },
  readKernel: true,
  deviceUp: true,
  durationSeconds: 0,
  departed: 0,
  awaitingPeerRemoval: 0,
  synced: true,
  owned: { rules: 0, unicast: 0, blackhole: 0 },
  delta: false,
  ...o,
});

class FakeReconciler {
  steps: string[] = [];
  next: Partial<ReconcileResult>[] = [];
  async step(): Promise<ReconcileResult> {
    this.steps.push("step");
    return result(this.next.shift() ?? {});
  }
  invalidate(): void {}
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Controller", () => {
  const controller = (r: FakeReconciler, peerCheckMs = 20) =>
    new Controller(r as unknown as Reconciler, new Metrics(), createLogger("silent"), { debounceMs: 1, resyncMs: 3_600_000, retryMs: 3_600_000, peerCheckMs });

  it("is ready only after a step with the complete cluster view applied cleanly (not after the early table step)", async () => {
    const r = new FakeReconciler();
    r.next = [{ synced: false }, { synced: true }];
    const c = controller(r);
    c.request("start", true, 0);
    await c.whenIdle();
    expect(r.steps).toHaveLength(1);
    expect(c.ready()).toBe(false);
    c.request("synced", true);
    await c.whenIdle();
    expect(c.ready()).toBe(true);
    c.stop();
  });

  it("node_router_guard_loaded_for_table: 1 after a step that loaded the guard, 0 after one where loading it failed", async () => {
    const r = new FakeReconciler();
    r.next = [{ guard: { applied: true } }, { guard: { applied: false, error: "nft: syntax error" } }];
    const metrics = new Metrics();
    const c = new Controller(r as unknown as Reconciler, metrics, createLogger("silent"), { debounceMs: 1, resyncMs: 3_600_000, retryMs: 3_600_000 });
    const value = async () => Number(/^node_router_guard_loaded_for_table (\S+)$/m.exec(await metrics.registry.metrics())?.[1]);
    c.request("start", true, 0);
    await c.whenIdle();
    expect(await value()).toBe(1);
    c.request("again", true, 0);
    // A failed step schedules its retry, so the controller is not idle: wait for the step itself.
    for (let i = 0; i < 100 && r.steps.length < 2; i++) await sleep(10);
    await sleep(10);
    expect(await value()).toBe(0);
    c.stop();
  });

  it("looks at the peers again while a departed node is still one, and stops when none is", async () => {
    const r = new FakeReconciler();
    r.next = [
      { departed: 1, awaitingPeerRemoval: 1 },
      { departed: 1, awaitingPeerRemoval: 1 },
      { departed: 1, awaitingPeerRemoval: 0 },
    ];
    const c = controller(r);
    c.request("cluster");
    await sleep(200);
    expect(r.steps).toHaveLength(3); // two re-checks, then the grace runs (its own timer) and checks stop
    await sleep(100);
    expect(r.steps).toHaveLength(3);
    c.stop();
  });
});
