// `main.js status` (issue 25) on a lab node, run as an operator would run it in the node-router
// pod: the real agent, the real kernel, wireguard-go. A healthy node passes every check (exit 0);
// each check is then made to fail once, as a person would break it, and status names it (exit 1):
// the guard's map flushed, an agent rule deleted (the agent frozen, or it repairs the rule at
// once), a WireGuard peer removed, and a ConfigMap table the agent has not applied.
import { distFile, inNs, ipIn, nodeBinary, waitFor } from "../src/exec";
import type { Lab } from "../src/lab";
import type { NodePlan } from "../src/plan";
import { withNodeRunDir } from "../src/wireguard";
import type { Check } from "../../agent/src/status";
import { useFaultLab } from "./harness";

const fault = useFaultLab();

interface Report {
  code: number;
  ok: boolean;
  checks: Check[];
  text: string;
}

/** status on a node, in its namespace with its /run/wireguard, as `kubectl exec` into its node-router pod would. */
function status(l: Lab, node: NodePlan, json = true): Report {
  const args = ["status", ...(json ? ["--json"] : []), "--node-name", node.name, "--node-table", l.table!.file, "--state-dir", l.stateDir(node)];
  const command = [nodeBinary(), distFile("agent/src/main.js"), ...args, "--metrics-address", `127.0.0.1:${node.agentHealthPort}`];
  const r = inNs(node.ns, withNodeRunDir(l.dir, node.ns, command), { allowFailure: true });
  if (!json) return { code: r.code, ok: r.code === 0, checks: [], text: r.stdout };
  const doc = JSON.parse(r.stdout) as { ok: boolean; checks: Check[] };
  return { code: r.code, ok: doc.ok, checks: doc.checks, text: r.stdout };
}

const failing = (r: Report) => r.checks.filter((c) => !c.ok).map((c) => c.name);
const check = (r: Report, name: Check["name"]) => r.checks.find((c) => c.name === name)!;
const wg = (l: Lab, ns: string, args: string[]) => inNs(ns, withNodeRunDir(l.dir, ns, ["wg", ...args])).stdout;

