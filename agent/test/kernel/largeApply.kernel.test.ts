// Large plans take the other path in kernel.ts: one-shot `ip -batch` processes, each phase split
// across two of them. Same guarantees as the small path: everything applied, failures attributed
// to their line, adoption changes nothing, uninstall removes everything.
import { Iproute2Kernel, ownershipFrom } from "../../src/kernel";
import { planSize } from "../../src/diff";
import type { Plan, Route } from "../../src/model";
import { Reconciler, uninstall } from "../../src/reconciler";
import { OWNED_PRIORITY_SPAN } from "../../src/settings";
import { node, settings } from "../fixtures";
import { createBench, DEVICE, ip, requireRootAndIp, type Bench } from "./netns";

const S = settings();
const WORKERS = 1100; // 4,400 route lines: above both the one-shot and the split thresholds
let bench: Bench;
let port: Iproute2Kernel;

const workers = Array.from({ length: WORKERS }, (_, i) =>
  node({ name: `w${i}`, internal: [`198.18.${i >> 7}.${2 * (i & 127)}`], podCidrs: [`198.19.${i >> 5}.${8 * (i & 31)}/29`] }),
);
const objects = [node({ name: "local", internal: ["198.51.100.1"], podCidrs: ["198.51.100.128/25"] }), ...workers];

beforeAll(() => {
  requireRootAndIp();
  bench = createBench("nrla");
  port = new Iproute2Kernel(ownershipFrom(S, OWNED_PRIORITY_SPAN), bench.node);
});

afterAll(() => {
  port?.close();
  bench?.destroy();
});

describe("large applies", () => {
  it("installs thousands of routes, then a restart adopts them without a change", async () => {
    const r = new Reconciler(port, S, "local", () => ({ nodes: objects, ciliumNodes: [] }));
    r.markSynced();
    const first = await r.step({ readKernel: true });
    expect(first?.errors).toEqual([]);
    expect(first?.plan.add.routes).toHaveLength(4 * WORKERS);
    expect((await port.readOwned()).routes).toHaveLength(4 * WORKERS);
    expect(bench.routeGet("198.19.34.77").dev).toBe(DEVICE);

    const restarted = new Reconciler(port, S, "local", () => ({ nodes: objects, ciliumNodes: [] }));
    restarted.markSynced();
    expect(planSize((await restarted.step({ readKernel: true }))!.plan)).toBe(0);
  });

  it("attributes a failure inside a large batch to its own line and applies the rest", async () => {
    const base: Route = { family: 4, table: 51990, dst: "", type: "blackhole", metric: 10, protocol: S.routeProtocol };
    const routes: Route[] = Array.from({ length: 4500 }, (_, i) => ({ ...base, dst: `198.18.${100 + (i >> 8)}.${i & 255}/32` }));
    routes[3000] = { ...base, dst: "192.0.2.9/32", type: "unicast", dev: "nrla-missing0" };
    const plan: Plan = { add: { rules: [], routes }, remove: { rules: [], routes: [] } };
    const errors = await port.apply(plan);
    expect(errors).toHaveLength(1);
    expect(errors[0].line).toContain("192.0.2.9/32");
    expect(ip(bench.node, "route show table 51990").out.trim().split("\n")).toHaveLength(4499);
  });

  it("uninstall removes all of it", async () => {
    const { errors } = await uninstall(port);
    expect(errors).toEqual([]);
    expect((await port.readOwned()).routes).toEqual([]);
  });
});
