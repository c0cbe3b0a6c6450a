// The agent-image workflow (also checked, with every workflow, by GitHub's parser in
// workflows.test.ts): it builds agent/Dockerfile for both architectures, pushes to the
// repository owner's GHCR with the least it needs, and prints the digest as a
// `pulumi config set` line whose image the program accepts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { IMAGE_PATTERN, imageProblem } from "../components/nodeRouter/settings";
import { requireTool, run, shellcheck } from "./tools";

const text = readFileSync(join(__dirname, "..", ".github", "workflows", "agent-image.yml"), "utf8");
const wf = parse(text) as any;
const steps = wf.jobs.build.steps as any[];

it("grants nothing by default, and the job only contents: read and packages: write", () => {
  expect(wf.permissions).toEqual({});
  expect(wf.jobs.build.permissions).toEqual({ contents: "read", packages: "write" });
  expect(steps[0].with["persist-credentials"]).toBe(false);
});

it("builds agent/Dockerfile from the repository root for linux/amd64 and linux/arm64, and pushes to the owner's GHCR", () => {
  const build = steps.find((s) => s.id === "build");
  expect(build.uses).toMatch(/^docker\/build-push-action@[0-9a-f]{40}$/);
  expect(build.with).toMatchObject({ context: ".", file: "agent/Dockerfile", platforms: "linux/amd64,linux/arm64", push: true });
  expect(steps.find((s) => s.id === "names").run).toContain("repo=ghcr.io/${owner}/node-router");
});

it("names the image with a lower-case owner and a valid tag", () => {
  requireTool("bash", "bash");
  const names = steps.find((s) => s.id === "names").run as string;
  const out = run("bash", ["-c", `GITHUB_OUTPUT=$(mktemp)\n${names}\ncat "$GITHUB_OUTPUT"; rm -f "$GITHUB_OUTPUT"`], undefined, {
    ...process.env,
    GITHUB_REPOSITORY_OWNER: "Acme-Corp",
    INPUT_TAG: "",
    REF_NAME: "node-router-v1.2.3",
  });
  expect(out).toEqual({ status: 0, output: "repo=ghcr.io/acme-corp/node-router\ntag=1.2.3\n" });
  expect(
    run("bash", ["-c", `GITHUB_OUTPUT=/dev/null\n${names}`], undefined, {
      ...process.env,
      GITHUB_REPOSITORY_OWNER: "acme",
      INPUT_TAG: "bad tag;rm",
      REF_NAME: "main",
    }).status,
  ).not.toBe(0);
});

it("prints a pulumi config line whose image the program accepts, and fails without a digest", () => {
  requireTool("shellcheck", "shellcheck");
  const printStep = steps[steps.length - 1];
  expect(shellcheck(`#!/usr/bin/env bash\n${printStep.run}`)).toEqual({ status: 0, output: "" });
  const digest = `sha256:${"ab".repeat(32)}`;
  const out = run("bash", ["-c", `GITHUB_STEP_SUMMARY=/dev/null\n${printStep.run}`], undefined, {
    ...process.env,
    REPO: "ghcr.io/acme/node-router",
    DIGEST: digest,
  });
  expect(out.status).toBe(0);
  const image = /nodeRouter\.image' (\S+)/.exec(out.output)![1];
  expect(image).toBe(`ghcr.io/acme/node-router@${digest}`);
  expect(IMAGE_PATTERN.test(image)).toBe(true);
  expect(imageProblem(image)).toBeUndefined();
  expect(
    run("bash", ["-c", `GITHUB_STEP_SUMMARY=/dev/null\n${printStep.run}`], undefined, { ...process.env, REPO: "ghcr.io/acme/node-router", DIGEST: "" }).status,
  ).not.toBe(0);
});
