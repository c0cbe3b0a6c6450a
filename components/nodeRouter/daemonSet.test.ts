import { parseSettings } from "../../agent/src/settings";
import { TEST_IMAGE } from "../../test/fixtures/images";
import { tolerates, type Taint } from "../../test/tolerations";
import { daemonSet } from "./daemonSet";
import { deployedAgentOrThrow, type AgentSettings } from "./settings";

const deployed = (settings?: AgentSettings) => deployedAgentOrThrow("test", { image: TEST_IMAGE, settings });
const build = (settings?: AgentSettings, nodeTable?: boolean, imagePullSecrets?: string[]) =>
  daemonSet({
    name: "node-router",
    namespace: "kube-system",
    serviceAccountName: "node-router",
    image: TEST_IMAGE,
    agent: deployed(settings),
    nodeTable,
    imagePullSecrets,
  });
const ds = build();
const pod = ds.spec.template.spec;
const container = pod.containers[0];

describe("DaemonSet", () => {
  test("runs on every node: control-plane NoSchedule, any NoExecute, any other taint; no narrowing", () => {
    const taints: Taint[] = [
      { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" },
      { key: "example.com/arbitrary", value: "x", effect: "NoExecute" },
      { key: "node.kubernetes.io/not-ready", effect: "NoExecute" },
      { key: "node.cilium.io/agent-not-ready", effect: "NoSchedule" },
      { key: "whatever", effect: "PreferNoSchedule" },
    ];
    for (const taint of taints) expect(tolerates(pod.tolerations, taint)).toBe(true);
    expect(pod).not.toHaveProperty("nodeSelector");
    expect(pod).not.toHaveProperty("affinity");
  });

  test("host network, DNS, priority, labels, rolling update", () => {
    expect(pod.hostNetwork).toBe(true);
    expect(pod.dnsPolicy).toBe("ClusterFirstWithHostNet");
    expect(pod.priorityClassName).toBe("system-node-critical");
    expect(ds.spec.selector.matchLabels["app.kubernetes.io/name"]).toBe("node-router");
    expect(ds.spec.template.metadata.labels["app.kubernetes.io/name"]).toBe("node-router");
    expect(ds.spec.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } });
  });

  test("capabilities exactly NET_ADMIN, everything else locked down", () => {
    expect(container.securityContext.capabilities).toEqual({ add: ["NET_ADMIN"], drop: ["ALL"] });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false });
  });

  test("probes hit the agent's /healthz and /readyz on the node's loopback (the kubelet shares the host network)", () => {
    expect(container.livenessProbe.httpGet).toMatchObject({ host: "127.0.0.1", path: "/healthz", port: 9871 });
    expect(container.readinessProbe.httpGet).toMatchObject({ host: "127.0.0.1", path: "/readyz", port: 9871 });
    expect(container.ports.map((p) => p.containerPort)).toContain(9871);
  });

  test("requests and limits, image; no scrape annotations while metrics stay on loopback", () => {
    expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources.limits).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(ds.spec.template.metadata.annotations).toEqual({});
    expect(container.image).toBe(TEST_IMAGE);
  });

  test("metrics on an address Prometheus can reach are exposed and annotated; health stays on loopback", () => {
    const other = build({ metricsAddress: "0.0.0.0:9872" });
    expect(other.spec.template.metadata.annotations["prometheus.io/port"]).toBe("9872");
    expect(other.spec.template.spec.containers[0].ports.map((p) => p.name)).toEqual(["health", "metrics"]);
  });

  test("NODE_NAME comes from the downward API", () => {
    expect(container.env).toContainEqual({ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } });
  });
});

