import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BOOTSTRAP_LIBRARIES, renderCloudInit } from "./cloudInit";
import { ENV_FILE } from "./bootstrapEnv";
import { exampleNodes } from "../../../test/fixtures/bootstrap";
import { parseCloudConfig, requireTool, shellcheck, writtenFile } from "../../../test/tools";

beforeAll(() => requireTool("shellcheck", "shellcheck"));

const shipped = ["bootstrap.sh", "guard.sh", "proxySync.sh", ...BOOTSTRAP_LIBRARIES];

it.each(shipped)("the static %s passes real shellcheck", (file) => {
  const r = shellcheck(readFileSync(join(__dirname, file), "utf8"));
  expect(r.output).toBe("");
  expect(r.status).toBe(0);
});

/** What nodes run: the main script (#!) and the libraries it sources (# shellcheck shell=bash). */
export const shellFiles = (config: ReturnType<typeof parseCloudConfig>) =>
  config.write_files.filter((f) => f.content.startsWith("#!") || f.content.startsWith("# shellcheck shell=bash"));

describe.each(Object.entries(exampleNodes))("shell in the user data of %s", (_name, node) => {
  const config = parseCloudConfig(renderCloudInit(node));

  it("every shell file in write_files passes shellcheck", () => {
    const scripts = shellFiles(config);
    expect(scripts.map((f) => f.path).sort()).toEqual([
      "/usr/local/lib/wg-mesh/decide.sh",
      "/usr/local/lib/wg-mesh/etcd.sh",
      "/usr/local/lib/wg-mesh/packages.sh",
      "/usr/local/lib/wg-mesh/secrets.sh",
      "/usr/local/sbin/wg-mesh-apiserver-proxy-sync",
      "/usr/local/sbin/wg-mesh-bootstrap",
      "/usr/local/sbin/wg-mesh-guard",
    ]);
    for (const s of scripts) {
      const r = shellcheck(s.content);
      expect({ path: s.path, ...r }).toEqual({ path: s.path, status: 0, output: "" });
    }
  });

  it("the sourced env file passes shellcheck (SC2034 off: its variables are used by the script)", () => {
    const r = shellcheck(writtenFile(config, ENV_FILE).content, ["--exclude=SC2034"]);
    expect(r).toEqual({ status: 0, output: "" });
  });

  it("runcmd, as the shell script cloud-init makes of it, passes shellcheck", () => {
    const quote = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;
    const script = ["#!/bin/sh", ...config.runcmd.map((argv) => argv.map(quote).join(" ")), ""].join("\n");
    expect(shellcheck(script, ["--shell=sh"])).toEqual({ status: 0, output: "" });
  });
});

it("shellcheck can fail: a known-bad snippet is rejected", () => {
  const r = shellcheck("#!/usr/bin/env bash\nfor f in $(ls *.txt); do rm $f; done\n");
  expect(r.status).not.toBe(0);
  expect(r.output).toMatch(/SC2045|SC2086/);
});
