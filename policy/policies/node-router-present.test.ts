import { baseline, ciliumValues, get } from "../test/baseline";
import { runStackPolicy } from "../test/harness";
import { nodeRouterPresent as policy } from "./node-router-present";

const withoutAgent = () => baseline().filter((r) => r.name !== "node-router");

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
    const s = withoutAgent(); ciliumValues(s).encryption.nodeEncryption = true;
    const { violations } = await runStackPolicy(policy, s);
    expect(violations).toHaveLength(2);
    expect(violations[1]).toMatchObject({ urn: get(s, "cilium").urn, message: expect.stringContaining("skips control-plane nodes") });
  });

  it("accepts the agent installed by a Helm chart named like it", async () => {
    const chart = { type: "kubernetes:helm.sh/v3:Release", name: "agent", urn: "urn:pulumi:dev::p::kubernetes:helm.sh/v3:Release::agent", props: { chart: "oci://ghcr.io/example/charts/node-router" } };
    expect(await runStackPolicy(policy, [...withoutAgent(), chart])).toEqual({ violations: [] });
  });

  it("does not apply without nodes, and follows a custom agent matcher", async () => {
    expect(await runStackPolicy(policy, withoutAgent().filter((r) => !r.type.endsWith("Instance")))).toEqual({ violations: [] });
    expect((await runStackPolicy(policy, baseline(), { agent: { label: "app", value: "wg-router" } })).violations).toHaveLength(1);
  });
});
