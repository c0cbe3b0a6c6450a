// The init-or-join decision of the real boot script (decide.sh) in real bash, with the
// probes stubbed: which control planes answer, and whether this disk holds etcd data.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { requireTool, withBootstrap, withTempDir } from "../../../test/tools";

beforeAll(() => requireTool("bash", "bash"));

const CPS = { CP_NAMES: "demo-aws-cp-0 demo-aws-cp-1 demo-gcp-cp-0", CP_IPS: "203.0.113.10 203.0.113.11 198.51.100.20" };

interface Case {
  role: "control-plane" | "worker";
  mayInit: boolean;
  nodeIp: string;
  /** Addresses whose /readyz answers. */
  answering: string[];
  etcdData: boolean;
}

/** Runs `decide` once with probe_apiserver stubbed; returns its verdict and what it probed. */
function decideWith(c: Case): { verdict: string; probed: string[]; log: string } {
  return withTempDir((dir) => {
    const etcd = join(dir, "etcd");
    if (c.etcdData) mkdirSync(join(etcd, "member"), { recursive: true });
    const r = withBootstrap(
      `probe_apiserver() { echo "$1" >>"$PROBED"; [[ " $ANSWERING " == *" $1 "* ]]; }
       decide`,
      {
        ...CPS,
        ROLE: c.role,
        MAY_INIT: String(c.mayInit),
        NODE_IP: c.nodeIp,
        ANSWERING: c.answering.join(" "),
        PROBED: join(dir, "probed"),
        WG_MESH_ETCD_DATA_DIR: etcd,
      },
    );
    expect(r.status).toBe(0);
    const probed = withBootstrap(`cat "$1" 2>/dev/null || true`.replace("$1", join(dir, "probed")))
      .stdout.split("\n")
      .filter(Boolean);
    return { verdict: r.stdout.trim(), probed, log: r.stderr };
  });
}

const first = { role: "control-plane" as const, mayInit: true, nodeIp: "203.0.113.10" };
const second = { role: "control-plane" as const, mayInit: false, nodeIp: "203.0.113.11" };
const worker = { role: "worker" as const, mayInit: false, nodeIp: "203.0.113.50" };

describe("decide (init, join or wait)", () => {
  it("no control plane answers: only the control plane that may init inits", () => {
    expect(decideWith({ ...first, answering: [], etcdData: false }).verdict).toBe("init");
    expect(decideWith({ ...second, answering: [], etcdData: false }).verdict).toBe("wait");
    expect(decideWith({ ...worker, answering: [], etcdData: false }).verdict).toBe("wait");
  });

  it("one control plane answers: everyone joins, the rebuilt first control plane included", () => {
    for (const node of [first, second, worker]) {
      const d = decideWith({ ...node, answering: ["198.51.100.20"], etcdData: false });
      expect({ node: node.nodeIp, verdict: d.verdict }).toEqual({ node: node.nodeIp, verdict: "join" });
      expect(d.log).toContain("control plane 198.51.100.20 answers: join");
    }
  });

  it("never probes itself: its own address answering is not another control plane", () => {
    const d = decideWith({ ...first, answering: ["203.0.113.10"], etcdData: false });
    expect(d.probed).not.toContain("203.0.113.10");
    expect(d.probed).toEqual(["203.0.113.11", "198.51.100.20"]);
    expect(d.verdict).toBe("init");
  });

  it("etcd data exists: never inits over it, even when it may init", () => {
    const d = decideWith({ ...first, answering: [], etcdData: true });
    expect(d.verdict).toBe("wait");
    expect(d.log).toMatch(/holds etcd data: never init over it/);
    // ... and with another control plane up it joins (its stale member is removed first, etcd.sh).
    expect(decideWith({ ...first, answering: ["203.0.113.11"], etcdData: true }).verdict).toBe("join");
  });
});

describe("await_decision", () => {
  const run = (verdicts: string[], extra: Record<string, string> = {}) =>
    withTempDir((dir) => {
      const r = withBootstrap(
        // decide runs in a command substitution (a subshell): its round counter lives in a file.
        `decide() { local n v; n=$(( $(cat "$COUNT" 2>/dev/null || echo 0) + 1 )); echo "$n" >"$COUNT"; read -r -a v <<<"$VERDICTS"; echo "\${v[$((n - 1))]:-wait}"; }
         await_decision`,
        { VERDICTS: verdicts.join(" "), COUNT: join(dir, "count"), WG_MESH_DECIDE_INTERVAL: "0", WG_MESH_DECIDE_ROUNDS: "6", ...extra },
      );
      return { status: r.status, action: r.stdout.trim(), rounds: Number(withBootstrap(`cat ${join(dir, "count")}`).stdout.trim()) };
    });

  it("joins at the first round a control plane answers", () => {
    expect(run(["wait", "wait", "join"])).toEqual({ status: 0, action: "join", rounds: 3 });
  });

  it("inits only after three rounds in a row with nobody answering", () => {
    expect(run(["init", "init", "init"])).toEqual({ status: 0, action: "init", rounds: 3 });
    expect(run(["init", "init", "wait", "init", "init", "init"])).toEqual({ status: 0, action: "init", rounds: 6 });
  });

  it("gives up (and the unit retries) when nothing is decided in time", () => {
    expect(run(["wait"])).toEqual({ status: 1, action: "", rounds: 6 });
    expect(run(["init", "init", "wait", "init", "init", "wait"]).status).toBe(1);
  });
});
