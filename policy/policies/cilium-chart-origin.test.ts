import { baseline, get } from "../test/baseline";
import { runResourcePolicy } from "../test/harness";
import { ciliumChartOrigin as policy } from "./cilium-chart-origin";

const release = (edit: (p: any) => void = () => undefined) => {
  const s = baseline();
  const r = get(s, "cilium");
  edit(r.props);
  return r;
};

describe("cilium-chart-origin", () => {
  it("passes the official Helm repository (trailing slash too) and the official OCI chart", async () => {
    expect(await runResourcePolicy(policy, release())).toEqual({ violations: [] });
    expect(
      await runResourcePolicy(
        policy,
        release((p) => {
          p.repositoryOpts = { repo: "https://helm.cilium.io/" };
        }),
      ),
    ).toEqual({ violations: [] });
    expect(
      await runResourcePolicy(
        policy,
        release((p) => {
          p.chart = "oci://quay.io/cilium/charts/cilium";
          delete p.repositoryOpts;
        }),
      ),
    ).toEqual({ violations: [] });
  });

  it.each([
    [
      "another repository",
      (p: any) => {
        p.repositoryOpts = { repo: "https://charts.example.com/mirror" };
      },
      /the chart comes from the repository https:\/\/charts\.example\.com\/mirror, not Cilium's own.*list 'https:\/\/charts\.example\.com\/mirror' under reviewed/,
    ],
    [
      "another OCI registry",
      (p: any) => {
        p.chart = "oci://registry.example.com/charts/cilium";
        delete p.repositoryOpts;
      },
      /from the OCI chart oci:\/\/registry\.example\.com\/charts\/cilium/,
    ],
    [
      "a local archive",
      (p: any) => {
        p.chart = "./charts/cilium-1.18.12.tgz";
        delete p.repositoryOpts;
      },
      /from the local chart \.\/charts\/cilium-1\.18\.12\.tgz/,
    ],
    [
      "a repository alias of this machine's Helm",
      (p: any) => {
        p.chart = "mirror/cilium";
        delete p.repositoryOpts;
      },
      /from the Helm repository alias in mirror\/cilium/,
    ],
  ])("rejects %s, naming the release and the origin", async (_what, edit, message) => {
    const { violations } = await runResourcePolicy(policy, release(edit));
    expect(violations).toEqual([{ message: expect.stringMatching(message), urn: undefined }]);
    expect(violations[0].message).toMatch(/^'cilium' \(urn:/);
  });

  it("accepts a mirror listed as reviewed (as written), and the release listed by name", async () => {
    const mirror = release((p) => {
      p.repositoryOpts = { repo: "https://charts.example.com/mirror" };
    });
    expect(await runResourcePolicy(policy, mirror, { reviewed: ["https://charts.example.com/mirror"] })).toEqual({ violations: [] });
    expect(await runResourcePolicy(policy, mirror, { reviewed: ["cilium"] })).toEqual({ violations: [] });
    expect((await runResourcePolicy(policy, mirror, { reviewed: ["https://charts.example.com/other"] })).violations).toHaveLength(1);
  });
});
