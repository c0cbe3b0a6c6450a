import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import type { FixtureResource } from "../test/fixtures/load";
import { agentPodSpec, baseline } from "../test/baseline";
import { runStackPolicy } from "../test/harness";
import { nodeRouterIndirectSettings as policy } from "./node-router-indirect-settings";

const object = (kind: "ConfigMap" | "Secret" | "ConfigMapPatch", name: string, props: Record<string, unknown>, ns = "kube-system"): FixtureResource => ({
  type: `kubernetes:core/v1:${kind}`,
  name: `${kind}-${name}`,
  urn: `urn:pulumi:dev::p::kubernetes:core/v1:${kind}::${name}`,
  props: { metadata: { name, namespace: ns }, ...props },
});
const withAgent = (fn: (c: any, spec: any) => void, ...extra: FixtureResource[]) => {
  const s = baseline();
  const spec = agentPodSpec(s);
  fn(spec.containers[0], spec);
  return [...s, ...extra];
};
const messages = async (s: FixtureResource[]) => (await runStackPolicy(policy, s)).violations.map((v) => v.message).join("\n");

describe("node-router-indirect-settings", () => {
  it("has nothing to resolve in the compliant stack", async () => {
    expect(await runStackPolicy(policy, baseline())).toEqual({ violations: [] });
  });

  it("resolves envFrom a ConfigMap in the stack (prefix applied) and judges what it holds", async () => {
    const cm = object("ConfigMap", "agent-env", { data: { EXEMPT_PORTS: "6443,2379-2380,10250", LOG: "debug" } });
    const s = withAgent((c) => {
      c.envFrom = [{ configMapRef: { name: "agent-env" }, prefix: "NODE_ROUTER_" }];
    }, cm);
    expect(await messages(s)).toMatch(/envFrom\[0\] -> ConfigMap kube-system\/agent-env key 'EXEMPT_PORTS' exempts port\(s\) 10250/);
  });

  it("resolves valueFrom a Secret key (base64 data) and a ConfigMap key, device and selector included", async () => {
    const secret = object("Secret", "agent", { data: { dev: Buffer.from("eth0").toString("base64") } });
    const cm = object("ConfigMap", "agent", { data: { sel: "kubernetes.io/os=linux" } });
    const s = withAgent(
      (c) => {
        c.args = ["--exempt-ports=6443,2379-2380"];
        c.env.push({ name: "NODE_ROUTER_DEVICE", valueFrom: { secretKeyRef: { name: "agent", key: "dev" } } });
        c.env[2] = { name: "NODE_ROUTER_CONTROL_PLANE_SELECTOR", valueFrom: { configMapKeyRef: { name: "agent", key: "sel" } } };
      },
      secret,
      cm,
    );
    const text = await messages(s);
    expect(text).toContain("Secret kube-system/agent key 'dev' steers node traffic into 'eth0'");
    expect(text).toContain("matches every node");
  });

  it("lets the container's own env win over envFrom, as Kubernetes does", async () => {
    const cm = object("ConfigMap", "agent-env", { data: { EXEMPT_PORTS: "22" } });
    expect(
      await runStackPolicy(
        policy,
        withAgent((c) => {
          c.envFrom = [{ configMapRef: { name: "agent-env" } }];
        }, cm),
      ),
    ).toEqual({ violations: [] });
  });

  it("applies a ConfigMapPatch on top of the ConfigMap it patches", async () => {
    const cm = object("ConfigMap", "agent-env", { data: { NODE_ROUTER_EXEMPT_PORTS: "6443" } });
    const patch = object("ConfigMapPatch", "agent-env", { data: { NODE_ROUTER_EXEMPT_PORTS: "6443,22" } });
    const s = withAgent((c) => {
      c.envFrom = [{ configMapRef: { name: "agent-env" } }];
    }, cm);
    expect(await runStackPolicy(policy, s)).toEqual({ violations: [] });
    expect(await messages([...s, patch])).toContain("exempts port(s) 22");
  });

  it("reads a settings file mounted from a ConfigMap, by `$(cat FILE)` or by sourcing it", async () => {
    const cm = object("ConfigMap", "agent-settings", { data: { ports: "6443,5432", env: "export NODE_ROUTER_WG_MASK=0x200\nNODE_ROUTER_WG_MARK=0x200\n" } });
    const mount = (c: any, spec: any) => {
      spec.volumes = [{ name: "settings", configMap: { name: "agent-settings" } }];
      c.volumeMounts = [{ name: "settings", mountPath: "/etc/node-router/settings" }];
    };
    const cat = withAgent((c, spec) => {
      mount(c, spec);
      c.command = ["sh", "-c", "exec node-router --exempt-ports=$(cat /etc/node-router/settings/ports)"];
      c.args = [];
    }, cm);
    expect(await messages(cat)).toMatch(/ConfigMap kube-system\/agent-settings key 'ports' exempts port\(s\) 5432/);
    const sourced = withAgent((c, spec) => {
      mount(c, spec);
      c.command = ["sh", "-c", ". /etc/node-router/settings/env && exec node-router"];
    }, cm);
    expect(await messages(sourced)).toContain("exempts packets whose mark is not WireGuard's");
  });

  it("reads a whole argument list from a mounted ConfigMap (`exec node-router $(cat FILE)`)", async () => {
    const cm = object("ConfigMap", "agent-args", { data: { args: "--log-level=debug\n--exempt-ports=6443,2379-2380,3306\n" } });
    const s = withAgent((c, spec) => {
      spec.volumes = [{ name: "args", configMap: { name: "agent-args" } }];
      c.volumeMounts = [{ name: "args", mountPath: "/etc/node-router/args", subPath: "args" }];
      c.command = ["sh", "-c", "exec node-router $(cat /etc/node-router/args)"];
      c.args = [];
    }, cm);
    expect(await messages(s)).toMatch(/ConfigMap kube-system\/agent-args key 'args' exempts port\(s\) 3306/);
  });

  it("does not trip on a node-table ConfigMap mounted as a directory, or on unknown keys", async () => {
    const table = object("ConfigMap", "node-router-node-table", { data: { "nodes.json": "{}" } });
    const s = withAgent((c, spec) => {
      spec.volumes = [{ name: "table", configMap: { name: "node-router-node-table" } }];
      c.volumeMounts = [{ name: "table", mountPath: "/etc/node-router/node-table/" }];
      c.env.push({ name: "NODE_ROUTER_NODE_TABLE", value: "/etc/node-router/node-table/" });
      c.envFrom = [{ configMapRef: { name: "node-router-node-table" } }];
    }, table);
    expect(await runStackPolicy(policy, s)).toEqual({ violations: [] });
  });

  it("says what it cannot see: a ConfigMap or Secret outside the stack, a path on no ConfigMap volume", async () => {
    const out = await runStackPolicy(
      policy,
      withAgent((c) => {
        c.args = [];
        c.envFrom = [{ secretRef: { name: "elsewhere" } }];
        c.env.push({ name: "NODE_ROUTER_DEVICE", valueFrom: { configMapKeyRef: { name: "gone", key: "d" } } });
      }),
    );
    expect(out.violations).toEqual([]);
    expect(out.unchecked).toMatch(/could not be checked because the pack cannot see .*Secret kube-system\/elsewhere .*which is not in this stack/);
    expect(out.unchecked).toContain("(NODE_ROUTER_DEVICE) of 'node-router'");
    expect(out.unchecked).toContain("ConfigMap kube-system/gone key 'd' is not in this stack");
    const file = await runStackPolicy(
      policy,
      withAgent((c) => {
        c.command = ["sh", "-c", "exec node-router --device=$(cat /host/etc/dev)"];
      }),
    );
    expect(file.unchecked).toContain("/host/etc/dev is not on a ConfigMap or Secret volume");
  });

  it("reports ConfigMap data unknown at preview as unchecked", async () => {
    const cm = object("ConfigMap", "agent-env", { data: UNKNOWN_SENTINEL });
    const out = await runStackPolicy(
      policy,
      withAgent((c) => {
        c.envFrom = [{ configMapRef: { name: "agent-env" } }];
      }, cm),
    );
    expect(out).toMatchObject({ violations: [], unchecked: expect.stringContaining("the data of ConfigMap kube-system/agent-env is unknown at preview") });
  });
});
