// The AWS renderer of the cluster's firewall intents, on its own: which prefix lists exist,
// which rule admits what from where, and what AWS counts against the group's rule quota.
import { computeFirewallIntents, intentsFor, type FirewallIntent } from "../core/firewallIntents";
import { expandPools, isControlPlane } from "../core/nodes";
import { maxEntries, nodeLists, renderAwsIngress, ruleWeight } from "./securityRules";

const nodes = [
  ...expandPools("c", "aws", [{ name: "cp", role: "control-plane", count: 3, machineType: "m", zone: "z", diskSizeGb: 50 }]),
  ...expandPools("c", "aws", [{ name: "w", role: "worker", count: 4, machineType: "m", zone: "z", diskSizeGb: 50 }]),
];
const all = nodes.map((n) => n.name);
const controlPlanes = nodes.filter(isControlPlane).map((n) => n.name);
const intents = computeFirewallIntents(nodes, ["203.0.113.0/24", "198.51.100.7/32"]);
const lists = nodeLists(intents, all, controlPlanes);

describe("nodeLists", () => {
  it("one list per distinct set of source nodes, named after what it holds", () => {
    expect(lists).toEqual([
      { key: "nodes", set: "nodes", nodes: all },
      { key: "control-planes", set: "control-planes", nodes: controlPlanes },
    ]);
  });

  it("splits a set into lists of at most 100 nodes in the cluster's order; the first keeps the set's name", () => {
    const many = expandPools("c", "aws", [{ name: "w", role: "worker", count: 250, machineType: "m", zone: "z", diskSizeGb: 50 }]);
    const names = [...nodes, ...many].map((n) => n.name);
    const split = nodeLists(computeFirewallIntents([...nodes, ...many], []), names, controlPlanes);
    expect(split.map((l) => [l.key, l.set, l.nodes.length])).toEqual([
      ["nodes", "nodes", 100],
      ["nodes-part2", "nodes", 100],
      ["nodes-part3", "nodes", 57],
      ["control-planes", "control-planes", 3],
    ]);
    expect(split.filter((l) => l.set === "nodes").flatMap((l) => l.nodes)).toEqual(names);
    // Every group that admits all nodes gets one rule per part, each within the list it names.
    const rules = renderAwsIngress(intentsFor(computeFirewallIntents([...nodes, ...many], []), ["c-aws-w-0"]), split).filter(
      (r) => r.source.kind === "prefixList",
    );
    expect(rules.map((r) => r.key)).toEqual(["wireguard", "wireguard-part2", "wireguard-part3"]);
    expect(ruleWeight(rules)).toBe(257);
  });

  it("names any other set by its position", () => {
    // Any intent admitting a set of nodes that is neither every node nor the control planes.
    const odd: FirewallIntent = { ...intents[0], id: "x", source: { kind: "nodes", nodes: ["c-aws-w-0"] } };
    expect(nodeLists([...intents, odd], all, controlPlanes).map((l) => l.key)).toEqual(["nodes", "control-planes", "set-2"]);
  });
});

describe("renderAwsIngress", () => {
  const byKey = (rules: ReturnType<typeof renderAwsIngress>) => Object.fromEntries(rules.map((r) => [r.key, r]));

  it("admits node sources through their prefix list, CIDR sources one rule each", () => {
    const rules = byKey(renderAwsIngress(intentsFor(intents, controlPlanes), lists));
    expect(Object.keys(rules).sort()).toEqual(["admin-apiserver-cidr0", "admin-apiserver-cidr1", "apiserver", "etcd", "pmtu-cidr0", "wireguard"]);
    expect(rules.wireguard).toMatchObject({ ipProtocol: "udp", fromPort: 51871, toPort: 51871, source: { kind: "prefixList", list: { key: "nodes" } } });
    expect(rules.etcd).toMatchObject({ ipProtocol: "tcp", fromPort: 2379, toPort: 2380, source: { kind: "prefixList", list: { key: "control-planes" } } });
    expect(rules["admin-apiserver-cidr1"]).toMatchObject({
      ipProtocol: "tcp",
      fromPort: 6443,
      toPort: 6443,
      source: { kind: "cidr", cidr: "198.51.100.7/32" },
    });
  });

  it("gives ICMP's type and code as AWS reads them: fromPort = type, toPort = code", () => {
    expect(byKey(renderAwsIngress(intents, lists))["pmtu-cidr0"]).toMatchObject({
      ipProtocol: "icmp",
      fromPort: 3,
      toPort: 4,
      source: { kind: "cidr", cidr: "0.0.0.0/0" },
    });
  });

  it("a worker group admits only WireGuard and ICMP", () => {
    expect(
      renderAwsIngress(intentsFor(intents, ["c-aws-w-0"]), lists)
        .map((r) => r.key)
        .sort(),
    ).toEqual(["pmtu-cidr0", "wireguard"]);
  });

  it("refuses an intent whose sources no list holds", () => {
    expect(() => renderAwsIngress(intents, [])).toThrow(/no prefix list holds the sources of intent wireguard/);
  });
});

