// The etcd half of the boot script (etcd.sh) in real bash against a real etcd (Debian's
// etcd-server) serving TLS with client-certificate auth, as kubeadm's stacked etcd does:
// the short-lived client certificate, the member list through the JSON gateway, waiting
// for the predecessor, and removing a rebuilt control plane's stale member.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireTool, run, withBootstrap } from "../../../test/tools";

const dir = mkdtempSync(join(tmpdir(), "wgmesh-etcd-test-"));
const pki = join(dir, "pki");
let etcd: ChildProcess | undefined;
let clientPort = 0;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

const openssl = (args: string[]) => {
  const r = run("openssl", args);
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.output}`);
};

/** The environment of a control plane demo-aws-cp-1 (203.0.113.11) whose peer demo-aws-cp-0 is the real etcd. */
const env = (extra: Record<string, string> = {}) => ({
  WG_MESH_PKI_DIR: pki,
  WG_MESH_ETCD_PORT: String(clientPort),
  NODE_NAME: "demo-aws-cp-1",
  NODE_IP: "203.0.113.11",
  CP_NAMES: "demo-aws-cp-0 demo-aws-cp-1",
  CP_IPS: "127.0.0.1 203.0.113.11",
  ...extra,
});
const withClient = (body: string, extra: Record<string, string> = {}) =>
  withBootstrap(`make_etcd_client\n${body}\nstatus=$?\ndrop_etcd_client\nexit "$status"`, env(extra));
const members = () =>
  JSON.parse(withClient("etcd_api 127.0.0.1 v3/cluster/member/list '{}'").stdout).members as {
    ID: string;
    name?: string;
    peerURLs: string[];
    isLearner?: boolean;
  }[];

beforeAll(async () => {
  for (const [tool, pkg] of [
    ["etcd", "etcd-server"],
    ["openssl", "openssl"],
    ["curl", "curl"],
    ["jq", "jq"],
  ])
    requireTool(tool, pkg);
  mkdirSync(join(pki, "etcd"), { recursive: true });
  const e = (f: string) => join(pki, "etcd", f);
  openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", e("ca.key"), "-out", e("ca.crt"), "-subj", "/CN=etcd-ca", "-days", "1"]);
  writeFileSync(join(dir, "server.cnf"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
  openssl(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "server.key"), "-out", join(dir, "server.csr"), "-subj", "/CN=demo-aws-cp-0"]);
  openssl([
    "x509",
    "-req",
    "-in",
    join(dir, "server.csr"),
    "-CA",
    e("ca.crt"),
    "-CAkey",
    e("ca.key"),
    "-set_serial",
    "1",
    "-days",
    "1",
    "-extfile",
    join(dir, "server.cnf"),
    "-out",
    join(dir, "server.crt"),
  ]);
  clientPort = await freePort();
  const peerPort = await freePort();
  etcd = spawn(
    "etcd",
    [
      "--name",
      "demo-aws-cp-0",
      "--data-dir",
      join(dir, "data"),
      "--listen-client-urls",
      `https://127.0.0.1:${clientPort}`,
      "--advertise-client-urls",
      `https://127.0.0.1:${clientPort}`,
      "--listen-peer-urls",
      `http://127.0.0.1:${peerPort}`,
      "--initial-advertise-peer-urls",
      `http://127.0.0.1:${peerPort}`,
      "--initial-cluster",
      `demo-aws-cp-0=http://127.0.0.1:${peerPort}`,
      "--cert-file",
      join(dir, "server.crt"),
      "--key-file",
      join(dir, "server.key"),
      "--client-cert-auth",
      "--trusted-ca-file",
      e("ca.crt"),
    ],
    { stdio: "ignore" },
  );
  for (let i = 0; i < 100; i++) {
    if (withClient("etcd_api 127.0.0.1 health").status === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("etcd did not start");
}, 60_000);

