// The Cluster on its own, as another program (or another Pulumi language) would use it: its
// Args as plain data, the cloud providers through resource options, no program around it.
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import { installMocks, ofType, settle, type Recorded } from "../../test/pulumiMocks";
import { TEST_IMAGE } from "../../test/fixtures/images";
import type { ClusterArgs } from "./args";
import { Cluster } from "./cluster";
import { expandPools } from "../core/nodes";

const args: ClusterArgs = {
  kubernetesVersion: "1.34.2",
  containerdVersion: "1.7.28",
  podCidr: "10.244.0.0/16",
  serviceCidr: "10.96.0.0/12",
  joinTokenTtlHours: 4,
  adminCertValidityHours: 720,
  nodes: expandPools("solo", "aws", [
    { name: "cp", role: "control-plane", count: 1, machineType: "t3.medium", zone: "eu-west-1a", diskSizeGb: 50 },
    { name: "w", role: "worker", count: 2, machineType: "t3.large", zone: "eu-west-1a", diskSizeGb: 50 },
  ]),
  aws: { region: "eu-west-1", ami: "ami-0abcdef1234567890", vpcCidr: "10.10.0.0/16", subnets: { "eu-west-1a": "10.10.1.0/24" } },
  nodeRouter: { image: TEST_IMAGE },
};

let recorded: Recorded[];
let cluster: Cluster;

beforeAll(async () => {
  recorded = await installMocks("wg-mesh-cluster", "solo");
  const provider = new aws.Provider("solo-aws", { region: "eu-west-1" });
  cluster = new Cluster("solo", args, { providers: [provider] });
  await new Promise((resolve) => cluster.nodeTableDocument.apply(resolve));
  await settle();
});

test("the AWS provider from the options reaches every AWS resource", () => {
  const awsResources = recorded.filter((r) => r.type.startsWith("aws:"));
  expect(awsResources.length).toBeGreaterThan(10);
  for (const r of awsResources) expect([r.name, r.options.provider]).toEqual([r.name, expect.stringMatching(/pulumi:providers:aws::solo-aws::/)]);
});

test("with publishInCluster false and no `admission`, every node waits only for its own cloud prerequisites, as the founder does", async () => {
  const provider = new aws.Provider("bare-aws", { region: "eu-west-1" });
  const bare = new Cluster(
    "bare",
    {
      ...args,
      nodes: expandPools("bare", "aws", [
        { name: "cp", role: "control-plane", count: 1, machineType: "t3.medium", zone: "eu-west-1a", diskSizeGb: 50 },
        { name: "w", role: "worker", count: 2, machineType: "t3.large", zone: "eu-west-1a", diskSizeGb: 50 },
      ]),
      publishInCluster: false,
    },
    { providers: [provider] },
  );
  await new Promise((resolve) => bare.nodeTableDocument.apply(resolve));
  await settle();
  const instances = ofType(recorded, "aws:ec2/instance:Instance").filter((i) => i.name.startsWith("bare-"));
  expect(instances).toHaveLength(3);
  const typeOf = (urn: string) => recorded.find((r) => r.urn === urn)?.type ?? `unknown ${urn}`;
  const kinds = (i: Recorded) => [...new Set(i.dependencies.map(typeOf))].sort();
  // Its address, interface and identity, its secrets, and what its user data is made of (addresses, the CA).
  expect(kinds(instances[0])).toEqual([
    "aws:ec2/eip:Eip",
    "aws:ec2/eipAssociation:EipAssociation",
    "aws:ec2/networkInterface:NetworkInterface",
    "aws:iam/instanceProfile:InstanceProfile",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:secretsmanager/secretVersion:SecretVersion",
    "tls:index/selfSignedCert:SelfSignedCert",
  ]);
  for (const i of instances.slice(1)) expect([i.name, kinds(i)]).toEqual([i.name, kinds(instances[0])]);
  expect(recorded.filter((r) => r.name.startsWith("bare") && r.type.startsWith("kubernetes:"))).toEqual([]);
  expect(bare.kubernetesProvider).toBeUndefined();
  expect(bare.publishedNodeTable).toBeUndefined();
});

