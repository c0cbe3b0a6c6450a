// Node-table mode against the real kernel: the cluster's whole pod CIDRs go to the device
// (a pod CIDR nobody has announced yet included), this node's own pod CIDR is thrown back to
// the main table, table nodes the API does not know are still steered, and the guard is loaded
// by the same step (real nft).
import { NftGuard } from "../../src/guardKernel";
import { Iproute2Kernel, ownershipFrom } from "../../src/kernel";
import type { NodeTable } from "../../src/nodeTable";
import { Reconciler, uninstall } from "../../src/reconciler";
import { OWNED_PRIORITY_SPAN } from "../../src/settings";
import { node, settings } from "../fixtures";
import { createBench, DEVICE, ip, requireRootAndIp, UNDERLAY, type Bench } from "./netns";

const S = settings();
const TABLE: NodeTable = {
  podCidrs: ["198.18.0.0/16", "2001:db8:100::/48"],
  nodes: [
    { name: "local", role: "worker", addresses: ["198.51.100.1", "2001:db8:ff::1"] },
    { name: "w2", role: "worker", addresses: ["198.51.100.2", "2001:db8:ff::2"] },
    { name: "cp3", role: "control-plane", addresses: ["198.51.100.3"] },
  ],
};

let bench: Bench;
let port: Iproute2Kernel;

beforeAll(() => {
  requireRootAndIp();
  bench = createBench("nrt");
  port = new Iproute2Kernel(ownershipFrom(S, OWNED_PRIORITY_SPAN), bench.node);
  // Cilium's route to this node's own pods, in main.
  ip(bench.node, `route add 198.18.1.0/24 dev ${UNDERLAY} metric 50`);
});

afterAll(async () => {
  if (port) {
    await uninstall(port, new NftGuard(bench.node));
    port.close();
  }
  bench?.destroy();
});

describe("node-table mode in a network namespace", () => {
  it("steers whole pod CIDRs and table nodes (even unknown to the API), throws the local pod CIDR, loads the guard", async () => {
    const guard = new NftGuard(bench.node);
    const objects = [node({ name: "local", internal: ["198.51.100.1", "2001:db8:ff::1"], podCidrs: ["198.18.1.0/24", "2001:db8:100:1::/64"] })];
    const r = new Reconciler(port, S, "local", () => ({ nodes: objects, ciliumNodes: [] }), { nodeTable: () => TABLE, guard });
    r.markSynced();
    const result = await r.step({ readKernel: true });
    expect(result?.errors).toEqual([]);
    expect(result?.guard).toEqual({ applied: true });
    for (const dst of ["198.18.77.1", "198.51.100.2", "2001:db8:100:77::1", "2001:db8:ff::2"]) expect([dst, bench.routeGet(dst).dev]).toEqual([dst, DEVICE]);
    expect(bench.routeGet("198.51.100.3", "ipproto tcp dport 6443").dev).toBe(UNDERLAY);
    expect(bench.routeGet("198.51.100.3").dev).toBe(DEVICE);
    // The local pod CIDR: thrown out of the steering table, on to main.
    expect(bench.routeGet("198.18.1.9").dev).toBe(UNDERLAY);
    expect(ip(bench.node, `route show table ${S.steeringTable} type throw`).out).toContain("throw 198.18.1.0/24");
    expect(await guard.dropped()).toEqual({ "node-address": 0, "pod-cidr": 0, "wireguard-reply": 0, "link-local": 0, metadata: 0, "raw-frame": 0 });
    // 2 whole pod CIDRs, 3 remote addresses (w2 twice, cp3), each with a blackhole; 2 throws.
    expect(result?.desired.routes.filter((x) => x.type === "unicast")).toHaveLength(5);
    expect(result?.desired.routes.filter((x) => x.type === "throw")).toHaveLength(2);
  });

  it("fails closed for remote pods when the device is gone, and the local pods stay reachable", async () => {
    bench.deleteDevice();
    const r = new Reconciler(
      port,
      S,
      "local",
      () => ({ nodes: [node({ name: "local", internal: ["198.51.100.1"], podCidrs: ["198.18.1.0/24"] })], ciliumNodes: [] }),
      { nodeTable: () => TABLE, guard: new NftGuard(bench.node) },
    );
    r.markSynced();
    expect((await r.step({ readKernel: true }))?.deviceUp).toBe(false);
    expect(bench.routeGet("198.18.77.1").error).toMatch(/Invalid argument|unreachable/);
    expect(bench.routeGet("198.18.1.9").dev).toBe(UNDERLAY);
    bench.addDevice();
  });
});