describe("agent environment", () => {
  // The real agent parser reads the env the DaemonSet carries: names and formats must agree.
  const parsedFrom = (d: ReturnType<typeof build>) =>
    parseSettings([], Object.fromEntries(d.spec.template.spec.containers[0].env.map((e) => [e.name, e.value ?? "node-a"])));

  test("the agent parses exactly the settings we deploy", () => {
    const custom: AgentSettings = {
      exemptPorts: ["6443"],
      steeringTable: 100,
      controlPlaneTable: 101,
      rulePriority: 2000,
      wgMark: "0x1e00",
      wgMask: "0xff00",
      resyncSeconds: 10,
      metricsAddress: "0.0.0.0:9872",
      controlPlaneSelector: "role=cp",
      logLevel: "debug",
    };
    expect(parsedFrom(build(custom))).toEqual({ ...deployed(custom).settings, nodeName: "node-a" });
    expect(parsedFrom(build(custom))).toMatchObject({
      steeringTable: 100,
      wgMark: 0x1e00,
      exemptPorts: [{ start: 6443, end: 6443 }],
      metricsAddress: { host: "0.0.0.0", port: 9872 },
    });
  });

  test("unset settings reach the agent as its own defaults", () => {
    expect(parsedFrom(ds)).toEqual(parseSettings([], { NODE_NAME: "node-a" }));
  });
});

describe("node table", () => {
  const withTable = build(undefined, true);
  const tpl = withTable.spec.template.spec;

  it("mounts the ConfigMap as a directory (no subPath, so the kubelet updates it) and points the agent at the file", () => {
    expect(tpl.volumes).toContainEqual({ name: "node-table", configMap: { name: "node-router-node-table" } });
    const mount = tpl.containers[0].volumeMounts.find((m) => m.name === "node-table")!;
    expect(mount).toEqual({ name: "node-table", mountPath: "/etc/node-router/node-table", readOnly: true });
    expect(mount).not.toHaveProperty("subPath");
    expect(tpl.containers[0].env).toContainEqual({ name: "NODE_ROUTER_NODE_TABLE", value: "/etc/node-router/node-table/node-table.json" });
  });

  it("mounts the guard's host paths at the host's own paths: state dir rw, cgroup v2 tree ro (no boot table: the boot files carry only the ruleset)", () => {
    const mounts = Object.fromEntries(tpl.containers[0].volumeMounts.map((m) => [m.name, m]));
    const volumes = Object.fromEntries(tpl.volumes.map((v) => [v.name, v]));
    expect(volumes.state).toEqual({ name: "state", hostPath: { path: "/var/lib/wg-mesh", type: "DirectoryOrCreate" } });
    expect(mounts.state).toEqual({ name: "state", mountPath: "/var/lib/wg-mesh", readOnly: false });
    expect(volumes["boot-node-table"]).toBeUndefined();
    expect(volumes["host-cgroup"]).toEqual({ name: "host-cgroup", hostPath: { path: "/sys/fs/cgroup", type: "Directory" } });
    expect(mounts["host-cgroup"]).toEqual({ name: "host-cgroup", mountPath: "/sys/fs/cgroup", readOnly: true });
    // Every mount but /tmp and the state dir is read-only: the agent writes nowhere else.
    expect(tpl.containers[0].volumeMounts.filter((m) => !("readOnly" in m) || !m.readOnly).map((m) => m.mountPath)).toEqual(["/tmp", "/var/lib/wg-mesh"]);
  });

  it("without a table, neither the volumes nor the setting (the agent then says it runs without one, and has no guard to persist)", () => {
    expect(pod.volumes.map((v) => v.name)).toEqual(["tmp"]);
    expect(container.volumeMounts.map((m) => m.name)).toEqual(["tmp"]);
    expect(container.env.some((e) => e.name === "NODE_ROUTER_NODE_TABLE")).toBe(false);
  });
});

describe("image pull Secrets", () => {
  it("are referenced by name in the pod spec, in the given order", () => {
    expect(build(undefined, false, ["ghcr-pull", "mirror.example"]).spec.template.spec).toMatchObject({
      imagePullSecrets: [{ name: "ghcr-pull" }, { name: "mirror.example" }],
    });
  });

  it("none given: no imagePullSecrets field at all (the node's own registry credentials, if any, apply)", () => {
    expect(pod).not.toHaveProperty("imagePullSecrets");
    expect(build(undefined, false, []).spec.template.spec).not.toHaveProperty("imagePullSecrets");
  });
});
