// Fault (issue 21, case 4): the control plane's reply exemption used by what is not a reply. On
// the control plane, an unprivileged process binds a free exempt port (2380: etcd's peer port
// before etcd starts or while it restarts) on the node's address and opens TCP to a worker and
// its pod; a CAP_NET_RAW process writes a raw TCP segment with source port 6443. Each carries a
// payload marker; none may cross the underlay in the clear (only replies of connections a peer
// opened to an exempt port may). Sanity control: the same probes with the control plane
// "rebooted" (no agent state, no guard) ARE seen.
import { ECHO_PORT } from "../src/flows";
import type { NodePlan } from "../src/plan";
import { attackWithControl, useFaultLab, type Shot } from "./harness";

function shots(cp: NodePlan, to: NodePlan): Shot[] {
  const list: Shot[] = [];
  for (const [where, host] of [
    ["node", to.underlayIp],
    ["pod", to.podIp],
  ]) {
    list.push({
      label: `tcp-2380-${where}`,
      probe: "tcp",
      args: { host, port: ECHO_PORT, src: cp.underlayIp, sport: 2380, timeoutS: 0.5 },
      options: { as: "nobody" },
    });
    list.push({
      label: `raw-6443-${where}`,
      probe: "raw-tcp",
      args: { host, port: ECHO_PORT, src: cp.underlayIp, sport: 6443, count: 3 },
      options: { as: "net-raw" },
    });
  }
  return list;
}

describe("fault: a process forges the control plane's exempt source port", () => {
  const fault = useFaultLab();

  test("no forged exempt-port probe leaves in the clear; without the guard every one does", async () => {
    const l = fault.lab;
    const cp = l.controlPlane;
    const r = await attackWithControl(l, "exempt-port-forged", cp, shots(cp, l.node("node-1")));
    // 2380 must really have been free and bound: "address in use" would prove nothing.
    expect(r.results.filter((x) => /in use|EPERM/i.test(x.error ?? ""))).toEqual([]);
    expect(Object.keys(r.seen.byProbe).sort()).toEqual(r.labels);
    expect(r.attacked.count).toBe(0);
  }, 60_000);
});
