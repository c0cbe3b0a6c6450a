// Fault (issue 21, case 5): data smuggled past the guard's exceptions. From node-1, a CAP_NET_RAW
// process sends ICMP "fragmentation needed" errors of 488 bytes whose body carries a payload
// marker (ICMP errors must pass only as `ct state related`, answering a real packet), to another
// node and to its pod, also bound to the underlay device (SO_BINDTODEVICE skips the agent's
// routes: only the guard is left); and writes Ethernet frames with AF_PACKET on the underlay
// device, addressed to node-2's MAC and IP (and its pod's IP), UDP carrying the marker: AF_PACKET
// skips every inet hook, so only the netdev egress chain sees them. None may cross the underlay.
// Sanity control: the same probes with node-1 "rebooted" (no agent state, no guard) ARE seen.
import { ipIn } from "../src/exec";
import { ECHO_PORT } from "../src/flows";
import { IFACE, type NodePlan } from "../src/plan";
import { attackWithControl, useFaultLab, type Shot } from "./harness";

const mac = (n: NodePlan) => (JSON.parse(ipIn(n.ns, `-j link show ${IFACE.underlay}`).stdout) as { address: string }[])[0].address;

function shots(from: NodePlan, to: NodePlan): Shot[] {
  const options = { as: "net-raw" as const };
  const frame = { bindDev: IFACE.underlay, src: from.underlayIp, srcMac: mac(from), dstMac: mac(to), port: ECHO_PORT, count: 3 };
  return [
    { label: "icmp-node", probe: "icmp-error", args: { host: to.underlayIp, size: 488, count: 3 }, options },
    { label: "icmp-pod", probe: "icmp-error", args: { host: to.podIp, size: 488, count: 3 }, options },
    { label: "icmp-node-dev", probe: "icmp-error", args: { host: to.underlayIp, size: 488, count: 3, bindDev: IFACE.underlay }, options },
    { label: "frame-node", probe: "frame", args: { ...frame, host: to.underlayIp }, options },
    { label: "frame-pod", probe: "frame", args: { ...frame, host: to.podIp }, options },
  ];
}

describe("fault: ICMP errors with a payload and AF_PACKET frames", () => {
  const fault = useFaultLab();

  test("no smuggled payload leaves in the clear; without the guard every one does", async () => {
    const l = fault.lab;
    const from = l.node("node-1");
    const r = await attackWithControl(l, "raw-frames", from, shots(from, l.node("node-2")));
    // Every probe could be sent (raw sockets allowed); with the guard, a dropped raw send may
    // return EPERM (an nft drop in output), so the check is on the control.
    expect(r.controlResults.filter((x) => !x.ok)).toEqual([]);
    expect(Object.keys(r.seen.byProbe).sort()).toEqual(r.labels);
    expect(r.attacked.count).toBe(0);
  }, 60_000);
});
