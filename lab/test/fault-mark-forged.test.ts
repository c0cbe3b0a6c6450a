// Fault (issue 21, case 3): a process with CAP_NET_RAW alone (what container runtimes grant by
// default; since Linux 5.17 it is enough for SO_MARK) sets WireGuard's mark, 0xe00 (Cilium 1.18+)
// and 0x1e00 (older), and sends TCP and UDP to another node and to its pod, and UDP to the
// WireGuard port from a plain socket. Each probe carries a payload marker in its first packet;
// none may cross the underlay in the clear. Sanity control: the same probes, with node-1
// "rebooted" (agent dead, its rules, routes and guard gone), ARE seen - so the 0 means something.
import { ECHO_PORT } from "../src/flows";
import { WG_PORT, type NodePlan } from "../src/plan";
import { attackWithControl, useFaultLab, type Shot } from "./harness";

function shots(to: NodePlan): Shot[] {
  const list: Shot[] = [];
  const options = { as: "net-raw" as const };
  for (const mark of [0xe00, 0x1e00]) {
    for (const [where, host] of [
      ["node", to.underlayIp],
      ["pod", to.podIp],
    ]) {
      list.push({ label: `tcp-${where}-${mark.toString(16)}`, probe: "tcp", args: { host, port: ECHO_PORT, mark, timeoutS: 0.5 }, options });
      list.push({ label: `udp-${where}-${mark.toString(16)}`, probe: "udp", args: { host, port: ECHO_PORT, mark }, options });
    }
    // The WireGuard port with the mark, but not from WireGuard's port: not what the device sends.
    list.push({ label: `udp-wgport-${mark.toString(16)}`, probe: "udp", args: { host: to.underlayIp, port: WG_PORT, mark }, options });
  }
  list.push({ label: "udp-wgport-plain", probe: "udp", args: { host: to.underlayIp, port: WG_PORT }, options });
  return list;
}

describe("fault: a CAP_NET_RAW process forges the WireGuard mark", () => {
  const fault = useFaultLab();

  test("no marked probe leaves in the clear; without the guard every one does", async () => {
    const l = fault.lab;
    const r = await attackWithControl(l, "mark-forged", l.node("node-1"), shots(l.node("node-2")));
    // The attack must really have set the mark: SO_MARK refused would prove nothing.
    expect(r.results.filter((x) => x.error?.startsWith("EPERM"))).toEqual([]);
    expect(Object.keys(r.seen.byProbe).sort()).toEqual(r.labels);
    expect(r.attacked.count).toBe(0);
  }, 60_000);
});
