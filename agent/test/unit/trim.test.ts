// What the informers keep of each object (informers.ts trimNode / trimCiliumNode) is all the
// agent reads: parsing the kept objects gives the same nodes and problems as parsing the whole
// ones, for real-sized objects and for malformed ones, and the kept part is a small fraction.
import { realisticCiliumNode, realisticNode } from "../../bench/realisticObjects";
import type { KubeObject } from "../../src/kube/listWatch";
import { trimCiliumNode, trimNode } from "../../src/informers";
import { parseClusterNodes } from "../../src/nodes";
import { parseSelector } from "../../src/selector";
import { CP_LABEL, node } from "../fixtures";

const selector = parseSelector("node-role.kubernetes.io/control-plane");
const size = (objects: unknown[]) => JSON.stringify(objects).length;

describe("trimNode / trimCiliumNode", () => {
  it.each([false, true])("keep everything the parser reads of real-sized objects (dual stack: %s), at under a tenth of their size", (dual) => {
    const nodes = Array.from({ length: 20 }, (_, i) => realisticNode(i, dual) as KubeObject);
    const ciliumNodes = Array.from({ length: 20 }, (_, i) => realisticCiliumNode(i, dual) as KubeObject);
    const whole = parseClusterNodes(nodes, ciliumNodes, selector);
    const kept = parseClusterNodes(nodes.map(trimNode), ciliumNodes.map(trimCiliumNode), selector);
    expect(whole.nodes).toHaveLength(20);
    expect(kept).toEqual(whole);
    expect(size(nodes.map(trimNode)) + size(ciliumNodes.map(trimCiliumNode))).toBeLessThan((size(nodes) + size(ciliumNodes)) / 10);
  });

  it("keep the labels that make a control plane, and the resourceVersion the cache compares", () => {
    const o = {
      ...node({ name: "cp", internal: ["198.51.100.2"], labels: CP_LABEL }),
      metadata: { name: "cp", resourceVersion: "7", labels: CP_LABEL, annotations: { a: "b" } },
    } as KubeObject;
    const t = trimNode(o);
    expect(t.metadata).toEqual({ name: "cp", resourceVersion: "7", labels: CP_LABEL });
    expect(parseClusterNodes([t], [], selector).nodes[0].controlPlane).toBe(true);
  });

  it("keep malformed values as they came, so the parser still reports them", () => {
    const bad = [
      { metadata: { name: "a" }, spec: { podCIDRs: "not-a-list" }, status: { addresses: [{ type: "InternalIP", address: "nope" }] } },
      { metadata: { name: "b" }, spec: "a string", status: 42 },
    ] as unknown as KubeObject[];
    const badCilium = [
      { metadata: { name: "a" }, spec: { addresses: [{ type: "InternalIP", ip: "x" }], ipam: { podCIDRs: ["garbage"] } } },
    ] as unknown as KubeObject[];
    const whole = parseClusterNodes(bad, badCilium, selector);
    expect(whole.problems.length).toBeGreaterThan(0);
    expect(parseClusterNodes(bad.map(trimNode), badCilium.map(trimCiliumNode), selector)).toEqual(whole);
  });
});
