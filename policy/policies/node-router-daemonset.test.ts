import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import { agentPodSpec, baseline, get } from "../test/baseline";
import { runResourcePolicy } from "../test/harness";
import { nodeRouterDaemonSet as policy } from "./node-router-daemonset";

const run = (stack = baseline(), config = {}) => runResourcePolicy(policy, get(stack, "node-router"), config);
const messages = async (stack = baseline(), config = {}) => (await run(stack, config)).violations.map((v) => v.message).join("\n");
const edit = (fn: (spec: any) => void) => { const s = baseline(); fn(agentPodSpec(s)); return s; };

describe("node-router-daemonset", () => {
  it("passes the compliant DaemonSet", async () => {
    expect(await run()).toEqual({ violations: [] });
  });

  it("rejects a DaemonSet outside the host network", async () => {
    expect(await messages(edit((p) => { p.hostNetwork = false; }))).toMatch(/'node-router' .*spec\.template\.spec\.hostNetwork is false/);
  });

  it("rejects a missing NET_ADMIN capability, and accepts privileged instead", async () => {
    expect(await messages(edit((p) => { p.containers[0].securityContext.capabilities.add = []; }))).toContain("NET_ADMIN");
    const privileged = edit((p) => { p.containers[0].securityContext = { privileged: true }; });
    expect(await run(privileged)).toEqual({ violations: [] });
  });

  it("rejects a DaemonSet that does not tolerate the control-plane taint", async () => {
    const s = edit((p) => { p.tolerations = [{ operator: "Exists", effect: "NoExecute" }]; });
    const text = await messages(s);
    expect(text).toContain("do not tolerate node-role.kubernetes.io/control-plane:NoSchedule");
    expect(text).not.toContain("NoExecute taint");
  });

  it("rejects NoExecute tolerations with a deadline or a key", async () => {
    const deadline = edit((p) => { p.tolerations[1].tolerationSeconds = 300; });
    expect(await messages(deadline)).toContain("every NoExecute taint");
    const keyed = edit((p) => { p.tolerations[1] = { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" }; });
    expect(await messages(keyed)).toContain("every NoExecute taint");
  });

  it("accepts a single key-less Exists toleration (tolerates everything)", async () => {
    expect(await run(edit((p) => { p.tolerations = [{ operator: "Exists" }]; }))).toEqual({ violations: [] });
  });

  it("rejects node selectors and required node affinity that narrow the node set", async () => {
    expect(await messages(edit((p) => { p.nodeSelector["node-role.kubernetes.io/worker"] = ""; }))).toContain("nodeSelector 'node-role.kubernetes.io/worker'");
    const affinity = edit((p) => {
      p.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "topology.kubernetes.io/zone", operator: "In", values: ["a"] }] }] } } };
    });
    expect(await messages(affinity)).toContain("requiredDuringSchedulingIgnoredDuringExecution narrows");
    const osOnly = edit((p) => {
      p.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/os", operator: "In", values: ["linux"] }] }] } } };
    });
    expect(await run(osOnly)).toEqual({ violations: [] });
  });

  it("rejects exempt ports beyond the bootstrap set in args and in EXEMPT_PORTS", async () => {
    const arg = edit((p) => { p.containers[0].args[0] = "--exempt-ports=6443,2379-2381"; });
    expect(await messages(arg)).toMatch(/containers\[0\]\.args\[0\] exempts port\(s\) 2381 from WireGuard/);
    const env = edit((p) => { p.containers[0].env[0].value = "6443,22"; });
    expect(await messages(env)).toMatch(/env\[0\] \(EXEMPT_PORTS\) exempts port\(s\) 22/);
    const prefixed = edit((p) => { p.containers[0].env[0] = { name: "NODE_ROUTER_EXEMPT_PORTS", value: "6443,2379-2380,10250" }; });
    expect(await messages(prefixed)).toMatch(/\(NODE_ROUTER_EXEMPT_PORTS\) exempts port\(s\) 10250/);
    const split = edit((p) => { p.containers[0].args = ["--exempt-ports", "10250"]; });
    expect(await messages(split)).toMatch(/args\[1\] exempts port\(s\) 10250/);
  });

  it("rejects exempt ports it cannot read: malformed or taken from a ConfigMap", async () => {
    expect(await messages(edit((p) => { p.containers[0].args[0] = "--exempt-ports=all"; }))).toContain("'all' is not a port");
    const ref = edit((p) => { p.containers[0].env[0] = { name: "EXEMPT_PORTS", valueFrom: { configMapKeyRef: { name: "x", key: "y" } } }; });
    expect(await messages(ref)).toContain("from outside the stack");
  });

  it("honours allowedExemptPorts and a custom agent matcher from config", async () => {
    const s = edit((p) => { p.containers[0].args[0] = "--exempt-ports=6443,2379-2380,10250"; p.hostNetwork = false; });
    expect(await messages(s, { allowedExemptPorts: ["6443", "2379-2380", 10250] })).not.toContain("exempts");
    expect(await run(s, { agent: { label: "app", value: "other-router" } })).toEqual({ violations: [] }); // not the agent any more
  });

  it("ignores other DaemonSets", async () => {
    const s = baseline(); const ds = get(s, "node-router");
    const p = ds.props as any; p.metadata = { name: "fluent-bit", labels: { app: "fluent-bit" } }; p.spec.selector = {}; p.spec.template.metadata = {}; p.spec.template.spec.hostNetwork = false;
    expect(await runResourcePolicy(policy, ds)).toEqual({ violations: [] });
  });

  it("reports unknown args and tolerations as unchecked while checking the rest", async () => {
    const s = edit((p) => { p.containers[0].args = UNKNOWN_SENTINEL; p.tolerations = UNKNOWN_SENTINEL; p.hostNetwork = false; });
    const out = await run(s);
    expect(out.violations.map((v) => v.message).join()).toContain("hostNetwork");
    expect(out.unchecked).toMatch(/tolerations.*containers\[0\]\.args/);
  });
});