describe("ruleWeight", () => {
  it("counts a referenced prefix list as its max entries, any other rule as one", () => {
    const cp = renderAwsIngress(intentsFor(intents, controlPlanes), lists);
    // WireGuard and 6443 from all 7 nodes, etcd from 3 control planes, ICMP, 2 admin CIDRs.
    expect(ruleWeight(cp)).toBe(7 + 7 + 3 + 1 + 2);
    expect(ruleWeight(renderAwsIngress(intentsFor(intents, ["c-aws-w-0"]), lists))).toBe(7 + 1);
  });

  it("sizes a list at exactly its nodes, never below one", () => {
    expect(maxEntries({ key: "nodes", set: "nodes", nodes: all })).toBe(7);
    expect(maxEntries({ key: "set-0", set: "set-0", nodes: [] })).toBe(1);
  });
});

describe("WireGuard from anywhere (cluster.wireguardFrom: anywhere)", () => {
  const anywhere = computeFirewallIntents(nodes, ["203.0.113.0/24", "198.51.100.7/32"], "anywhere");
  const anywhereLists = nodeLists(anywhere, all, controlPlanes);
  const byKey = (rules: ReturnType<typeof renderAwsIngress>) => Object.fromEntries(rules.map((r) => [r.key, r]));

  it("renders WireGuard as one CIDR rule named like the other CIDR rules; the lists stay for 6443 and etcd", () => {
    expect(anywhereLists).toEqual(lists);
    const cp = byKey(renderAwsIngress(intentsFor(anywhere, controlPlanes), anywhereLists));
    expect(Object.keys(cp).sort()).toEqual(["admin-apiserver-cidr0", "admin-apiserver-cidr1", "apiserver", "etcd", "pmtu-cidr0", "wireguard-cidr0"]);
    expect(cp["wireguard-cidr0"]).toMatchObject({
      intent: "wireguard",
      ipProtocol: "udp",
      fromPort: 51871,
      toPort: 51871,
      source: { kind: "cidr", cidr: "0.0.0.0/0" },
    });
    expect(cp.apiserver).toMatchObject({ ipProtocol: "tcp", fromPort: 6443, source: { kind: "prefixList", list: { key: "nodes" } } });
    expect(cp.etcd).toMatchObject({ source: { kind: "prefixList", list: { key: "control-planes" } } });
  });

  it("weighs one rule for WireGuard, however many nodes", () => {
    // 6443 from all 7 nodes, etcd from 3 control planes, then WireGuard, ICMP and 2 admin CIDRs at one each.
    expect(ruleWeight(renderAwsIngress(intentsFor(anywhere, controlPlanes), anywhereLists))).toBe(1 + 7 + 3 + 1 + 2);
    expect(ruleWeight(renderAwsIngress(intentsFor(anywhere, ["c-aws-w-0"]), anywhereLists))).toBe(1 + 1);
    const many = [...nodes, ...expandPools("c", "aws", [{ name: "x", role: "worker", count: 250, machineType: "m", zone: "z", diskSizeGb: 50 }])];
    const big = computeFirewallIntents(many, [], "anywhere");
    const bigLists = nodeLists(
      big,
      many.map((n) => n.name),
      controlPlanes,
    );
    expect(renderAwsIngress(intentsFor(big, ["c-aws-x-0"]), bigLists).map((r) => [r.key, ruleWeight([r])])).toEqual([
      ["wireguard-cidr0", 1],
      ["pmtu-cidr0", 1],
    ]);
  });

  it("tells each rule's intent", () => {
    expect(renderAwsIngress(intents, lists).map((r) => `${r.intent}:${r.key}`)).toEqual([
      "wireguard:wireguard",
      "apiserver:apiserver",
      "etcd:etcd",
      "pmtu:pmtu-cidr0",
      "admin-apiserver:admin-apiserver-cidr0",
      "admin-apiserver:admin-apiserver-cidr1",
    ]);
  });
});
