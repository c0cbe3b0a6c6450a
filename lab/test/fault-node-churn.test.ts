// Fault 4: a node joins and a node leaves. The joining node must be covered by every agent
// within a few seconds of its objects appearing in the API; the leaving node's routes must be
// removed from every remaining node. Traffic among the nodes present never leaks.
import { waitFor } from "../src/exec";
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
    const joined = await l.joinNode(3, false);
    const joinedAt = Date.now();
    // Coverage: every existing agent steers the newcomer's address and pod CIDR.
    const coveredMs = await waitFor("existing agents to cover the new node", () => {
      const ok = l.nodes.filter((n) => n !== joined).every((n) =>
        coverage(n.ns, joined.underlayIp) === "device" && coverage(n.ns, joined.podIp) === "device");
      return ok ? Date.now() - joinedAt : undefined;
    }, COVERAGE_LIMIT_MS, 50);
    await l.startAgents([joined]);
    await l.warmUp([...l.nodes.filter((n) => n !== joined), joined]);
    await traffic.stop();
    traffic = fault.startTraffic();
    await traffic.waitFor("every flow including the new node", (r) => r.ok, 15_000);

    const leaving = l.node("node-2");
    const leftAt = Date.now();
    await traffic.stop();
    await l.removeNode(leaving.name);
    traffic = fault.startTraffic();
    const removedMs = await waitFor("remaining agents to drop the departed node's routes", () => {
      const gone = l.nodes.every((n) => coverage(n.ns, leaving.underlayIp) === "none" && coverage(n.ns, leaving.podIp) === "none");
      return gone ? Date.now() - leftAt : undefined;
    }, COVERAGE_LIMIT_MS, 50);
    await traffic.waitFor("every flow among the remaining nodes", (r) => r.ok, 15_000);
    await traffic.stop();

    console.log(`[lab] node-churn: ${joined.name} covered by every existing agent ${coveredMs} ms after its Node/CiliumNode objects appeared; ${leaving.name}'s routes removed ${removedMs} ms after it left`);
    expect(coveredMs).toBeLessThan(COVERAGE_LIMIT_MS);
    expect(removedMs).toBeLessThan(COVERAGE_LIMIT_MS);
    expect(l.nodes.map((n) => n.name)).toEqual(["node-0-cp", "node-1", "node-3"]);
    expect(await reportLeaks(l, "node-churn", mark)).toEqual([]);
  }, 60_000);
});
