import { versionChangeProblem } from "./versionGuard";

const running = { kubernetesVersion: "1.34.2", containerdVersion: "1.7.28" };

describe("a version change on a running cluster", () => {
  it("passes on a new cluster and when nothing changes", () => {
    expect(versionChangeProblem({}, running)).toBeUndefined();
    expect(versionChangeProblem(running, { ...running })).toBeUndefined();
  });

  it.each([
    ["Kubernetes", { kubernetesVersion: "1.35.0", containerdVersion: "1.7.28" }, /cluster\.kubernetesVersion from 1\.34\.2 to 1\.35\.0/],
    ["containerd", { kubernetesVersion: "1.34.2", containerdVersion: "1.7.29" }, /cluster\.containerdVersion from 1\.7\.28 to 1\.7\.29/],
  ])("is refused for %s, pointing to the documented procedure and the confirmation", (_what, news, what) => {
    const problem = versionChangeProblem(running, news, "proj")!;
    expect(problem).toMatch(what);
    expect(problem).toContain('README.md, "Upgrading Kubernetes and containerd"');
    expect(problem).toContain(`pulumi config set --path 'proj:cluster.upgradeConfirmed.kubernetesVersion' ${news.kubernetesVersion}`);
  });

  it("passes once confirmed with exactly the new versions, and only then", () => {
    const news = { kubernetesVersion: "1.35.0", containerdVersion: "1.7.28" };
    expect(versionChangeProblem(running, { ...news, confirmed: news })).toBeUndefined();
    expect(versionChangeProblem(running, { ...news, confirmed: { ...news, kubernetesVersion: "1.35.1" } })).toMatch(/refusing/);
    expect(versionChangeProblem(running, { ...news, confirmed: running })).toMatch(/refusing/);
  });
});
