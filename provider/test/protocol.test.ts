// The package as the Pulumi CLI uses it: the plugin started the way the nodejs language host
// starts it (run-plugin, from a user's project folder), GetSchema as `pulumi package add` calls it,
// and Construct as the engine calls it for a component a Python/Go/YAML program registers.
//
// Construct works here without the CLI: the engine's side of it is two gRPC services (Engine for
// logs, ResourceMonitor for the children's registrations), served by engineStandIn.ts with
// Pulumi's own mock monitor (pulumi.runtime.setMocks, test/pulumiMocks.ts) behind it. What that
// cannot show: the real providers' CRUD (no cloud), and the dynamic providers' serialized code
// (join token, API readiness) running in the CLI's dynamic-provider plugin: the mock monitor
// answers their registrations itself.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, resolve, unwrapSecrets } from "../../test/pulumiMocks";
import { startEngine, type EngineStandIn, type Registration } from "./engineStandIn";
import { construct, getPluginVersion, getSchema, PLUGIN_DIR, startPlugin, type ConstructCall, type ConstructResult, type PluginProcess } from "./pluginProcess";
import { checkAgainstSchema, pythonBlocks, pythonUsage } from "./pythonExample";
import { PACKAGE_NAME, SECRET_OUTPUTS } from "../provider";
import { CLUSTER_INPUTS, CILIUM_INPUTS, NODE_ROUTER_INPUTS } from "./fixtures";
import { schemaProblems, secretPaths, type Schema } from "./schemaFacts";

const PROJECT = "wg-mesh-user";
const STACK = "dev";
const token = (component: string) => `${PACKAGE_NAME}:index:${component}`;
const K8S_REF = /^\/kubernetes\/v4\.34\.2\/schema\.json#\/resources\/kubernetes:/;

let engine: EngineStandIn;
let plugin: PluginProcess;
let schema: Schema;
const providerRefs: Record<string, string> = {};

beforeAll(async () => {
  await installMocks(PROJECT, STACK, false);
  engine = await startEngine();
  plugin = await startPlugin(engine.address);
  schema = await getSchema(plugin.client);
  // What a user's program passes in `opts.providers`: providers it registered itself.
  const ref = async (p: pulumi.ProviderResource) => `${await resolve(p.urn)}::${await resolve(p.id)}`;
  providerRefs.aws = await ref(new aws.Provider("aws-eu", { region: "eu-west-1" }));
  providerRefs.gcp = await ref(new gcp.Provider("gcp-eu", { project: "my-project", region: "europe-west1" }));
  providerRefs.kubernetes = await ref(new k8s.Provider("k8s", { kubeconfig: "{}" }));
}, 300_000);

afterAll(async () => {
  await plugin?.stop();
  await engine?.close();
});

/** Construct one component as the engine would for `component(name, inputs, opts=providers)`; returns it and what it registered. */
async function build(component: string, name: string, inputs: object, providers: Record<string, string>, extra: Partial<ConstructCall> = {}) {
  const before = engine.registrations.length;
  const result = await construct(plugin.client, {
    type: token(component),
    name,
    inputs: inputs as Record<string, unknown>,
    providers,
    project: PROJECT,
    stack: STACK,
    monitorEndpoint: engine.address,
    ...extra,
  });
  return { result, registered: engine.registrations.slice(before) };
}

/** The registrations whose parent chain reaches `urn`. */
function descendants(registered: Registration[], urn: string): Registration[] {
  const parentOf = new Map(engine.registrations.map((r) => [r.urn, r.parent]));
  const under = (r: Registration) => {
    for (let p = r.parent; p; p = parentOf.get(p) ?? "") if (p === urn) return true;
    return false;
  };
  return registered.filter(under);
}