afterAll(async () => {
  if (etcd && etcd.exitCode === null) {
    const exited = new Promise((r) => etcd!.once("exit", r));
    etcd.kill("SIGTERM");
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("the etcd client certificate", () => {
  it("is signed by the etcd CA, for client auth only, in a private directory that is dropped after", () => {
    const r = withBootstrap(
      `make_etcd_client
      stat -c %a "$ETCD_CLIENT_DIR"
      openssl verify -CAfile "$WG_MESH_PKI_DIR/etcd/ca.crt" "$ETCD_CLIENT_DIR/client.crt"
      openssl x509 -in "$ETCD_CLIENT_DIR/client.crt" -noout -ext extendedKeyUsage
      d=$ETCD_CLIENT_DIR; drop_etcd_client; [[ ! -e "$d" ]] && echo dropped`,
      env(),
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^700\n/);
    expect(r.stdout).toContain("client.crt: OK");
    expect(r.stdout).toMatch(/TLS Web Client Authentication/);
    expect(r.stdout).not.toMatch(/Server Authentication/);
    expect(r.stdout).toContain("dropped");
  });

  it("is accepted by etcd, and a certificate of another CA is not", () => {
    expect(JSON.parse(withClient("etcd_api 127.0.0.1 health").stdout)).toMatchObject({ health: "true" });
    const other = withBootstrap(
      `make_etcd_client
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$ETCD_CLIENT_DIR/client.key" -out "$ETCD_CLIENT_DIR/client.crt" -subj /CN=intruder -days 1 2>/dev/null
      etcd_api 127.0.0.1 health`,
      env(),
    );
    expect(other.status).not.toBe(0);
  });
});

describe("joining one at a time", () => {
  it("knows each control plane's predecessor and address", () => {
    const r = withBootstrap(
      `predecessor_of demo-aws-cp-1; echo "[$(predecessor_of demo-aws-cp-0)]"; ip_of demo-aws-cp-0; predecessor_of nobody || echo unknown`,
      env(),
    );
    expect(r.stdout).toBe("demo-aws-cp-0\n[]\n127.0.0.1\nunknown\n");
  });

  it("proceeds once the predecessor is a healthy voting member", () => {
    const r = withClient("wait_for_predecessor && echo proceed", { WG_MESH_PREDECESSOR_ROUNDS: "2", WG_MESH_PREDECESSOR_INTERVAL: "0" });
    expect(r.stdout.trim()).toBe("proceed");
    expect(r.stderr).toContain("waiting until demo-aws-cp-0 is a healthy etcd member");
  });

  it("waits, then fails, while the predecessor is not a member (here: a name etcd does not know)", () => {
    const r = withClient("wait_for_predecessor && echo proceed", {
      CP_NAMES: "demo-aws-cp-0 demo-gcp-cp-0 demo-aws-cp-1",
      CP_IPS: "127.0.0.1 127.0.0.1 203.0.113.11",
      WG_MESH_PREDECESSOR_ROUNDS: "3",
      WG_MESH_PREDECESSOR_INTERVAL: "0",
    });
    expect(r.status).not.toBe(0);
    expect(r.stdout).not.toContain("proceed");
    expect(r.stderr).toMatch(/attempt 2\/3 failed: member_is_healthy/);
    expect(r.stderr).toContain("demo-gcp-cp-0 did not become a healthy etcd member");
  });
});

describe("a rebuilt control plane's stale member", () => {
  it("is found by its peer URL (an unstarted member has no name yet) and removed before joining", () => {
    const added = withClient(`etcd_api 127.0.0.1 v3/cluster/member/add '{"peerURLs":["https://203.0.113.11:2380"],"isLearner":true}'`);
    expect(added.status).toBe(0);
    expect(members().map((m) => m.peerURLs[0])).toContain("https://203.0.113.11:2380");
    // Not a healthy voting member: a control plane after it would keep waiting.
    expect(withClient("member_is_healthy demo-aws-cp-1").status).not.toBe(0);

    const r = withClient("remove_stale_member");
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/removed stale etcd member \d+ \(demo-aws-cp-1's former self\) via 127\.0\.0\.1/);
    expect(members().map((m) => m.name)).toEqual(["demo-aws-cp-0"]);
  });

  it("leaves every other member alone, and does nothing when there is none", () => {
    const r = withClient("remove_stale_member");
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain("removed");
    expect(members()).toHaveLength(1);
  });
});
