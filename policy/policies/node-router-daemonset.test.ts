import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import { agentPodSpec, baseline, get } from "../test/baseline";
import { runResourcePolicy } from "../test/harness";
import { nodeRouterDaemonSet as policy } from "./node-router-daemonset";

const run = (stack = baseline(), config = {}) => runResourcePolicy(policy, get(stack, "node-router"), config);
const messages = async (stack = baseline(), config = {}) => (await run(stack, config)).violations.map((v) => v.message).join("\n");
const edit = (fn: (spec: any) => void) => {
  const s = baseline();
  fn(agentPodSpec(s));
  return s;
};
const container = (fn: (c: any) => void) => edit((p) => fn(p.containers[0]));
const affinity = (...exprs: object[]) =>
  edit((p) => {
    p.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: exprs }] } } };
  });

describe("node-router-daemonset", () => {
  it("passes the compliant DaemonSet", async () => {
    expect(await run()).toEqual({ violations: [] });
  });

  it("rejects a DaemonSet outside the host network", async () => {
    expect(
      await messages(
        edit((p) => {
          p.hostNetwork = false;
        }),
      ),
    ).toMatch(/'node-router' .*spec\.template\.spec\.hostNetwork is false/);
  });

  it("rejects a missing NET_ADMIN capability; privileged still gives it (node-router-hardening flags that)", async () => {
    expect(
      await messages(
        container((c) => {
          c.securityContext.capabilities.add = [];
        }),
      ),
    ).toContain("NET_ADMIN");
    expect(
      await run(
        container((c) => {
          c.securityContext = { privileged: true };
        }),
      ),
    ).toEqual({ violations: [] });
  });

  it("rejects a DaemonSet that does not tolerate the control-plane taint", async () => {
    const text = await messages(
      edit((p) => {
        p.tolerations = [{ operator: "Exists", effect: "NoExecute" }];
      }),
    );
    expect(text).toContain("do not tolerate node-role.kubernetes.io/control-plane:NoSchedule");
    expect(text).not.toContain("NoExecute taint");
  });

  it("rejects NoExecute tolerations with a deadline or a key", async () => {
    expect(
      await messages(
        edit((p) => {
          p.tolerations[1].tolerationSeconds = 300;
        }),
      ),
    ).toContain("every NoExecute taint");
    expect(
      await messages(
        edit((p) => {
          p.tolerations[1] = { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" };
        }),
      ),
    ).toContain("every NoExecute taint");
  });

  it("accepts a single key-less Exists toleration (tolerates everything)", async () => {
    expect(
      await run(
        edit((p) => {
          p.tolerations = [{ operator: "Exists" }];
        }),
      ),
    ).toEqual({ violations: [] });
  });
});

describe("node-router-daemonset: runs on every Linux node, judged by selector VALUES", () => {
  it("rejects kubernetes.io/os: windows and a label only some nodes carry", async () => {
    expect(
      await messages(
        edit((p) => {
          p.nodeSelector["kubernetes.io/os"] = "windows";
        }),
      ),
    ).toContain("nodeSelector 'kubernetes.io/os: windows' restricts the agent");
    expect(
      await messages(
        edit((p) => {
          p.nodeSelector["node-role.kubernetes.io/worker"] = "";
        }),
      ),
    ).toContain("nodeSelector 'node-role.kubernetes.io/worker: '");
  });

  it("rejects NotIn [linux], DoesNotExist and zone affinity; accepts In [linux], NotIn [windows] and Exists", async () => {
    for (const bad of [
      { key: "kubernetes.io/os", operator: "NotIn", values: ["linux"] },
      { key: "kubernetes.io/os", operator: "DoesNotExist" },
      { key: "topology.kubernetes.io/zone", operator: "In", values: ["a"] },
    ]) {
      expect({ bad, text: await messages(affinity(bad)) }).toEqual({ bad, text: expect.stringContaining("selects only some nodes") });
    }
    for (const good of [
      { key: "kubernetes.io/os", operator: "In", values: ["linux"] },
      { key: "kubernetes.io/os", operator: "NotIn", values: ["windows"] },
      { key: "kubernetes.io/os", operator: "Exists" },
    ]) {
      expect({ good, out: await run(affinity(good)) }).toEqual({ good, out: { violations: [] } });
    }
  });

  it("accepts terms that together cover every node only if one term does (terms are ORed)", async () => {
    const s = edit((p) => {
      p.affinity = {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: "pool", operator: "In", values: ["a"] }] },
              { matchExpressions: [{ key: "kubernetes.io/os", operator: "In", values: ["linux"] }] },
            ],
          },
        },
      };
    });
    expect(await run(s)).toEqual({ violations: [] });
  });

  it("rejects pinning to one node, and follows nodeLabels from config", async () => {
    expect(
      await messages(
        edit((p) => {
          p.nodeName = "cp-0";
        }),
      ),
    ).toContain("nodeName 'cp-0' pins the agent");
    const pool = edit((p) => {
      p.nodeSelector.cluster = "prod";
    });
    expect(await messages(pool)).toContain("nodeSelector 'cluster: prod'");
    expect(await run(pool, { nodeLabels: { "kubernetes.io/os": ["linux"], cluster: ["prod"] } })).toEqual({ violations: [] });
  });
});

