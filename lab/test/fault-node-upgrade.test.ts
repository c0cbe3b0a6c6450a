// Fault (issue 27, upgrades): one node upgraded in place under traffic, as the `pulumi up` roll
// does it, a worker and then the control plane (one at a time, as the roll goes). What the node
// shows the cluster, step by step, in the API stand-in:
//   1. cordon: Node.spec.unschedulable and the node.kubernetes.io/unschedulable:NoSchedule taint;
//   2. the kubelet stops for the upgrade: the node lifecycle controller marks Ready "Unknown"
//      (NodeStatusUnknown) and taints node.kubernetes.io/unreachable (NoSchedule, NoExecute);
//   3. the containerd upgrade restarts the containers: the node's agent is SIGKILLed, and while
//      it is dead the new kubelet posts its status: Ready "False" (KubeletNotReady), the
//      node.kubernetes.io/not-ready taints, a new nodeInfo.kubeletVersion and
//      containerRuntimeVersion; then the kubelet starts the agent again, with the node NotReady;
//   4. the node is Ready "True" again (its condition taints gone), then uncordoned.
// The node's name, addresses, pod CIDR, WireGuard key and the node table do not change. The agents
// read none of what changes (they keep a Node's name, labels, addresses and pod CIDRs), so the
// expectation is exact: every flow keeps working at every moment (no failure is inherent to any
// step: the killed agent's kernel state stays in place, as in fault-agent-restart), the agents'
// kernel state on every node (rules, routes and guard elements) is after every step what it was
// before the upgrade, no agent applies any rule or route change at any moment (a NotReady or
// cordoned node stays steered and guarded: never dropped and re-added), and 0 cleartext.
// Proof that the fault reached the agents: after every API change, every running agent took at
// least one more reconcile step (node_router_reconcile_duration_seconds_count on /metrics: an
// informer event is the only thing that makes the agents step within a second here; the resync
// comes every 30 s), and the stand-in served the changed object (its /lab/state).
// Not played here: the kube-apiserver static pod restart of a control-plane upgrade (the API
// going away: fault-api-outage, fault-agent-restart-api-down), Cilium's own restart, and evicted
// pods (the lab's pods stay: they are the probes' ends).
import { statSync } from "node:fs";
import { waitFor } from "../src/exec";
import { nodeObject, type KubeObject } from "../src/objects";
import { CONTROL_PLANE_LABEL, type NodePlan } from "../src/plan";
import { guards } from "../src/reboot";
import { unixRequest } from "../src/unixHttp";
import type { Lab } from "../src/lab";
import { kernelState, loggedChanges, steps } from "./agentObservations";
import { coverage, reportLeaks, useFaultLab, type Traffic } from "./harness";

type Ready = "True" | "False" | "Unknown";
interface NodeStatus {
  cordoned: boolean;
  ready: Ready;
  kubelet: string;
  runtime: string;
}

const BEFORE = { kubelet: "v1.33.5", runtime: "containerd://1.7.27" };
const AFTER = { kubelet: "v1.34.2", runtime: "containerd://1.7.28" };
const UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
const UNREACHABLE = "node.kubernetes.io/unreachable";
const NOT_READY = "node.kubernetes.io/not-ready";

