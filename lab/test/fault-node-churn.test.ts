// Fault 4: a node joins and a node leaves. The joining node must be covered by every agent
// within a few seconds of its objects appearing in the API (with the node table: before, since
// the table lists it first). The leaving node's records go first (API objects, table entry);
// while it is still a WireGuard peer of the others (Cilium has not removed it yet) it stays
// guarded and steered there, however long that takes (issue 21: departures). Once Cilium drops
// its peer, it stays steered for the agents' leave grace period
// and its routes are then removed from every remaining node, while its pod CIDR stays covered
// by the cluster-wide route. Traffic among the nodes present never leaks: this test once
// counted 18 SYN-ACKs sent in the clear to the leaving node (half-open connections retransmitting
// after its routes were withdrawn); the guard's WireGuard-reply rule and the grace period fixed it.
import { readFileSync } from "node:fs";
import { forgetNode, joinNode, retireNode } from "../src/faults";
import { sleep, waitFor } from "../src/exec";
import { guards } from "../src/reboot";
import { coverage, reportLeaks, useFaultLab } from "./harness";

const COVERAGE_LIMIT_MS = 5000;

describe("fault: a node joins and a node leaves", () => {
  const fault = useFaultLab();

  test("join covered within seconds, leave removes its routes, no cleartext", async () => {
    const l = fault.lab;
    const mark = l.capture.mark();
    const original = l.nodes.map((n) => n.name);
    let traffic = fault.startTraffic(original);

    // The node's namespaces, WireGuard and Cilium-side peers come up; its API objects are
    // published last, and coverage is timed from that moment.
    const joined = await joinNode(l, 3, false);
    const joinedAt = Date.now();
    // Coverage: every existing agent steers the newcomer's address and pod CIDR.
    const coveredMs = await waitFor(
      "existing agents to cover the new node",
      () => {
        const ok = l.nodes
          .filter((n) => n !== joined)
          .every((n) => coverage(n.ns, joined.underlayIp) === "device" && coverage(n.ns, joined.podIp) === "device");
        return ok ? Date.now() - joinedAt : undefined;
      },
      COVERAGE_LIMIT_MS,
      50,
    );
    await l.startAgents([joined]);
    await l.warmUp([...l.nodes.filter((n) => n !== joined), joined]);
    await traffic.stop();
    traffic = fault.startTraffic();
    await traffic.waitFor("every flow including the new node", (r) => r.ok, 15_000);

    const leaving = l.node("node-2");
    const remaining = l.nodes.filter((n) => n !== leaving);
    await traffic.stop();
    // Its records go; its peers stay on the others for longer than the leave grace.
    const forgottenAt = Date.now();
    await forgetNode(l, leaving.name);
    const peerHeldMs = l.leaveGraceSeconds * 1000 + 2000;
    await sleep(Math.max(0, forgottenAt + peerHeldMs - Date.now()));
    const whilePeer = remaining.map((n) => `${n.name}: ${coverage(n.ns, leaving.underlayIp)} guarded=${guards(n, leaving.underlayIp)}`);
    // Cilium removes its peer everywhere (and the node goes); the grace starts now.
    const leftAt = Date.now();
    await retireNode(l, leaving.name);
    // Within the grace period the departed address is still steered everywhere.
    const duringGrace = l.nodes.map((n) => coverage(n.ns, leaving.underlayIp));
    const graceLeftMs = l.leaveGraceSeconds * 1000 - (Date.now() - leftAt);
    traffic = fault.startTraffic();
    const removedMs = await waitFor(
      "remaining agents to drop the departed node's routes",
      () => {
        const gone = l.nodes.every((n) => coverage(n.ns, leaving.underlayIp) === "none" && !guards(n, leaving.underlayIp));
        return gone ? Date.now() - leftAt : undefined;
      },
      COVERAGE_LIMIT_MS,
      50,
    );
    expect(whilePeer).toEqual(remaining.map((n) => `${n.name}: device guarded=true`));
    if (graceLeftMs > 0) expect(duringGrace).toEqual(l.nodes.map(() => "device"));
    expect(removedMs).toBeGreaterThanOrEqual(l.leaveGraceSeconds * 1000);
    // Its pod CIDR was never a route of its own: the cluster-wide one still covers it.
    for (const n of l.nodes) expect(coverage(n.ns, leaving.podIp)).toBe("device");
    await traffic.waitFor("every flow among the remaining nodes", (r) => r.ok, 15_000);
    await traffic.stop();

    console.log(
      `[lab] node-churn: ${joined.name} covered by every existing agent ${coveredMs} ms after its Node/CiliumNode objects appeared; ${leaving.name} guarded and steered while still a peer (${peerHeldMs} ms after its records went), then for its ${l.leaveGraceSeconds} s grace period: routes and guard entries removed ${removedMs} ms after its peer was dropped`,
    );
    expect(coveredMs).toBeLessThan(COVERAGE_LIMIT_MS);
    expect(removedMs).toBeLessThan(COVERAGE_LIMIT_MS);
    expect(l.nodes.map((n) => n.name)).toEqual(["node-0-cp", "node-1", "node-3"]);
    // The agents that saw both took the join and the end of the grace as delta steps (only the
    // changed node looked at): their logs' "reconciled" lines say so, with what each applied.
    for (const n of l.nodes.filter((x) => x !== joined)) {
      const steps = readFileSync(l.agents.get(n.name)!.logFile, "utf8")
        .split("\n")
        .filter((line) => line.includes('"msg":"reconciled"'))
        .map((line) => JSON.parse(line) as { delta?: boolean; changes: Record<string, number> });
      const deltas = steps.filter((x) => x.delta);
      expect({ node: n.name, joinAsDelta: deltas.some((x) => x.changes.addRoutes > 0), leaveAsDelta: deltas.some((x) => x.changes.removeRoutes > 0) }).toEqual({
        node: n.name,
        joinAsDelta: true,
        leaveAsDelta: true,
      });
    }
    expect(await reportLeaks(l, "node-churn", mark)).toEqual([]);
  }, 60_000);
});