test("by default it publishes the join token and the node table through its own Kubernetes provider, and every node but the founder waits for both", async () => {
  const mine = (type: string) => recorded.filter((r) => r.type === type && r.name.startsWith("solo-"));
  const [provider] = mine("pulumi:providers:kubernetes");
  const [secret] = mine("kubernetes:core/v1:Secret");
  const [configMap] = mine("kubernetes:core/v1:ConfigMap");
  const ready = recorded.find((r) => r.name === "solo-api-ready")!;
  expect([provider.name, secret.name, configMap.name]).toEqual(["solo-k8s", "solo-join-token", "solo-node-table"]);
  // The provider is the cluster's: its kubeconfig, replaced exactly when the cluster is new, after the API answers.
  expect(provider.inputs).toEqual(
    expect.objectContaining({ clusterIdentifier: ready.state.clusterId, deleteUnreachable: "true", enableServerSideApply: "true" }),
  );
  expect(provider.dependencies).toContain(ready.urn);
  expect(await new Promise<string>((resolve) => cluster.kubernetesProvider!.urn.apply(resolve))).toBe(provider.urn);
  for (const r of [secret, configMap]) {
    expect([r.name, r.options.provider, r.options.deletedWith]).toEqual([r.name, expect.stringMatching(/pulumi:providers:kubernetes::solo-k8s::/), ready.urn]);
  }
  const token = await new Promise<{ token: string }>((resolve) => cluster.joinToken.apply(resolve));
  expect(secret.inputs.metadata).toEqual(expect.objectContaining({ name: `bootstrap-token-${token.token.split(".")[0]}`, namespace: "kube-system" }));
  expect(secret.inputs.type).toBe("bootstrap.kubernetes.io/token");
  expect(configMap.inputs.metadata).toEqual(expect.objectContaining({ name: "node-router-node-table", namespace: "kube-system" }));
  expect(configMap.inputs.data["node-table.json"]).toBe(await new Promise<string>((resolve) => cluster.nodeTableDocument.apply(resolve)));
  expect(await new Promise<string>((resolve) => cluster.publishedNodeTable!.apply(resolve))).toBe("node-router-node-table");
  const waits = Object.fromEntries(
    mine("aws:ec2/instance:Instance").map((i) => [i.inputs.tags.Name, [secret.urn, configMap.urn].filter((u) => i.dependencies.includes(u)).length]),
  );
  expect(waits).toEqual({ "solo-aws-cp-0": 0, "solo-aws-w-0": 2, "solo-aws-w-1": 2 });
});

test("control: with `admission` too, every node but the founder waits for it and for what the Cluster publishes", async () => {
  const provider = new aws.Provider("gated-aws", { region: "eu-west-1" });
  const gate = new aws.s3.Bucket("gate", {}, { provider });
  const gated = new Cluster(
    "gated",
    {
      ...args,
      nodes: expandPools("gated", "aws", [
        { name: "cp", role: "control-plane", count: 1, machineType: "t3.medium", zone: "eu-west-1a", diskSizeGb: 50 },
        { name: "w", role: "worker", count: 1, machineType: "t3.large", zone: "eu-west-1a", diskSizeGb: 50 },
      ]),
    },
    { providers: [provider], admission: Promise.resolve([gate]) },
  );
  await new Promise((resolve) => gated.nodeTableDocument.apply(resolve));
  await settle();
  const gates = [recorded.find((r) => r.name === "gate")!.urn, recorded.find((r) => r.name === "gated-node-table")!.urn];
  const waits = Object.fromEntries(
    ofType(recorded, "aws:ec2/instance:Instance")
      .filter((i) => i.name.startsWith("gated-"))
      .map((i) => [i.inputs.tags.Name, gates.map((g) => i.dependencies.includes(g))]),
  );
  expect(waits).toEqual({ "gated-aws-cp-0": [false, false], "gated-aws-w-0": [true, true] });
});

