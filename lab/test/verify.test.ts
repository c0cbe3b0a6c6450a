// `wg-mesh verify` (issue 25) against a Kubernetes API stand-in that serves the pods' exec
// subresource over WebSocket, with the lab's real agents behind it: each exec runs the agent's
// `status --json` in that node's namespace with the container's environment, as `kubectl exec`
// into the node-router pod would. A healthy cluster passes (exit 0); a node whose guard was
// flushed, a node without a pod and a probe the guard did not count each fail it (exit 1),
// naming the node and what to do.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeKubeconfig } from "../src/agents";
import { distFile, inNs, nodeBinary, repoRoot, spawnInNs } from "../src/exec";
import { ExecApi, type ExecPod } from "../src/execApi";
import type { Lab } from "../src/lab";
import { nodeObject } from "../src/objects";
import type { NodePlan } from "../src/plan";
import { withNodeRunDir } from "../src/wireguard";
import type { VerifyReport } from "../../agent/verify/verify";
import { useFaultLab } from "./harness";

const fault = useFaultLab();

/** The node-router pod on a lab node: the image's `node dist/...` resolved in this repository, the DaemonSet's environment. */
function podOf(l: Lab, node: NodePlan, phase: ExecPod["phase"] = "Running"): ExecPod {
  return {
    name: `node-router-${node.name}`,
    nodeName: node.name,
    namespace: "kube-system",
    labels: { "app.kubernetes.io/name": "node-router" },
    container: "node-router",
    phase,
    run: (command) => {
      const [binary, script, ...rest] = command;
      if (binary !== "node" || script !== "dist/agent/src/main.js") throw new Error(`the image runs node dist/agent/src/main.js, not ${command.join(" ")}`);
      return spawnInNs(node.ns, withNodeRunDir(l.dir, node.ns, [nodeBinary(), join(repoRoot(), script), ...rest]), {
        NODE_NAME: node.name,
        NODE_ROUTER_NODE_TABLE: l.table!.file,
        NODE_ROUTER_STATE_DIR: l.stateDir(node),
        NODE_ROUTER_METRICS_ADDRESS: `127.0.0.1:${node.agentHealthPort}`,
      });
    },
  };
}

let api: ExecApi;
let kubeconfig: string;
let dir: string;
let pods: (l: Lab) => ExecPod[] = (l) => l.nodes.map((n) => podOf(l, n));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "wg-mesh-verify-"));
  api = new ExecApi(
    () => fault.lab.nodes.map(nodeObject),
    () => pods(fault.lab),
  );
  kubeconfig = writeKubeconfig(dir, await api.listen());
});