describe("node-router-daemonset: exempt ports by every route the pod spec shows", () => {
  it("rejects extra ports in args, in EXEMPT_PORTS and NODE_ROUTER_EXEMPT_PORTS, and in a split flag", async () => {
    expect(
      await messages(
        container((c) => {
          c.args[0] = "--exempt-ports=6443,2379-2381";
        }),
      ),
    ).toMatch(/containers\[0\]\.args\[0\] exempts port\(s\) 2381 from WireGuard/);
    expect(
      await messages(
        container((c) => {
          c.env[0].value = "6443,22";
        }),
      ),
    ).toMatch(/env\[0\] \(EXEMPT_PORTS\) exempts port\(s\) 22/);
    expect(
      await messages(
        container((c) => {
          c.env[0] = { name: "NODE_ROUTER_EXEMPT_PORTS", value: "6443,2379-2380,10250" };
        }),
      ),
    ).toMatch(/\(NODE_ROUTER_EXEMPT_PORTS\) exempts port\(s\) 10250/);
    expect(
      await messages(
        container((c) => {
          c.args = ["--exempt-ports", "10250"];
        }),
      ),
    ).toMatch(/args\[1\] exempts port\(s\) 10250/);
  });

  it("reads flags and exports inside an `sh -c` script, any shell, any flag spelling", async () => {
    const flag = container((c) => {
      c.command = ["/bin/sh", "-ec"];
      c.args = ["exec node-router run --exempt-ports='6443,10250' --device=cilium_wg0"];
    });
    expect(await messages(flag)).toMatch(/args\[0\] \(script\) exempts port\(s\) 10250/);
    const exported = container((c) => {
      c.command = ["bash", "-c", "export NODE_ROUTER_EXEMPT_PORTS=22,6443; exec node-router"];
      c.args = [];
    });
    expect(await messages(exported)).toMatch(/command\[2\] \(NODE_ROUTER_EXEMPT_PORTS=\) exempts port\(s\) 22/);
    const prefix = container((c) => {
      c.command = ["sh", "-c", "GUARD_EXEMPT_PORTS=8080 node-router guard apply && exec node-router"];
    });
    expect(await messages(prefix)).toContain("exempts port(s) 8080");
  });

  it("expands Kubernetes $(VAR) references and the shell's $VAR from the container's literal env", async () => {
    const k8s = container((c) => {
      c.env.push({ name: "PORTS", value: "6443,9100" });
      c.args = ["--exempt-ports=$(PORTS)"];
    });
    expect(await messages(k8s)).toContain("exempts port(s) 9100");
    const shell = container((c) => {
      c.env.push({ name: "PORTS", value: "6443,9100" });
      c.command = ["sh", "-c", 'exec node-router --exempt-ports="$PORTS"'];
      c.args = [];
    });
    expect(await messages(shell)).toContain("exempts port(s) 9100");
  });

  it("reads flags passed through the script's positional parameters and whole argument lists in variables", async () => {
    const positional = container((c) => {
      c.command = ["sh", "-c", 'exec node-router "$@"', "--"];
      c.args = ["--exempt-ports=6443,2379-2380,111"];
    });
    expect(await messages(positional)).toContain("exempts port(s) 111");
    const list = container((c) => {
      c.command = ["sh", "-c", 'ARGS="--device=eth1 --log-level=info"; exec node-router $ARGS'];
      c.args = [];
    });
    expect(await messages(list)).toContain("steers node traffic into 'eth1'");
  });

  it("reports as not visible what the shell computes when the container starts", async () => {
    const out = await run(
      container((c) => {
        c.command = ["sh", "-c", "exec node-router --exempt-ports=$(curl -s http://cfg/ports)"];
        c.args = [];
      }),
    );
    expect(out.violations).toEqual([]);
    expect(out.unchecked).toMatch(/could not be checked because the pack cannot see .*computed when the container starts/);
  });

  it("leaves envFrom and valueFrom to node-router-indirect-settings (which sees the stack)", async () => {
    const ref = container((c) => {
      c.env[0] = { name: "EXEMPT_PORTS", valueFrom: { configMapKeyRef: { name: "x", key: "y" } } };
      c.envFrom = [{ configMapRef: { name: "agent-env" } }];
    });
    expect(await run(ref)).toEqual({ violations: [] });
  });

  it("rejects malformed port lists: the agent would not start", async () => {
    expect(
      await messages(
        container((c) => {
          c.args[0] = "--exempt-ports=all";
        }),
      ),
    ).toContain("'all' is not a port");
  });
});

