// Cilium + NodeRouter under pulumi.runtime.setMocks. Besides the inputs the mocks see, we
// record each RegisterResource request's dependency list from the mock monitor: that is
// what the engine orders by, so a dropped `dependsOn` makes the ordering test fail.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Cilium } from "../cilium/cilium";
import { NodeRouter } from "./nodeRouter";
import { TEST_IMAGE } from "../../test/fixtures/images";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, any>;
  urn?: string;
  provider?: string;
  dependencies: string[];
}

const registered: Registered[] = [];
const byName = (name: string) => {
  const found = registered.find((r) => r.name === name);
  if (!found) throw new Error(`resource ${name} was not registered; got ${registered.map((r) => r.name).join(", ")}`);
  return found;
};
const settle = <T>(output: pulumi.Output<T>) => new Promise<T>((resolve) => output.apply(resolve));

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const entry = registered.find((r) => r.name === args.name && r.type === args.type);
        if (entry) entry.inputs = args.inputs;
        else throw new Error(`registration of ${args.name} bypassed the recording monitor`);
        const state = args.type === "kubernetes:helm.sh/v3:Release" ? { ...args.inputs, status: { name: args.inputs.name, status: "deployed" } } : args.inputs;
        return { id: `${args.name}-id`, state };
      },
      call: (args) => {
        throw new Error(`unexpected invoke ${args.token}`);
      },
    },
    "wg-mesh-cluster",
    "test",
    false,
  );
  // Wrap the mock monitor to see the dependency list each registration carries.
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: (req: any, cb: any) => void };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const entry = {
      type: req.getType(),
      name: req.getName(),
      inputs: {},
      dependencies: req.getDependenciesList() as string[],
      provider: req.getProvider() as string,
    };
    registered.push(entry);
    original(req, (err: unknown, response: { getUrn(): string } | undefined) => {
      if (response) (entry as Registered).urn = response.getUrn();
      callback(err, response);
    });
  };
});

function deploy(prefix: string, wireOrdering: boolean) {
  // The provider and the ordering come as resource options, as for any component.
  const provider = new k8s.Provider(`${prefix}-k8s`, { kubeconfig: "apiVersion: v1\nkind: Config\n" });
  const cilium = new Cilium(
    `${prefix}-cilium`,
    {
      podCidrV4: "10.244.0.0/16",
      k8sServiceHost: "api.cluster.internal",
      k8sServicePort: 6443,
      underlayMtus: { aws: 1500, gcp: 1460 },
      multiCloud: true,
      chartVersion: "1.19",
    },
    { provider },
  );
  const router = new NodeRouter(`${prefix}-node-router`, { image: TEST_IMAGE }, { provider, dependsOn: wireOrdering ? [cilium] : undefined });
  return { cilium, router };
}

