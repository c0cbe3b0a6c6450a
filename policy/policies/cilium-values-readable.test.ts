import * as pulumi from "@pulumi/pulumi";
import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import { baseline, get } from "../test/baseline";
import { runResourcePolicy } from "../test/harness";
import { ciliumValuesReadable as policy } from "./cilium-values-readable";

const withFiles = (files: unknown[]) => {
  const s = baseline();
  get(s, "cilium").props.valueYamlFiles = files;
  return get(s, "cilium");
};

describe("cilium-values-readable", () => {
  it("passes a release without values files and one whose values files are StringAssets", async () => {
    expect(await runResourcePolicy(policy, get(baseline(), "cilium"))).toEqual({ violations: [] });
    expect(await runResourcePolicy(policy, withFiles([new pulumi.asset.StringAsset("MTU: 1380\n")]))).toEqual({ violations: [] });
  });

  it("rejects a FileAsset and a RemoteAsset, naming the release, the field and the file", async () => {
    const file = await runResourcePolicy(policy, withFiles([new pulumi.asset.FileAsset("./cilium-overrides.yaml")]));
    expect(file.violations).toHaveLength(1);
    expect(file.violations[0].message).toMatch(
      /^'cilium' \(urn:pulumi:.*\): valueYamlFiles\[0\] is a FileAsset '\.\/cilium-overrides\.yaml', which the pack cannot read/,
    );
    const remote = await runResourcePolicy(
      policy,
      withFiles([new pulumi.asset.StringAsset("MTU: 1380\n"), new pulumi.asset.RemoteAsset("https://example.com/v.yaml")]),
    );
    expect(remote.violations.map((v) => v.message)).toEqual([expect.stringContaining("valueYamlFiles[1] is a RemoteAsset 'https://example.com/v.yaml'")]);
  });

  it("rejects a StringAsset whose text is not a YAML map", async () => {
    const out = await runResourcePolicy(policy, withFiles([new pulumi.asset.StringAsset("- just\n- a list\n")]));
    expect(out.violations[0].message).toContain("valueYamlFiles[0] is a StringAsset whose text is not a YAML map");
  });

  it("accepts a file or release listed as reviewed in the policy config", async () => {
    const r = withFiles([new pulumi.asset.FileAsset("./cilium-overrides.yaml")]);
    expect(await runResourcePolicy(policy, r, { reviewed: ["./cilium-overrides.yaml"] })).toEqual({ violations: [] });
    expect(await runResourcePolicy(policy, r, { reviewed: ["cilium"] })).toEqual({ violations: [] });
    expect((await runResourcePolicy(policy, r, { reviewed: ["./other.yaml"] })).violations).toHaveLength(1);
  });

  it("reports a values file unknown at preview as unchecked, not as a violation", async () => {
    const out = await runResourcePolicy(policy, withFiles([UNKNOWN_SENTINEL]));
    expect(out).toMatchObject({ violations: [], unchecked: expect.stringContaining("valueYamlFiles[0]") });
  });

  it("ignores charts that are not Cilium", async () => {
    const r = withFiles([new pulumi.asset.FileAsset("./x.yaml")]);
    r.props.chart = "ingress-nginx";
    expect(await runResourcePolicy(policy, r)).toEqual({ violations: [] });
  });
});