describe("node-router-daemonset: settings that defeat the agent", () => {
  it("rejects a device other than the WireGuard device, by flag or NODE_ROUTER_DEVICE", async () => {
    expect(
      await messages(
        container((c) => {
          c.args[1] = "--device=eth0";
        }),
      ),
    ).toContain("steers node traffic into 'eth0' instead of the WireGuard device 'cilium_wg0'");
    expect(
      await messages(
        container((c) => {
          c.args = [];
          c.env.push({ name: "NODE_ROUTER_DEVICE", value: "ens5" });
        }),
      ),
    ).toContain("'ens5'");
  });

  it("lets a flag win over the environment, as the agent does", async () => {
    expect(
      await run(
        container((c) => {
          c.env.push({ name: "NODE_ROUTER_DEVICE", value: "eth0" });
        }),
      ),
    ).toEqual({ violations: [] });
  });

  it("rejects a mark/mask that matches ordinary traffic and accepts WireGuard's", async () => {
    const pair = (mark: string, mask: string) =>
      container((c) => {
        c.env.push({ name: "NODE_ROUTER_WG_MARK", value: mark }, { name: "NODE_ROUTER_WG_MASK", value: mask });
      });
    expect(await messages(pair("0x200", "0x200"))).toContain("exempts packets whose mark is not WireGuard's");
    expect(await messages(pair("0xe00", "0xe00"))).toContain("exempts packets whose mark is not WireGuard's");
    expect(await messages(pair("0xe00", "0x0e00f"))).toContain("has bits outside mask");
    expect(await run(pair("0xe00", "0xf00"))).toEqual({ violations: [] });
    expect(await run(pair("0x1e00", "0x1f00"))).toEqual({ violations: [] });
    expect(
      await messages(
        container((c) => {
          c.args.push("--wg-mask=0x100");
        }),
      ),
    ).toContain("--wg-mask");
  });

  it("rejects a control-plane selector every node matches", async () => {
    for (const sel of ["kubernetes.io/os=linux", "!node-role.kubernetes.io/worker", "kubernetes.io/hostname", "node-role.kubernetes.io/control-plane!=x"]) {
      const s = container((c) => {
        c.env[2].value = sel;
      });
      expect({ sel, text: await messages(s) }).toEqual({ sel, text: expect.stringContaining("matches every node") });
    }
    expect(
      await run(
        container((c) => {
          c.env[2].value = "node-role.kubernetes.io/control-plane,kubernetes.io/os=linux";
        }),
      ),
    ).toEqual({ violations: [] });
  });

  it("does not trip on settings it does not judge (NODE_ROUTER_NODE_TABLE, --node-table, health and metrics addresses)", async () => {
    const s = container((c) => {
      c.env.push({ name: "NODE_ROUTER_NODE_TABLE", value: "/etc/node-router/node-table/" }, { name: "NODE_ROUTER_HEALTH_ADDRESS", value: "127.0.0.1:9871" });
      c.args.push("--node-table=/etc/node-router/node-table/", "--metrics-address=10.0.0.1:9872", "--leave-grace-seconds=30");
      c.livenessProbe = { exec: { command: ["node-router", "health"] } };
    });
    expect(await run(s)).toEqual({ violations: [] });
  });
});