describe("Cilium and NodeRouter under mocks", () => {
  let cilium: Cilium;
  let router: NodeRouter;

  beforeAll(async () => {
    ({ cilium, router } = deploy("a", true));
    await settle(router.daemonSetName);
    await settle(cilium.releaseStatus);
  });

  test("the Helm release carries the values, pinned chart and repository", () => {
    const release = byName("a-cilium-release");
    expect(release.type).toBe("kubernetes:helm.sh/v3:Release");
    expect(release.inputs).toMatchObject({
      chart: "cilium",
      version: "1.19.6",
      namespace: "kube-system",
      atomic: true,
      repositoryOpts: { repo: "https://helm.cilium.io" },
    });
    expect(release.inputs.values).toMatchObject({
      routingMode: "native",
      ipv4NativeRoutingCIDR: "10.244.0.0/16",
      autoDirectNodeRoutes: false,
      MTU: 1460,
      kubeProxyReplacement: "true",
      k8sServiceHost: "api.cluster.internal",
      k8sServicePort: 6443,
      bpf: { hostLegacyRouting: true },
      encryption: {
        enabled: true,
        type: "wireguard",
        nodeEncryption: false,
        strictMode: { egress: { enabled: true, cidr: "10.244.0.0/16" } },
        wireguard: { persistentKeepalive: "25s" },
      },
      hubble: { enabled: true, relay: { enabled: true } },
    });
    expect(cilium.podMtu).toBe(1365); // chart 1.19.6: Cilium subtracts 95 bytes for WireGuard
  });

  test("children are parented to their component, named with its prefix, and use the k8s provider", () => {
    const release = byName("a-cilium-release");
    const ds = byName("a-node-router-daemon-set");
    expect(release.urn).toMatch(/wg-mesh:cilium:Cilium\$kubernetes:helm.sh\/v3:Release::a-cilium-release$/);
    expect(ds.urn).toMatch(/wg-mesh:nodeRouter:NodeRouter\$kubernetes:apps\/v1:DaemonSet::a-node-router-daemon-set$/);
    for (const child of registered.filter((r) => r.name.startsWith("a-") && r.type.startsWith("kubernetes:"))) {
      expect([child.name, child.provider]).toEqual([child.name, expect.stringMatching(/pulumi:providers:kubernetes::a-k8s::/)]);
    }
  });

  test("RBAC and DaemonSet objects are created from the builders", () => {
    expect(byName("a-node-router-cluster-role").inputs.rules.flatMap((r: { verbs: string[] }) => r.verbs)).toEqual([
      "get",
      "list",
      "watch",
      "get",
      "list",
      "watch",
    ]);
    const ds = byName("a-node-router-daemon-set").inputs;
    expect(ds.metadata).toMatchObject({ name: "node-router", namespace: "kube-system" });
    expect(ds.spec.template.spec).toMatchObject({ hostNetwork: true, priorityClassName: "system-node-critical", tolerations: [{ operator: "Exists" }] });
    expect(ds.spec.template.spec.containers[0].securityContext.capabilities).toEqual({ add: ["NET_ADMIN"], drop: ["ALL"] });
  });

  test("the DaemonSet depends on the Cilium release (and its RBAC)", () => {
    const deps = byName("a-node-router-daemon-set").dependencies;
    expect(deps).toContain(byName("a-cilium-release").urn);
    expect(deps).toContain(byName("a-node-router-cluster-role-binding").urn);
  });

  test("control: without the dependsOn wiring the same check fails", async () => {
    const { router: unordered } = deploy("b", false);
    await settle(unordered.daemonSetName);
    expect(byName("b-node-router-daemon-set").dependencies).not.toContain(byName("b-cilium-release").urn);
  });

  test("image pull Secrets reach the DaemonSet's pod spec; a bad Secret name fails at construction", async () => {
    const provider = new k8s.Provider("d-k8s", { kubeconfig: "x" });
    const withSecrets = new NodeRouter("d-node-router", { image: TEST_IMAGE, imagePullSecrets: ["ghcr-pull"] }, { provider });
    await settle(withSecrets.daemonSetName);
    expect(byName("d-node-router-daemon-set").inputs.spec.template.spec.imagePullSecrets).toEqual([{ name: "ghcr-pull" }]);
    expect(byName("a-node-router-daemon-set").inputs.spec.template.spec).not.toHaveProperty("imagePullSecrets");
    expect(() => new NodeRouter("e-node-router", { image: TEST_IMAGE, imagePullSecrets: ["GHCR_Pull"] }, { provider })).toThrow(
      /e-node-router: nodeRouter\.imagePullSecrets\[0\]: "GHCR_Pull" is not a Secret name/,
    );
  });

  test("with a Cluster's published table: the DaemonSet mounts it and waits for it; no ConfigMap of its own; misuse refused naming the field", async () => {
    const provider = new k8s.Provider("p-k8s", { kubeconfig: "x" });
    const published = new k8s.core.v1.ConfigMap(
      "p-published",
      { metadata: { name: "node-router-node-table", namespace: "kube-system" }, data: {} },
      { provider },
    );
    const withPublished = new NodeRouter("p-node-router", { image: TEST_IMAGE, publishedNodeTable: published.metadata.name }, { provider });
    await settle(withPublished.daemonSetName);
    const ds = byName("p-node-router-daemon-set");
    expect(ds.dependencies).toContain(byName("p-published").urn);
    expect(ds.inputs.metadata.annotations).toEqual(expect.objectContaining({ "wg-mesh.dev/node-table": "node-router-node-table" }));
    expect(ds.inputs.spec.template.spec.volumes).toContainEqual({ name: "node-table", configMap: { name: "node-router-node-table" } });
    expect(withPublished.nodeTable).toBeUndefined();
    expect(registered.filter((r) => r.name.startsWith("p-node-router") && r.type === "kubernetes:core/v1:ConfigMap")).toEqual([]);
    expect(() => new NodeRouter("q-node-router", { image: TEST_IMAGE, publishedNodeTable: "node-router-node-table", nodeTable: "{}" }, { provider })).toThrow(
      /q-node-router: nodeTable and publishedNodeTable are both set/,
    );
    expect(() => new NodeRouter("r-node-router", { image: TEST_IMAGE, publishedNodeTable: "node-router-node-table", namespace: "mesh" }, { provider })).toThrow(
      /r-node-router: publishedNodeTable is a ConfigMap in kube-system.*deploy the NodeRouter in kube-system \(namespace\)/,
    );
  });

  test("a bad exempt-port list fails at construction, before anything reaches the cluster", async () => {
    const provider = new k8s.Provider("c-k8s", { kubeconfig: "x" });
    expect(() => new NodeRouter("c-node-router", { image: TEST_IMAGE, settings: { exemptPorts: ["22"] } }, { provider })).toThrow(
      /c-node-router: nodeRouter\.exemptPorts: 22 outside the bootstrap ports/,
    );
    await settle(router.daemonSetName);
    expect(registered.filter((r) => r.name.startsWith("c-node-router-"))).toEqual([]);
  });
});
