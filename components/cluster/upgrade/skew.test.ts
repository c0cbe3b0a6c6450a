import { kubernetesSkewProblem, parseKubernetesVersion } from "./skew";

describe("kubeadm's skew rules for one upgrade", () => {
  it("parses full versions only", () => {
    expect(parseKubernetesVersion("1.34.2")).toEqual([1, 34, 2]);
    expect(parseKubernetesVersion("v1.34.2")).toBeUndefined();
    expect(parseKubernetesVersion("1.34")).toBeUndefined();
  });

  it.each([
    ["1.34.2", "1.34.2"],
    ["1.34.2", "1.34.9"],
    ["1.34.2", "1.35.0"],
    ["1.34.9", "1.35.11"],
  ])("allows %s -> %s", (from, to) => expect(kubernetesSkewProblem(from, to)).toBeUndefined());

  it.each([
    ["1.34.2", "1.36.0", /skips a minor version; kubeadm upgrades one minor at a time, so upgrade to 1\.35\.x first/],
    ["1.34.2", "2.0.0", /skips a minor version/],
    ["1.34.2", "1.33.9", /is a downgrade; kubeadm does not downgrade/],
    ["1.34.2", "1.34.1", /is a downgrade/],
    ["1.34.2", "1.35", /1\.35 is not a full version/],
  ])("refuses %s -> %s", (from, to, message) => expect(kubernetesSkewProblem(from, to)).toMatch(message));

  it("names the key it was given", () => {
    expect(kubernetesSkewProblem("1.34.2", "1.36.1", "proj:cluster.kubernetesVersion")).toMatch(
      /^proj:cluster\.kubernetesVersion: 1\.34\.2 -> 1\.36\.1 skips .*pulumi config set --path 'proj:cluster\.kubernetesVersion' 1\.35\.<patch>/,
    );
  });
});