describe("node-router-daemonset: patches and charts", () => {
  const patch = (spec: object) => ({
    type: "kubernetes:apps/v1:DaemonSetPatch",
    name: "agent-patch",
    urn: "urn:pulumi:dev::p::kubernetes:apps/v1:DaemonSetPatch::agent-patch",
    props: { metadata: { name: "node-router", namespace: "kube-system" }, spec: { template: { spec } } },
  });
  const chart = (values: object) => ({
    type: "kubernetes:helm.sh/v3:Release",
    name: "agent",
    urn: "urn:pulumi:dev::p::kubernetes:helm.sh/v3:Release::agent",
    props: { chart: "oci://ghcr.io/example/charts/node-router", values },
  });

  it("judges only what a DaemonSetPatch sets", async () => {
    expect(await runResourcePolicy(policy, patch({ priorityClassName: "system-node-critical" }))).toEqual({ violations: [] });
    expect((await runResourcePolicy(policy, patch({ tolerations: [] }))).violations.map((v) => v.message).join()).toContain("do not tolerate");
    expect((await runResourcePolicy(policy, patch({ containers: [{ name: "node-router", args: ["--exempt-ports=22"] }] }))).violations[0].message).toContain(
      "exempts port(s) 22",
    );
  });

  it("judges chart values in the documented shape and skips charts outside it", async () => {
    expect(await runResourcePolicy(policy, chart({ tolerations: [{ operator: "Exists" }], settings: { "exempt-ports": "6443,2379-2380" } }))).toEqual({
      violations: [],
    });
    const bad = await runResourcePolicy(policy, chart({ tolerations: [], settings: { device: "eth0" }, nodeSelector: { pool: "a" } }));
    expect(bad.violations.map((v) => v.message).join("\n")).toMatch(/do not tolerate[\s\S]*nodeSelector 'pool: a'[\s\S]*'eth0'/);
    expect(await runResourcePolicy(policy, chart({ image: "x" }))).toEqual({ violations: [] }); // node-router-present reports it
  });

  it("honours allowedExemptPorts and a custom agent matcher from config", async () => {
    const s = container((c) => {
      c.args[0] = "--exempt-ports=6443,2379-2380,10250";
    });
    expect(await messages(s, { allowedExemptPorts: ["6443", "2379-2380", 10250] })).toBe("");
    expect(
      await run(
        edit((p) => {
          p.hostNetwork = false;
        }),
        { agent: { label: "app", value: "other-router" } },
      ),
    ).toEqual({ violations: [] });
  });

  it("ignores other DaemonSets", async () => {
    const s = baseline();
    const ds = get(s, "node-router");
    const p = ds.props as any;
    p.metadata = { name: "fluent-bit", labels: { app: "fluent-bit" } };
    p.spec.selector = {};
    p.spec.template.metadata = {};
    p.spec.template.spec.hostNetwork = false;
    expect(await runResourcePolicy(policy, ds)).toEqual({ violations: [] });
  });

  it("reports unknown args and tolerations as unchecked while checking the rest", async () => {
    const out = await run(
      edit((p) => {
        p.containers[0].args = UNKNOWN_SENTINEL;
        p.tolerations = UNKNOWN_SENTINEL;
        p.hostNetwork = false;
      }),
    );
    expect(out.violations.map((v) => v.message).join()).toContain("hostNetwork");
    expect(out.unchecked).toMatch(/tolerations.*containers\[0\]\.args/);
  });
});
