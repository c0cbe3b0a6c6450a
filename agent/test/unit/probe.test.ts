// probe.ts, pure: which nodes a node probes (every node someone's target), the rule that sends a
// probe past the steering (outside the agent's rule span), and the verdict on the counters.
import { OWNED_PRIORITY_SPAN } from "../../src/settings";
import { parseNodeTable } from "../../src/nodeTable";
import { PROBE_PORT, probeCheck, probeRule, probeRulePriority, probeTargets, type ProbeResult } from "../../src/probe";
import type { GuardReason } from "../../src/guard";
import { settings } from "../fixtures";

const table = parseNodeTable(
  JSON.stringify({
    podCidrs: ["10.244.0.0/16"],
    nodes: [
      { name: "c", role: "worker", addresses: ["203.0.113.3", "2001:db8::3"] },
      { name: "a", role: "control-plane", addresses: ["203.0.113.1"] },
      { name: "b", role: "worker", addresses: ["203.0.113.2"] },
      { name: "d", role: "worker", addresses: ["203.0.113.4"] },
    ],
  }),
);
const counters = (nodeAddress: number): Record<GuardReason, number> => ({
  "node-address": nodeAddress,
  "pod-cidr": 0,
  "wireguard-reply": 0,
  "link-local": 0,
  metadata: 0,
  "raw-frame": 0,
});

describe("probeTargets", () => {
  test("the next nodes in name order, wrapping around, every address of each", () => {
    expect(probeTargets(table, "b", 2)).toEqual([
      { node: "c", address: "203.0.113.3" },
      { node: "c", address: "2001:db8::3" },
      { node: "d", address: "203.0.113.4" },
    ]);
    expect(probeTargets(table, "d", 1)).toEqual([{ node: "a", address: "203.0.113.1" }]);
  });

  test("with one target each, every node is some node's target", () => {
    const names = table.nodes.map((n) => n.name);
    const targeted = new Set(names.flatMap((n) => probeTargets(table, n, 1).map((t) => t.node)));
    expect([...targeted].sort()).toEqual([...names].sort());
  });

  test("never the node itself, however many are asked for", () => {
    const all = probeTargets(table, "a", 10).map((t) => t.node);
    expect(all).toEqual(["b", "c", "c", "d"]);
  });
});

describe("probeRule", () => {
  test("UDP to the discard port of one address, looked up in main, one priority before the agent's span", () => {
    const s = settings();
    expect(probeRule(s, "203.0.113.3")).toEqual([
      "-4",
      "rule",
      "add",
      "priority",
      String(s.rulePriority - 1),
      "to",
      "203.0.113.3/32",
      "ipproto",
      "udp",
      "dport",
      String(PROBE_PORT),
      "lookup",
      "main",
    ]);
    expect(probeRule(s, "2001:db8::3").slice(0, 7)).toEqual(["-6", "rule", "add", "priority", String(s.rulePriority - 1), "to", "2001:db8::3/128"]);
    const p = probeRulePriority(s);
    expect(p < s.rulePriority || p >= s.rulePriority + OWNED_PRIORITY_SPAN).toBe(true);
  });
});

describe("probeCheck", () => {
  const targets = probeTargets(table, "b", 2);
  const result = (after: number, extra: Partial<ProbeResult> = {}): ProbeResult => ({
    targets,
    before: counters(5),
    after: counters(after),
    refused: 0,
    ...extra,
  });

  test("every probe counted as a node-address drop: ok", () => {
    const c = probeCheck(result(8));
    expect([c.name, c.ok]).toEqual(["probe", true]);
    expect(c.detail).toBe("3 probes in the clear to c, d (UDP 9, past the routes): all dropped by the guard (node-address +3)");
  });

  test("one probe not counted: fails, naming the count, and says what to do", () => {
    const c = probeCheck(result(7, { refused: 2 }));
    expect(c.ok).toBe(false);
    expect(c.detail).toMatch(/the guard counted 2 of 3 \(refused on send: 2\)$/);
    expect(c.fix).toMatch(/restart this node's node-router pod/);
  });

  test("no guard loaded: nothing sent, fails", () => {
    const c = probeCheck({ targets, refused: 0 });
    expect([c.ok, c.detail]).toEqual([false, "no guard loaded (inet node_router_guard): nothing sent, a probe would have left in the clear"]);
  });

  test("no other node, or a probe that could not run: fails with the reason", () => {
    expect(probeCheck({ targets: [], before: counters(0), refused: 0 }).detail).toBe("no other node in the table to probe");
    const c = probeCheck({ targets, before: counters(0), refused: 0, error: "ip -4 rule add ...: Operation not permitted" });
    expect([c.ok, c.detail]).toEqual([false, "could not probe: ip -4 rule add ...: Operation not permitted"]);
  });
});