const isSecret = (v: unknown) =>
  typeof v === "object" && v !== null && (v as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig;

describe("GetSchema", () => {
  it("names the package and version the plugin reports", async () => {
    const version = JSON.parse(readFileSync(join(PLUGIN_DIR, "package.json"), "utf8")).version;
    expect({ name: schema.name, version: schema.version }).toEqual({ name: PACKAGE_NAME, version });
    expect(await getPluginVersion(plugin.client)).toBe(version);
  });

  it("serves the cluster and the parts a user composes, each described by its class's doc comment", () => {
    expect(Object.keys(schema.resources).sort()).toEqual([token("Cilium"), token("Cluster"), token("NodeRouter")]);
    const described = Object.fromEntries(Object.entries(schema.resources).map(([t, r]) => [t, { isComponent: r.isComponent, description: r.description }]));
    expect(described).toEqual({
      [token("Cluster")]: { isComponent: true, description: expect.stringMatching(/^A self-managed kubeadm cluster across AWS and GCP/) },
      [token("Cilium")]: { isComponent: true, description: expect.stringMatching(/^Cilium with native routing and WireGuard transparent encryption/) },
      [token("NodeRouter")]: { isComponent: true, description: expect.stringMatching(/^The node-router agent on every node/) },
    });
  });

  it("is clean: every field documented, every type reference resolves, no Any and no stand-in types", () => {
    expect(schemaProblems(schema)).toEqual([]);
  });

  it("takes what the fixtures send as inputs, and the fixtures send every required one", () => {
    for (const [component, inputs] of [
      ["Cluster", CLUSTER_INPUTS],
      ["Cilium", CILIUM_INPUTS],
      ["NodeRouter", NODE_ROUTER_INPUTS],
    ] as const) {
      const r = schema.resources[token(component)];
      expect({ component, unknown: Object.keys(inputs).filter((k) => !(k in r.inputProperties)) }).toEqual({ component, unknown: [] });
      expect({ component, missing: r.requiredInputs.filter((k) => !(k in inputs)) }).toEqual({ component, missing: [] });
    }
    const cluster = schema.resources[token("Cluster")].inputProperties;
    expect(cluster.nodes).toMatchObject({ type: "array", items: { $ref: `#/types/${token("NodeSpec")}` }, description: expect.stringMatching(/\S/) });
    expect(schema.types[token("NodeRole")].enum?.map((e) => e.value)).toEqual(["control-plane", "worker"]);
    expect(schema.types[token("Cloud")].enum?.map((e) => e.value)).toEqual(["aws", "gcp"]);
  });

  it("gives each component's outputs: data, or resources of the Pulumi packages by reference", () => {
    const outputs = (c: string) => schema.resources[token(c)].properties;
    expect(outputs("Cluster")).toMatchObject({
      kubeconfig: { type: "string" },
      apiEndpoint: { type: "string" },
      clusterId: { type: "string" },
      caCertPem: { type: "string" },
      nodeTable: { type: "array", items: { $ref: `#/types/${token("NodeRow")}` } },
      joinToken: { $ref: `#/types/${token("TokenEntry")}` },
    });
    expect(outputs("Cilium")).toMatchObject({
      release: { $ref: expect.stringMatching(K8S_REF) },
      podMtu: { type: "number" },
      chartVersion: { type: "string" },
    });
    expect(outputs("NodeRouter")).toMatchObject({ daemonSet: { $ref: expect.stringMatching(K8S_REF) }, namespace: { type: "string" } });
  });

  it("marks exactly the credential-bearing outputs secret: the kubeconfig and the join token", () => {
    expect(secretPaths(schema).sort()).toEqual([`${token("Cluster")}.joinToken`, `${token("Cluster")}.kubeconfig`]);
    expect(
      Object.entries(SECRET_OUTPUTS)
        .flatMap(([c, o]) => o.map((x) => `${token(c)}.${x}`))
        .sort(),
    ).toEqual(secretPaths(schema).sort());
  });
});

describe("Construct", () => {
  const built: Record<string, ConstructResult> = {};

  it("builds a small cluster in both clouds: its nodes, addresses and PKI under it, on the providers the program passed", async () => {
    const { result, registered } = await build("Cluster", "mesh", CLUSTER_INPUTS, { aws: providerRefs.aws, gcp: providerRefs.gcp });
    built.Cluster = result;
    expect(result.urn).toBe(`urn:pulumi:${STACK}::${PROJECT}::wg-mesh:cluster:Cluster::mesh`);
    const children = descendants(registered, result.urn).filter((r) => r.custom);
    expect(children.length).toBe(registered.filter((r) => r.custom).length);
    const count = (type: string) => children.filter((r) => r.type === type).length;
    // GCP: the node's static external address and its reserved internal (private) one.
    expect({
      aws: count("aws:ec2/instance:Instance"),
      gcp: count("gcp:compute/instance:Instance"),
      eips: count("aws:ec2/eip:Eip"),
      gcpAddresses: count("gcp:compute/address:Address"),
    }).toEqual({ aws: 1, gcp: 1, eips: 1, gcpAddresses: 2 });
    expect(count("tls:index/selfSignedCert:SelfSignedCert")).toBeGreaterThan(0);
    for (const pkg of ["aws", "gcp"]) {
      const own = children.filter((r) => r.type.startsWith(`${pkg}:`));
      expect({ pkg, providers: [...new Set(own.map((r) => r.provider))] }).toEqual({ pkg, providers: [providerRefs[pkg]] });
    }
    expect(children.every((r) => r.name.startsWith("mesh"))).toBe(true);
  });

  it("returns every output the schema lists, the secret ones (and only those) as secrets", () => {
    const { properties } = schema.resources[token("Cluster")];
    expect(Object.keys(built.Cluster.state).sort()).toEqual(Object.keys(properties).sort());
    const secretInState = Object.entries(built.Cluster.state)
      .filter(([, v]) => isSecret(v))
      .map(([k]) => k);
    const marked = Object.entries(properties)
      .filter(([, p]) => p.secret)
      .map(([k]) => k);
    expect(secretInState.sort()).toEqual(marked.sort());
    const state = unwrapSecrets(built.Cluster.state);
    expect(state.kubeconfig).toContain("client-key-data");
    expect(state.joinToken.token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(state.nodeTable.map((n: { name: string; cloud: string }) => [n.name, n.cloud])).toEqual([
      ["mesh-aws-cp-0", "aws"],
      ["mesh-gcp-workers-0", "gcp"],
    ]);
  });

  it("installs Cilium and the node-router with the Kubernetes provider the program passed", async () => {
    const expected = {
      Cilium: ["kubernetes:cilium.io/v2:CiliumClusterwideNetworkPolicy", "kubernetes:helm.sh/v3:Release"],
      NodeRouter: [
        "kubernetes:apps/v1:DaemonSet",
        "kubernetes:core/v1:ConfigMap",
        "kubernetes:core/v1:ServiceAccount",
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
      ],
    };
    for (const [component, inputs] of [
      ["Cilium", CILIUM_INPUTS],
      ["NodeRouter", NODE_ROUTER_INPUTS],
    ] as const) {
      // The README's program: NodeRouter(..., opts=ResourceOptions(depends_on=[cilium])).
      const dependencies = component === "NodeRouter" ? [built.Cilium.urn] : [];
      const { result, registered } = await build(
        component,
        `mesh-${component.toLowerCase()}`,
        inputs,
        { kubernetes: providerRefs.kubernetes },
        { dependencies },
      );
      built[component] = result;
      const children = descendants(registered, result.urn).filter((r) => r.custom);
      expect({ component, types: [...new Set(children.map((r) => r.type))].sort() }).toEqual({ component, types: expected[component] });
      expect({ component, providers: [...new Set(children.map((r) => r.provider))] }).toEqual({ component, providers: [providerRefs.kubernetes] });
    }
    expect(unwrapSecrets(built.Cilium.state).podMtu).toBe(1460 - 95); // the default chart (1.20): Cilium subtracts 95 bytes for WireGuard
    // The agent steers into cilium_wg0: its DaemonSet waits for Cilium, passed across the language boundary.
    const daemonSet = engine.registrations.find((r) => r.type === "kubernetes:apps/v1:DaemonSet" && r.urn.includes("mesh-noderouter"));
    expect(daemonSet?.dependencies).toContain(built.Cilium.urn);
  });

  it("refuses bad input with an error that names the field, before registering any child", async () => {
    const before = engine.registrations.length;
    await expect(
      build("NodeRouter", "bad", { ...NODE_ROUTER_INPUTS, image: "ghcr.io/example/node-router:latest" }, { kubernetes: providerRefs.kubernetes }),
    ).rejects.toThrow(/image/);
    const gcpOnly = Object.fromEntries(Object.entries(CLUSTER_INPUTS).filter(([k]) => k !== "aws"));
    await expect(build("Cluster", "no-aws", gcpOnly, { gcp: providerRefs.gcp })).rejects.toThrow(/nodes are in AWS but args\.aws is not set/);
    expect(engine.registrations.slice(before).filter((r) => r.custom)).toEqual([]);
  });
});

describe("README's Python program", () => {
  const readme = readFileSync(join(PLUGIN_DIR, "..", "README.md"), "utf8");
  it("uses only names the generated Python SDK has, with every required input", () => {
    const blocks = pythonBlocks(readme);
    expect(blocks.length).toBe(1);
    const usage = pythonUsage(blocks[0], PACKAGE_NAME);
    expect(usage.calls.map((c) => c.call)).toEqual(expect.arrayContaining(["Cluster", "Cilium", "NodeRouter", "NodeSpecArgs"]));
    expect(usage.reads.map((r) => r.attr)).toEqual(expect.arrayContaining(["kubeconfig", "cluster_id", "published_node_table"]));
    expect(checkAgainstSchema(usage, schema)).toEqual([]);
  });
});