test("its outputs are data: the join token (secret) and the node table", async () => {
  const token = await new Promise<{ token: string; expires: string }>((resolve) => cluster.joinToken.apply(resolve));
  expect(token.token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  expect(Date.parse(token.expires)).toBeGreaterThan(Date.now());
  const rows = await new Promise<{ name: string; role: string }[]>((resolve) => cluster.nodeTable.apply(resolve));
  expect(rows.map((r) => `${r.name}/${r.role}`)).toEqual(["solo-aws-cp-0/control-plane", "solo-aws-w-0/worker", "solo-aws-w-1/worker"]);
  expect(await new Promise<string>((resolve) => cluster.ready.urn.apply(resolve))).toBe(recorded.find((r) => r.name === "solo-api-ready")!.urn);
});

/** Every node's table entry: its addresses by name. */
const tableOf = async (c: Cluster) => {
  const doc = JSON.parse(await new Promise<string>((resolve) => c.nodeTableDocument.apply(resolve))) as { nodes: { name: string; addresses: string[] }[] };
  return Object.fromEntries(doc.nodes.map((n) => [n.name, n.addresses]));
};

test("AWS: every node's table entry lists its public address first and its private one, the ENI's, from the subnet plan", async () => {
  const table = await tableOf(cluster);
  const enis = Object.fromEntries(
    ofType(recorded, "aws:ec2/networkInterface:NetworkInterface")
      .filter((e) => e.name.startsWith("solo-"))
      .map((e) => [e.inputs.tags.Name, e.inputs.privateIps]),
  );
  const eips = Object.fromEntries(
    ofType(recorded, "aws:ec2/eip:Eip")
      .filter((e) => e.name.startsWith("solo-"))
      .map((e) => [e.inputs.tags.Name, e.state.publicIp]),
  );
  expect(Object.keys(table)).toEqual(["solo-aws-cp-0", "solo-aws-w-0", "solo-aws-w-1"]);
  for (const [name, addresses] of Object.entries(table)) {
    expect([name, addresses]).toEqual([name, [eips[name], enis[name][0]]]);
    expect([name, enis[name]]).toEqual([name, [expect.stringMatching(/^10\.10\.1\.\d+$/)]]);
  }
  // The subnet's reserved addresses (.0-.3, .255) are never used; each pool owns its block.
  expect(Object.values(table).map((a) => a[1])).toEqual(["10.10.1.4", "10.10.1.66", "10.10.1.67"]);
  // An interface keeps its address once created: a program upgrade never replaces an interface
  // (and so its instance) that EC2 addressed before the plan existed.
  const eniOptions = ofType(recorded, "aws:ec2/networkInterface:NetworkInterface")
    .filter((e) => e.name.startsWith("solo-"))
    .map((e) => [e.inputs.tags.Name, e.options.ignoreChanges]);
  expect(eniOptions).toEqual(Object.keys(table).map((name) => [name, ["privateIps"]]));
  const rows = await new Promise<{ name: string; address: string; privateAddress: string }[]>((resolve) => cluster.nodeTable.apply(resolve));
  expect(rows.map((r) => [r.name, r.address, r.privateAddress])).toEqual(Object.entries(table).map(([name, a]) => [name, ...a]));
});

test("GCP: every node's table entry lists its private address, reserved as a static INTERNAL address that is the instance's networkIp", async () => {
  const provider = new gcp.Provider("g-gcp", { project: "demo-project-123", region: "europe-west1" });
  const g = new Cluster(
    "g",
    {
      ...args,
      nodes: expandPools("g", "gcp", [
        { name: "cp", role: "control-plane", count: 1, machineType: "e2-standard-2", zone: "europe-west1-b", diskSizeGb: 50 },
        { name: "w", role: "worker", count: 2, machineType: "e2-standard-2", zone: "europe-west1-b", diskSizeGb: 50 },
      ]),
      aws: undefined,
      gcp: {
        project: "demo-project-123",
        region: "europe-west1",
        subnetCidr: "10.20.1.0/24",
        image: "projects/ubuntu-os-cloud/global/images/ubuntu-2404-noble-amd64-v20260101",
      },
    },
    { providers: [provider] },
  );
  const table = await tableOf(g);
  await settle();
  const addresses = ofType(recorded, "gcp:compute/address:Address").filter((a) => a.name.startsWith("g-"));
  const internal = Object.fromEntries(addresses.filter((a) => a.inputs.addressType === "INTERNAL").map((a) => [a.inputs.name.replace(/-internal$/, ""), a]));
  const external = Object.fromEntries(addresses.filter((a) => a.inputs.addressType === "EXTERNAL").map((a) => [a.inputs.name, a.state.address]));
  const instances = Object.fromEntries(
    ofType(recorded, "gcp:compute/instance:Instance")
      .filter((i) => i.name.startsWith("g-"))
      .map((i) => [i.inputs.name, i.inputs.networkInterfaces[0]]),
  );
  expect(Object.keys(table)).toEqual(["g-gcp-cp-0", "g-gcp-w-0", "g-gcp-w-1"]);
  for (const [name, [pub, priv]] of Object.entries(table)) {
    expect([name, pub]).toEqual([name, external[name]]);
    expect([name, internal[name].inputs]).toEqual([
      name,
      expect.objectContaining({ address: priv, addressType: "INTERNAL", purpose: "GCE_ENDPOINT", subnetwork: expect.any(String) }),
    ]);
    expect([name, instances[name].networkIp, instances[name].accessConfigs[0].natIp]).toEqual([name, priv, pub]);
  }
  // GCP keeps .0, .1 and the last two: the first pool starts at .2.
  expect(Object.values(table).map((a) => a[1])).toEqual(["10.20.1.2", "10.20.1.65", "10.20.1.66"]);
});

test("nodes that do not fit their subnet are refused at construction, naming the subnet and the fix", () => {
  const before = recorded.length;
  const many = expandPools("crowded", "aws", [{ name: "w", role: "control-plane", count: 63, machineType: "t3.large", zone: "eu-west-1a", diskSizeGb: 50 }]);
  expect(() => new Cluster("crowded", { ...args, nodes: many })).toThrow(
    /crowded: the nodes do not fit their subnets: 63 nodes, but a pool's block of zone eu-west-1a's subnet 10\.10\.1\.0\/24 holds 62 .*aws\.subnetCidrs\.eu-west-1a/,
  );
  expect(recorded.slice(before).filter((r) => r.name.startsWith("crowded"))).toEqual([]);
});

test("a node-router agent it cannot boot safely is refused at construction, naming the field", () => {
  const before = recorded.length;
  expect(() => new Cluster("bad", { ...args, nodeRouter: { image: TEST_IMAGE, settings: { exemptPorts: ["22"] } } })).toThrow(
    /bad: nodeRouter\.exemptPorts: 22 outside the bootstrap ports 6443,2379-2380/,
  );
  expect(() => new Cluster("bad2", { ...args, nodeRouter: { image: "ghcr.io/acme/node-router:latest" } })).toThrow(
    /bad2: nodeRouter\.image: .*not pinned by digest/,
  );
  expect(recorded.slice(before).filter((r) => r.name.startsWith("bad"))).toEqual([]);
});

test("nodes in a cloud without its placement are refused", () => {
  expect(
    () =>
      new Cluster("nogcp", {
        ...args,
        nodes: [
          ...args.nodes,
          ...expandPools("nogcp", "gcp", [{ name: "w", role: "worker", count: 1, machineType: "e2", zone: "europe-west1-b", diskSizeGb: 50 }]),
        ],
      }),
  ).toThrow(/nogcp: 1 nodes are in GCP but args\.gcp is not set/);
});
