// The reconcile step against a recording fake port: what it reads, when, and what it applies.
import type { GuardPort } from "../../src/guardKernel";
import type { ApplyError, KernelPort, LinkState } from "../../src/kernel";
import type { KernelState, Plan } from "../../src/model";
import type { NodeTable } from "../../src/nodeTable";
import { Reconciler } from "../../src/reconciler";
import { node, settings } from "../fixtures";

class FakePort implements KernelPort {
  calls: string[] = [];
  applied: Plan[] = [];
  failNext = false;
  state: KernelState = { rules: [], routes: [] };
  async readOwned(): Promise<KernelState> {
    this.calls.push("readOwned");
    return { rules: [...this.state.rules], routes: this.state.routes.map((r) => ({ ...r })) };
  }
  async apply(plan: Plan): Promise<ApplyError[]> {
    this.calls.push("apply");
    this.applied.push(plan);
    if (this.failNext) {
      this.failNext = false;
      return [{ family: 4, line: "route replace ...", message: "RTNETLINK answers: No such device" }];
    }
    this.state = { rules: [...this.state.rules, ...plan.add.rules], routes: [...this.state.routes, ...plan.add.routes] };
    return [];
  }
  async linkState(): Promise<LinkState> {
    this.calls.push("linkState");
    return { exists: true, up: true };
  }
}

const local = node({ name: "local", internal: ["198.51.100.1"], podCidrs: ["198.18.1.0/24"] });
const worker = (i: number) => node({ name: `w${i}`, internal: [`198.51.100.${i}`], podCidrs: [`198.18.${i}.0/24`] });

describe("Reconciler.step", () => {
  it("reads the kernel and the device only when asked or when its view is unknown; a join applies only the new node", async () => {
    const port = new FakePort();
    let objects = [local, worker(2), worker(3)];
    const r = new Reconciler(port, settings(), "local", () => ({ nodes: objects, ciliumNodes: [] }));
    r.markSynced();
    const first = await r.step({ readKernel: false });
    expect(first?.readKernel).toBe(true);
    expect(port.calls.sort()).toEqual(["apply", "linkState", "readOwned"]);
    expect(first?.plan.add.routes).toHaveLength(8);

    port.calls = [];
    objects = [...objects, worker(4)];
    const join = await r.step({ readKernel: false });
    expect(port.calls).toEqual(["apply"]);
    expect(join?.plan.add.routes.map((x) => `${x.dst} ${x.type}`).sort()).toEqual(["198.18.4.0/24 blackhole", "198.18.4.0/24 unicast", "198.51.100.4/32 blackhole", "198.51.100.4/32 unicast"]);
    expect(join?.plan.remove).toEqual({ rules: [], routes: [] });

    port.calls = [];
    const resync = await r.step({ readKernel: true });
    expect(port.calls.sort()).toEqual(["linkState", "readOwned"]);
    expect(resync?.plan.add).toEqual({ rules: [], routes: [] });
  });

  it("after a failed apply, the next step re-reads the kernel and the device", async () => {
    const port = new FakePort();
    let objects = [local, worker(2)];
    const r = new Reconciler(port, settings(), "local", () => ({ nodes: objects, ciliumNodes: [] }));
    r.markSynced();
    await r.step({ readKernel: true });
    port.failNext = true;
    objects = [...objects, worker(3)];
    expect((await r.step({ readKernel: false }))?.errors).toHaveLength(1);
    port.calls = [];
    const retry = await r.step({ readKernel: false });
    expect(retry?.readKernel).toBe(true);
    expect(port.calls.sort()).toEqual(["apply", "linkState", "readOwned"]);
    expect(retry?.errors).toEqual([]);
  });
});

describe("Reconciler with a node table", () => {
  const table: NodeTable = {
    podCidrs: ["198.18.0.0/16"],
    nodes: [
      { name: "local", role: "worker", addresses: ["198.51.100.1"] },
      { name: "w2", role: "worker", addresses: ["198.51.100.2"] },
      { name: "w3", role: "worker", addresses: ["198.51.100.3"] },
    ],
  };
  class FakeGuard implements GuardPort {
    scripts: string[] = [];
    async apply(script: string) {
      this.scripts.push(script);
    }
    async update(commands: string[]) {
      this.scripts.push(commands.join("\n"));
    }
    async remove() {
      return true;
    }
    async dropped() {
      return undefined;
    }
  }
  const steered = (port: FakePort) => port.state.routes.filter((r) => r.type === "unicast").map((r) => r.dst).sort();

  it("changes nothing until a table was read; then steers table nodes even when the API lacks them", async () => {
    const port = new FakePort();
    const file: { table?: NodeTable } = {};
    const r = new Reconciler(port, settings(), "local", () => ({ nodes: [local], ciliumNodes: [] }), { nodeTable: () => file.table, guard: new FakeGuard() });
    r.markSynced();
    expect(await r.step({ readKernel: true })).toBeUndefined();
    expect(port.calls).toEqual([]);
    file.table = table;
    const result = await r.step({ readKernel: true });
    expect(result?.guard).toEqual({ applied: true });
    expect(steered(port)).toEqual(["198.18.0.0/16", "198.51.100.2/32", "198.51.100.3/32"]);
  });

  it("a node that leaves the table stays steered and guarded for the grace period, then goes", async () => {
    const port = new FakePort();
    const guard = new FakeGuard();
    let now = 1_000_000;
    let current = table;
    const r = new Reconciler(port, settings({ NODE_ROUTER_LEAVE_GRACE_SECONDS: "60" }), "local", () => ({ nodes: [local], ciliumNodes: [] }), { nodeTable: () => current, guard, now: () => now });
    r.markSynced();
    await r.step({ readKernel: true });
    current = { ...table, nodes: table.nodes.filter((n) => n.name !== "w3") };
    const left = await r.step({ readKernel: false });
    expect(left?.plan.remove.routes).toEqual([]);
    expect(left).toMatchObject({ departed: 1, nextGraceEnd: 1_060_000 });
    expect(guard.scripts.at(-1)).toContain("198.51.100.3 : jump to_node");
    now += 59_000;
    expect((await r.step({ readKernel: false }))?.plan.remove.routes).toEqual([]);
    now += 1_000;
    const gone = await r.step({ readKernel: false });
    expect(gone?.plan.remove.routes.map((x) => `${x.type} ${x.dst}`).sort()).toEqual(["blackhole 198.51.100.3/32", "unicast 198.51.100.3/32"]);
    expect(gone?.departed).toBe(0);
    // One element out of the guard, not a reload.
    expect(guard.scripts.at(-1)).toBe("delete element inet node_router_guard nodes4 { 198.51.100.3 }\ndelete element netdev node_router_guard_underlay nodes4 { 198.51.100.3 }");
    expect(guard.scripts).toHaveLength(2);
  });

  it("a node back within its grace period is simply present again", async () => {
    const port = new FakePort();
    let current = table;
    const r = new Reconciler(port, settings(), "local", () => ({ nodes: [local], ciliumNodes: [] }), { nodeTable: () => current, guard: new FakeGuard() });
    r.markSynced();
    await r.step({ readKernel: true });
    current = { ...table, nodes: table.nodes.filter((n) => n.name !== "w2") };
    expect((await r.step({ readKernel: false }))?.departed).toBe(1);
    current = table;
    expect((await r.step({ readKernel: false }))?.departed).toBe(0);
  });
});
