import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import { agentPodSpec, baseline, get } from "../test/baseline";
import { runResourcePolicy } from "../test/harness";
import { nodeRouterHardening as policy } from "./node-router-hardening";

const run = (fn: (c: any) => void = () => undefined) => {
  const s = baseline();
  fn(agentPodSpec(s).containers[0]);
  return runResourcePolicy(policy, get(s, "node-router"));
};

describe("node-router-hardening (advisory)", () => {
  it("is advisory and passes a digest-pinned, unprivileged agent", async () => {
    expect(policy.enforcementLevel).toBe("advisory");
    expect(await run()).toEqual({ violations: [] });
  });

  it("reports privileged: true", async () => {
    expect(
      (
        await run((c) => {
          c.securityContext.privileged = true;
        })
      ).violations[0].message,
    ).toMatch(/containers\[0\]\.securityContext\.privileged is true.*NET_ADMIN only/);
  });

  it("reports an image pinned by tag only, suggesting the digest form", async () => {
    const out = await run((c) => {
      c.image = "registry.example:5000/wg-mesh/node-router:0.1.0";
    });
    expect(out.violations[0].message).toContain("use registry.example:5000/wg-mesh/node-router@sha256:<digest>");
  });

  it("reports an unknown image as unchecked", async () => {
    expect(
      await run((c) => {
        c.image = UNKNOWN_SENTINEL;
      }),
    ).toMatchObject({ violations: [], unchecked: expect.stringContaining("image") });
  });
});
