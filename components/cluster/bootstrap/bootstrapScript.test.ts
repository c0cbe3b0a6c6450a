// Runs functions of the real bootstrap.sh with real bash, jq, ip and a private network
// namespace (unshare -n: it vanishes with the process, so nothing is left behind).
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pkiBundleFiles } from "./discovery";
import { requireTool, run, withTempDir } from "../../../test/tools";

const SCRIPT = join(__dirname, "bootstrap.sh");

beforeAll(() => {
  for (const [tool, pkg] of [
    ["bash", "bash"],
    ["jq", "jq"],
    ["ip", "iproute2"],
    ["unshare", "util-linux"],
  ])
    requireTool(tool, pkg);
});

/** Sources bootstrap.sh (which defines functions only) and runs `body`. */
function bashWithScript(body: string, input?: string, env: Record<string, string> = {}) {
  return run("bash", ["-c", `source "$1"\n${body}`, "_", SCRIPT], input, { ...process.env, WG_MESH_LIB_DIR: __dirname, ...env });
}

const bundle = Object.fromEntries(pkiBundleFiles.map((f) => [f, `-----BEGIN TEST-----\n${f}\n-----END TEST-----\n`]));

describe("write_pki_bundle", () => {
  it("writes every expected file with mode 0600 and nothing else", () => {
    withTempDir((dir) => {
      const pki = join(dir, "pki");
      const hostile = { ...bundle, "../escaped": "x", "apiserver.key": "x" };
      const r = bashWithScript("write_pki_bundle", JSON.stringify(hostile), { WG_MESH_PKI_DIR: pki, PKI_FILES: pkiBundleFiles.join(" ") });
      expect(r).toEqual({ status: 0, output: "" });
      for (const f of pkiBundleFiles) {
        expect(readFileSync(join(pki, f), "utf8")).toBe(bundle[f]);
        expect(statSync(join(pki, f)).mode & 0o777).toBe(0o600);
      }
      expect(readdirSync(pki).sort()).toEqual(["ca.crt", "ca.key", "etcd", "front-proxy-ca.crt", "front-proxy-ca.key", "sa.key", "sa.pub"]);
      expect(readdirSync(dir)).toEqual(["pki"]); // "../escaped" was not written
    });
  });

  it("fails, naming the key, when the bundle lacks a file", () => {
    withTempDir((dir) => {
      const partial: Record<string, string> = { ...bundle };
      delete partial["etcd/ca.key"];
      const r = bashWithScript("write_pki_bundle", JSON.stringify(partial), { WG_MESH_PKI_DIR: dir, PKI_FILES: pkiBundleFiles.join(" ") });
      expect(r.status).not.toBe(0);
      expect(r.output).toContain('PKI bundle has no string value for "etcd/ca.key"');
    });
  });

  it("fails when the secret is not a JSON object", () => {
    withTempDir((dir) => {
      const r = bashWithScript("write_pki_bundle", "-----BEGIN RSA PRIVATE KEY-----", { WG_MESH_PKI_DIR: dir, PKI_FILES: "ca.key" });
      expect(r.status).not.toBe(0);
      expect(r.output).toContain("PKI bundle is not a JSON object");
    });
  });
});

// The kernel here has no dummy driver, so a veth end stands in for the link: the check only
// reads the address list of the named interface, whatever its type.
describe("has_mesh_address (real ip output in a private network namespace)", () => {
  const check = (addr: string | null, nodeIp: string) =>
    run("unshare", [
      "-n",
      "bash",
      "-c",
      `set -e; ip link add wgmtest0 type veth peer name wgmtest1; ip link set wgmtest0 up
       ${addr ? `ip addr add ${addr} dev wgmtest0` : ""}
       WG_MESH_LIB_DIR="$2" source "$1"; MESH_INTERFACE=wgmtest0 NODE_IP=${nodeIp}; has_mesh_address`,
      "_",
      SCRIPT,
      __dirname,
    ]);

  it("finds the public IP as a /32 on the mesh link", () => expect(check("198.51.100.7/32", "198.51.100.7").status).toBe(0));
  it("rejects a missing address", () => expect(check(null, "198.51.100.7").status).not.toBe(0));
  it("does not mistake a longer address for the node IP", () => expect(check("198.51.100.70/32", "198.51.100.7").status).not.toBe(0));
  it("requires a /32, not a wider prefix", () => expect(check("198.51.100.7/24", "198.51.100.7").status).not.toBe(0));
});

describe("load_env", () => {
  it("fails clearly when a required variable is missing from the env file", () => {
    withTempDir((dir) => {
      mkdirSync(join(dir, "etc"));
      const env = join(dir, "etc", "bootstrap.env");
      writeFileSync(env, "CLOUD='aws'\nROLE='worker'\n");
      const r = bashWithScript("load_env", undefined, { WG_MESH_ENV_FILE: env });
      expect(r.status).not.toBe(0);
      expect(r.output).toMatch(/MAY_INIT: parameter null or not set|MAY_INIT: unbound variable/);
    });
  });
});

it("retry gives up after the given number of attempts", () => {
  const r = bashWithScript('calls=0; f() { calls=$((calls+1)); return 1; }; if retry 3 0 f; then echo ok; else echo "gave up after $calls"; fi');
  expect(r.output).toContain("gave up after 3");
});
