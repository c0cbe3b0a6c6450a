// The reconcile step against a recording fake port: what it reads, when, and what it applies.
import type { GuardPort } from "../../src/guardKernel";
import type { ApplyError, KernelPort, LinkState } from "../../src/kernel";
import type { KernelState, Plan } from "../../src/model";
import type { NodeTable } from "../../src/nodeTable";
import type { WgPeer } from "../../src/peers";
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
    expect(join?.plan.add.routes.map((x) => `${x.dst} ${x.type}`).sort()).toEqual([
      "198.18.4.0/24 blackhole",
      "198.18.4.0/24 unicast",
      "198.51.100.4/32 blackhole",
      "198.51.100.4/32 unicast",
    ]);
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
  const steered = (port: FakePort) =>
    port.state.routes
      .filter((r) => r.type === "unicast")
      .map((r) => r.dst)
      .sort();

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
    const r = new Reconciler(port, settings({ NODE_ROUTER_LEAVE_GRACE_SECONDS: "60" }), "local", () => ({ nodes: [local], ciliumNodes: [] }), {
      nodeTable: () => current,
      guard,
      now: () => now,
    });
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
    expect(guard.scripts.at(-1)).toBe(
      "delete element inet node_router_guard nodes4 { 198.51.100.3 }\ndelete element netdev node_router_guard_underlay nodes4 { 198.51.100.3 }",
    );
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

  it("before the sync: applies the table's guard and routes at once, from the table alone, and prunes nothing", async () => {
    const port = new FakePort();
    const foreign = { family: 4 as const, table: 51871, dst: "192.0.2.0/24", type: "unicast" as const, metric: 100, protocol: 211, dev: "cilium_wg0" };
    port.state = { rules: [], routes: [foreign] };
    const guard = new FakeGuard();
    let sourceReads = 0;
    const forged = node({ name: "w2", internal: ["198.51.100.2"], podCidrs: ["198.18.7.0/24"] });
    const r = new Reconciler(port, settings(), "local", () => (sourceReads++, { nodes: [local, forged], ciliumNodes: [] }), {
      nodeTable: () => table,
      guard,
      localPodCidrs: ["198.18.9.0/24", "198.18.0.0/16", "10.0.0.0/24"],
    });
    const result = await r.step({ readKernel: false });
    expect(result?.guard).toEqual({ applied: true });
    expect(guard.scripts[0]).toContain("198.51.100.2 : jump to_node");
    expect(steered(port)).toEqual(["192.0.2.0/24", "198.18.0.0/16", "198.51.100.2/32", "198.51.100.3/32"]);
    // Throw routes from local.json (only the part inside the table's pod CIDRs); the API is not read.
    expect(port.state.routes.filter((x) => x.type === "throw").map((x) => x.dst)).toEqual(["198.18.9.0/24"]);
    expect(sourceReads).toBe(0);
    expect(result?.plan.remove).toEqual({ rules: [], routes: [] });
    // Nothing was pruned, so the kernel is read again by the next step (not assumed equal to the desired state).
    port.calls = [];
    await r.step({ readKernel: false });
    expect(port.calls).toContain("readOwned");
    // After the sync the stray route goes, and the API's pod CIDRs replace local.json's.
    r.markSynced();
    const synced = await r.step({ readKernel: true });
    expect(synced?.plan.remove.routes.map((x) => x.dst)).toEqual(["192.0.2.0/24", "198.18.9.0/24"]);
    expect(synced?.plan.add.routes.map((x) => `${x.type} ${x.dst}`)).toEqual(["throw 198.18.1.0/24"]);
    expect(sourceReads).toBe(1);
  });

  it("a restart's early step installs exactly what the synced step installed before it (local.json), and only a synced step says so", async () => {
    // First start: no local.json. The early step cannot know this node's pod CIDR (only the API
    // names it), so it has no throw route yet and says it was not synced; the synced step adds it
    // and tells it for persistence. The next instance's early step, given what was persisted,
    // installs the same state: adoption changes nothing.
    const persisted: string[][] = [];
    const first = new FakePort();
    const a = new Reconciler(first, settings(), "local", () => ({ nodes: [local], ciliumNodes: [] }), {
      nodeTable: () => table,
      guard: new FakeGuard(),
      onLocalPodCidrs: (c) => persisted.push(c),
    });
    const early = await a.step({ readKernel: true });
    expect(early?.synced).toBe(false);
    expect(first.state.routes.filter((x) => x.type === "throw")).toEqual([]);
    a.markSynced();
    const synced = await a.step({ readKernel: true });
    expect(synced?.synced).toBe(true);
    expect(synced?.plan.add.routes.map((x) => `${x.type} ${x.dst}`)).toEqual(["throw 198.18.1.0/24"]);
    expect(persisted).toEqual([["198.18.1.0/24"]]);
    const before = JSON.stringify(first.state);

    const b = new Reconciler(first, settings(), "local", () => ({ nodes: [local], ciliumNodes: [] }), {
      nodeTable: () => table,
      guard: new FakeGuard(),
      localPodCidrs: persisted[0],
    });
    const restarted = await b.step({ readKernel: true });
    expect(restarted).toMatchObject({ synced: false, plan: { add: { rules: [], routes: [] }, remove: { rules: [], routes: [] } } });
    b.markSynced();
    expect((await b.step({ readKernel: true }))?.plan).toEqual({ add: { rules: [], routes: [] }, remove: { rules: [], routes: [] } });
    expect(JSON.stringify(first.state)).toBe(before);
  });

  it("without a table nothing happens before the sync (the API is the only identity)", async () => {
    const port = new FakePort();
    const r = new Reconciler(port, settings(), "local", () => ({ nodes: [local], ciliumNodes: [] }));
    expect(await r.step({ readKernel: true })).toBeUndefined();
    expect(port.calls).toEqual([]);
  });

  it("tells this node's pod CIDRs from the API once synced, and each new guarded state once", async () => {
    const told: string[][] = [];
    const guarded: string[] = [];
    let current = table;
    const r = new Reconciler(new FakePort(), settings(), "local", () => ({ nodes: [local], ciliumNodes: [] }), {
      nodeTable: () => current,
      guard: new FakeGuard(),
      onLocalPodCidrs: (c) => told.push(c),
      onGuarded: (g) => guarded.push(`${g.table.nodes.length} ${g.departed.map((d) => d.name).join(",")} ${g.input.nodes.length}`),
    });
    await r.step({ readKernel: true });
    expect(told).toEqual([]);
    r.markSynced();
    await r.step({ readKernel: true });
    await r.step({ readKernel: true });
    expect(told).toEqual([["198.18.1.0/24"]]);
    current = { ...table, nodes: table.nodes.slice(0, 2) };
    await r.step({ readKernel: false });
    expect(guarded).toEqual(["3  3", "2 w3 3"]);
  });
});

