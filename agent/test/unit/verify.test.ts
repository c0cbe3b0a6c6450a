// agent/verify, pure: which pod answers for which node, how an exec's answer becomes a row (and
// every way it cannot be believed), the rows, summary and progress a person reads, and the exit
// code a v4/v5 exec Status carries.
import type { Check } from "../../src/status";
import { exitCodeOf, execUrl } from "../../verify/kubeExec";
import { planTargets, progressBar, renderRow, renderSummary, report, rowFromExec, rowFromTarget, statusCommand } from "../../verify/verify";

const node = (name: string) => ({ metadata: { name } });
const pod = (name: string, nodeName: string, phase = "Running") => ({ metadata: { name }, spec: { nodeName }, status: { phase } });
const checks = (failing?: string): Check[] =>
  (["node-table", "guard", "rules-and-routes"] as const).map((name) =>
    name === failing ? { name, ok: false, detail: "2 of 2 addresses missing", fix: "restart the pod" } : { name, ok: true, detail: "fine" },
  );
const answer = (doc: unknown, exitCode = 0) => ({ stdout: JSON.stringify(doc), stderr: "", exitCode });

describe("planTargets", () => {
  test("each node with its Running pod; a node without one, or with one not running, is a problem", () => {
    const targets = planTargets(
      [node("w2"), node("cp"), node("w1")],
      [pod("nr-a", "cp"), pod("nr-b", "w1", "Pending"), pod("nr-old", "cp", "Failed"), pod("nr-c", "gone")],
    );
    expect(targets.map((t) => [t.node, t.pod])).toEqual([
      ["cp", "nr-a"],
      ["w1", undefined],
      ["w2", undefined],
    ]);
    expect(targets[1].problem).toMatch(/^node-router pod nr-b is Pending/);
    expect(targets[2].problem).toMatch(/^no node-router pod on this node/);
  });
});

describe("rowFromExec", () => {
  const t = { node: "w1", pod: "nr-b" };
  test("status's own verdict, when it is consistent", () => {
    expect(rowFromExec(t, answer({ node: "w1", ok: true, checks: checks() }))).toMatchObject({ ok: true, checks: checks() });
    const failing = rowFromExec(t, answer({ node: "w1", ok: false, checks: checks("guard") }, 1));
    expect([failing.ok, failing.problem, failing.checks.filter((c) => !c.ok).map((c) => c.name)]).toEqual([false, undefined, ["guard"]]);
  });

  test("answers that cannot be believed are problems", () => {
    const problem = (r: Parameters<typeof rowFromExec>[1]) => rowFromExec(t, r).problem;
    expect(problem({ stdout: "", stderr: "", error: "exec refused: HTTP 403 forbidden" })).toBe("exec refused: HTTP 403 forbidden");
    expect(problem({ stdout: "", stderr: "node-router: --probe: ...\n", exitCode: 2 })).toBe("status gave no report (exit 2): node-router: --probe: ...");
    expect(problem(answer({ node: "w1", ok: true }))).toMatch(/has no checks/);
    expect(problem(answer({ node: "w9", ok: true, checks: checks() }))).toBe('the pod answered for node "w9", not w1');
    expect(problem(answer({ node: "w1", ok: true, checks: checks("guard") }))).toMatch(/contradicts itself/);
    expect(problem(answer({ node: "w1", ok: true, checks: checks() }, 1))).toMatch(/contradicts itself/);
    for (const r of [answer({ node: "w9", ok: true, checks: checks() }), answer({ node: "w1", ok: true, checks: checks("guard") })]) {
      expect(rowFromExec(t, r).ok).toBe(false);
    }
  });
});

describe("rendering", () => {
  test("an ok row, a failing row with its fix, a problem row, the summary", () => {
    const ok = rowFromExec({ node: "cp", pod: "nr-a" }, answer({ node: "cp", ok: true, checks: checks() }));
    const bad = rowFromExec({ node: "w1", pod: "nr-b" }, answer({ node: "w1", ok: false, checks: checks("guard") }, 1));
    const none = rowFromTarget({ node: "w2", problem: "no node-router pod on this node" });
    expect(renderRow(ok, 2)).toBe(`ok    cp  ${"nr-a".padEnd(24)}  3 checks hold\n`);
    expect(renderRow(bad, 2)).toBe(`FAIL  w1  ${"nr-b".padEnd(24)}  guard\n        guard: 2 of 2 addresses missing\n          -> restart the pod\n`);
    expect(renderRow(none, 2)).toBe(`FAIL  w2  ${"-".padEnd(24)}  no node-router pod on this node\n`);
    expect(renderSummary([ok, bad, none], 1.23)).toBe("2 of 3 nodes FAIL: w1, w2; asked in 1.2 s\n");
    expect(renderSummary([ok], 0.5)).toBe("every node holds: no byte leaves in the clear (1 nodes); asked in 0.5 s\n");
    expect(report([ok, bad, none])).toMatchObject({ ok: false, nodes: 3, failing: ["w1", "w2"] });
    expect(report([ok]).ok).toBe(true);
    expect(report([]).ok).toBe(false);
  });

  test("progress bar", () => {
    expect(progressBar(0, 4, 8)).toBe("[........] 0/4 nodes");
    expect(progressBar(3, 4, 8)).toBe("[######..] 3/4 nodes");
    expect(progressBar(4, 4, 8)).toBe("[########] 4/4 nodes");
  });

  test("the command run in the pod", () => {
    expect(statusCommand()).toEqual(["node", "dist/agent/src/main.js", "status", "--json"]);
    expect(statusCommand(3).slice(-2)).toEqual(["--probe", "3"]);
  });
});

describe("exec protocol", () => {
  test("the exit code a Status carries", () => {
    expect(exitCodeOf({ metadata: {}, status: "Success" })).toEqual({ exitCode: 0 });
    expect(
      exitCodeOf({ status: "Failure", reason: "NonZeroExitCode", message: "exit status 1", details: { causes: [{ reason: "ExitCode", message: "1" }] } }),
    ).toEqual({ exitCode: 1 });
    expect(exitCodeOf({ status: "Failure", reason: "InternalError", message: "container not found" })).toEqual({ message: "container not found" });
  });

  test("the exec URL: wss for https, every argument a command parameter", () => {
    const url = execUrl(new URL("https://203.0.113.10:6443"), { namespace: "kube-system", pod: "nr-a", container: "node-router", command: ["node", "a b"] });
    expect(url.toString()).toBe(
      "wss://203.0.113.10:6443/api/v1/namespaces/kube-system/pods/nr-a/exec?container=node-router&stdout=true&stderr=true&command=node&command=a+b",
    );
  });
});
