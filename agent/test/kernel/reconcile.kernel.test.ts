// The agent's reconcile loop against the real kernel in a network namespace, driven through
// the same Iproute2Kernel production uses. Steps share one namespace and run in order.
import { Iproute2Kernel, ownershipFrom } from "../../src/kernel";
import { planSize } from "../../src/diff";
import { Reconciler, uninstall } from "../../src/reconciler";
import { OWNED_PRIORITY_SPAN } from "../../src/settings";
import { CP_LABEL, ciliumNode, node, settings } from "../fixtures";
import { createBench, DEVICE, ip, requireRootAndIp, UNDERLAY, type Bench } from "./netns";

const S = settings();
const LOCAL = { name: "local", internal: ["198.51.100.1", "2001:db8:ff::1"], podCidrs: ["198.18.1.0/24", "2001:db8:1::/64"] };
const WORKER = { name: "w2", internal: ["198.51.100.2", "2001:db8:ff::2"], podCidrs: ["198.18.2.0/24", "2001:db8:2::/64"] };
const CONTROL = { name: "cp3", internal: ["198.51.100.3", "2001:db8:ff::3"], labels: CP_LABEL };
const CILIUM = [ciliumNode("cp3", ["198.18.3.0/24", "2001:db8:3::/64"])];

let bench: Bench;
let port: Iproute2Kernel;
let baselineRules: string;

async function reconcile(localLabels: Record<string, string> = {}, readKernel = true) {
  const r = new Reconciler(port, S, "local");
  r.setCluster([node({ ...LOCAL, labels: localLabels }), node(WORKER), node(CONTROL)], CILIUM);
  r.markSynced();
  const result = await r.step({ readKernel });
  if (!result) throw new Error("reconciler did not run");
  expect(result.errors).toEqual([]);
  return result;
}

const rules = (family: 4 | 6) => ip(bench.node, `-${family} rule show`).out;

beforeAll(() => {
  requireRootAndIp();
  bench = createBench();
  port = new Iproute2Kernel(ownershipFrom(S, OWNED_PRIORITY_SPAN), bench.node);
  // Foreign state that must survive apply and uninstall, one rule inside our priority range.
  ip(bench.node, "rule add priority 1005 to 192.0.2.0/24 lookup main");
  ip(bench.node, "-6 rule add priority 500 to 2001:db8:99::/48 lookup main");
  ip(bench.node, `route add 192.0.2.0/25 via 198.51.100.254 dev ${UNDERLAY}`);
  ip(bench.node, `route add 192.0.2.128/25 dev ${UNDERLAY} table ${S.steeringTable}`);
  baselineRules = rules(4) + rules(6);
});

afterAll(() => bench?.destroy());

