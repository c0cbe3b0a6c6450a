import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import { baseline, ciliumValues, get } from "../test/baseline";
import { runStackPolicy } from "../test/harness";
import { nodeRouterPresent as policy } from "./node-router-present";

const withoutAgent = () => baseline().filter((r) => r.name !== "node-router");
const chart = (type: string, values: unknown, extra: object = {}) => ({
  type,
  name: "agent",
  urn: `urn:pulumi:dev::p::${type}::agent`,
  props: { chart: "oci://ghcr.io/example/charts/node-router", values, ...extra },
});

describe("node-router-present", () => {
  it("passes when the agent DaemonSet is deployed", async () => {
    expect(await runStackPolicy(policy, baseline())).toEqual({ violations: [] });
  });

  it("rejects a stack with nodes but no agent", async () => {
    const { violations } = await runStackPolicy(policy, withoutAgent());
    expect(violations).toHaveLength(1);
    expect(violations[0].message).toContain("No DaemonSet labelled app.kubernetes.io/name=node-router");
  });

  it("rejects nodeEncryption used instead of the agent, against the Cilium release", async () => {
    const s = withoutAgent();
    ciliumValues(s).encryption.nodeEncryption = true;
    const { violations } = await runStackPolicy(policy, s);
    expect(violations).toHaveLength(2);
    expect(violations[1]).toMatchObject({ urn: get(s, "cilium").urn, message: expect.stringContaining("skips control-plane nodes") });
  });

  it("does not count a DaemonSetPatch as the agent", async () => {
    const patch = {
      type: "kubernetes:apps/v1:DaemonSetPatch",
      name: "p",
      urn: "urn:pulumi:dev::p::kubernetes:apps/v1:DaemonSetPatch::p",
      props: { metadata: { name: "node-router" } },
    };
    expect((await runStackPolicy(policy, [...withoutAgent(), patch])).violations).toHaveLength(1);
  });

  it("does not apply without nodes, and follows a custom agent matcher", async () => {
    expect(
      await runStackPolicy(
        policy,
        withoutAgent().filter((r) => !r.type.endsWith("Instance")),
      ),
    ).toEqual({ violations: [] });
    expect((await runStackPolicy(policy, baseline(), { agent: { label: "app", value: "wg-router" } })).violations).toHaveLength(1);
  });
});

describe("node-router-present: the agent as a Helm chart", () => {
  it("accepts a chart whose rendered DaemonSet the stack shows (helm.v4.Chart children)", async () => {
    const s = baseline();
    const v4 = chart("kubernetes:helm.sh/v4:Chart", { image: "x" });
    get(s, "node-router").parent = v4.urn;
    expect(await runStackPolicy(policy, [...s, v4])).toEqual({ violations: [] });
  });

  it("accepts values in the documented shape (node-router-daemonset judges them)", async () => {
    expect(await runStackPolicy(policy, [...withoutAgent(), chart("kubernetes:helm.sh/v3:Release", { tolerations: [{ operator: "Exists" }] })])).toEqual({
      violations: [],
    });
  });

  it("reports a chart it cannot look inside as could not be checked, not as present and not as missing", async () => {
    const out = await runStackPolicy(policy, [...withoutAgent(), chart("kubernetes:helm.sh/v3:Release", { image: { tag: "0.1.0" } })]);
    expect(out.violations).toEqual([]);
    expect(out.unchecked).toMatch(/the pack cannot see what the node-router chart 'agent' .* deploys: .*not in the documented shape/);
    const unknown = await runStackPolicy(policy, [...withoutAgent(), chart("kubernetes:helm.sh/v3:Release", UNKNOWN_SENTINEL)]);
    expect(unknown.unchecked).toContain("the values of 'agent'");
  });
});
