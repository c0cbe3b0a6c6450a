// Faults 2 and 5 together: an agent is restarted (an upgrade rolling out) while the API is
// unreachable. The new instance has never listed the cluster, so it must adopt the kernel state
// its predecessor left and change nothing until it has a complete view; traffic must neither
// break nor leak. When the API returns, the agent becomes ready with the state unchanged.
import { sleep, waitFor } from "../src/exec";
import { ownedState, reportLeaks, useFaultLab } from "./harness";

const VICTIM = "node-1";

describe("fault: agent restarted while the API is down", () => {
  const fault = useFaultLab();

  test("the restarted agent keeps its predecessor's state until it can list the cluster", async () => {
    const l = fault.lab;
    const victim = l.node(VICTIM);
    const stateBefore = ownedState(victim.ns);
    const mark = l.capture.mark();
    const traffic = fault.startTraffic();
    await traffic.waitFor("all flows up", (r) => r.ok);

    await l.api.stop();
    await l.agent(VICTIM).stop();
    l.agent(VICTIM).start();
    const restartedAt = Date.now();
    await sleep(2500);
    const stateDuringOutage = ownedState(victim.ns);
    const failedDuringOutage = traffic.resultsSince(restartedAt).filter((r) => !r.ok && !r.flow.exempt);

    await l.api.start();
    await waitFor(`agent on ${VICTIM} ready after the API returned`, () => l.agent(VICTIM).ready(), 15_000, 100);
    await traffic.waitFor("all flows after the API returned", (r) => r.ok, 10_000);
    await traffic.stop();

    const leaked = await reportLeaks(l, "agent-restart-api-down", mark);
    expect(stateDuringOutage).toBe(stateBefore);
    expect(failedDuringOutage.map((r) => `${r.flow.cls} ${r.flow.from.name}->${r.flow.to.name}`)).toEqual([]);
    expect(ownedState(victim.ns)).toBe(stateBefore);
    expect(leaked).toEqual([]);
  }, 60_000);
});
