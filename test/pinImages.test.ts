// scripts/pin-images.sh in real bash, with the cloud and Pulumi CLIs stubbed (each stub
// logs how it was called and answers as the real one would), and the values it records
// accepted by the program's own validation.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { requireTool, shellcheck, withTempDir } from "./tools";
import { amiProblem, gcpImageProblem } from "../infra/pins";

const SCRIPT = join(__dirname, "..", "scripts", "pin-images.sh");

beforeAll(() => requireTool("bash", "bash"));

function stub(dir: string, name: string, body: string) {
  const file = join(dir, "bin", name);
  mkdirSync(join(dir, "bin"), { recursive: true });
  writeFileSync(file, `#!/usr/bin/env bash\necho "${name} $*" >>"${join(dir, "calls")}"\n${body}\n`);
  chmodSync(file, 0o755);
}

/** Runs the script with stubs: the stack config holds `config` (key -> value). */
function pin(config: Record<string, string>, args: string[], clouds: { ami?: string; image?: string } = {}) {
  return withTempDir((dir) => {
    const cases = Object.entries(config)
      .map(([k, v]) => `  *"wg-mesh-cluster:${k}"*) echo '${v}' ;;`)
      .join("\n");
    stub(dir, "pulumi", `if [[ "$2" == get ]]; then case "$*" in\n${cases}\n  *) exit 1 ;;\nesac; fi`);
    stub(dir, "aws", `echo '${clouds.ami ?? "ami-0abcdef1234567890"}'`);
    stub(dir, "gcloud", `echo '${clouds.image ?? "ubuntu-2404-noble-amd64-v20261120"}'`);
    const r = spawnSync("bash", [SCRIPT, ...args], { encoding: "utf8", env: { ...process.env, PATH: `${join(dir, "bin")}:${process.env.PATH}` } });
    let calls: string[] = [];
    try {
      calls = readFileSync(join(dir, "calls"), "utf8").trim().split("\n");
    } catch {
      calls = [];
    }
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls };
  });
}

it("looks up the newest Canonical Ubuntu 24.04 image of each cloud and sets it in the stack config", () => {
  const r = pin({ "aws.region": "eu-west-1", "gcp.project": "demo-project-123" }, ["multicloud"]);
  expect(r.status).toBe(0);
  const aws = r.calls.find((c) => c.startsWith("aws "))!;
  expect(aws).toContain("ec2 describe-images --region eu-west-1 --owners 099720109477");
  expect(aws).toContain("Name=name,Values=ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*");
  expect(aws).toContain("sort_by(Images, &CreationDate)[-1].ImageId");
  expect(r.calls).toContain("gcloud compute images describe-from-family ubuntu-2404-lts-amd64 --project ubuntu-os-cloud --format value(name)");
  expect(r.calls).toContain("pulumi config set --stack multicloud --path wg-mesh-cluster:aws.ami ami-0abcdef1234567890");
  expect(r.calls).toContain(
    "pulumi config set --stack multicloud --path wg-mesh-cluster:gcp.image projects/ubuntu-os-cloud/global/images/ubuntu-2404-noble-amd64-v20261120",
  );
});

it("--print only prints, and what it prints passes the program's validation", () => {
  const r = pin({ "aws.region": "eu-west-1", "gcp.project": "demo-project-123" }, ["multicloud", "--print"]);
  expect(r.status).toBe(0);
  expect(r.calls.filter((c) => c.startsWith("pulumi config set"))).toEqual([]);
  const ami = /aws\.ami = (\S+)/.exec(r.stdout)![1];
  const image = /gcp\.image = (\S+)/.exec(r.stdout)![1];
  expect(amiProblem(ami)).toBeUndefined();
  expect(gcpImageProblem(image)).toBeUndefined();
});

it("touches only the clouds the stack uses", () => {
  const r = pin({ "aws.region": "eu-west-1" }, ["aws"]);
  expect(r.status).toBe(0);
  expect(r.calls.some((c) => c.startsWith("gcloud"))).toBe(false);
});

it("fails clearly on a stack without a cloud, and on a lookup that finds nothing", () => {
  expect(pin({}, ["empty"]).stderr).toMatch(/has neither wg-mesh-cluster:aws\.region nor wg-mesh-cluster:gcp\.project set/);
  const none = pin({ "aws.region": "eu-west-1" }, ["aws"], { ami: "None" });
  expect(none.status).not.toBe(0);
  expect(none.stderr).toContain("no Ubuntu 24.04 AMI found in eu-west-1 (got 'None')");
  expect(none.calls.filter((c) => c.startsWith("pulumi config set"))).toEqual([]);
});

it("passes real shellcheck", () => {
  requireTool("shellcheck", "shellcheck");
  expect(shellcheck(readFileSync(SCRIPT, "utf8"))).toEqual({ status: 0, output: "" });
});
