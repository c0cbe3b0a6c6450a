// What every shipped stack deploys on the cluster: Cilium's Helm values and the
// node-router DaemonSet with its RBAC, judged from the resources registered under mocks.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ofType, type Recorded } from "./pulumiMocks";
import { isChartKey, leafKeyPaths } from "../components/cilium/chartKeyPaths";
import { tolerates } from "./tolerations";

const chartKeys = (version: string): Set<string> =>
  new Set((JSON.parse(readFileSync(join(__dirname, "..", "components", "cilium", "chartKeys", `${version}.json`), "utf8")) as { keys: string[] }).keys);

export function platformChecks(getRecorded: () => Recorded[], podCidr: string): void {
  const release = () => ofType(getRecorded(), "kubernetes:helm.sh/v3:Release").find((r) => r.inputs.chart === "cilium")!;
  const daemonSet = () =>
    ofType(getRecorded(), "kubernetes:apps/v1:DaemonSet").find((d) => d.inputs.metadata.labels?.["app.kubernetes.io/name"] === "node-router")!;

  it("installs Cilium in native routing with WireGuard, without Cilium's node encryption", () => {
    const v = release().inputs.values;
    expect(v).toMatchObject({
      routingMode: "native",
      ipv4NativeRoutingCIDR: podCidr,
      autoDirectNodeRoutes: false,
      encryption: { enabled: true, type: "wireguard", nodeEncryption: false },
      k8sServicePort: 7445,
      bpf: { hostLegacyRouting: true },
      hubble: { enabled: true, relay: { enabled: true } },
    });
    expect(String(v.kubeProxyReplacement)).toBe("true");
    expect(v.tunnelProtocol).toBeUndefined();
    expect(v.k8sServiceHost).toBe("127.0.0.1"); // every node's local proxy to all control planes
    expect(v.encryption.wireguard.persistentKeepalive).toMatch(/^\d+s$/);
    expect(JSON.stringify(v.encryption.strictMode)).toContain(podCidr);
    expect(v.MTU).toBeGreaterThanOrEqual(1460);
  });

  it("lets Hubble Relay run on a control-plane node, so the atomic install needs no Ready worker", () => {
    const relay = release().inputs.values.hubble.relay;
    expect(tolerates(relay.tolerations, { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" })).toBe(true);
  });

  it("sets only value keys that exist in the pinned chart", () => {
    const r = release();
    const keys = chartKeys(r.inputs.version);
    expect(leafKeyPaths(r.inputs.values).filter((k) => !isChartKey(k, keys))).toEqual([]);
  });

  it("runs the node-router on every node, control plane included, with NET_ADMIN only", () => {
    const spec = daemonSet().inputs.spec.template.spec;
    expect(spec.hostNetwork).toBe(true);
    expect(tolerates(spec.tolerations, { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" })).toBe(true);
    expect(tolerates(spec.tolerations, { key: "example.com/evict-me", value: "x", effect: "NoExecute" })).toBe(true);
    expect(spec.nodeSelector ?? {}).toEqual({});
    expect(spec.affinity).toBeUndefined();
    expect(spec.priorityClassName).toBe("system-node-critical");
    const [agent] = spec.containers;
    expect(agent.securityContext.capabilities).toEqual({ add: ["NET_ADMIN"], drop: ["ALL"] });
    expect(agent.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(agent.livenessProbe.httpGet.path).toBe("/healthz");
    expect(agent.readinessProbe.httpGet.path).toBe("/readyz");
  });

  it("keeps pods away from the cloud metadata services with a cluster-wide Cilium policy, after Cilium's CRDs exist", () => {
    const policies = ofType(getRecorded(), "kubernetes:cilium.io/v2:CiliumClusterwideNetworkPolicy");
    expect(policies).toHaveLength(1);
    const spec = policies[0].inputs.spec;
    expect(spec.endpointSelector).toEqual({});
    expect(spec.enableDefaultDeny).toEqual({ egress: false, ingress: false });
    expect(spec.egressDeny[0].toCIDR).toContain("169.254.169.254/32");
    expect(policies[0].dependencies.some((urn) => urn.endsWith(`::${release().name}`))).toBe(true);
  });

  it("creates the DaemonSet only after Cilium", () => {
    const releaseRecord = release();
    expect(daemonSet().dependencies.some((urn) => urn.endsWith(`::${releaseRecord.name}`))).toBe(true);
  });

  it("grants the agent get/list/watch on nodes and ciliumnodes, and nothing else", () => {
    const roles = ofType(getRecorded(), "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole");
    expect(roles).toHaveLength(1);
    const rules = roles[0].inputs.rules as { resources: string[]; verbs: string[] }[];
    expect(rules.flatMap((r) => r.verbs).every((v) => ["get", "list", "watch"].includes(v))).toBe(true);
    expect(rules.flatMap((r) => r.resources).sort()).toEqual(["ciliumnodes", "nodes"]);
  });
}
