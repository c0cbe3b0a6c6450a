// Fault: a node boots with the guard (the boot script's `guard apply`) but its agent never
// starts. Its node-to-node flows fail closed, its exempt bootstrap flows work, and the guard's
// drop counters account exactly for what the capture did not see leave: a ping flood of known
// size towards another node is counted packet for packet and never reaches the underlay.
import { joinNode } from "../src/faults";
import { inNs } from "../src/exec";
import { planFlows } from "../src/flows";
import { guardDrops, reportLeaks, Traffic, useFaultLab } from "./harness";

const PINGS = 25;

describe("fault: a node whose agent never starts", () => {
  const fault = useFaultLab();

  test("fails closed, exempt flows work, drop counters match the capture", async () => {
    const l = fault.lab;
    const mark = l.capture.mark();
    const lone = await joinNode(l, 3, false); // in the table, guard at boot, no agent
    await l.warmUp();
    const traffic = new Traffic(l, () => planFlows(l.nodes).filter((f) => f.from === lone || f.to === lone)).start();
    await traffic.waitFor("two rounds", () => true);
    await traffic.waitFor("three rounds", () => true);
    await traffic.stop();
    const results = traffic.resultsSince(0);
    const byClass = (pred: (r: (typeof results)[number]) => boolean) => results.filter(pred);
    const exempt = byClass((r) => r.flow.exempt);
    const nodeFlows = byClass((r) => !r.flow.exempt && r.flow.cls !== "pod->remote-pod");
    const podToPod = byClass((r) => r.flow.cls === "pod->remote-pod");
    expect(exempt.length).toBeGreaterThan(0);
    expect(exempt.filter((r) => !r.ok)).toEqual([]);
    expect(nodeFlows.length).toBeGreaterThan(0);
    expect(nodeFlows.filter((r) => r.ok).map((r) => `${r.flow.cls} ${r.flow.from.name}->${r.flow.to.name}`)).toEqual([]);
    expect(podToPod.filter((r) => !r.ok)).toEqual([]); // Cilium's own path is unaffected

    // Known traffic: PINGS echo requests to node-1's address, each dropped and counted once.
    const target = l.node("node-1");
    const before = await guardDrops(lone.ns);
    const icmpMark = l.capture.mark();
    const ping = inNs(lone.ns, ["ping", "-c", String(PINGS), "-i", "0.01", "-W", "1", target.underlayIp], { allowFailure: true });
    expect(ping.stdout).toContain(`${PINGS} packets transmitted, 0 received`);
    const after = await guardDrops(lone.ns);
    await l.capture.settle();
    const seen = l.capture.since(icmpMark).filter((p) => p.src === lone.underlayIp && p.dst === target.underlayIp);
    console.log(
      `[lab] guard-only-node: ${nodeFlows.length} node flows failed closed, ${exempt.length} exempt flows worked; ${PINGS} pings: guard counted ${after["node-address"] - before["node-address"]}, capture saw ${seen.length}; counters ${JSON.stringify(after)}`,
    );
    expect(after["node-address"] - before["node-address"]).toBe(PINGS);
    expect(seen).toEqual([]);
    expect(after["node-address"]).toBeGreaterThan(PINGS);
    expect(await reportLeaks(l, "guard-only-node", mark)).toEqual([]);
  }, 60_000);
});
