// The reconcile step against a recording fake port: what it reads, when, and what it applies.
import type { ApplyError, KernelPort, LinkState } from "../../src/kernel";
import type { KernelState, Plan } from "../../src/model";
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