describe("Reconciler: departures held while a WireGuard peer", () => {
  const table: NodeTable = {
    podCidrs: ["198.18.0.0/16"],
    nodes: [
      { name: "local", role: "worker", addresses: ["198.51.100.1"] },
      { name: "w2", role: "worker", addresses: ["198.51.100.2"] },
      { name: "w3", role: "worker", addresses: ["198.51.100.3", "2001:db8::3"] },
    ],
  };
  const guard: GuardPort = { apply: async () => undefined, update: async () => undefined, remove: async () => true, dropped: async () => undefined };
  const without = (name: string) => ({ ...table, nodes: table.nodes.filter((n) => n.name !== name) });

  it("a node that left stays while it is a peer (endpoint or allowed IPs), then for the leave grace", async () => {
    let now = 0;
    let peers: WgPeer[] = [{ endpoint: "198.51.100.3", allowedIps: [] }];
    let peerReads = 0;
    let current = table;
    const port = new FakePort();
    const r = new Reconciler(port, settings({ NODE_ROUTER_LEAVE_GRACE_SECONDS: "60" }), "local", undefined, {
      nodeTable: () => current,
      guard,
      now: () => now,
      peers: async () => (peerReads++, peers),
    });
    r.markSynced();
    await r.step({ readKernel: true });
    expect(peerReads).toBe(0); // nobody left: the peers are not read
    current = without("w3");
    now = 1_000_000;
    expect(await r.step({ readKernel: false })).toMatchObject({ departed: 1, nextGraceEnd: undefined, awaitingPeerRemoval: 1 });
    now += 3_600_000; // an hour later, still a peer: still held, no grace running
    peers = [{ allowedIps: ["2001:db8::3/128", "198.18.3.0/24"] }];
    expect((await r.step({ readKernel: false }))?.plan.remove.routes).toEqual([]);
    peers = [{ endpoint: "198.51.100.2", allowedIps: ["198.51.100.2/32"] }];
    expect(await r.step({ readKernel: false })).toMatchObject({ departed: 1, nextGraceEnd: now + 60_000, awaitingPeerRemoval: 0 });
    now += 60_000;
    const gone = await r.step({ readKernel: false });
    expect(gone?.departed).toBe(0);
    expect(gone?.plan.remove.routes.map((x) => x.dst).sort()).toEqual(["198.51.100.3/32", "198.51.100.3/32"]);
  });

  it("with a leave grace of 0, a departed peer is still held until it is no longer a peer", async () => {
    let peers: WgPeer[] = [{ allowedIps: ["198.51.100.3/32"] }];
    let current = table;
    const r = new Reconciler(new FakePort(), settings({ NODE_ROUTER_LEAVE_GRACE_SECONDS: "0" }), "local", undefined, {
      nodeTable: () => current,
      guard,
      peers: async () => peers,
    });
    await r.step({ readKernel: true });
    current = without("w3");
    expect((await r.step({ readKernel: false }))?.departed).toBe(1);
    peers = [];
    expect((await r.step({ readKernel: false }))?.departed).toBe(0);
  });

  it("when the peers cannot release anyone (a grace to run, none ended), guard and routes do not wait for them", async () => {
    let release: (p: WgPeer[]) => void = () => undefined;
    const loads: string[] = [];
    const slowGuard: GuardPort = {
      apply: async () => void loads.push("apply"),
      update: async (c) => void loads.push(c.join(";")),
      remove: async () => true,
      dropped: async () => undefined,
    };
    const seedPresent = table.nodes;
    const port = new FakePort();
    const r = new Reconciler(port, settings({ NODE_ROUTER_LEAVE_GRACE_SECONDS: "60" }), "local", undefined, {
      nodeTable: () => without("w3"),
      guard: slowGuard,
      seedPresent,
      peers: () => new Promise((resolve) => (release = resolve)),
    });
    const step = r.step({ readKernel: true });
    for (let i = 0; i < 20 && loads.length === 0; i++) await new Promise((x) => setImmediate(x));
    expect(loads).toEqual(["apply"]); // loaded (w3 held) while `wg` still runs
    expect(port.state.routes.some((x) => x.dst === "198.51.100.3/32")).toBe(true);
    release([]);
    expect(await step).toMatchObject({ departed: 1, awaitingPeerRemoval: 0, nextGraceEnd: expect.any(Number) });
  });

  it("peers that cannot be read hold every departed node, and say why", async () => {
    let current = table;
    const r = new Reconciler(new FakePort(), settings({ NODE_ROUTER_LEAVE_GRACE_SECONDS: "0" }), "local", undefined, {
      nodeTable: () => current,
      guard,
      peers: async () => {
        throw new Error("wg: not found");
      },
    });
    await r.step({ readKernel: true });
    current = without("w2");
    expect(await r.step({ readKernel: false })).toMatchObject({ departed: 1, peersError: "wg: not found" });
  });

  it("seeded with the previous start's nodes, a restart notices that the table shrank", async () => {
    const seedPresent = [...table.nodes, { name: "old", role: "control-plane" as const, addresses: ["198.51.100.9"] }];
    const port = new FakePort();
    const r = new Reconciler(port, settings({ NODE_ROUTER_LEAVE_GRACE_SECONDS: "60" }), "local", undefined, {
      nodeTable: () => without("w3"),
      guard,
      seedPresent,
      peers: async () => [{ endpoint: "198.51.100.9", allowedIps: [] }],
    });
    const first = await r.step({ readKernel: true });
    expect(first).toMatchObject({ departed: 2, nextGraceEnd: expect.any(Number) });
    // Both are steered: "old" (a control plane, still a peer) in the control-plane table, w3 (grace) in steering.
    expect(
      port.state.routes
        .filter((x) => x.type === "unicast")
        .map((x) => `${x.table} ${x.dst}`)
        .sort(),
    ).toEqual(["51871 198.18.0.0/16", "51871 198.51.100.2/32", "51871 198.51.100.3/32", "51872 198.51.100.9/32"]);
  });
});
