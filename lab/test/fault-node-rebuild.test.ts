// Fault (issue 27, rebuilds): one node replaced under traffic, as `pulumi up` rebuilds a node for a
// new image or `cluster.replaceNodes`: a worker, then the control plane (one at a time, as the run
// goes). Unlike the in-place upgrade (fault-node-upgrade), the instance itself goes: everything
// of the node's kernel goes with it, and a new instance comes back with the SAME name and
// addresses but a NEW WireGuard key. Played step by step:
//   1. cordon through the API stand-in (Node.spec.unschedulable and its taint); the drain evicts
//      pods through the API, which the lab does not play (its pods are the probes' ends);
//   2. the instance is deleted: its agent SIGKILLed, wireguard-go (cilium_wg0 and the private key)
//      killed, its helpers stopped and its network namespaces deleted - every rule, route, guard
//      table and address of it gone; its disk goes too (the agent's state directory, /run). For the
//      control plane, the API stand-in living in its namespace goes with it and comes back with
//      the new instance. The node stays in the node table and the API (only the node lifecycle
//      controller marks it Ready=Unknown), and Cilium on the others keeps its peer with the OLD
//      key: so the others keep steering and guarding its addresses, past the leave grace - a
//      node being replaced is not a node leaving;
//   3. the new instance boots from the current boot files: namespaces with the same addresses,
//      the underlay link held down until the boot step (the shipped guard.sh: the guard before
//      anything else; a fresh disk, so it loads the boot ruleset), then the network, a new key
//      pair for cilium_wg0 (Cilium configures it, peers from the others' published keys), the
//      node's processes, its kubelet posting Ready=False; then its agent starts;
//   4. Cilium publishes the new key on the CiliumNode and the others take it; the node is
//      Ready again and uncordoned.
// Asserted: 0 cleartext packets outside the exempt bootstrap ports during the whole rebuild
// (reportLeaks over the capture); flows that do not involve the rebuilt node never fail; while
// keys disagree no encrypted flow with the node works (fail closed, never clear); every flow works
// again after the publication; the other nodes' agents change nothing (their rules, routes and
// guard elements at every step are what they were before, no kernel change logged) and steer and
// guard the node at every step. Proof that the fault happened: the namespaces were gone; the new
// one held no guard, rule or route of ours until the boot step loaded the guard (every other node
// guarded, still no rule or route: the agent was not running), and the new agent (one more
// start, a new pid) brought back exactly the node's previous rules, routes and guard elements;
// the node's device has the new public key, the others' peers hold it and no longer the old one;
// every running agent stepped for each API change (node_router_reconcile_duration_seconds_count).
// Not played: the eviction itself, etcd's member replacement, Cilium's own restart on the others.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { inNs, ipIn, sleep, waitFor } from "../src/exec";
import { ECHO_PORT, NODE_PORTS, planFlows } from "../src/flows";
import { NsHelper } from "../src/helperProcess";
import type { Lab } from "../src/lab";
import { installPodRule } from "../src/datapath";
import { createNodeNamespaces, deleteNodeNamespaces, listNamespaces } from "../src/netns";
import { ciliumNodeObject, nodeObject, WG_PUBKEY_ANNOTATION, type KubeObject } from "../src/objects";
import { CONTROL_PLANE_LABEL, IFACE, WG_PORT, type NodePlan } from "../src/plan";
import { bootStep, guards, hasGuard } from "../src/reboot";
import { generateKeyPair } from "../src/wgconfig";
import { withNodeRunDir } from "../src/wireguard";
import { kernelState, loggedChanges, steps } from "./agentObservations";
import { coverage, ownedState, reportLeaks, Traffic, useFaultLab } from "./harness";

type Ready = "True" | "False" | "Unknown";
const PROBE_TIMEOUT_MS = 3000;

