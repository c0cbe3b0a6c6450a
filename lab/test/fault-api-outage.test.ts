// Fault 5: the API stand-in goes away. Agents keep every rule and route they have (the last
// known state), traffic keeps flowing encrypted; the cluster changes meanwhile (a node leaves,
// another registers); when the API returns, the agents relist and catch up.
import { waitFor } from "../src/exec";
import { ciliumNodeObject, nodeObject } from "../src/objects";
import { planNode } from "../src/plan";
import { generateKeyPair } from "../src/wgconfig";
import { coverage, ownedState, reportLeaks, useFaultLab } from "./harness";

const CATCH_UP_LIMIT_MS = 10_000;

describe("fault: the API goes away and comes back changed", () => {
  // Identity from the API (no node table): this fault is about the API-driven path.
  const fault = useFaultLab({ nodeTable: false });

  test("rules kept during the outage, changes applied after it", async () => {
    const l = fault.lab;
    const watchers = ["node-0-cp", "node-1"].map((n) => l.node(n));
    const mark = l.capture.mark();
    let traffic = fault.startTraffic();
    await traffic.waitFor("all flows up", (r) => r.ok);
    const stateBefore = watchers.map((n) => ownedState(n.ns));

    await l.api.stop();
    const downAt = Date.now();
    // Changes the agents cannot see yet: node-2 is deleted, node-9 registers.
    const departed = l.node("node-2");
    await l.api.delete("nodes", departed.name);
    await l.api.delete("ciliumnodes", departed.name);
    const newcomer = planNode(l.plan.id, 9);
    await l.api.put("nodes", nodeObject(newcomer));
    await l.api.put("ciliumnodes", ciliumNodeObject(newcomer, generateKeyPair().publicKey));

    // Two watch reconnect attempts fail meanwhile; nothing is removed, traffic stays encrypted.
    await waitFor("the outage to last 2.5 s", () => Date.now() - downAt > 2500, 5000, 100);
    expect(watchers.map((n) => ownedState(n.ns))).toEqual(stateBefore);
    expect(
      traffic
        .resultsSince(downAt)
        .filter((r) => !r.ok && !r.flow.exempt)
        .map((r) => `${r.flow.cls} ${r.flow.from.name}->${r.flow.to.name}`),
    ).toEqual([]);
    await traffic.stop();

    await l.api.start();
    const upAt = Date.now();
    const caughtUpMs = await waitFor(
      "agents to apply the changes made during the outage",
      () => {
        const done = watchers.every(
          (n) =>
            coverage(n.ns, newcomer.underlayIp) === "device" &&
            coverage(n.ns, newcomer.podIp) === "device" &&
            coverage(n.ns, departed.underlayIp) === "none" &&
            coverage(n.ns, departed.podIp) === "none",
        );
        return done ? Date.now() - upAt : undefined;
      },
      CATCH_UP_LIMIT_MS,
      100,
    );
    console.log(`[lab] api-outage: API down ${upAt - downAt} ms with rules untouched; agents caught up ${caughtUpMs} ms after it returned`);

    // The remaining nodes still talk, encrypted.
    traffic = fault.startTraffic(watchers.map((n) => n.name));
    await traffic.waitFor("flows between the remaining nodes", (r) => r.ok, 10_000);
    await traffic.stop();
    expect(await reportLeaks(l, "api-outage", mark)).toEqual([]);
  }, 60_000);
});
