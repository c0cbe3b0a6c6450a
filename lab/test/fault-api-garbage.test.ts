// Fault 6: garbage in the API - malformed CIDRs, nodes without addresses, an address claimed
// twice, objects of the wrong shape. Each agent must skip what is bad, apply what is usable,
// keep protecting the real nodes, and never crash.
import { waitFor } from "../src/exec";
import type { Kind, KubeObject } from "../src/objects";
import { coverage, ownedState, reportLeaks, useFaultLab } from "./harness";

const node = (name: string, spec: unknown, status: unknown, extra: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: "v1", kind: "Node", metadata: { name, ...extra }, spec, status }) as KubeObject;
const ciliumNode = (name: string, spec: unknown): KubeObject => ({ apiVersion: "cilium.io/v2", kind: "CiliumNode", metadata: { name }, spec }) as KubeObject;

describe("fault: garbage in the API", () => {
  // Identity from the API (no node table): this fault is about the API-driven path.
  const fault = useFaultLab({ nodeTable: false });

  test("bad objects are skipped, usable parts applied, the real nodes stay protected", async () => {
    const l = fault.lab;
    const worker = l.node("node-1");
    const pids = l.nodes.map((n) => l.agent(n.name).pid);
    const stateBefore = l.nodes.map((n) => ownedState(n.ns));
    const mark = l.capture.mark();
    const traffic = fault.startTraffic();
    await traffic.waitFor("all flows up", (r) => r.ok);

    const garbage: [Kind, KubeObject][] = [
      // Usable address, unusable CIDRs (out of range, host bits set) on both objects.
      [
        "nodes",
        node("garbage-bad-cidr", { podCIDRs: ["198.18.300.0/24", "198.18.70.5/24"] }, { addresses: [{ type: "InternalIP", address: "198.51.100.50" }] }),
      ],
      ["ciliumnodes", ciliumNode("garbage-bad-cidr", { ipam: { podCIDRs: ["not-a-cidr"] } })],
      // No address at all, a valid pod CIDR.
      ["nodes", node("garbage-no-address", { podCIDRs: ["198.18.60.0/24"] }, {})],
      // node-1's address claimed by another node.
      ["nodes", node("garbage-duplicate", { podCIDRs: ["198.18.61.0/24"] }, { addresses: [{ type: "InternalIP", address: worker.underlayIp }] })],
      // Wrong shapes everywhere.
      ["nodes", node("garbage-shape", { podCIDRs: 42 }, { addresses: "oops" }, { labels: "not-a-map" })],
      // A CiliumNode without a Node, with a bogus address and a valid pod CIDR.
      ["ciliumnodes", ciliumNode("garbage-orphan", { addresses: [{ type: "InternalIP", ip: "999.1.1.1" }], ipam: { podCIDRs: ["198.18.62.0/24"] } })],
    ];
    for (const [kind, obj] of garbage) await l.api.put(kind, obj);

    // The usable parts are applied on every real node...
    await waitFor(
      "usable parts of the garbage applied",
      () => l.nodes.every((n) => ["198.51.100.50", "198.18.60.10", "198.18.61.10", "198.18.62.10"].every((a) => coverage(n.ns, a) === "device")),
      10_000,
      100,
    );
    // ...and the duplicated address stays encrypted wherever it is remote.
    for (const n of l.nodes.filter((x) => x !== worker)) expect(coverage(n.ns, worker.underlayIp)).toBe("device");
    await traffic.waitFor("every flow with garbage present", (r) => r.ok, 10_000);
    const metrics = await l.agent("node-2").metrics();
    const inputErrors = Number(/node_router_errors_total\{kind="input"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    expect(inputErrors).toBeGreaterThan(0);

    for (const [kind, obj] of garbage) await l.api.delete(kind, obj.metadata.name);
    await waitFor("garbage removed again", () => l.nodes.every((n, i) => ownedState(n.ns) === stateBefore[i]), 10_000, 100);
    await traffic.waitFor("every flow after the cleanup", (r) => r.ok, 10_000);
    await traffic.stop();

    console.log(`[lab] api-garbage: ${garbage.length} bad objects; agents logged ${inputErrors} input problems on node-2 and never restarted`);
    expect(l.nodes.map((n) => l.agent(n.name).pid)).toEqual(pids);
    for (const n of l.nodes) expect(await l.agent(n.name).ready()).toBe(true);
    expect(await reportLeaks(l, "api-garbage", mark)).toEqual([]);
  }, 60_000);
});
