// Fault (issue 21, case 2): tables that would switch the guard off fleet-wide, published one
// after another under traffic, each held past the leave grace period: a table with no nodes, one
// without node-1 (the local node, for node-1; a departure for the others while node-1 is still
// their WireGuard peer), and one whose pod CIDRs are 0.0.0.0/1 and ::/0. Meanwhile unprivileged
// processes on node-1 and node-2 send TCP and UDP carrying a payload marker to each other and
// to each other's pod: 0 may cross the underlay in the clear. Every agent counts the refusals in
// node_router_errors_total{kind="node-table"}, and the metadata service, DNS and the internet
// stay reachable. Sanity control: the same probes from node-1 "rebooted" (no agent state, no
// guard) ARE seen.
import { newMarker } from "../src/attack";
import { sleep } from "../src/exec";
import { ECHO_PORT } from "../src/flows";
import { INTERNET, METADATA } from "../src/outside";
import { CLUSTER_POD_CIDR, nodeTableFor, type NodePlan } from "../src/plan";
import { crash } from "../src/reboot";
import { fire, markerReport, reportLeaks, useFaultLab, type Shot } from "./harness";

const HOLD_MS = 3500; // > the lab's 2 s leave grace

const toward = (to: NodePlan): Shot[] =>
  [to.underlayIp, to.podIp].flatMap((host, i) => [
    {
      label: `tcp-${to.name}-${i ? "pod" : "node"}`,
      probe: "tcp" as const,
      args: { host, port: ECHO_PORT, timeoutS: 0.3 },
      options: { as: "nobody" as const },
    },
    { label: `udp-${to.name}-${i ? "pod" : "node"}`, probe: "udp" as const, args: { host, port: ECHO_PORT }, options: { as: "nobody" as const } },
  ]);

/** node_router_errors_total{kind="node-table"}, 0 while the series does not exist yet. */
const tableErrors = (text: string) => Number(/^node_router_errors_total\{kind="node-table"\} (\d+)/m.exec(text)?.[1] ?? 0);

describe("fault: tables that would switch the guard off", () => {
  const fault = useFaultLab();

  test("three bad tables under traffic: 0 marker packets, refusals counted, outside reachable", async () => {
    const l = fault.lab;
    await l.startOutside();
    const [n1, n2] = [l.node("node-1"), l.node("node-2")];
    const system = l.cgroups.get("system").path;
    const bad: [string, unknown][] = [
      ["no nodes", { podCidrs: [CLUSTER_POD_CIDR], nodes: [] }],
      ["node-1 absent", nodeTableFor(l.nodes.filter((n) => n !== n1))],
      ["pod CIDRs 0.0.0.0/1 and ::/0", { ...nodeTableFor(l.nodes), podCidrs: ["0.0.0.0/1", "::/0"] }],
    ];
    const errorsBefore = await Promise.all(l.nodes.map(async (n) => tableErrors(await l.agent(n.name).metrics())));
    const marker = newMarker();
    const mark = l.capture.mark();
    const traffic = fault.startTraffic();
    const outside: { name: string; meta: boolean; dns: boolean; internet: boolean }[] = [];
    for (const [name, table] of bad) {
      l.table!.write(table);
      const until = Date.now() + HOLD_MS;
      while (Date.now() < until) {
        await Promise.all([fire(n1.ns, toward(n2), marker), fire(n2.ns, toward(n1), marker), sleep(300)]);
      }
      // Still held: the node's own services reach the metadata service, DNS and the internet.
      const [meta, dns, internet] = await fire(
        n1.ns,
        [
          { label: "meta", probe: "tcp", args: { host: METADATA, port: 80 }, options: { as: "nobody", cgroup: system } },
          { label: "dns", probe: "dns", args: { host: METADATA, port: 53 }, options: { as: "nobody", cgroup: system } },
          { label: "internet", probe: "tcp", args: { host: INTERNET, port: 80 }, options: { as: "nobody", cgroup: system } },
        ],
        newMarker(),
      );
      outside.push({ name, meta: meta.ok, dns: dns.ok, internet: internet.ok });
    }
    l.table!.publish();
    await traffic.stop();
    const errorsAfter = await Promise.all(l.nodes.map(async (n) => tableErrors(await l.agent(n.name).metrics())));
    const attacked = await markerReport(l, "bad-tables (three bad tables, guard and agent)", marker);
    const leaked = await reportLeaks(l, "bad-tables", mark);
    console.log(
      `[lab] bad-tables: outside reachability ${JSON.stringify(outside)}; errors_total{kind="node-table"} ${l.nodes.map((n, i) => `${n.name} ${errorsBefore[i]}->${errorsAfter[i]}`).join(", ")}`,
    );

    const control = newMarker();
    await crash(l, n1.name);
    await fire(n1.ns, toward(n2), control);
    const seen = await markerReport(l, "bad-tables sanity control (node-1 without agent state or guard)", control);
    expect(Object.keys(seen.byProbe).sort()).toEqual(
      toward(n2)
        .map((s) => s.label)
        .sort(),
    );

    expect(attacked.count).toBe(0);
    expect(leaked).toEqual([]);
    expect(outside).toEqual(bad.map(([name]) => ({ name, meta: true, dns: true, internet: true })));
    // node-1 refuses all three; the others all but "node-1 absent" (valid for them: a departure).
    const deltas = errorsAfter.map((a, i) => a - errorsBefore[i]);
    expect(deltas.map((d, i) => d >= (l.nodes[i] === n1 ? 3 : 2))).toEqual(l.nodes.map(() => true));
  }, 90_000);
});
