import { baseline, ciliumConfigMap, COMPLIANT_CM } from "../test/baseline";
import { runStackPolicy } from "../test/harness";
import { ciliumRequiredWithNodes as policy } from "./cilium-required-with-nodes";

const withoutCilium = () => baseline().filter((r) => r.name !== "cilium");

describe("cilium-required-with-nodes", () => {
  it("passes a stack with nodes and a Cilium release", async () => {
    expect(await runStackPolicy(policy, baseline())).toEqual({ violations: [] });
  });

  it("rejects nodes without any Cilium, naming the node resources", async () => {
    const { violations } = await runStackPolicy(policy, withoutCilium());
    expect(violations).toHaveLength(1);
    expect(violations[0].message).toMatch(/provisions nodes \('wgmesh-aws-cp-0'.* and 1 more\) but configures no Cilium/);
  });

  it("accepts a rendered cilium-config ConfigMap as Cilium", async () => {
    expect(await runStackPolicy(policy, [...withoutCilium(), ciliumConfigMap(COMPLIANT_CM)])).toEqual({ violations: [] });
  });

  it("does not apply to stacks without nodes", async () => {
    const noNodes = withoutCilium().filter((r) => !/Instance$/.test(r.type));
    expect(await runStackPolicy(policy, noNodes)).toEqual({ violations: [] });
  });

  it("honours ciliumInstalledElsewhere and extraNodeTypes", async () => {
    expect(await runStackPolicy(policy, withoutCilium(), { ciliumInstalledElsewhere: true })).toEqual({ violations: [] });
    const custom = [{ type: "acme:index:BareMetalNode", name: "n1", urn: "urn:pulumi:dev::p::acme:index:BareMetalNode::n1", props: {} }];
    expect((await runStackPolicy(policy, custom)).violations).toHaveLength(0);
    expect((await runStackPolicy(policy, custom, { extraNodeTypes: ["acme:index:BareMetalNode"] })).violations).toHaveLength(1);
  });

  it("rejects malformed config with a message naming the field", async () => {
    await expect(runStackPolicy(policy, baseline(), { extraNodeTypes: "acme" })).rejects.toThrow(/cilium-required-with-nodes'.*extraNodeTypes/);
  });
});
