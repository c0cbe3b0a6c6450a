// Fault: a node leaves the cluster's records - its Node and CiliumNode are deleted and a
// `pulumi up` drops it from the node table - while its instance still runs and keeps sending.
// While it is still a WireGuard peer of the others (its instance outlives its records), they keep
// steering and guarding it past the leave grace: the table shrinks the protected set only as fast
// as the node really goes. Once Cilium drops its peer everywhere the grace starts; after it, its
// address is no longer steered, and what it still sends gets no answer in the clear.
import { dropPeer, forgetNode } from "../src/faults";
import { planFlows } from "../src/flows";
import { sleep, waitFor } from "../src/exec";
import { coverage, reportLeaks, Traffic, useFaultLab } from "./harness";
import { guards } from "../src/reboot";

const GRACE_S = 3;

describe("fault: a node leaves while it still sends", () => {
  const fault = useFaultLab({ leaveGraceSeconds: GRACE_S });

  test("steered while still a peer (past the grace), then for the grace; what it sends afterwards is never answered in the clear", async () => {
    const l = fault.lab;
    const leaving = l.node("node-2");
    const others = l.nodes.filter((n) => n !== leaving);
    const mark = l.capture.mark();
    let traffic = fault.startTraffic();
    await traffic.waitFor("all flows up", (r) => r.ok);

    await forgetNode(l, leaving.name);
    // Still a peer of everyone: past the leave grace, the others still steer it into WireGuard and
    // guard it (traffic goes on meanwhile: the leak count at the end covers this stretch too).
    await sleep(GRACE_S * 1000 + 1500);
    for (const n of others) expect([n.name, coverage(n.ns, leaving.underlayIp), guards(n, leaving.underlayIp)]).toEqual([n.name, "device", true]);
    await traffic.stop();

    // Cilium drops its peer on the others: the grace starts now.
    const droppedAt = Date.now();
    dropPeer(l, leaving.name);
    const removedMs = await waitFor(
      "the others to stop steering the departed address",
      () => (others.every((n) => coverage(n.ns, leaving.underlayIp) === "none") ? Date.now() - droppedAt : undefined),
      GRACE_S * 1000 + 5000,
      50,
    );

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
    expect(encryptedToNodes.filter((r) => r.ok)).toEqual([]); // no peer takes it, no answer leaves in the clear

    console.log(
      `[lab] node-leave-sending: ${leaving.name} stayed steered ${GRACE_S + 1.5} s after its records went (grace ${GRACE_S} s) while still a peer; after its peer was dropped, steered until ${removedMs} ms; afterwards ${encryptedToNodes.length} of its flows got no answer`,
    );
    expect(removedMs).toBeGreaterThanOrEqual(GRACE_S * 1000);
    expect(await reportLeaks(l, "node-leave-sending", mark)).toEqual([]);
  }, 60_000);
});
