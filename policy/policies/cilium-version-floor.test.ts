import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SUPPORTED_CHART_VERSIONS } from "../../components/cilium/chartVersions";
import { SUPPORTED_LINES } from "../lib/cilium-versions";
import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import { baseline, get } from "../test/baseline";
import { runResourcePolicy } from "../test/harness";
import { ciliumVersionFloor as policy } from "./cilium-version-floor";

const at = (version: unknown, chart = "cilium") => {
  const r = get(baseline(), "cilium");
  r.props.version = version;
  r.props.chart = chart;
  return r;
};
const messages = async (version: unknown, chart?: string) => (await runResourcePolicy(policy, at(version, chart))).violations.map((v) => v.message);

describe("cilium-version-floor", () => {
  it("passes the four chart lines the program supports, and the table knows exactly those lines", async () => {
    for (const version of Object.values(SUPPORTED_CHART_VERSIONS)) expect({ version, ms: await messages(version) }).toEqual({ version, ms: [] });
    expect(SUPPORTED_LINES.map((l) => l.line)).toEqual(Object.keys(SUPPORTED_CHART_VERSIONS));
  });

  it("passes every reference chart present beside the checkout (none needed)", async () => {
    // ../shared/reference beside the repository (or beside the worktree's parent).
    const dir =
      [join(__dirname, "..", "..", "..", "shared"), join(__dirname, "..", "..", "..", "..", "shared")]
        .map((d) => join(d, "reference", "cilium-chart"))
        .find(existsSync) ?? "";
    const versions = dir ? readdirSync(dir).filter((d) => existsSync(join(dir, d, "Chart.yaml"))) : [];
    if (dir) expect(versions.length).toBeGreaterThan(0);
    for (const d of versions) {
      const version = /^version:\s*(\S+)/m.exec(readFileSync(join(dir, d, "Chart.yaml"), "utf8"))?.[1];
      expect({ version, ms: await messages(version) }).toEqual({ version, ms: [] });
    }
  });

  it("rejects a release before an advisory's fix, naming the release, the advisory and its source", async () => {
    const ms = await messages("1.14.7");
    expect(ms[0]).toMatch(
      /^'cilium' \(urn:.*\): version 1\.14\.7 is below the floor: GHSA-v6q2-4qr3-5cw6 .*fixed in 1\.14\.8; https:\/\/github\.com\/cilium\/cilium\/security\/advisories\/GHSA-v6q2-4qr3-5cw6/,
    );
    expect(await messages("1.15.1")).toEqual(expect.arrayContaining([expect.stringContaining("GHSA-v6q2-4qr3-5cw6")]));
    expect(await messages("1.12.19")).toEqual(expect.arrayContaining([expect.stringContaining("not on the 1.12 line")]));
  });

  it("rejects lines below the supported ones even when patched, and reads the version from a chart archive's name", async () => {
    expect(await messages("1.16.5")).toEqual([expect.stringContaining("the 1.16 line is below the supported lines 1.17, 1.18, 1.19, 1.20")]);
    expect(await messages("1.14.8")).toEqual([expect.stringContaining("the 1.14 line is below")]);
    expect(await messages(undefined, "./charts/cilium-1.15.0.tgz")).toHaveLength(2);
    expect(await messages(undefined, "./charts/cilium-1.18.12.tgz")).toEqual([]);
  });

  it("rejects an unpinned or inexact version", async () => {
    expect(await messages(undefined)).toEqual([expect.stringContaining("version is unset")]);
    expect(await messages("~1.18")).toEqual([expect.stringContaining("'~1.18' is not an exact chart version")]);
  });

  it("reports a version unknown at preview as unchecked", async () => {
    expect(await runResourcePolicy(policy, at(UNKNOWN_SENTINEL))).toMatchObject({
      violations: [],
      unchecked: expect.stringContaining("chart version of 'cilium'"),
    });
  });
});