const READY: Record<Ready, { reason: string; message: string }> = {
  True: { reason: "KubeletReady", message: "kubelet is posting ready status" },
  False: { reason: "KubeletNotReady", message: "container runtime is down" },
  Unknown: { reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status." },
};

/** The Node as the API holds it in that state: the lab's Node plus taints, conditions and node info. */
function nodeAt(n: NodePlan, s: NodeStatus): KubeObject {
  const base = nodeObject(n) as KubeObject & { spec: Record<string, unknown>; status: Record<string, unknown> };
  const now = new Date().toISOString();
  const taint = (key: string, effect: "NoSchedule" | "NoExecute") => ({ key, effect, ...(effect === "NoExecute" ? { timeAdded: now } : {}) });
  const taints = [
    ...(n.controlPlane ? [taint(CONTROL_PLANE_LABEL, "NoSchedule")] : []),
    ...(s.cordoned ? [taint(UNSCHEDULABLE, "NoSchedule")] : []),
    ...(s.ready === "Unknown" ? [taint(UNREACHABLE, "NoSchedule"), taint(UNREACHABLE, "NoExecute")] : []),
    ...(s.ready === "False" ? [taint(NOT_READY, "NoSchedule"), taint(NOT_READY, "NoExecute")] : []),
  ];
  const pressure = (type: string, reason: string) => ({
    type,
    status: s.ready === "Unknown" ? "Unknown" : "False",
    reason: s.ready === "Unknown" ? "NodeStatusUnknown" : reason,
    lastHeartbeatTime: now,
  });
  return {
    ...base,
    spec: { ...base.spec, ...(s.cordoned ? { unschedulable: true } : {}), ...(taints.length > 0 ? { taints } : {}) },
    status: {
      ...base.status,
      conditions: [
        pressure("MemoryPressure", "KubeletHasSufficientMemory"),
        pressure("DiskPressure", "KubeletHasNoDiskPressure"),
        pressure("PIDPressure", "KubeletHasSufficientPID"),
        { type: "Ready", status: s.ready, ...READY[s.ready], lastHeartbeatTime: now, lastTransitionTime: now },
      ],
      nodeInfo: {
        kubeletVersion: s.kubelet,
        kubeProxyVersion: s.kubelet,
        containerRuntimeVersion: s.runtime,
        operatingSystem: "linux",
        architecture: "amd64",
        osImage: "Debian GNU/Linux 12 (bookworm)",
      },
    },
  };
}

/** The stand-in's Node, as it serves it: the facts of the upgrade it carries. */
async function served(l: Lab, name: string): Promise<string> {
  const state = await unixRequest<{ objects: { kind: string; object: KubeObject }[] }>(l.api.socket, "GET", "/lab/state");
  const node = state.objects.find((o) => o.kind === "nodes" && o.object.metadata.name === name)?.object as
    | {
        spec?: { unschedulable?: boolean; taints?: { key: string; effect: string }[] };
        status?: { conditions?: { type: string; status: string }[]; nodeInfo?: { kubeletVersion?: string } };
      }
    | undefined;
  if (!node) return "absent";
  const taints = (node.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).filter((t) => !t.startsWith(CONTROL_PLANE_LABEL));
  const ready = node.status?.conditions?.find((c) => c.type === "Ready")?.status;
  return `unschedulable=${node.spec?.unschedulable === true} Ready=${ready} kubelet=${node.status?.nodeInfo?.kubeletVersion} taints=[${taints.join(",")}]`;
}

describe("fault: in-place upgrade of a node (cordon, kubelet and containerd restart, uncordon) under traffic", () => {
  const fault = useFaultLab();
  let baselineState: string[] = [];

  beforeAll(async () => {
    // A long-running cluster: every Node Ready on the old versions. Then the state every step is held to.
    const l = fault.lab;
    for (const n of l.nodes) await l.api.put("nodes", nodeAt(n, { cordoned: false, ready: "True", ...BEFORE }));
    await l.waitAgentsReady();
    baselineState = await Promise.all(l.nodes.map(kernelState));
  }, 30_000);

  const upgrade = async (name: string) => {
    const l = fault.lab;
    const node = l.node(name);
    const others = l.nodes.filter((n) => n !== node);
    const stateBefore = await Promise.all(l.nodes.map(kernelState));
    // Upgrades start from the state every agent had before any upgrade (the first one left nothing behind).
    expect(stateBefore).toEqual(baselineState);
    const logOffsets = new Map(l.nodes.map((n) => [n.name, statSync(l.agent(n.name).logFile).size]));
    const startsBefore = l.agent(name).starts;
    const mark = l.capture.mark();
    const traffic: Traffic = fault.startTraffic();
    await traffic.waitFor("all flows up", (r) => r.ok);
    const started = Date.now();

    const timeline: { step: string; served: string; stepped: string[]; state: string[] }[] = [];
    // One API change: the Node put into the stand-in, then every agent in `watchers` must take a
    // step for it (the event reached it), then the kernel state of every node is read.
    const change = async (step: string, s: NodeStatus, watchers: NodePlan[]) => {
      const before = await Promise.all(watchers.map((w) => steps(l, w.name)));
      await l.api.put("nodes", nodeAt(node, s));
      const stepped = await waitFor(
        `${watchers.map((w) => w.name).join(", ")} to take a step for "${step}" of ${name}`,
        async () => {
          const now = await Promise.all(watchers.map((w) => steps(l, w.name)));
          return now.every((c, i) => c > before[i]) ? watchers.map((w, i) => `${w.name} +${now[i] - before[i]}`) : undefined;
        },
        10_000,
        100,
      );
      // A step's wrong reaction would be applied within the debounce (200 ms); two traffic rounds leave it time.
      await traffic.waitFor(`traffic after "${step}"`, () => true);
      await traffic.waitFor(`more traffic after "${step}"`, () => true);
      timeline.push({ step, served: await served(l, name), stepped, state: await Promise.all(l.nodes.map(kernelState)) });
    };

    // 1. kubectl cordon (and the taint the node lifecycle controller adds for it).
    await change("cordon", { cordoned: true, ready: "True", ...BEFORE }, l.nodes);
    // 2. The kubelet stops: its status goes Unknown, the node unreachable.
    await change("kubelet stopped", { cordoned: true, ready: "Unknown", ...BEFORE }, l.nodes);
    // 3. containerd's upgrade restarts the containers: the agent dies, and with it dead the new
    // kubelet posts its first status (new version, runtime not ready yet).
    await l.agent(name).kill();
    await traffic.waitFor(`traffic with ${name}'s agent dead`, () => true);
    await change("kubelet back, NotReady, new version", { cordoned: true, ready: "False", ...AFTER }, others);
    const notReady = {
      steered: others.map((n) => `${n.name}: ${coverage(n.ns, node.underlayIp)} ${coverage(n.ns, node.podIp)} guarded=${guards(n, node.underlayIp)}`),
    };
    // The kubelet starts the agent again, on a node that is NotReady and cordoned.
    await l.startAgents([node]);
    await traffic.waitFor(`traffic with ${name}'s new agent`, () => true);
    await traffic.waitFor(`more traffic with ${name}'s new agent`, () => true);
    timeline.push({ step: "agent restarted", served: await served(l, name), stepped: [], state: await Promise.all(l.nodes.map(kernelState)) });
    // 4. Ready again, then kubectl uncordon.
    await change("Ready", { cordoned: true, ready: "True", ...AFTER }, l.nodes);
    await change("uncordon", { cordoned: false, ready: "True", ...AFTER }, l.nodes);
    await traffic.waitFor("traffic after the upgrade", (r) => r.ok);
    await traffic.stop();

    const results = traffic.resultsSince(started);
    const failed = results.filter((r) => !r.ok).map((r) => `${r.flow.cls} ${r.flow.from.name}->${r.flow.to.name}: ${r.error}`);
    const changes = l.nodes.flatMap((n) => loggedChanges(l, n.name, logOffsets.get(n.name)!));
    console.log(
      `[lab] node-upgrade ${name}: ${results.length} probes during the upgrade, ${failed.length} failed; ` +
        timeline.map((t) => `${t.step}: served ${t.served}, steps ${t.stepped.join(" ") || "-"}`).join("; ") +
        `; ${name} seen NotReady by the others: ${notReady.steered.join("; ")}; kernel changes logged: ${changes.length}`,
    );

    // The fault happened: the stand-in served each state, and every running agent stepped for it.
    const cp = node.controlPlane;
    expect(timeline.map((t) => [t.step, t.served, t.stepped.length])).toEqual([
      ["cordon", `unschedulable=true Ready=True kubelet=${BEFORE.kubelet} taints=[${UNSCHEDULABLE}:NoSchedule]`, 3],
      [
        "kubelet stopped",
        `unschedulable=true Ready=Unknown kubelet=${BEFORE.kubelet} taints=[${UNSCHEDULABLE}:NoSchedule,${UNREACHABLE}:NoSchedule,${UNREACHABLE}:NoExecute]`,
        3,
      ],
      [
        "kubelet back, NotReady, new version",
        `unschedulable=true Ready=False kubelet=${AFTER.kubelet} taints=[${UNSCHEDULABLE}:NoSchedule,${NOT_READY}:NoSchedule,${NOT_READY}:NoExecute]`,
        2,
      ],
      [
        "agent restarted",
        `unschedulable=true Ready=False kubelet=${AFTER.kubelet} taints=[${UNSCHEDULABLE}:NoSchedule,${NOT_READY}:NoSchedule,${NOT_READY}:NoExecute]`,
        0,
      ],
      ["Ready", `unschedulable=true Ready=True kubelet=${AFTER.kubelet} taints=[${UNSCHEDULABLE}:NoSchedule]`, 3],
      ["uncordon", `unschedulable=false Ready=True kubelet=${AFTER.kubelet} taints=[]`, 3],
    ]);
    expect({ node: name, cp, starts: l.agent(name).starts - startsBefore }).toEqual({ node: name, cp, starts: 1 });
    // Nothing broke, nothing moved: at every step the same rules, routes and guard elements on every node.
    expect(failed).toEqual([]);
    expect(notReady.steered).toEqual(others.map((n) => `${n.name}: device device guarded=true`));
    for (const t of timeline) expect({ step: t.step, state: t.state }).toEqual({ step: t.step, state: stateBefore });
    expect(changes).toEqual([]);
    expect(await reportLeaks(l, `node-upgrade ${name}`, mark)).toEqual([]);
  };

  test("a worker: stays steered and guarded, no flow breaks, no cleartext", () => upgrade("node-1"), 90_000);
  test("then the control plane: the same", () => upgrade("node-0-cp"), 90_000);
});
