import { NodeParseCache, parseClusterNodes } from "../../src/nodes";
import { parseSelector } from "../../src/selector";
import { CP_LABEL, ciliumNode, node } from "../fixtures";

const selector = parseSelector("node-role.kubernetes.io/control-plane");

describe("parseClusterNodes", () => {
  it("takes InternalIP then ExternalIP, and CiliumNode pod CIDRs over Node pod CIDRs", () => {
    const { nodes, problems } = parseClusterNodes(
      [node({ name: "a", external: ["203.0.113.9"], internal: ["198.51.100.2", "2001:db8::0:2"], podCidrs: ["198.18.9.0/24"], labels: CP_LABEL })],
      [
        ciliumNode(
          "a",
          ["198.18.1.0/24", "2001:db8:1::/64"],
          [
            { type: "CiliumInternalIP", ip: "198.18.1.1" },
            { type: "InternalIP", ip: "198.51.100.2" },
          ],
        ),
      ],
      selector,
    );
    expect(problems).toEqual([]);
    expect(nodes).toEqual([
      {
        name: "a",
        addresses: ["198.51.100.2", "2001:db8::2", "203.0.113.9"],
        podCidrs: ["198.18.1.0/24", "2001:db8:1::/64"],
        controlPlane: true,
        addressSources: ["Node/a", "Node/a", "Node/a"],
        podCidrSource: "CiliumNode/a",
      },
    ]);
  });

  it("falls back to Node.spec.podCIDRs (kubernetes IPAM) when the CiliumNode has none", () => {
    const { nodes } = parseClusterNodes([node({ name: "a", internal: ["198.51.100.2"], podCidrs: ["198.18.2.0/24"] })], [ciliumNode("a", [])], selector);
    expect(nodes[0].podCidrs).toEqual(["198.18.2.0/24"]);
    expect(nodes[0].controlPlane).toBe(false);
  });

  it("reports and skips bad values but keeps the rest of the object", () => {
    const { nodes, problems } = parseClusterNodes(
      [
        node({ name: "bad", internal: ["not-an-ip", "198.51.100.3"], podCidrs: ["198.18.3.1/24", "garbage", "198.18.4.0/24"] }),
        { metadata: {} },
        "a string",
        { metadata: { name: "shape" }, status: { addresses: "nope" }, spec: { podCIDRs: 7 } },
      ],
      [{ spec: {} }],
      selector,
    );
    expect(nodes.map((n) => n.name)).toEqual(["bad", "shape"]);
    expect(nodes[0]).toMatchObject({ addresses: ["198.51.100.3"], podCidrs: ["198.18.4.0/24"] });
    const text = problems.map((p) => `${p.object} ${p.kind} ${p.message}`);
    expect(text).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Node\/bad malformed address "not-an-ip"/),
        expect.stringMatching(/^Node\/bad malformed pod CIDR "198.18.3.1\/24"/),
        expect.stringMatching(/^Node\/bad malformed pod CIDR "garbage"/),
        expect.stringMatching(/^Node\/\? shape/),
        expect.stringMatching(/^CiliumNode\/\? shape/),
        expect.stringMatching(/^Node\/shape shape status.addresses is not a list/),
        expect.stringMatching(/^Node\/shape missing no usable InternalIP/),
      ]),
    );
    expect(problems.filter((p) => p.object === "Node/?")).toHaveLength(2);
  });

  it("reports duplicate addresses with both claimants", () => {
    const { problems } = parseClusterNodes([node({ name: "a", internal: ["198.51.100.7"] }), node({ name: "b", internal: ["198.51.100.7"] })], [], selector);
    expect(problems).toEqual([{ object: "Node/b", kind: "duplicate", message: "address 198.51.100.7 is also claimed by a" }]);
  });

  it("keeps a CiliumNode without a Node as a (never control-plane) node", () => {
    const { nodes } = parseClusterNodes([], [ciliumNode("orphan", ["198.18.5.0/24"], [{ type: "InternalIP", ip: "198.51.100.9" }])], selector);
    expect(nodes).toEqual([
      {
        name: "orphan",
        addresses: ["198.51.100.9"],
        podCidrs: ["198.18.5.0/24"],
        controlPlane: false,
        addressSources: ["CiliumNode/orphan"],
        podCidrSource: "CiliumNode/orphan",
      },
    ]);
  });
});

describe("NodeParseCache: what one step hands the next, kept by the caller", () => {
  it("reuses the parse of an object it saw, with its problems; a fresh cache (or a new object) parses anew", () => {
    const objects = [node({ name: "a", internal: ["198.51.100.2", "not-an-ip"] })];
    const cache = new NodeParseCache();
    const first = parseClusterNodes(objects, [], selector, cache);
    const again = parseClusterNodes(objects, [], selector, cache);
    expect(again.nodes[0]).toBe(first.nodes[0]);
    expect(again.problems).toEqual(first.problems);
    expect(first.problems.length).toBe(1);
    expect(parseClusterNodes(objects, [], selector).nodes[0]).not.toBe(first.nodes[0]);
    expect(parseClusterNodes(objects, [], selector, new NodeParseCache()).nodes[0]).toEqual(first.nodes[0]);
    expect(parseClusterNodes([{ ...objects[0] }], [], selector, cache).nodes[0]).not.toBe(first.nodes[0]);
  });
});
