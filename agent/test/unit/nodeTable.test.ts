// The node table's parser: the format other parts produce (INTERFACES.md), strict, with errors
// that name the entry and the fix.
import { NodeTableError, parseNodeTable } from "../../src/nodeTable";

const valid = {
  podCidrs: ["10.244.0.0/16", "2001:db8:42::/56"],
  nodes: [
    { name: "meshaws-cp-0", role: "control-plane", addresses: ["203.0.113.10"] },
    { name: "meshaws-workers-0", role: "worker", addresses: ["203.0.113.11", "2001:DB8::11"] },
  ],
};
const text = (doc: unknown) => JSON.stringify(doc);
const withNode = (i: number, patch: Record<string, unknown>) => ({ ...valid, nodes: valid.nodes.map((n, j) => (j === i ? { ...n, ...patch } : n)) });

describe("parseNodeTable", () => {
  it("parses the documented format and canonicalises addresses", () => {
    expect(parseNodeTable(text(valid))).toEqual({
      podCidrs: ["10.244.0.0/16", "2001:db8:42::/56"],
      nodes: [
        { name: "meshaws-cp-0", role: "control-plane", addresses: ["203.0.113.10"] },
        { name: "meshaws-workers-0", role: "worker", addresses: ["203.0.113.11", "2001:db8::11"] },
      ],
    });
  });

  it.each([
    ["not JSON", "{", /not JSON/],
    ["not an object", "[]", /must be an object/],
    ["unknown top-level key (typo)", text({ ...valid, node: [] }), /node table: unknown key "node" \(allowed: podCidrs, nodes\)/],
    ["missing nodes", text({ podCidrs: valid.podCidrs }), /node table: missing "nodes"/],
    ["empty podCidrs", text({ ...valid, podCidrs: [] }), /podCidrs: must be a non-empty list/],
    ["pod CIDR with host bits", text({ ...valid, podCidrs: ["10.244.1.0/8"] }), /podCidrs\[0\]: "10.244.1.0\/8" is not a network\/prefix-length with the host bits clear/],
    ["overlapping pod CIDRs", text({ ...valid, podCidrs: ["10.244.0.0/16", "10.244.3.0/24"] }), /podCidrs\[1\]: 10.244.3.0\/24 overlaps 10.244.0.0\/16/],
    ["unknown node key", text(withNode(1, { addresss: [] })), /nodes\[1\] \("meshaws-workers-0"\): unknown key "addresss"/],
    ["bad role", text(withNode(0, { role: "master" })), /nodes\[0\] \("meshaws-cp-0"\).role: "master" must be one of control-plane, worker/],
    ["bad name", text(withNode(0, { name: "CP_0" })), /nodes\[0\] \("CP_0"\).name: must be a Kubernetes node name/],
    ["duplicate name", text(withNode(1, { name: "meshaws-cp-0" })), /nodes\[1\] \("meshaws-cp-0"\).name: node "meshaws-cp-0" is listed twice/],
    ["no addresses", text(withNode(1, { addresses: [] })), /nodes\[1\] \("meshaws-workers-0"\).addresses: must be a non-empty list/],
    ["bad address", text(withNode(1, { addresses: ["203.0.113.300"] })), /nodes\[1\] \("meshaws-workers-0"\).addresses\[0\]: "203.0.113.300" is not a host address/],
    ["address with a prefix length", text(withNode(1, { addresses: ["203.0.113.11/32"] })), /addresses\[0\]: "203.0.113.11\/32" is not a host address/],
    ["address shared by two nodes", text(withNode(1, { addresses: ["203.0.113.10"] })), /nodes\[1\] \("meshaws-workers-0"\).addresses\[0\]: 203.0.113.10 is also an address of node "meshaws-cp-0"/],
    ["address inside the pod CIDRs", text(withNode(1, { addresses: ["10.244.9.9"] })), /addresses\[0\]: 10.244.9.9 lies inside the pod CIDR 10.244.0.0\/16/],
  ])("rejects %s with an error naming the entry", (_what, doc, message) => {
    expect(() => parseNodeTable(doc)).toThrow(NodeTableError);
    expect(() => parseNodeTable(doc)).toThrow(message);
  });
});
