// Fault (issue 21, case 6): every address of a node. Each lab node has, besides its table
// address, a private (VPC) address on the same interface - listed in the node table, as the
// program lists each node's private addresses - and an IPv6 link-local address (never listed:
// the guard covers fe80::/10 on the underlay devices). An unprivileged process on node-1 sends
// TCP and UDP carrying a payload marker to node-2's private and link-local addresses; none may
// cross the underlay in the clear. Sanity control: the same probes with node-1 "rebooted"
// (no agent state, no guard) ARE seen.
import { ECHO_PORT } from "../src/flows";
import { linkLocalAddress } from "../src/netns";
import { IFACE, type NodePlan } from "../src/plan";
import { attackWithControl, useFaultLab, type Shot } from "./harness";

function shots(to: NodePlan): Shot[] {
  const list: Shot[] = [];
  for (const [where, host] of [
    ["private", to.privateIp],
    ["link-local", `${linkLocalAddress(to)}%${IFACE.underlay}`],
  ]) {
    list.push({ label: `tcp-${where}`, probe: "tcp", args: { host, port: ECHO_PORT, timeoutS: 0.5 }, options: { as: "nobody" } });
    list.push({ label: `udp-${where}`, probe: "udp", args: { host, port: ECHO_PORT, count: 3 }, options: { as: "nobody" } });
  }
  return list;
}

describe("fault: cleartext to a node's private and link-local addresses", () => {
  const fault = useFaultLab({ privateAddresses: true });

  test("nothing to another node's other addresses leaves in the clear; without the guard all of it does", async () => {
    const l = fault.lab;
    const r = await attackWithControl(l, "unlisted-addresses", l.node("node-1"), shots(l.node("node-2")));
    expect(Object.keys(r.seen.byProbe).sort()).toEqual(r.labels);
    expect(r.attacked.count).toBe(0);
  }, 60_000);
});
