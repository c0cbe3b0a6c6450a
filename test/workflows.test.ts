// Every workflow in .github/workflows, read by GitHub's own workflow parser
// (@actions/workflow-parser) and held to the repository's rules: actions pinned by commit SHA,
// least-privilege permissions, and every repository path a workflow names exists
// (scripts/validate-workflows.mjs; the parser is ESM-only, so it runs as its own process).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(__dirname, "..");

interface Report {
  files: { file: string; problems: string[] }[];
}

function validate(files: string[] = []): { status: number | null; report: Report } {
  const r = spawnSync(process.execPath, [join(root, "scripts", "validate-workflows.mjs"), "--root", root, ...files], { cwd: root, encoding: "utf8" });
  if (!r.stdout.trim()) throw new Error(`validate-workflows printed nothing (status ${r.status}): ${r.stderr}`);
  return { status: r.status, report: JSON.parse(r.stdout) as Report };
}

describe("GitHub workflows", () => {
  it("finds every workflow file of the repository", () => {
    const onDisk = readdirSync(join(root, ".github", "workflows"))
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
    expect(onDisk).toContain("preview.yml");
    expect(
      validate()
        .report.files.map((f) => f.file.replace(".github/workflows/", ""))
        .sort(),
    ).toEqual(onDisk);
  });

  it("passes GitHub's workflow parser and the repository's rules", () => {
    const { status, report } = validate();
    expect(report.files.filter((f) => f.problems.length > 0)).toEqual([]);
    expect(status).toBe(0);
  });

  it("names a policy-pack configuration for every shipped stack", () => {
    const stacks = readdirSync(join(root, "stacks"))
      .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
      .filter(Boolean);
    const configs = readdirSync(join(root, "policy", "config")).map((f) => f.replace(/\.json$/, ""));
    expect(stacks.length).toBeGreaterThan(0);
    expect(configs).toEqual(expect.arrayContaining(stacks as string[]));
  });

  describe("rejects", () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "workflows-"));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const good = `name: x
on: [push]
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
      - run: ls stacks/Pulumi.*.yaml
`;
    const cases: [string, string, RegExp][] = [
      ["nothing in a well-formed workflow", good, /^$/],
      ["a key GitHub does not know", good.replace("runs-on:", "runs_on:"), /^schema: /m],
      ["an action pinned by tag", good.replace("@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1", "@v4"), /^pinning: actions\/checkout@v4 is not pinned/m],
      ["a SHA without the release it stands for", good.replace(" # v7.0.1", ""), /^pinning: .* has no "# vX\.Y\.Z" comment/m],
      [
        "write access for the whole workflow",
        good.replace("permissions: {}", "permissions:\n  contents: write"),
        /^permissions: the workflow-level block grants/m,
      ],
      ["no workflow-level permissions", good.replace("permissions: {}\n", ""), /^permissions: no workflow-level permissions block/m],
      [
        "a path that does not exist",
        good.replace("stacks/Pulumi.*.yaml", "policy/config/${{ matrix.stack }}.yml"),
        /^paths: policy\/config\/\*\.yml names nothing/m,
      ],
    ];
    it.each(cases)("%s", (_what, content, expected) => {
      const file = join(dir, `case-${cases.findIndex((c) => c[1] === content)}.yml`);
      writeFileSync(file, content);
      const { status, report } = validate([file]);
      const problems = report.files[0].problems.join("\n");
      expect(problems).toMatch(expected);
      expect(status).toBe(problems === "" ? 0 : 1);
    });
  });
});