/** The Node as the API holds it: the lab's Node plus the cordon and the Ready condition with their taints. */
function nodeAt(n: NodePlan, cordoned: boolean, ready: Ready): KubeObject {
  const base = nodeObject(n) as KubeObject & { spec: Record<string, unknown>; status: Record<string, unknown> };
  const now = new Date().toISOString();
  const taint = (key: string, effect: string) => ({ key, effect, ...(effect === "NoExecute" ? { timeAdded: now } : {}) });
  const condition = ready === "Unknown" ? "node.kubernetes.io/unreachable" : "node.kubernetes.io/not-ready";
  const taints = [
    ...(n.controlPlane ? [taint(CONTROL_PLANE_LABEL, "NoSchedule")] : []),
    ...(cordoned ? [taint("node.kubernetes.io/unschedulable", "NoSchedule")] : []),
    ...(ready !== "True" ? [taint(condition, "NoSchedule"), taint(condition, "NoExecute")] : []),
  ];
  const reason = { True: "KubeletReady", False: "KubeletNotReady", Unknown: "NodeStatusUnknown" }[ready];
  return {
    ...base,
    spec: { ...base.spec, ...(cordoned ? { unschedulable: true } : {}), ...(taints.length > 0 ? { taints } : {}) },
    status: { ...base.status, conditions: [{ type: "Ready", status: ready, reason, lastHeartbeatTime: now, lastTransitionTime: now }] },
  };
}

/** `wg show cilium_wg0 <what>` on a node, as the agent (or kubectl exec) would run it there. */
const wgShow = (l: Lab, n: NodePlan, what: "public-key" | "peers") => inNs(n.ns, withNodeRunDir(l.dir, n.ns, ["wg", "show", IFACE.wg, what])).stdout.trim();

/**
 * What Cilium does on node `on` when `peer`'s CiliumNode shows a new key: that one peer replaced
 * (the new key takes its allowed IPs, the old peer goes), every other peer's session untouched.
 * (The lab's wireNode rewrites the whole configuration, which restarts every session of the node.)
 */
function takeKey(l: Lab, on: NodePlan, peer: NodePlan, oldKey: string, newKey: string): void {
  const wg = (args: string[]) => inNs(on.ns, withNodeRunDir(l.dir, on.ns, ["wg", "set", IFACE.wg, "peer", ...args]));
  wg([newKey, "endpoint", `${peer.underlayIp}:${WG_PORT}`, "allowed-ips", `${peer.underlayIp}/32,${peer.podCidr}`]);
  wg([oldKey, "remove"]);
}

/**
 * The instance goes: agent, WireGuard (with its private key) and helpers die, the namespaces
 * (every address, rule, route and guard table) are deleted, the disk's state goes. The node stays
 * in the lab's node list, the table, the API and the others' WireGuard peers.
 */
async function deleteInstance(l: Lab, n: NodePlan): Promise<void> {
  await l.agent(n.name).kill();
  await l.wg.get(n.name)!.kill();
  for (const ns of [n.ns, n.podNs]) await l.helper(ns).stop();
  if (n.controlPlane) await l.api.stop();
  const inodes = new Set([n.ns, n.podNs].map((ns) => statSync(`/run/netns/${ns}`).ino));
  deleteNodeNamespaces(n);
  // The kernel tears a namespace down once nothing holds it (asynchronously): wait for its bridge port to go.
  await waitFor(
    `${n.name}'s namespaces to be torn down`,
    () => {
      const holders = readdirSync("/proc")
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return inodes.has(statSync(`/proc/${p}/ns/net`).ino);
          } catch {
            return false;
          }
        })
        .map((p) => {
          try {
            return `${p}: ${readFileSync(`/proc/${p}/cmdline`, "utf8").replace(/\0/g, " ")}`;
          } catch {
            return p;
          }
        });
      if (holders.length > 0) throw new Error(`still held by ${holders.join("; ")}`);
      return ipIn(l.plan.underlayNs, `link show ${n.bridgePort}`, { allowFailure: true }).code !== 0;
    },
    20_000,
    50,
  );
  // A new instance has a new disk and an empty /run: no persisted table or ruleset, no run files.
  rmSync(l.stateDir(n), { recursive: true, force: true });
  mkdirSync(l.stateDir(n), { recursive: true });
  rmSync(join(l.bootDir(n), "run"), { recursive: true, force: true });
}

