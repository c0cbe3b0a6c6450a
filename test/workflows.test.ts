// Every workflow in .github/workflows, read by a real workflow parser (action-validator's
// schema for GitHub Actions workflows) and by a YAML parser for the project's own rules:
// actions pinned by full commit, least-privilege permissions; and the agent-image workflow
// builds agent/Dockerfile for both architectures, pushes to the owner's GHCR and prints the
// digest in the form nodeRouter.image accepts.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { validateWorkflow } from "@action-validator/core";
import { IMAGE_PATTERN } from "../components/nodeRouter/settings";
import { requireTool, run, shellcheck } from "../components/cluster/bootstrap/testTools";

const dir = join(__dirname, "..", ".github", "workflows");
const files = readdirSync(dir).filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"));
const read = (f: string) => readFileSync(join(dir, f), "utf8");

describe.each(files)("%s", (file) => {
  it("is a valid workflow for the real parser", () => {
    expect(validateWorkflow(read(file)).errors).toEqual([]);
  });
});

it("the parser can fail: a step with neither uses nor run is rejected", () => {
  expect(validateWorkflow("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - name: nothing\n").errors.length).toBeGreaterThan(0);
});

describe("agent-image.yml", () => {
  const text = read("agent-image.yml");
  const wf = parse(text) as any;
  const steps = wf.jobs.build.steps as any[];

  it("pins every action by a full commit SHA, with the release in a comment", () => {
    const uses = text.split("\n").filter((l) => /^\s*-?\s*uses:/.test(l));
    expect(uses.length).toBe(5);
    for (const line of uses) expect(line).toMatch(/uses: [\w-]+\/[\w-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
  });

  it("grants nothing by default and the job only contents: read and packages: write", () => {
    expect(wf.permissions).toEqual({});
    expect(wf.jobs.build.permissions).toEqual({ contents: "read", packages: "write" });
    expect(steps[0].with["persist-credentials"]).toBe(false);
  });

  it("builds agent/Dockerfile from the repository root for linux/amd64 and linux/arm64, and pushes to the owner's GHCR", () => {
    const build = steps.find((s) => s.id === "build");
    expect(build.with).toMatchObject({ context: ".", file: "agent/Dockerfile", platforms: "linux/amd64,linux/arm64", push: true });
    expect(steps.find((s) => s.id === "names").run).toContain('repo=ghcr.io/${owner}/node-router');
  });

  it("prints a pulumi config line whose image the program accepts", () => {
    const printStep = steps[steps.length - 1];
    requireTool("bash", "bash");
    requireTool("shellcheck", "shellcheck");
    expect(shellcheck(`#!/usr/bin/env bash\n${printStep.run}`)).toEqual({ status: 0, output: "" });
    const digest = `sha256:${"ab".repeat(32)}`;
    const out = run("bash", ["-c", `GITHUB_STEP_SUMMARY=/dev/null\n${printStep.run}`], undefined, { ...process.env, REPO: "ghcr.io/acme/node-router", DIGEST: digest });
    expect(out.status).toBe(0);
    const image = /nodeRouter\.image' (\S+)/.exec(out.output)![1];
    expect(image).toBe(`ghcr.io/acme/node-router@${digest}`);
    expect(IMAGE_PATTERN.test(image)).toBe(true);
    expect(run("bash", ["-c", printStep.run], undefined, { ...process.env, REPO: "ghcr.io/acme/node-router", DIGEST: "" }).status).not.toBe(0);
  });
});
