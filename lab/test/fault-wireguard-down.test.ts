// Fault 1: one node's wireguard-go dies while traffic flows. Steered traffic must be dropped,
// never sent in the clear; when the device returns and is configured again, flows recover with
// the same agent process (it reacts to the link event, no restart).
import { killWireGuard, restoreWireGuard } from "../src/faults";
import { ipIn } from "../src/exec";
import { reportLeaks, useFaultLab } from "./harness";

const VICTIM = "node-1";

describe("fault: WireGuard device of one node disappears", () => {
  const fault = useFaultLab();

  test("dropped while gone, never in the clear; recovers without restarting the agent", async () => {
    const l = fault.lab;
    const victim = l.node(VICTIM);
    const agentPid = l.agent(VICTIM).pid;
    const mark = l.capture.mark();
    const traffic = fault.startTraffic();
    await traffic.waitFor("all flows up before the fault", (r) => r.ok);

    await killWireGuard(l, VICTIM);
    const downAt = Date.now();
    // Fail closed: the victim's steered destinations hit the agent's blackholes, not the underlay.
    const route = ipIn(victim.ns, `route get ${l.node("node-2").underlayIp}`, { allowFailure: true });
    expect(route.stdout + route.stderr).not.toMatch(/dev eth0/);
    await traffic.waitFor("a few rounds with the device gone", () => true);
    await traffic.waitFor("another round with the device gone", () => true);
    const whileDown = traffic.resultsSince(downAt);
    const touchesVictim = whileDown.filter((r) => r.flow.from === victim || r.flow.to === victim);
    const exempt = touchesVictim.filter((r) => r.flow.exempt);
    const others = whileDown.filter((r) => r.flow.from !== victim && r.flow.to !== victim);
    // Every kind of flow was tried while the device was gone (none of the checks below passes on nothing).
    expect({ encrypted: touchesVictim.length - exempt.length > 0, exempt: exempt.length > 0, others: others.length > 0 }).toEqual({
      encrypted: true,
      exempt: true,
      others: true,
    });
    // Encrypted flows to or from the victim cannot work without its device...
    expect(touchesVictim.filter((r) => !r.flow.exempt && r.ok).map((r) => `${r.flow.cls} ${r.flow.from.name}->${r.flow.to.name}`)).toEqual([]);
    // ...while the bootstrap path (clear by design) and flows between the other nodes keep working.
    expect(exempt.filter((r) => !r.ok).map((r) => `${r.flow.cls} ${r.flow.from.name}->${r.flow.to.name}`)).toEqual([]);
    expect(others.filter((r) => !r.ok).map((r) => `${r.flow.cls} ${r.flow.from.name}->${r.flow.to.name}`)).toEqual([]);

    await restoreWireGuard(l, VICTIM);
    const restoredAt = Date.now();
    const recoveryMs = await traffic.waitFor("every flow to recover", (r) => r.ok, 20_000);
    console.log(`[lab] wireguard-down: device gone for ${restoredAt - downAt} ms; all flows working again ${recoveryMs} ms after it returned`);
    await traffic.stop();

    expect(l.agent(VICTIM).pid).toBe(agentPid);
    expect(l.agent(VICTIM).starts).toBe(1);
    expect(await reportLeaks(l, "wireguard-down", mark)).toEqual([]);
  }, 60_000);
});