afterAll(async () => {
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The CLI as a user runs it (its own process; the stand-in answers from this one). */
function verify(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(nodeBinary(), [distFile("agent/verify/main.js"), "verify", "--kubeconfig", kubeconfig, ...args], { timeout: 120_000 }, (e, stdout, stderr) =>
      resolve({ code: e ? (typeof e.code === "number" ? e.code : -1) : 0, stdout, stderr }),
    ),
  );
}

async function verifyJson(...args: string[]): Promise<{ code: number; report: VerifyReport }> {
  const r = await verify("--output", "json", ...args);
  try {
    return { code: r.code, report: JSON.parse(r.stdout) as VerifyReport };
  } catch {
    throw new Error(`verify printed no JSON (exit ${r.code}): ${r.stdout}${r.stderr}`);
  }
}

const failingChecks = (r: VerifyReport, node: string) =>
  r.rows
    .find((x) => x.node === node)!
    .checks.filter((c) => !c.ok)
    .map((c) => c.name);

describe("wg-mesh verify through the exec API", () => {
  test("a healthy cluster: every node asked, every check holds, exit 0; the text a person reads", async () => {
    const l = fault.lab;
    const served = api.served.length;
    const { code, report } = await verifyJson();
    expect([code, report.ok, report.failing]).toEqual([0, true, []]);
    expect(report.rows.map((r) => [r.node, r.pod, r.checks.length])).toEqual(l.nodes.map((n) => [n.name, `node-router-${n.name}`, 6]));
    expect(api.served.slice(served).sort()).toEqual(l.nodes.map((n) => `node-router-${n.name}`).sort());
    const text = await verify();
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^asking 3 nodes at http:\/\/127\.0\.0\.1:\d+\n(ok {4}\S+ +node-router-\S+ +6 checks hold\n){3}every node holds: no byte leaves in the clear \(3 nodes\)/,
    );
    console.log(`[verify]\n${text.stdout}`);
  }, 120_000);

  test("--probe: every node's probe in the clear is dropped and counted by its guard", async () => {
    const { code, report } = await verifyJson("--probe", "1");
    expect([code, report.failing]).toEqual([0, []]);
    for (const row of report.rows)
      expect(row.checks.find((c) => c.name === "probe")).toMatchObject({
        ok: true,
        detail: expect.stringMatching(/all dropped by the guard \(node-address \+[1-9]/),
      });
    expect(report.rows).toHaveLength(3);
    const text = await verify("--probe", "2");
    expect(text.code).toBe(0);
    console.log(`[verify --probe 2]\n${text.stdout}`);
    // The probe's rules are gone again on every node.
    for (const n of fault.lab.nodes) expect(inNs(n.ns, ["ip", "-4", "rule", "show"]).stdout).not.toMatch(/dport 9 lookup main/);
  }, 120_000);

  test("a node whose guard map was flushed: that node fails (guard, and the probe it could not drop), exit 1, the others hold", async () => {
    const l = fault.lab;
    const node = l.node("node-1");
    inNs(node.ns, ["nft", "flush", "map", "inet", "node_router_guard", "nodes4"]);
    try {
      const { code, report } = await verifyJson("--probe", "1");
      expect([code, report.ok, report.failing]).toEqual([1, false, ["node-1"]]);
      expect(failingChecks(report, "node-1")).toEqual(["guard", "probe"]);
      expect(report.rows.find((r) => r.node === "node-1")!.checks.find((c) => c.name === "probe")!.detail).toMatch(/the guard counted 0 of 1/);
      const text = await verify();
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(/FAIL  node-1 +node-router-node-1 +guard\n {8}guard: 2 of 2 addresses missing[^\n]*\n {10}-> /);
      expect(text.stdout).toMatch(/1 of 3 nodes FAIL: node-1; asked in/);
      console.log(`[verify, node-1's guard flushed]\n${text.stdout}`);
    } finally {
      await l.agent(node.name).stop();
      await l.startAgents([node]);
    }
    expect((await verifyJson()).code).toBe(0);
  }, 120_000);

  test("a node without a running node-router pod, and a pod the API will not exec into, are gaps", async () => {
    const l = fault.lab;
    pods = (lab) => lab.nodes.filter((n) => n.name !== "node-2").map((n) => podOf(lab, n, n.name === "node-1" ? "Pending" : "Running"));
    try {
      const { code, report } = await verifyJson();
      expect([code, report.failing]).toEqual([1, ["node-1", "node-2"]]);
      expect(report.rows.find((r) => r.node === "node-1")!.problem).toMatch(/^node-router pod node-router-node-1 is Pending/);
      expect(report.rows.find((r) => r.node === "node-2")!.problem).toMatch(/^no node-router pod on this node/);
    } finally {
      pods = (lab) => lab.nodes.map((n) => podOf(lab, n));
    }
    const wrong = await verifyJson("--container", "sidecar");
    expect(wrong.code).toBe(1);
    expect(wrong.report.rows.map((r) => r.problem)).toEqual(
      l.nodes.map((n) => `exec refused: HTTP 400 container sidecar is not valid for pod node-router-${n.name}`),
    );
  }, 120_000);

  test("bad usage and an unreachable cluster exit 2 with the reason", async () => {
    const bad = await verify("--probe", "0");
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/^wg-mesh: --probe: "0" must be a whole number >= 1/)]);
    const nowhere = writeKubeconfig(mkdtempSync(join(dir, "k-")), "http://127.0.0.1:9");
    const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(nodeBinary(), [distFile("agent/verify/main.js"), "verify", "--kubeconfig", nowhere], (e, _o, stderr) =>
        resolve({ code: e ? Number(e.code) : 0, stderr }),
      ),
    );
    expect([r.code, r.stderr]).toEqual([
      2,
      expect.stringMatching(/^wg-mesh: cannot list the cluster's nodes and node-router pods at http:\/\/127\.0\.0\.1:9: /),
    ]);
  }, 60_000);
});