describe("main.js status on a lab node", () => {
  test("a healthy node: every check holds, exit 0; the report a person reads", () => {
    const l = fault.lab;
    const r = status(l, l.node("node-1"));
    expect([r.code, failing(r)]).toEqual([0, []]);
    expect(r.checks.map((c) => c.name)).toEqual(["node-table", "guard", "rules-and-routes", "wireguard-peers", "reconcile", "guard-drops"]);
    expect(check(r, "wireguard-peers").detail).toMatch(/^2 nodes, each a peer with a handshake within 180s: node-0-cp \d+s, node-2 \d+s$/);
    const text = status(l, l.node("node-1"), false);
    expect(text.code).toBe(0);
    expect(text.text).toMatch(/^node-router status of node-1: no byte leaves in the clear\n {2}ok {4}node-table/);
    console.log(`[status] ${text.text}`);
  });

  test("the guard's map flushed: guard fails, naming the missing addresses; an agent restart restores it", async () => {
    const l = fault.lab;
    const node = l.node("node-1");
    inNs(node.ns, ["nft", "flush", "map", "inet", "node_router_guard", "nodes4"]);
    const r = status(l, node);
    expect([r.code, failing(r)]).toEqual([1, ["guard"]]);
    expect(check(r, "guard").detail).toMatch(/^2 of 2 addresses missing \((198\.51\.100\.\d+, ){1}198\.51\.100\.\d+\)$/);
    expect(check(r, "guard").fix).toMatch(/restart the node-router pod/);
    await l.agent(node.name).stop();
    await l.startAgents([node]);
    expect(failing(status(l, node))).toEqual([]);
  }, 60_000);

  test("a rule deleted while the agent is frozen: rules-and-routes names it, reconcile says the agent does not answer", async () => {
    const l = fault.lab;
    const node = l.node("node-1");
    const agent = l.agent(node.name);
    const steering = ipIn(node.ns, "rule show")
      .stdout.split("\n")
      .find((line) => line.includes("proto 211") && /lookup 51871/.test(line));
    expect(steering).toBeDefined();
    const pref = steering!.split(":")[0];
    process.kill(agent.pid!, "SIGSTOP");
    try {
      ipIn(node.ns, `rule del pref ${pref}`);
      const r = status(l, node);
      expect([r.code, failing(r)]).toEqual([1, ["rules-and-routes", "reconcile"]]);
      expect(check(r, "rules-and-routes").detail).toBe(`missing rules: rule ${pref}`);
      expect(check(r, "reconcile").detail).toMatch(/^unknown: the agent's metrics at 127\.0\.0\.1:\d+: no answer within 2 s$/);
    } finally {
      process.kill(agent.pid!, "SIGCONT");
    }
    // Thawed, the agent repairs the rule (ip monitor): status passes again.
    await waitFor("status to pass after the agent's repair", () => status(l, node).ok, 10_000, 200);
  }, 60_000);

  test("a WireGuard peer removed: wireguard-peers names the node; back, with a new handshake, it passes", async () => {
    const l = fault.lab;
    const node = l.node("node-1");
    const gone = l.node("node-2");
    const peerLine = wg(l, node.ns, ["show", "cilium_wg0", "allowed-ips"])
      .split("\n")
      .find((line) => line.includes(`${gone.underlayIp}/32`));
    wg(l, node.ns, ["set", "cilium_wg0", "peer", peerLine!.split("\t")[0], "remove"]);
    try {
      const r = status(l, node);
      expect([r.code, failing(r)]).toEqual([1, ["wireguard-peers"]]);
      expect(check(r, "wireguard-peers").detail).toBe("no peer for node-2 (their traffic is dropped, not sent in the clear)");
    } finally {
      l.wireNode(node); // what Cilium would do: the peer is back (`wg setconf`: every peer anew, no handshake yet)
    }
    expect(check(status(l, node), "wireguard-peers").detail).toMatch(/^stale: (node-0-cp \(no handshake yet\), )?node-2 \(no handshake yet\)$/);
    // Traffic makes the handshakes; a loaded machine may need more than one round of probes
    // (a probe that times out makes none), so it is repeated until the check passes.
    await waitFor(
      "a fresh handshake with every peer",
      async () => {
        await l.warmUp();
        return failing(status(l, node)).length === 0;
      },
      45_000,
      500,
    );
    expect(failing(status(l, node))).toEqual([]);
  }, 90_000);

  test("a ConfigMap table the agent has not applied (the agent frozen): node-table shows both hashes; once applied, it passes", async () => {
    const l = fault.lab;
    const node = l.node("node-1");
    const agent = l.agent(node.name);
    const before = check(status(l, node), "node-table").detail;
    process.kill(agent.pid!, "SIGSTOP");
    const original: NodePlan[] = [...l.table!.nodes];
    try {
      // A new node in the table (the program added one): the ConfigMap changes, the frozen agent has not read it.
      l.table!.nodes = [...l.table!.nodes, { ...l.node("node-2"), name: "node-9", underlayIp: "198.51.100.99", privateIp: "10.0.0.99" }];
      l.table!.publish();
      const r = status(l, node);
      expect([r.code, failing(r)]).toEqual([1, ["node-table", "reconcile"]]);
      expect(check(r, "node-table").detail).toMatch(/^in use [0-9a-f]{12}, 3 nodes; the ConfigMap holds [0-9a-f]{12} \(4 nodes\)$/);
    } finally {
      process.kill(agent.pid!, "SIGCONT");
    }
    // The agent applies it; node-9 is no peer of anyone, so the peer check fails for it, as it should.
    await waitFor("the agent to apply the new table", () => /4 nodes, the ConfigMap's/.test(check(status(l, node), "node-table").detail), 15_000, 200);
    expect(check(status(l, node), "wireguard-peers").detail).toMatch(/no peer for node-9/);
    l.table!.nodes = original;
    l.table!.publish();
    await waitFor("status to pass with the original table", () => status(l, node).ok, 20_000, 250);
    expect(check(status(l, node), "node-table").detail).toBe(before);
  }, 90_000);
});
