import { versionChangeProblem } from "./versionGuard";

const nodes = ["c-aws-cp-0", "c-aws-cp-1", "c-aws-cp-2", "c-aws-w-0"];
const running = { kubernetesVersion: "1.34.2", containerdVersion: "1.7.28", nodes, rebuilding: [] };

describe("a version change on a running cluster", () => {
  it("passes on a new cluster and when nothing changes", () => {
    expect(versionChangeProblem({}, running)).toBeUndefined();
    expect(versionChangeProblem(running, { ...running })).toBeUndefined();
  });

  it.each([
    ["a patch release", { kubernetesVersion: "1.34.5" }],
    ["the next minor", { kubernetesVersion: "1.35.0" }],
    ["a newer containerd", { containerdVersion: "2.1.4" }],
    ["both", { kubernetesVersion: "1.35.1", containerdVersion: "1.7.29" }],
  ])("passes for %s: the roll upgrades the nodes", (_what, change) => {
    expect(versionChangeProblem(running, { ...running, ...change }, "proj")).toBeUndefined();
  });

  it("passes on a state from before upgrades (no node list recorded)", () => {
    const old = { kubernetesVersion: "1.34.2", containerdVersion: "1.7.28" };
    expect(versionChangeProblem(old, { ...running, kubernetesVersion: "1.35.0" })).toBeUndefined();
  });

  it.each([
    [
      "a skipped minor",
      { kubernetesVersion: "1.36.0" },
      /proj:cluster\.kubernetesVersion: 1\.34\.2 -> 1\.36\.0 skips a minor version; .*upgrade to 1\.35\.x first/,
    ],
    [
      "a Kubernetes downgrade",
      { kubernetesVersion: "1.34.1" },
      /proj:cluster\.kubernetesVersion: 1\.34\.2 -> 1\.34\.1 is a downgrade; .*set it back to 1\.34\.2/,
    ],
    [
      "a containerd downgrade",
      { containerdVersion: "1.7.9" },
      /proj:cluster\.containerdVersion: 1\.7\.28 -> 1\.7\.9 is a downgrade; .*set it back to 1\.7\.28/,
    ],
    [
      "a node added in the same run",
      { kubernetesVersion: "1.35.0", nodes: [...nodes, "c-aws-w-1"] },
      /the nodes change \(added: c-aws-w-1\) in the same run as proj:cluster\.kubernetesVersion 1\.34\.2 -> 1\.35\.0/,
    ],
    ["a node removed in the same run", { containerdVersion: "1.7.29", nodes: nodes.slice(0, 3) }, /the nodes change \(removed: c-aws-w-0\) in the same run/],
    [
      "a node rebuilt in the same run",
      { kubernetesVersion: "1.35.0", rebuilding: ["c-aws-w-0"] },
      /nodes rebuilt on this run \(c-aws-w-0: listed in proj:cluster\.replaceNodes, or behind a new aws\.ami \/ gcp\.image\) in the same run as cluster\.kubernetesVersion/,
    ],
  ])("is refused for %s, with the order to use", (_what, change, message) => {
    expect(versionChangeProblem(running, { ...running, ...change }, "proj")).toMatch(message);
  });

  it("lets nodes change in a run that keeps the versions", () => {
    expect(versionChangeProblem(running, { ...running, nodes: [...nodes, "c-aws-w-1"], rebuilding: ["c-aws-w-0"] })).toBeUndefined();
  });
});
