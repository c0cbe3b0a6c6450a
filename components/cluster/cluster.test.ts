// The Cluster on its own, as another program (or another Pulumi language) would use it: its
// Args as plain data, the cloud providers through resource options, no program around it.
import * as aws from "@pulumi/aws";
import { installMocks, ofType, settle, type Recorded } from "../../test/pulumiMocks";
import { TEST_IMAGE } from "../../test/fixtures/images";
import type { ClusterArgs } from "./args";
import { Cluster } from "./cluster";
import { expandPools } from "./nodes";

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

test("without `admission`, every node waits only for its own cloud prerequisites, as the founder does", () => {
  const instances = ofType(recorded, "aws:ec2/instance:Instance");
  expect(instances).toHaveLength(3);
  const typeOf = (urn: string) => recorded.find((r) => r.urn === urn)?.type ?? `unknown ${urn}`;
  const kinds = (i: Recorded) => [...new Set(i.dependencies.map(typeOf))].sort();
  // Its address, interface and identity, its secrets, and what its user data is made of (addresses, the CA).
  expect(kinds(instances[0])).toEqual(["aws:ec2/eip:Eip", "aws:ec2/eipAssociation:EipAssociation", "aws:ec2/networkInterface:NetworkInterface", "aws:iam/rolePolicy:RolePolicy",
    "aws:secretsmanager/secretVersion:SecretVersion", "tls:index/selfSignedCert:SelfSignedCert"]);
  for (const i of instances.slice(1)) expect([i.name, kinds(i)]).toEqual([i.name, kinds(instances[0])]);
});

test("control: with `admission`, every node but the founder waits for it", async () => {
  const provider = new aws.Provider("gated-aws", { region: "eu-west-1" });
  const gate = new aws.s3.Bucket("gate", {}, { provider });
  const gated = new Cluster("gated", { ...args, nodes: expandPools("gated", "aws", [{ name: "cp", role: "control-plane", count: 1, machineType: "t3.medium", zone: "eu-west-1a", diskSizeGb: 50 }, { name: "w", role: "worker", count: 1, machineType: "t3.large", zone: "eu-west-1a", diskSizeGb: 50 }]) },
    { providers: [provider], admission: Promise.resolve([gate]) });
  await new Promise((resolve) => gated.nodeTableDocument.apply(resolve));
  await settle();
  const gateUrn = recorded.find((r) => r.name === "gate")!.urn;
  const waits = Object.fromEntries(ofType(recorded, "aws:ec2/instance:Instance").filter((i) => i.name.startsWith("gated-")).map((i) => [i.inputs.tags.Name, i.dependencies.includes(gateUrn)]));
  expect(waits).toEqual({ "gated-aws-cp-0": false, "gated-aws-w-0": true });
});

test("its outputs are data: the join token (secret) and the node table", async () => {
  const token = await new Promise<{ token: string; expires: string }>((resolve) => cluster.joinToken.apply(resolve));
  expect(token.token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  expect(Date.parse(token.expires)).toBeGreaterThan(Date.now());
  const rows = await new Promise<{ name: string; role: string }[]>((resolve) => cluster.nodeTable.apply(resolve));
  expect(rows.map((r) => `${r.name}/${r.role}`)).toEqual(["solo-aws-cp-0/control-plane", "solo-aws-w-0/worker", "solo-aws-w-1/worker"]);
  expect(cluster.ready.urn).toBeDefined();
});

test("a node-router agent it cannot boot safely is refused at construction, naming the field", () => {
  const before = recorded.length;
  expect(() => new Cluster("bad", { ...args, nodeRouter: { image: TEST_IMAGE, settings: { exemptPorts: ["22"] } } }))
    .toThrow(/bad: nodeRouter\.exemptPorts: 22 outside the bootstrap ports 6443,2379-2380/);
  expect(() => new Cluster("bad2", { ...args, nodeRouter: { image: "ghcr.io/acme/node-router:latest" } })).toThrow(/bad2: nodeRouter\.image: .*not pinned by digest/);
  expect(recorded.slice(before).filter((r) => r.name.startsWith("bad"))).toEqual([]);
});

test("nodes in a cloud without its placement are refused", () => {
  expect(() => new Cluster("nogcp", { ...args, nodes: [...args.nodes, ...expandPools("nogcp", "gcp", [{ name: "w", role: "worker", count: 1, machineType: "e2", zone: "europe-west1-b", diskSizeGb: 50 }])] }))
    .toThrow(/nogcp: 1 nodes are in GCP but args\.gcp is not set/);
});
