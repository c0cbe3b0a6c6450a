import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import { baseline, get } from "../test/baseline";
import { runResourcePolicy } from "../test/harness";
import { helmPostrenderForbidden as policy } from "./helm-postrender-forbidden";

const cilium = (props: Record<string, unknown>) => {
  const r = get(baseline(), "cilium");
  Object.assign(r.props, props);
  return r;
};

describe("helm-postrender-forbidden", () => {
  it("passes charts without a post-renderer", async () => {
    expect(await runResourcePolicy(policy, cilium({}))).toEqual({ violations: [] });
    expect(await runResourcePolicy(policy, cilium({ postrender: "" }))).toEqual({ violations: [] });
  });

  it("rejects postrender on the Cilium release and postRenderer on a v4 chart of the agent", async () => {
    expect((await runResourcePolicy(policy, cilium({ postrender: "/usr/local/bin/kustomize-wrap" }))).violations[0].message).toMatch(
      /'cilium' .*postrender is set/,
    );
    const agent = {
      type: "kubernetes:helm.sh/v4:Chart",
      name: "agent",
      urn: "urn:pulumi:dev::p::kubernetes:helm.sh/v4:Chart::agent",
      props: { chart: "oci://ghcr.io/example/charts/node-router", postRenderer: { command: "kustomize" } },
    };
    expect((await runResourcePolicy(policy, agent)).violations[0].message).toContain("postRenderer is set");
  });

  it("ignores other charts, and reports an unknown post-renderer as unchecked", async () => {
    expect(await runResourcePolicy(policy, cilium({ chart: "ingress-nginx", postrender: "x" }))).toEqual({ violations: [] });
    expect(await runResourcePolicy(policy, cilium({ postrender: UNKNOWN_SENTINEL }))).toMatchObject({
      violations: [],
      unchecked: expect.stringContaining("postrender of 'cilium'"),
    });
  });
});
