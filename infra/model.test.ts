// The one model: a stack config value followed to every place it lands, and the parts each
// component takes as they are.
import { TEST_IMAGE } from "../test/fixtures/images";
import { validateStackConfig } from "./validate";
import { agentEnv } from "../components/nodeRouter/agentEnv";
import { deployedAgentOrThrow, guardSettings } from "../components/nodeRouter/settings";
import { BOOTSTRAP_PORTS, computeFirewallIntents } from "../components/core/firewallIntents";
import { parseSettings } from "../agent/src/settings";

const raw = (nodeRouter: Record<string, unknown> = {}) => ({
  cluster: { name: "demo", adminCidrs: ["203.0.113.0/24"] },
  nodeRouter: { image: TEST_IMAGE, ...nodeRouter },
  aws: {
    region: "eu-west-1",
    ami: "ami-0abcdef1234567890",
    subnetCidrs: { "eu-west-1a": "10.10.64.0/20" },
    pools: [
      { name: "cp", role: "control-plane", count: 1, machineType: "t3.medium", zone: "eu-west-1a" },
      { name: "w", role: "worker", count: 2, machineType: "t3.large", zone: "eu-west-1b" },
    ],
  },
  gcp: {
    project: "demo-project-123",
    region: "europe-west1",
    image: "projects/ubuntu-os-cloud/global/images/ubuntu-2404-noble-amd64-v20260101",
    pools: [{ name: "w", role: "worker", count: 1, machineType: "e2-standard-4", zone: "europe-west1-b" }],
  },
});
const modelOf = (nodeRouter?: Record<string, unknown>) => validateStackConfig(raw(nodeRouter), "proj").model;

describe("nodeRouter.exemptPorts, from the stack to the DaemonSet, the boot guard and the firewall", () => {
  const model = modelOf({ exemptPorts: [6443, "2379"] });
  const env = Object.fromEntries(agentEnv(deployedAgentOrThrow("test", model.nodeRouter)).map((e) => [e.name, e.value]));

  it("reaches the DaemonSet's environment and the boot-time guard as the same value, which the agent parses", () => {
    expect(env.NODE_ROUTER_EXEMPT_PORTS).toBe("6443,2379");
    const guard = guardSettings(deployedAgentOrThrow("test", model.cluster.nodeRouter));
    expect(model.cluster.nodeRouter).toBe(model.nodeRouter);
    expect(guard.exemptPorts).toBe(env.NODE_ROUTER_EXEMPT_PORTS);
    expect(parseSettings(["--exempt-ports", guard.exemptPorts], {}).exemptPorts).toEqual([
      { start: 6443, end: 6443 },
      { start: 2379, end: 2379 },
    ]);
  });

  it("stays inside the bootstrap ports, which the firewall opens towards control planes only", () => {
    const tcp = computeFirewallIntents(model.cluster.nodes, model.cluster.adminCidrs ?? []).filter((i) => i.protocol === "tcp" && i.source.kind === "nodes");
    expect(tcp.map((i) => i.ports)).toEqual(BOOTSTRAP_PORTS);
    for (const i of tcp) expect(i.targets).toEqual(["demo-aws-cp-0"]);
  });

  it("unset, deploys the agent's default in both places", () => {
    const defaults = modelOf();
    expect(defaults.nodeRouter.settings?.exemptPorts).toBeUndefined();
    const agent = deployedAgentOrThrow("test", defaults.nodeRouter);
    expect(guardSettings(agent).exemptPorts).toBe("6443,2379-2380");
    expect(Object.fromEntries(agentEnv(agent).map((e) => [e.name, e.value])).NODE_ROUTER_EXEMPT_PORTS).toBe("6443,2379-2380");
  });
});

