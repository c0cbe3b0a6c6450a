import { computeFirewallIntents, intentsFor, WIREGUARD_PORT, type WireguardFrom } from "./firewallIntents";
import { expandPools } from "./nodes";

const nodes = [
  ...expandPools("c", "aws", [{ name: "cp", role: "control-plane", count: 1, machineType: "m", zone: "z", diskSizeGb: 50 }]),
  ...expandPools("c", "gcp", [{ name: "w", role: "worker", count: 2, machineType: "m", zone: "z", diskSizeGb: 50 }]),
];

describe("computeFirewallIntents", () => {
  const intents = computeFirewallIntents(nodes, ["203.0.113.0/24"]);
  const byId = Object.fromEntries(intents.map((i) => [i.id, i]));

  it("opens WireGuard from every node to every node", () => {
    expect(byId.wireguard).toMatchObject({ protocol: "udp", ports: { start: WIREGUARD_PORT, end: WIREGUARD_PORT } });
    expect(byId.wireguard.source).toEqual({ kind: "nodes", nodes: nodes.map((n) => n.name) });
    expect(byId.wireguard.targets).toEqual(nodes.map((n) => n.name));
  });

  it("aims the bootstrap ports only at control-plane nodes; etcd only from them", () => {
    expect(byId.apiserver.targets).toEqual(["c-aws-cp-0"]);
    expect(byId.etcd).toMatchObject({ ports: { start: 2379, end: 2380 }, source: { kind: "nodes", nodes: ["c-aws-cp-0"] }, targets: ["c-aws-cp-0"] });
    expect(byId["admin-apiserver"]).toMatchObject({ source: { kind: "cidrs", cidrs: ["203.0.113.0/24"] }, targets: ["c-aws-cp-0"] });
  });

  it("admits ICMP fragmentation-needed only, and no other protocol or port", () => {
    expect(byId.pmtu).toMatchObject({ protocol: "icmp", icmp: { type: 3, code: 4 } });
    expect(intents.map((i) => i.id).sort()).toEqual(["admin-apiserver", "apiserver", "etcd", "pmtu", "wireguard"]);
  });

  it("omits the admin rule without admin CIDRs, and gives workers only WireGuard and ICMP", () => {
    const noAdmin = computeFirewallIntents(nodes, []);
    expect(noAdmin.some((i) => i.id === "admin-apiserver")).toBe(false);
    expect(
      intentsFor(noAdmin, ["c-gcp-w-0"])
        .map((i) => i.id)
        .sort(),
    ).toEqual(["pmtu", "wireguard"]);
  });
});

describe("computeFirewallIntents with wireguardFrom", () => {
  const byId = (from: WireguardFrom) => Object.fromEntries(computeFirewallIntents(nodes, ["203.0.113.0/24"], from).map((i) => [i.id, i]));

  it("nodes, the default: the intents as without it", () => {
    expect(computeFirewallIntents(nodes, ["203.0.113.0/24"], "nodes")).toEqual(computeFirewallIntents(nodes, ["203.0.113.0/24"]));
  });

  it("anywhere: WireGuard, still only its port to every node, from 0.0.0.0/0 as the ICMP intent writes it (IPv4 only)", () => {
    const anywhere = byId("anywhere");
    expect(anywhere.wireguard).toMatchObject({ protocol: "udp", ports: { start: WIREGUARD_PORT, end: WIREGUARD_PORT }, targets: nodes.map((n) => n.name) });
    expect(anywhere.wireguard.source).toEqual({ kind: "cidrs", cidrs: ["0.0.0.0/0"] });
    expect(anywhere.wireguard.source).toEqual(anywhere.pmtu.source);
  });

  it("anywhere: every other intent keeps its per-node sources", () => {
    const anywhere = byId("anywhere");
    const perNode = byId("nodes");
    for (const id of ["apiserver", "etcd", "pmtu", "admin-apiserver"]) expect({ id, intent: anywhere[id] }).toEqual({ id, intent: perNode[id] });
    expect(anywhere.apiserver.source).toEqual({ kind: "nodes", nodes: nodes.map((n) => n.name) });
  });

  it("refuses any other value, naming the input", () => {
    expect(() => computeFirewallIntents(nodes, [], "everywhere" as WireguardFrom)).toThrow('wireguardFrom: "everywhere" is not one of "nodes", "anywhere"');
  });
});