describe("fault: a node rebuilt by replacement (cordon, instance deleted, new instance with a new key, uncordon) under traffic", () => {
  const fault = useFaultLab();
  let baselineState: string[] = [];

  beforeAll(async () => {
    const l = fault.lab;
    for (const n of l.nodes) await l.api.put("nodes", nodeAt(n, false, "True"));
    await l.waitAgentsReady();
    baselineState = await Promise.all(l.nodes.map(kernelState));
  }, 30_000);

  const rebuild = async (name: string) => {
    const l = fault.lab;
    const node = l.node(name);
    const others = l.nodes.filter((n) => n !== node);
    const stateBefore = await Promise.all(l.nodes.map(kernelState));
    // Each rebuild starts from the state every agent had before any (the previous left nothing behind).
    expect(stateBefore).toEqual(baselineState);
    const nodeStateBefore = stateBefore[l.nodes.indexOf(node)];
    const othersBefore = stateBefore.filter((_, i) => l.nodes[i] !== node);
    const oldKey = l.keys.get(name)!.publicKey;
    expect(wgShow(l, node, "public-key")).toBe(oldKey);
    const logOffsets = new Map(others.map((n) => [n.name, statSync(l.agent(n.name).logFile).size]));
    const startsBefore = l.agent(name).starts;
    const pidBefore = l.agent(name).pid;

    // Traffic among every node all along, except from the rebuilt node's namespaces while they do not exist.
    let absent = false;
    const involves = (f: { from: NodePlan; to: NodePlan }) => f.from === node || f.to === node;
    const mark = l.capture.mark();
    // Probes time out after 3 s: the machine is shared and the rebuild (agent start, nft loads) takes CPU.
    const traffic = new Traffic(l, () => planFlows(l.nodes).filter((f) => !(absent && f.from === node)), PROBE_TIMEOUT_MS).start();
    try {
      await traffic.waitFor("all flows up", (r) => r.ok);
      const started = Date.now();

      const timeline: { step: string; stepped: string[]; others: string[]; steered: string[] }[] = [];
      const look = async (step: string, stepped: string[] = []) => {
        // A wrong reaction would be applied within the debounce (200 ms); two traffic rounds leave it time.
        await traffic.waitFor(`traffic after "${step}"`, () => true, 30_000);
        await traffic.waitFor(`more traffic after "${step}"`, () => true, 30_000);
        timeline.push({
          step,
          stepped,
          others: await Promise.all(others.map(kernelState)),
          steered: others.map((n) => `${n.name}: ${coverage(n.ns, node.underlayIp)} ${coverage(n.ns, node.podIp)} guarded=${guards(n, node.underlayIp)}`),
        });
      };
      // One API change: the Node put into the stand-in, then every agent in `watchers` must take a step for it.
      const change = async (step: string, cordoned: boolean, ready: Ready, watchers: NodePlan[]) => {
        const before = await Promise.all(watchers.map((w) => steps(l, w.name)));
        await l.api.put("nodes", nodeAt(node, cordoned, ready));
        const stepped = await waitFor(
          `${watchers.map((w) => w.name).join(", ")} to take a step for "${step}" of ${name}`,
          async () => {
            const now = await Promise.all(watchers.map((w) => steps(l, w.name)));
            return now.every((c, i) => c > before[i]) ? watchers.map((w, i) => `${w.name} +${now[i] - before[i]}`) : undefined;
          },
          // After an API outage (the control plane's rebuild) the informers reconnect with backoff.
          60_000,
          100,
        );
        await look(step, stepped);
      };

      // 1. Cordon (the drain's evictions are not played: the lab's pods are the probes' ends).
      await change("cordon", true, "True", l.nodes);

      // 2. The instance is deleted. No round may be using the node's helpers when they stop.
      absent = true;
      await traffic.waitFor("a round without the node's clients", () => true, 30_000);
      const deletedAt = Date.now();
      await deleteInstance(l, node);
      const namespacesGone = ![node.ns, node.podNs].some((ns) => listNamespaces().includes(ns));
      // The node lifecycle controller marks it unreachable (for the control plane: queued until the API is back).
      if (!node.controlPlane) await change("instance gone, Ready=Unknown", true, "Unknown", others);
      else await l.api.put("nodes", nodeAt(node, true, "Unknown"));
      // Gone for longer than the leave grace: a node being replaced is not leaving.
      await sleep(Math.max(0, deletedAt + l.leaveGraceSeconds * 1000 + 1500 - Date.now()));
      await look("instance gone past the leave grace");

      // 3. The new instance: same name and addresses; its link held down until the boot guard is in.
      createNodeNamespaces(l.plan, node);
      ipIn(node.ns, `link set ${IFACE.underlay} down`);
      const fresh = { guard: hasGuard(node), owned: ownedState(node.ns) };
      const booted = bootStep(l, node);
      const boot = {
        guard: hasGuard(node),
        othersGuarded: others.map((n) => `${n.name}: ${guards(node, n.underlayIp)}`),
        owned: ownedState(node.ns),
      };
      ipIn(node.ns, `link set ${IFACE.underlay} up`);
      // A new key pair: cilium_wg0 comes up with it, peered with the others' published keys.
      l.keys.set(name, generateKeyPair());
      const newKey = l.keys.get(name)!.publicKey;
      await l.wg.get(name)!.start();
      l.wireNode(node);
      installPodRule(node);
      // The instance's processes: the API stand-in (control plane), the node's and the pod's helpers.
      if (node.controlPlane) await l.api.start();
      for (const [ns, ports] of [
        [node.ns, node.controlPlane ? NODE_PORTS.filter((p) => p !== 6443) : NODE_PORTS],
        [node.podNs, [ECHO_PORT]],
      ] as const) {
        const h = new NsHelper(ns, l.dir, [...ports]);
        await h.start();
        l.helpers.set(ns, h);
      }
      const bootedAt = Date.now();
      absent = false;
      // Its kubelet registers it again, NotReady; the boot guard alone until the agent starts.
      await change("new instance, Ready=False", true, "False", others);
      await sleep(1000);
      const agentAt = Date.now();
      l.agent(name).start();
      await l.waitAgentsReady([node], 60_000);
      const agentBack = await kernelState(node);
      await look("new agent running");

      // 4. Cilium publishes the new key; the others take it. Then Ready, and uncordon.
      const publishedAt = Date.now();
      l.publishedKey.set(name, newKey);
      await l.api.put("ciliumnodes", ciliumNodeObject(node, newKey));
      for (const r of others) takeKey(l, r, node, oldKey, newKey);
      const annotation = (l.api.get("ciliumnodes", name)?.metadata.annotations as Record<string, string>)[WG_PUBKEY_ANNOTATION];
      const recoveredMs = await traffic.waitFor("every flow after the publication", (r) => r.ok, 60_000);
      await change("Ready", true, "True", l.nodes);
      await change("uncordon", false, "True", l.nodes);
      await traffic.waitFor("every flow after the rebuild", (r) => r.ok, 30_000);
      await traffic.stop();

      const results = traffic.resultsSince(started);
      const failedElsewhere = traffic.rounds
        .filter((r) => r.t >= started)
        .flatMap((r) =>
          r.results
            .filter((x) => !x.ok && !involves(x.flow))
            .map((x) => `${x.flow.cls} ${x.flow.from.name}->${x.flow.to.name} at +${r.t - deletedAt} ms: ${x.error}`),
        );
      // Rounds entirely between the new boot and the publication: keys disagree, the node fails closed.
      const disagreeing = traffic.rounds.filter((r) => r.t >= bootedAt && r.end < publishedAt).flatMap((r) => r.results.filter((x) => involves(x.flow)));
      const encryptedOk = disagreeing.filter((r) => !r.flow.exempt && r.ok).map((r) => `${r.flow.cls} ${r.flow.from.name}->${r.flow.to.name}`);
      const exemptDuring = disagreeing.filter((r) => r.flow.exempt);
      const peers = others.map((n) => wgShow(l, n, "peers").split("\n"));
      const changes = others.flatMap((n) => loggedChanges(l, n.name, logOffsets.get(n.name)!));
      console.log(
        `[lab] node-rebuild ${name}: ${results.length} probes during the rebuild (${failedElsewhere.length} failed among the other nodes); boot step ${booted}; ` +
          `instance gone ${bootedAt - deletedAt} ms, boot guard alone ${agentAt - bootedAt} ms, keys disagreed ${publishedAt - bootedAt} ms ` +
          `(${disagreeing.length} probes with ${name}: ${exemptDuring.filter((r) => r.ok).length}/${exemptDuring.length} exempt ok, ${encryptedOk.length} encrypted ok); ` +
          `all flows back ${recoveredMs} ms after the publication; steps: ${timeline.map((t) => `${t.step}: ${t.stepped.join(" ") || "-"}`).join("; ")}; ` +
          `kernel changes logged by the others: ${changes.length}`,
      );

      // The fault happened: the instance went, the new one booted bare, guarded by the boot step, then the agent.
      expect({ namespacesGone, fresh, booted, boot }).toEqual({
        namespacesGone: true,
        fresh: { guard: false, owned: "" },
        booted: "guard.sh",
        boot: { guard: true, othersGuarded: others.map((n) => `${n.name}: true`), owned: "" },
      });
      expect({ starts: l.agent(name).starts - startsBefore, newPid: l.agent(name).pid !== pidBefore }).toEqual({ starts: 1, newPid: true });
      expect(agentBack).toBe(nodeStateBefore);
      // A new key, on the node's device and published, in every other node's peers instead of the old one.
      expect(newKey).not.toBe(oldKey);
      expect({ device: wgShow(l, node, "public-key"), annotation }).toEqual({ device: newKey, annotation: newKey });
      for (const p of peers) expect({ newKey: p.includes(newKey), oldKey: p.includes(oldKey) }).toEqual({ newKey: true, oldKey: false });
      // The API changes reached the agents.
      expect(timeline.filter((t) => t.stepped.length > 0).map((t) => [t.step, t.stepped.length])).toEqual([
        ["cordon", 3],
        ...(node.controlPlane ? [] : [["instance gone, Ready=Unknown", 2]]),
        ["new instance, Ready=False", 2],
        ["Ready", 3],
        ["uncordon", 3],
      ]);
      // The others: nothing moved at any step, the node steered and guarded throughout.
      for (const t of timeline) {
        expect({ step: t.step, others: t.others }).toEqual({ step: t.step, others: othersBefore });
        expect({ step: t.step, steered: t.steered }).toEqual({ step: t.step, steered: others.map((n) => `${n.name}: device device guarded=true`) });
      }
      expect(changes).toEqual([]);
      // Traffic: the rest of the cluster never noticed; with the node, fail closed until the key was published.
      expect(failedElsewhere).toEqual([]);
      expect(disagreeing.length).toBeGreaterThan(0);
      expect(encryptedOk).toEqual([]);
      expect(exemptDuring.length).toBeGreaterThan(0);
      expect(await reportLeaks(l, `node-rebuild ${name}`, mark)).toEqual([]);
      expect(await Promise.all(l.nodes.map(kernelState))).toEqual(baselineState);
    } finally {
      await traffic.stop().catch(() => undefined);
    }
  };

  test("a worker: replaced with a new key, guarded from boot, no cleartext", () => rebuild("node-1"), 180_000);
  test("then the control plane: the same (its API stand-in goes and returns with the instance)", () => rebuild("node-0-cp"), 240_000);
});