describe("node-router in a network namespace", () => {
  it("applies a constant set of rules and steers remote nodes and pod CIDRs through the device", async () => {
    const result = await reconcile();
    expect(result.plan.add.rules).toHaveLength(10);
    expect(rules(4)).toContain(`1000:\tfrom all fwmark 0xe00/0xf00 ipproto udp sport 51871 dport 51871 lookup main proto 211`);
    expect(rules(4)).toContain(`1030:\tfrom all lookup ${S.steeringTable} proto 211`);
    expect(rules(6)).toContain(`1040:\tfrom all ipproto tcp dport 6443 lookup main proto 211`);
    for (const dst of ["198.51.100.2", "198.18.2.7", "198.51.100.3", "198.18.3.9", "2001:db8:ff::2", "2001:db8:2::7", "2001:db8:ff::3", "2001:db8:3::9"]) {
      expect([dst, bench.routeGet(dst)]).toEqual([dst, { dev: DEVICE, src: dst.includes(":") ? "2001:db8:ff::1" : "198.51.100.1" }]);
    }
  });

  it("lets only TCP to a control-plane node's exempt ports use the underlay; a worker's 6443 stays encrypted", () => {
    for (const [cp, worker, cpPod] of [
      ["198.51.100.3", "198.51.100.2", "198.18.3.9"],
      ["2001:db8:ff::3", "2001:db8:ff::2", "2001:db8:3::9"],
    ]) {
      expect(bench.routeGet(cp, "ipproto tcp dport 6443").dev).toBe(UNDERLAY);
      expect(bench.routeGet(cp, "ipproto tcp dport 2380").dev).toBe(UNDERLAY);
      expect(bench.routeGet(cp, "ipproto tcp dport 10250").dev).toBe(DEVICE);
      expect(bench.routeGet(cp, "ipproto udp dport 6443").dev).toBe(DEVICE);
      expect(bench.routeGet(cpPod, "ipproto tcp dport 6443").dev).toBe(DEVICE);
      expect(bench.routeGet(worker, "ipproto tcp dport 6443").dev).toBe(DEVICE);
      // A worker sends no exempt replies: its sport-6443 traffic stays encrypted.
      expect(bench.routeGet(worker, "ipproto tcp sport 6443").dev).toBe(DEVICE);
    }
  });

  it("sends WireGuard's own marked UDP (old 0x1e00 and new 0x0e00, from and to its port) to the underlay; a mark alone stays steered", () => {
    const wg = "ipproto udp sport 51871 dport 51871";
    expect(bench.routeGet("198.51.100.2", `mark 0xe00 ${wg}`).dev).toBe(UNDERLAY);
    expect(bench.routeGet("198.51.100.2", `mark 0x1e00 ${wg}`).dev).toBe(UNDERLAY);
    expect(bench.routeGet("2001:db8:ff::2", `mark 0xe00 ${wg}`).dev).toBe(UNDERLAY);
    expect(bench.routeGet("198.51.100.2", `mark 0x200 ${wg}`).dev).toBe(DEVICE);
    expect(bench.routeGet("198.51.100.2", "mark 0xe00").dev).toBe(DEVICE);
    expect(bench.routeGet("198.51.100.2", "mark 0xe00 ipproto tcp sport 51871 dport 51871").dev).toBe(DEVICE);
    expect(bench.routeGet("198.51.100.2", "mark 0xe00 ipproto udp sport 40000 dport 51871").dev).toBe(DEVICE);
  });

  it("leaves non-cluster destinations and the local node alone", () => {
    expect(bench.routeGet("192.0.2.77").dev).toBe(UNDERLAY);
    expect(bench.routeGet("198.51.100.254").dev).toBe(UNDERLAY);
    expect(bench.routeGet("198.18.1.5").dev).toBe(UNDERLAY);
  });

  it("adopts the installed state on restart without any change", async () => {
    const result = await reconcile();
    expect(planSize(result.plan)).toBe(0);
  });

  it("repairs drift: a rule and a route deleted by hand come back on resync", async () => {
    ip(bench.node, `rule del priority 1030`);
    ip(bench.node, `-6 route del 2001:db8:2::/64 table ${S.steeringTable} metric 100`);
    expect(bench.routeGet("198.18.2.7").dev).toBe(UNDERLAY);
    const result = await reconcile();
    expect(result.plan.add.rules.map((r) => `${r.family} ${r.priority}`)).toEqual(["4 1030"]);
    expect(result.plan.add.routes.map((r) => `${r.dst} ${r.type}`)).toEqual(["2001:db8:2::/64 unicast"]);
    expect(planSize(result.plan)).toBe(2);
    expect(bench.routeGet("198.18.2.7").dev).toBe(DEVICE);
    expect(bench.routeGet("2001:db8:2::7").dev).toBe(DEVICE);
  });

  it("fails closed when the device disappears and recovers when it returns", async () => {
    bench.deleteDevice();
    for (const dst of ["198.51.100.2", "198.18.3.9", "2001:db8:ff::3", "2001:db8:2::7"]) {
      const got = bench.routeGet(dst);
      expect([dst, got.dev]).toEqual([dst, undefined]);
      expect(got.error).toMatch(/Invalid argument|unreachable/);
    }
    const down = await reconcile();
    expect(down.deviceUp).toBe(false);
    expect(bench.routeGet("198.51.100.2").dev).toBeUndefined();
    // Exempt traffic to the control plane keeps working without the device (bootstrap).
    expect(bench.routeGet("198.51.100.3", "ipproto tcp dport 6443").dev).toBe(UNDERLAY);

    bench.addDevice();
    const up = await reconcile();
    expect(up.plan.add.routes.every((r) => r.type === "unicast" && r.dev === DEVICE)).toBe(true);
    expect(bench.routeGet("198.51.100.2").dev).toBe(DEVICE);
    expect(bench.routeGet("2001:db8:2::7").dev).toBe(DEVICE);
  });

  it("fails closed when the device is set down", async () => {
    ip(bench.node, `link set ${DEVICE} down`);
    expect(bench.routeGet("198.51.100.2").dev).not.toBe(UNDERLAY);
    expect(bench.routeGet("2001:db8:ff::2").dev).not.toBe(UNDERLAY);
    ip(bench.node, `link set ${DEVICE} up`);
    await reconcile();
    expect(bench.routeGet("198.51.100.2").dev).toBe(DEVICE);
  });

  it("on a control-plane node also sends replies from the exempt ports through the underlay", async () => {
    const result = await reconcile(CP_LABEL);
    expect(result.plan.add.rules.map((r) => r.priority)).toEqual([1010, 1011, 1010, 1011]);
    expect(result.plan.remove.rules).toEqual([]);
    // Only with the reply mark, which the guard's route chain sets on conntrack replies.
    expect(bench.routeGet("198.51.100.2", "mark 0x4000000 ipproto tcp sport 6443").dev).toBe(UNDERLAY);
    expect(bench.routeGet("2001:db8:2::7", "mark 0x4000000 ipproto tcp sport 2379").dev).toBe(UNDERLAY);
    expect(bench.routeGet("198.51.100.2", "ipproto tcp sport 6443").dev).toBe(DEVICE);
    expect(bench.routeGet("198.51.100.2", "mark 0x4000000 ipproto tcp sport 6444").dev).toBe(DEVICE);
  });

  it("uninstall removes everything it owns and nothing else", async () => {
    const { errors, plan } = await uninstall(port);
    expect(errors).toEqual([]);
    expect(planSize(plan)).toBeGreaterThan(0);
    expect(rules(4) + rules(6)).toBe(baselineRules);
    expect(ip(bench.node, `route show table ${S.steeringTable}`).out).toBe(`192.0.2.128/25 dev ${UNDERLAY} scope link \n`);
    expect(ip(bench.node, `-6 route show table ${S.steeringTable}`).out).toBe("");
    expect(ip(bench.node, `route show table ${S.controlPlaneTable}`).out).toBe("");
    expect(ip(bench.node, "route show 192.0.2.0/25").out).toContain("via 198.51.100.254");
    expect(bench.routeGet("198.51.100.2").dev).toBe(UNDERLAY);
    expect(planSize((await uninstall(port)).plan)).toBe(0);
  });
});
