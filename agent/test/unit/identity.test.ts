// Identity with a node table: the table decides who is a node and who is a control plane; the
// API only adds pod CIDRs inside the cluster's; contradictions are claims, named and ignored.
import { IdentityResolver, resolveIdentity } from "../../src/identity";
import type { NodeTable } from "../../src/nodeTable";
import { parseClusterNodes } from "../../src/nodes";
import { CP_LABEL, ciliumNode, node, settings } from "../fixtures";

const table: NodeTable = {
  podCidrs: ["198.18.0.0/16"],
  nodes: [
    { name: "cp", role: "control-plane", addresses: ["198.51.100.10"] },
    { name: "w1", role: "worker", addresses: ["198.51.100.11"] },
    { name: "w2", role: "worker", addresses: ["198.51.100.12"] },
  ],
};
const api = (nodes: Record<string, unknown>[], cilium: Record<string, unknown>[] = []) =>
  parseClusterNodes(nodes, cilium, settings().controlPlaneSelector).nodes;

describe("resolveIdentity", () => {
  it("takes names, roles and addresses from the table and pod CIDRs from the API; a table node missing from the API stays", () => {
    const { nodes, problems } = resolveIdentity(
      table,
      api([
        node({ name: "cp", internal: ["198.51.100.10"], podCidrs: ["198.18.0.0/24"], labels: CP_LABEL }),
        node({ name: "w1", internal: ["198.51.100.11"], podCidrs: ["198.18.1.0/24"] }),
      ]),
    );
    expect(problems).toEqual([]);
    expect(nodes).toEqual([
      { name: "cp", addresses: ["198.51.100.10"], podCidrs: ["198.18.0.0/24"], controlPlane: true },
      { name: "w1", addresses: ["198.51.100.11"], podCidrs: ["198.18.1.0/24"], controlPlane: false },
      { name: "w2", addresses: ["198.51.100.12"], podCidrs: [], controlPlane: false },
    ]);
  });

  it("a worker claiming the control plane's address (and a control-plane label) gains nothing", () => {
    const { nodes, problems } = resolveIdentity(table, api([node({ name: "w1", internal: ["198.51.100.11", "198.51.100.10"], labels: CP_LABEL })]));
    expect(nodes.find((n) => n.name === "w1")).toMatchObject({ addresses: ["198.51.100.11"], controlPlane: false });
    expect(nodes.find((n) => n.name === "cp")).toMatchObject({ addresses: ["198.51.100.10"], controlPlane: true });
    expect(problems).toEqual([{ object: "Node/w1", kind: "claim", message: "claims address 198.51.100.10 of control-plane node cp (node table); ignored" }]);
  });

  it("pod CIDRs outside the cluster's, and overlapping ones, are claims; neither overlapping CIDR is anyone's own", () => {
    const { nodes, problems, contested } = resolveIdentity(
      table,
      api(
        [node({ name: "cp", labels: CP_LABEL }), node({ name: "w1" }), node({ name: "w2" })],
        [ciliumNode("w1", ["0.0.0.0/1", "198.18.2.0/24"]), ciliumNode("w2", ["198.18.2.0/24"])],
      ),
    );
    expect(nodes.map((n) => [n.name, n.podCidrs])).toEqual([
      ["cp", []],
      ["w1", []],
      ["w2", []],
    ]);
    expect([...contested]).toEqual(["198.18.2.0/24"]);
    expect(problems.map((p) => `${p.kind} ${p.object}: ${p.message}`)).toEqual([
      "claim CiliumNode/w1: pod CIDR 0.0.0.0/1 lies outside the cluster's pod CIDRs (198.18.0.0/16); ignored",
      "claim CiliumNode/w2: pod CIDR 198.18.2.0/24 overlaps 198.18.2.0/24 of CiliumNode/w1; neither is trusted as a node's own",
    ]);
  });

  it("a Node not in the table adds nothing, and says so", () => {
    const { nodes, problems } = resolveIdentity(table, api([node({ name: "intruder", internal: ["192.0.2.66"], podCidrs: ["198.18.9.0/24"] })]));
    expect(nodes.map((n) => n.name)).toEqual(["cp", "w1", "w2"]);
    expect(problems).toEqual([{ object: "Node/intruder", kind: "claim", message: "node is not in the node table; its address 192.0.2.66 is ignored" }]);
  });
});

describe("IdentityResolver", () => {
  it("a pod CIDR held alone stays its holder's when another object claims it later; the newcomer's claim is ignored", () => {
    const r = new IdentityResolver();
    const honest = [node({ name: "w1", podCidrs: ["198.18.1.0/24"] }), node({ name: "w2", podCidrs: ["198.18.2.0/24"] })];
    expect(r.resolve(table, api(honest)).nodes.map((n) => n.podCidrs)).toEqual([[], ["198.18.1.0/24"], ["198.18.2.0/24"]]);
    const forged = [honest[0], node({ name: "w2", podCidrs: ["198.18.2.0/24", "198.18.1.0/24"] })];
    const after = r.resolve(table, api(forged));
    expect(after.nodes.map((n) => n.podCidrs)).toEqual([[], ["198.18.1.0/24"], ["198.18.2.0/24"]]);
    expect(after.problems.map((p) => p.kind)).toEqual(["claim"]);
    // A fresh resolver (an agent restart) cannot tell who was first: neither holds it.
    expect(new IdentityResolver().resolve(table, api(forged)).nodes.map((n) => n.podCidrs)).toEqual([[], [], ["198.18.2.0/24"]]);
  });
});

describe("resolveIdentity: a node's pod CIDR", () => {
  it("equal to the whole cluster pod CIDR is a claim (it would unsteer every pod)", () => {
    const { nodes, problems } = resolveIdentity(table, api([node({ name: "w1", podCidrs: ["198.18.0.0/16"] })]));
    expect(nodes.find((n) => n.name === "w1")?.podCidrs).toEqual([]);
    expect(problems).toEqual([
      { object: "Node/w1", kind: "claim", message: "pod CIDR 198.18.0.0/16 is the whole cluster pod CIDR, not one node's part of it; ignored" },
    ]);
  });
});