describe("the model each component takes", () => {
  const model = modelOf({ wgMark: 0x1e00, wgMask: "0xff00", steeringTable: 100 });

  it("Cluster: nodes expanded once in the stable order, every zone's subnet resolved, the clouds' placements", () => {
    expect(model.cluster.nodes.map((n) => `${n.name}/${n.role}`)).toEqual([
      "demo-aws-cp-0/control-plane",
      "demo-aws-w-0/worker",
      "demo-aws-w-1/worker",
      "demo-gcp-w-0/worker",
    ]);
    expect(model.cluster.aws?.subnets).toEqual({ "eu-west-1a": "10.10.64.0/20", "eu-west-1b": "10.10.2.0/24" });
    expect(model.cluster.gcp).toEqual({
      project: "demo-project-123",
      region: "europe-west1",
      subnetCidr: "10.20.1.0/24",
      image: expect.stringMatching(/^projects\//),
    });
    expect(model.cluster.nodeRouter.image).toBe(TEST_IMAGE);
    expect(model.providers).toEqual({ aws: { region: "eu-west-1" }, gcp: { project: "demo-project-123", region: "europe-west1" } });
  });

  it("Cilium: the node-local API proxy, both clouds' path MTUs, keepalive across NAT", () => {
    expect(model.cilium).toMatchObject({
      podCidrV4: "10.244.0.0/16",
      k8sServiceHost: "127.0.0.1",
      k8sServicePort: 7445,
      underlayMtus: { aws: 1500, gcp: 1460 },
      behindNat: true,
      multiCloud: true,
    });
  });

  it("NodeRouter and the boot guard: one agent, by the agent's own names, as the agent reads them", () => {
    expect(model.nodeRouter.settings).toMatchObject({ wgMark: "7680", wgMask: "0xff00", steeringTable: 100 });
    expect(model.cluster.nodeRouter).toBe(model.nodeRouter);
    expect(guardSettings(deployedAgentOrThrow("test", model.cluster.nodeRouter))).toMatchObject({
      device: "cilium_wg0",
      wgMark: "7680",
      wgMask: "0xff00",
      exemptPorts: "6443,2379-2380",
      exemptReplyMark: "0x4000000",
      metadataCgroups: "system.slice",
    });
  });

  it("NodeRouter: nodeRouter.imagePullSecrets as given (the DaemonSet's pod spec takes them), none when unset", () => {
    expect(modelOf({ imagePullSecrets: ["ghcr-pull"] }).nodeRouter.imagePullSecrets).toEqual(["ghcr-pull"]);
    expect(model.nodeRouter.imagePullSecrets).toBeUndefined();
  });
});

describe("cluster.wireguardFrom, from the stack to the firewall intents", () => {
  const withWireguardFrom = (value?: string) => {
    const r = raw();
    return validateStackConfig({ ...r, cluster: { ...r.cluster, ...(value === undefined ? {} : { wireguardFrom: value }) } }, "proj").model;
  };
  const intentsOf = (m: ReturnType<typeof withWireguardFrom>) =>
    Object.fromEntries(computeFirewallIntents(m.cluster.nodes, m.cluster.adminCidrs ?? [], m.cluster.wireguardFrom).map((i) => [i.id, i]));

  it("defaults to nodes: WireGuard from every node, as before the key existed", () => {
    const m = withWireguardFrom();
    expect(m.cluster.wireguardFrom).toBe("nodes");
    expect(intentsOf(m).wireguard.source).toEqual({ kind: "nodes", nodes: m.cluster.nodes.map((n) => n.name) });
  });

  it("anywhere reaches the Cluster's args and opens WireGuard alone from 0.0.0.0/0; the bootstrap ports stay per node", () => {
    const m = withWireguardFrom("anywhere");
    expect(m.cluster.wireguardFrom).toBe("anywhere");
    const intents = intentsOf(m);
    expect(intents.wireguard.source).toEqual({ kind: "cidrs", cidrs: ["0.0.0.0/0"] });
    expect(intents.apiserver.source).toEqual({ kind: "nodes", nodes: m.cluster.nodes.map((n) => n.name) });
    expect(intents.etcd.source).toEqual({ kind: "nodes", nodes: ["demo-aws-cp-0"] });
  });
});
