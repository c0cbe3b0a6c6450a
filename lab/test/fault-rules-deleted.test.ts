// Fault: the agent's rules and routes deleted behind its back, as systemd-networkd does to
// routing-policy rules and routes it does not own when it reconfigures a link (cilium/cilium#18706).
// Until the agent repairs them the boot guard drops what would have left in the clear; the
// agent sees the deletion (ip monitor) and repairs at once, not at the next resync.
import { ipIn, waitFor } from "../src/exec";
import { guardDrops, ownedState, reportLeaks, useFaultLab } from "./harness";

describe("fault: rules and routes deleted behind the agent's back", () => {
  const fault = useFaultLab();

  test("0 cleartext until repair; repaired in well under a resync period", async () => {
    const l = fault.lab;
    const victims = [l.controlPlane, l.node("node-1")];
    const before = victims.map((n) => ownedState(n.ns));
    const mark = l.capture.mark();
    const traffic = fault.startTraffic();
    await traffic.waitFor("all flows up", (r) => r.ok);
    const drops = await Promise.all(victims.map((n) => guardDrops(n.ns)));

    const repairMs: number[] = [];
    for (const [i, n] of victims.entries()) {
      const rules = ipIn(n.ns, "-j rule show").stdout;
      const deletedAt = Date.now();
      for (const r of JSON.parse(rules) as { priority: number; protocol?: string }[]) {
        if (r.protocol === "211") ipIn(n.ns, `rule del priority ${r.priority}`);
      }
      for (const t of ["51871", "51872"]) ipIn(n.ns, `route flush table ${t}`, { allowFailure: true }); // the control plane has no control-plane table entries
      repairMs.push(
        await waitFor(`${n.name}'s rules and routes repaired`, () => (ownedState(n.ns) === before[i] ? Date.now() - deletedAt : undefined), 10_000, 20),
      );
    }
    await traffic.waitFor("every flow after the repairs", (r) => r.ok, 10_000);
    await traffic.stop();
    const dropsAfter = await Promise.all(victims.map((n) => guardDrops(n.ns)));

    console.log(
      `[lab] rules-deleted: repaired in ${repairMs.join(" / ")} ms (${victims.map((n) => n.name).join(" / ")}); guard drops meanwhile: ${victims.map((_, i) => dropsAfter[i]["node-address"] + dropsAfter[i]["pod-cidr"] - drops[i]["node-address"] - drops[i]["pod-cidr"]).join(" / ")}`,
    );
    for (const ms of repairMs) expect(ms).toBeLessThan(5000); // the resync period is 30 s
    expect(await reportLeaks(l, "rules-deleted", mark)).toEqual([]);
  }, 60_000);
});
