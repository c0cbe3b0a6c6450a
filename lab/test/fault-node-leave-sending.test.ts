// Fault: a node leaves the cluster's records - its Node and CiliumNode are deleted and a
// `pulumi up` drops it from the node table - while its instance still runs and keeps sending
// (its WireGuard peer outlives its API objects). For the leave grace period the others keep
// steering its address; after it, its new connections get no answer in the clear: replies to
// connections that arrived through WireGuard never leave through another interface.
import { forgetNode } from "../src/faults";
import { planFlows } from "../src/flows";
import { waitFor } from "../src/exec";
import { coverage, guardDrops, metric, reportLeaks, Traffic, useFaultLab } from "./harness";

const GRACE_S = 4;

describe("fault: a node leaves while it still sends", () => {
  const fault = useFaultLab({ leaveGraceSeconds: GRACE_S });

  test("steered through the grace period, replies to it never in the clear afterwards", async () => {
    const l = fault.lab;
    const leaving = l.node("node-2");
    const others = l.nodes.filter((n) => n !== leaving);
    const mark = l.capture.mark();
    let traffic = fault.startTraffic();
    await traffic.waitFor("all flows up", (r) => r.ok);

    const leftAt = Date.now();
    await forgetNode(l, leaving.name);
    // Within the grace period every flow, both ways, still works and is still encrypted.
    await traffic.waitFor("every flow within the grace period", (r) => r.ok, GRACE_S * 500);
    for (const n of others) expect(coverage(n.ns, leaving.underlayIp)).toBe("device");
    await traffic.stop();
    expect(Date.now() - leftAt).toBeLessThan(GRACE_S * 1000);

    const removedMs = await waitFor("the others to stop steering the departed address", () =>
      others.every((n) => coverage(n.ns, leaving.underlayIp) === "none") ? Date.now() - leftAt : undefined, GRACE_S * 1000 + 5000, 50);
    const dropsBefore = await guardDrops(l.controlPlane.ns);

    // The departed node keeps sending to everyone for a while.
    traffic = new Traffic(l, () => planFlows(l.nodes).filter((f) => f.from === leaving)).start();
    await traffic.waitFor("a few rounds from the departed node", () => true);
    await traffic.waitFor("more rounds", () => true);
    await traffic.stop();
    const results = traffic.resultsSince(0);
    const exempt = results.filter((r) => r.flow.exempt);
    const encryptedToNodes = results.filter((r) => !r.flow.exempt && r.flow.cls !== "pod->remote-pod" && r.flow.cls !== "node->remote-pod");
    expect(exempt.length).toBeGreaterThan(0);
    expect(exempt.every((r) => r.ok)).toBe(true); // bootstrap to the real control plane still works
    expect(encryptedToNodes.length).toBeGreaterThan(0);
    expect(encryptedToNodes.filter((r) => r.ok)).toEqual([]); // answers would have been cleartext: dropped
    const dropsAfter = await guardDrops(l.controlPlane.ns);
    expect(dropsAfter["wireguard-reply"]).toBeGreaterThan(dropsBefore["wireguard-reply"]);
    const exported = metric(await l.agent(l.controlPlane.name).metrics(), 'node_router_guard_dropped_packets_total{reason="wireguard-reply"}');
    expect(exported).toBeGreaterThanOrEqual(dropsAfter["wireguard-reply"]);

    console.log(`[lab] node-leave-sending: ${leaving.name} stayed steered until ${removedMs} ms after it left (grace ${GRACE_S} s); afterwards ${encryptedToNodes.length} of its flows got no cleartext answer, the control plane's guard dropped ${dropsAfter["wireguard-reply"] - dropsBefore["wireguard-reply"]} WireGuard replies`);
    expect(removedMs).toBeGreaterThanOrEqual(GRACE_S * 1000);
    expect(await reportLeaks(l, "node-leave-sending", mark)).toEqual([]);
  }, 60_000);
});
