// The boot-time guard script (guard.sh) in real bash with containerd's `ctr` stubbed: it runs
// the agent image's own `guard apply` in the host network namespace with CAP_NET_ADMIN added (not privileged)
// and the node table mounted read-only, pulls the image when it is missing, retries, and
// fails (so the kubelet, which requires it, stays stopped) when it cannot.
import { TEST_IMAGE } from "../../../test/fixtures/images";
import { chmodSync, mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { exampleNodeTable } from "../../../test/fixtures/bootstrap";
import { requireTool, withTempDir } from "../../../test/tools";

beforeAll(() => requireTool("bash", "bash"));

const IMAGE = TEST_IMAGE;
const CTR = `#!/bin/bash
echo "$*" >>"$STUB/ctr.args"
case "$*" in
  *"images ls -q"*) [[ -f "$STUB/present" ]] && echo "$IMAGE_REF" ; exit 0 ;;
  *"images pull"*) touch "$STUB/present"; exit 0 ;;
  *" run "*) n=$(( $(cat "$STUB/runs" 2>/dev/null || echo 0) + 1 )); echo "$n" >"$STUB/runs"; (( n > FAILS )) ;;
esac
`;

function runGuard(fails: number, imagePresent: boolean) {
  return withTempDir((dir) => {
    const bin = join(dir, "bin");
    const stub = join(dir, "stub");
    mkdirSync(bin);
    mkdirSync(stub);
    writeFileSync(join(bin, "ctr"), CTR);
    chmodSync(join(bin, "ctr"), 0o755);
    if (imagePresent) writeFileSync(join(stub, "present"), "");
    writeFileSync(join(dir, "node-table.json"), exampleNodeTable);
    writeFileSync(join(dir, "bootstrap.env"), [
      `AGENT_IMAGE='${IMAGE}'`, "NODE_NAME='demo-aws-workers-0'", `NODE_TABLE='${join(dir, "node-table.json")}'`,
      "GUARD_DEVICE='cilium_wg0'", "GUARD_WG_MARK='0xe00'", "GUARD_WG_MASK='0xf00'", "GUARD_EXEMPT_PORTS='6443,2379-2380'", "",
    ].join("\n"));
    const r = spawnSync("bash", [join(__dirname, "guard.sh")], {
      encoding: "utf8", timeout: 30_000,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, STUB: stub, IMAGE_REF: IMAGE, FAILS: String(fails), WG_MESH_ENV_FILE: join(dir, "bootstrap.env"), WG_MESH_GUARD_DELAY: "0", WG_MESH_GUARD_ATTEMPTS: "3" },
    });
    const args = existsSync(join(stub, "ctr.args")) ? readFileSync(join(stub, "ctr.args"), "utf8").trim().split("\n") : [];
    return { status: r.status, log: r.stderr, args, table: join(dir, "node-table.json") };
  });
}

it("runs the agent image's guard apply with the node table, host network and NET_ADMIN added, not privileged", () => {
  const r = runGuard(0, true);
  expect(r.status).toBe(0);
  const run = r.args.find((a) => a.includes(" run "))!;
  expect(run).toContain("--namespace k8s.io run --rm --net-host --cap-add CAP_NET_ADMIN");
  expect(run).toContain(`--mount type=bind,src=${r.table},dst=${r.table},options=rbind:ro`);
  expect(run).toContain(`${IMAGE} wg-mesh-guard-`);
  expect(run).toMatch(new RegExp(`guard apply --node-table ${r.table} --node-name demo-aws-workers-0 --device cilium_wg0 --wg-mark 0xe00 --wg-mask 0xf00 --exempt-ports 6443,2379-2380$`));
  expect(run).not.toContain("--privileged");
  expect(r.args.some((a) => a.includes("images pull"))).toBe(false);
  expect(r.log).toContain("egress guard applied");
});

it("pulls the image first when containerd does not have it", () => {
  const r = runGuard(0, false);
  expect(r.status).toBe(0);
  expect(r.args.findIndex((a) => a.includes("images pull"))).toBeLessThan(r.args.findIndex((a) => a.includes(" run ")));
});

it("retries, and fails (keeping the kubelet stopped) when the guard cannot be applied", () => {
  expect(runGuard(2, true).status).toBe(0);
  const r = runGuard(5, true);
  expect(r.status).toBe(1);
  expect(r.args.filter((a) => a.includes(" run "))).toHaveLength(3);
  expect(r.log).toContain("FATAL: no egress guard after 3 attempts; kubelet stays stopped");
});
