// Fault 2: agents crash (SIGKILL) and are restarted, then are "upgraded" (SIGTERM, start again),
// all while traffic flows. The kernel state stays in place throughout: no flow breaks, nothing
// is sent in the clear, and the new instances adopt the state without changing it.
import { ownedState, reportLeaks, useFaultLab } from "./harness";

describe("fault: agents killed, restarted and upgraded under traffic", () => {
  const fault = useFaultLab();

  test("no gap and no cleartext at any moment", async () => {
    const l = fault.lab;
    const stateBefore = l.nodes.map((n) => ownedState(n.ns));
    const mark = l.capture.mark();
    const traffic = fault.startTraffic();
    await traffic.waitFor("all flows up", (r) => r.ok);
    const started = Date.now();

    // Crash: every agent at once, a few rounds of traffic with no agent at all, then restart.
    await Promise.all(l.nodes.map((n) => l.agent(n.name).kill()));
    await traffic.waitFor("traffic with every agent dead", () => true);
    await traffic.waitFor("more traffic with every agent dead", () => true);
    await l.startAgents();

    // Upgrade: graceful stop (state left in place), a pause as an image pull would make, start.
    await Promise.all(l.nodes.map((n) => l.agent(n.name).stop()));
    await traffic.waitFor("traffic between versions", () => true);
    await l.startAgents();
    await traffic.waitFor("traffic after the upgrade", () => true);
    await traffic.stop();

    const results = traffic.resultsSince(started);
    console.log(`[lab] agent-restart: ${results.length} probes during crash/restart/upgrade, ${results.filter((r) => !r.ok).length} failed`);
    expect(results.filter((r) => !r.ok).map((r) => `${r.flow.cls} ${r.flow.from.name}->${r.flow.to.name}: ${r.error}`)).toEqual([]);
    expect(l.nodes.map((n) => l.agent(n.name).starts)).toEqual([3, 3, 3]);
    // Adoption: the restarted agents found exactly what they would have installed.
    expect(l.nodes.map((n) => ownedState(n.ns))).toEqual(stateBefore);
    expect(await reportLeaks(l, "agent-restart", mark)).toEqual([]);
  }, 60_000);
});
