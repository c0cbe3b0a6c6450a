import { renderCloudInit } from "./cloudInit";
import { exampleNodes } from "../../../test/fixtures/bootstrap";
import type { NodeBootstrap } from "./types";
import { validateBootstrap } from "./validate";
import { validateStackConfig } from "../../../infra/validate";
import { TEST_IMAGE } from "../../../test/fixtures/images";

const worker = exampleNodes["aws worker"];
const cp = exampleNodes["gcp second control-plane"];

it("accepts every example node", () => {
  for (const n of Object.values(exampleNodes)) expect(() => validateBootstrap(n)).not.toThrow();
});

it.each<[string, NodeBootstrap, RegExp]>([
  ["node name", { ...worker, nodeName: "Bad_Name" }, /NodeBootstrap\.nodeName = "Bad_Name" is invalid: use a DNS label/],
  ["node IP", { ...worker, nodeIp: "10.0.0.300" }, /NodeBootstrap\.nodeIp .* dotted-quad IPv4/],
  [
    "control plane without an address",
    { ...worker, controlPlanes: [{ name: "demo-aws-cp-0", ip: "" }] },
    /NodeBootstrap\.controlPlanes\[0\]\.ip .* dotted-quad IPv4/,
  ],
  ["no control planes", { ...worker, controlPlanes: [] }, /NodeBootstrap\.controlPlanes .* at least one/],
  ["certificate name", { ...worker, extraCertSans: ["https://api.example.com:6443"] }, /NodeBootstrap\.extraCertSans\[0\] .* host name or IPv4/],
  ["CA certificate", { ...worker, caCertPem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" }, /NodeBootstrap\.caCertPem .* one PEM block/],
  ["agent image by tag", { ...worker, agentImage: "ghcr.io/example/node-router:1.0" }, /NodeBootstrap\.agentImage .* <repo>@sha256:<64 hex>/],
  ["v-prefixed version", { ...worker, kubernetesVersion: "v1.34.2" }, /kubernetesVersion .* without a leading v/],
  ["containerd version", { ...worker, containerdVersion: "1.7" }, /containerdVersion .* "1.7.28"/],
  ["pod CIDR", { ...worker, podCidr: "10.244.0.0" }, /podCidr .* CIDR notation/],
  ["discovery hash", { ...worker, discoveryHash: "abc" }, /discoveryHash .* discoveryTokenCaCertHash/],
  ["init on a worker", { ...worker, mayInit: true }, /NodeBootstrap\.mayInit .* only a control-plane node/],
  ["PKI secret on a worker", { ...worker, pkiSecret: { aws: { region: "eu-west-1", secretId: "x" } } }, /workers must not get the PKI bundle/],
  ["control plane without secret", { ...cp, pkiSecret: undefined }, /gcp control-plane node needs pkiSecret\.gcp/],
  ["control plane with the other cloud's secret", { ...cp, pkiSecret: { aws: { region: "eu-west-1", secretId: "x" } } }, /needs pkiSecret\.gcp/],
  [
    "GCP secret given as a full name",
    { ...cp, pkiSecret: { gcp: { project: "demo-project-123", secretId: "projects/p/secrets/s" } } },
    /pkiSecret\.gcp\.secretId .* short secret id/,
  ],
  [
    "AWS secret id with shell metacharacters",
    { ...exampleNodes["aws first control-plane"], pkiSecret: { aws: { region: "eu-west-1", secretId: "x';reboot;'" } } },
    /pkiSecret\.aws\.secretId/,
  ],
  [
    "control plane missing from the list",
    { ...cp, controlPlanes: [{ name: "demo-aws-cp-0", ip: "203.0.113.10" }] },
    /include this control-plane node \(demo-gcp-cp-1, 198\.51\.100\.21\)/,
  ],
  // The boot guard's table and settings, checked by the agent's own parsers.
  [
    "node table the agent refuses",
    { ...worker, nodeTable: '{"podCidrs":["10.244.0.0/16"],"nodes":[{"name":"demo-aws-workers-0","role":"worker","addresses":["10.244.1.1"]}]}' },
    /NodeBootstrap\.nodeTable .* the agent parses: nodes\[0\] .*lies inside the pod CIDR 10\.244\.0\.0\/16/,
  ],
  [
    "node table without this node",
    { ...worker, nodeTable: '{"podCidrs":["10.244.0.0/16"],"nodes":[{"name":"other","role":"worker","addresses":["203.0.113.99"]}]}' },
    /list this node \(demo-aws-workers-0\) in the node table/,
  ],
  [
    "guard mark",
    { ...worker, guard: { ...worker.guard, wgMark: "0xe00x" } },
    /NodeBootstrap\.guard .* as the DaemonSet runs it: --wg-mark \/ NODE_ROUTER_WG_MARK = "0xe00x": must be a decimal or 0x-hex integer/,
  ],
  [
    "guard mark outside the mask",
    { ...worker, guard: { ...worker.guard, wgMark: "0x1e00" } },
    /NodeBootstrap\.guard .*--wg-mark 0x1e00 has bits outside --wg-mask 0xf00/,
  ],
  [
    "guard setting the agent does not have",
    { ...worker, guard: { ...worker.guard, wgMarks: "0xe00" } },
    /NodeBootstrap\.guard .* guard\.wgMarks is not a setting of the node-router agent/,
  ],
])("rejects a bad %s, naming the field and the fix", (_what, node, message) => {
  expect(() => validateBootstrap(node)).toThrow(message);
  expect(() => renderCloudInit(node)).toThrow(message);
});

it.each<[string, NodeBootstrap, RegExp]>([
  ["no join-token secret", { ...worker, joinTokenSecret: {} }, /aws worker node needs joinTokenSecret\.aws/],
  [
    "the other cloud's join-token secret",
    { ...cp, joinTokenSecret: { aws: { region: "eu-west-1", secretId: "demo/join-token" } } },
    /needs joinTokenSecret\.gcp/,
  ],
  [
    "a join-token secret id with shell metacharacters",
    { ...worker, joinTokenSecret: { aws: { region: "eu-west-1", secretId: "x';reboot;'" } } },
    /joinTokenSecret\.aws\.secretId/,
  ],
])("rejects %s, naming the field", (_what, node, message) => {
  expect(() => validateBootstrap(node)).toThrow(message);
});

// What the stack's schema accepts must render (and what the boot checks refuse must be refused by
// the schema, naming the stack key, before anything is registered): the edge cases of each
// format, through validateStackConfig and then into a node's user data.
describe("the stack schema and the boot checks agree", () => {
  const stack = (cluster: Record<string, unknown>, image = TEST_IMAGE) => ({
    cluster: { name: "demo", adminCidrs: ["203.0.113.0/24"], ...cluster } as Record<string, unknown>,
    nodeRouter: { image },
    aws: {
      region: "eu-west-1",
      vpcCidr: "10.10.0.0/16",
      subnetCidrs: { "eu-west-1a": "10.10.1.0/24" },
      ami: "ami-0abcdef1234567890",
      pools: [{ name: "cp", role: "control-plane", count: 1, machineType: "t3.medium", zone: "eu-west-1a" }],
    },
  });
  const digest = TEST_IMAGE.split("@")[1];
  it.each<[string, Record<string, unknown>, string]>([
    ["containerd at a new minor", { containerdVersion: "2.1.4" }, TEST_IMAGE],
    ["Kubernetes at a two-digit patch", { kubernetesVersion: "1.33.10" }, TEST_IMAGE],
    ["an image with a registry port and an upper-case tag", {}, `registry.example.com:5000/team/node-router:V1.2_rc@${digest}`],
  ])("accepted by the schema, renders: %s", (_what, cluster, image) => {
    const { model } = validateStackConfig(stack(cluster, image), "p");
    const node = {
      ...worker,
      kubernetesVersion: model.cluster.kubernetesVersion,
      containerdVersion: model.cluster.containerdVersion,
      agentImage: model.nodeRouter.image,
    };
    expect(renderCloudInit(node)).toMatch(/^#cloud-config\n/);
  });

  it.each<[string, (c: ReturnType<typeof stack>) => void, Partial<NodeBootstrap>, RegExp, RegExp]>([
    [
      "a Debian revision on containerd",
      (c) => (c.cluster.containerdVersion = "1.7.28-1"),
      { containerdVersion: "1.7.28-1" },
      /p:cluster\.containerdVersion: .*the upstream version alone/,
      /NodeBootstrap\.containerdVersion/,
    ],
    [
      "a leading v on Kubernetes",
      (c) => (c.cluster.kubernetesVersion = "v1.34.2"),
      { kubernetesVersion: "v1.34.2" },
      /p:cluster\.kubernetesVersion: /,
      /NodeBootstrap\.kubernetesVersion/,
    ],
    [
      "an upper-case repository",
      (c) => (c.nodeRouter.image = `Registry.example.com/node-router@${digest}`),
      { agentImage: `Registry.example.com/node-router@${digest}` },
      /p:nodeRouter\.image: /,
      /NodeBootstrap\.agentImage/,
    ],
    [
      "an AWS region written as its display name",
      (c) => (c.aws.region = "EU-West-1"),
      { joinTokenSecret: { aws: { region: "EU-West-1", secretId: "demo/join-token" } } },
      /p:aws\.region: an AWS region name/,
      /NodeBootstrap\.joinTokenSecret\.aws\.region/,
    ],
  ])("refused by the schema with the stack key, as the boot checks would: %s", (_what, change, node, schemaMessage, bootMessage) => {
    const c = stack({});
    change(c);
    expect(() => validateStackConfig(c, "p")).toThrow(schemaMessage);
    expect(() => validateBootstrap({ ...worker, ...node })).toThrow(bootMessage);
  });

  it("a GCP project given by its display name is refused by the schema, as by the boot checks", () => {
    const c = {
      cluster: { name: "demo", adminCidrs: ["203.0.113.0/24"] },
      nodeRouter: { image: TEST_IMAGE },
      gcp: {
        project: "My Project",
        region: "europe-west1",
        image: "projects/p/global/images/i",
        pools: [{ name: "cp", role: "control-plane", count: 1, machineType: "e2-standard-2", zone: "europe-west1-b" }],
      },
    };
    expect(() => validateStackConfig(c, "p")).toThrow(/p:gcp\.project: the GCP project id/);
    expect(() => validateBootstrap({ ...cp, joinTokenSecret: { gcp: { project: "My Project", secretId: "demo-join-token" } } })).toThrow(
      /NodeBootstrap\.joinTokenSecret\.gcp\.project/,
    );
  });
});
