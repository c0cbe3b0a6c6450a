// The node-local API proxy: its configuration is checked by the real HAProxy (`haproxy -c`),
// and the boot script's probe of a control plane is run with real curl against a real TLS
// server whose certificate a real (openssl) CA signed.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderProxyConfig, PROXY_UNIT_CONTENT } from "./apiserverProxy";
import { exampleNodes } from "../../../test/fixtures/bootstrap";
import { requireTool, run, withBootstrap, withTempDir } from "../../../test/tools";

beforeAll(() => {
  requireTool("haproxy", "haproxy");
  requireTool("openssl", "openssl");
});

describe("HAProxy configuration", () => {
  it("passes the real `haproxy -c` with every control plane as a health-checked backend", () => {
    withTempDir((dir) => {
      const ca = join(dir, "ca.crt");
      writeFileSync(ca, exampleNodes["aws worker"].caCertPem);
      const cfg = join(dir, "proxy.cfg");
      writeFileSync(cfg, renderProxyConfig(exampleNodes["aws worker"].controlPlanes, ca));
      const r = run("haproxy", ["-c", "-f", cfg]);
      expect(r.output).toMatch(/Configuration file is valid/);
      expect(r.status).toBe(0);
    });
  });

  it("the check can fail: an invalid verify mode is rejected by the same command", () => {
    withTempDir((dir) => {
      const ca = join(dir, "ca.crt");
      writeFileSync(ca, exampleNodes["aws worker"].caCertPem);
      const cfg = join(dir, "proxy.cfg");
      writeFileSync(cfg, renderProxyConfig([{ name: "x", ip: "203.0.113.10" }], ca).replace("verify required", "verify sometimes"));
      expect(run("haproxy", ["-c", "-f", cfg]).status).not.toBe(0);
    });
  });

  it("listens on loopback only, trusts only the cluster CA, and takes a control plane out within seconds", () => {
    const cfg = renderProxyConfig(exampleNodes["aws worker"].controlPlanes);
    expect(cfg).toMatch(/^ {2}bind 127\.0\.0\.1:7445$/m);
    expect(cfg).toMatch(/check-ssl verify required ca-file \/etc\/wg-mesh\/cluster-ca\.crt inter 3s fall 2 rise 1/);
    expect(cfg).toMatch(/http-check send meth GET uri \/readyz/);
    expect(PROXY_UNIT_CONTENT).toMatch(/^ExecStartPre=\/usr\/sbin\/haproxy -c -q -f \/etc\/wg-mesh\/apiserver-proxy\.cfg$/m);
    expect(PROXY_UNIT_CONTENT).toMatch(/^Restart=always$/m);
  });
});

// The probe runs synchronously (spawnSync), so the TLS server lives in its own process.
const SERVER = `
const https = require("node:https"); const fs = require("node:fs"); const dir = process.argv[1];
https.createServer({ key: fs.readFileSync(dir + "/srv.key"), cert: fs.readFileSync(dir + "/srv.crt") }, (req, res) =>
  res.writeHead(req.url === "/readyz" ? 200 : 404).end(fs.readFileSync(dir + "/body", "utf8")))
  .listen(0, "127.0.0.1", function () { process.stdout.write(this.address().port + "\\n"); });`;

describe("probe_apiserver (real curl, real TLS)", () => {
  const dir = mkdtempSync(join(tmpdir(), "wgmesh-probe-"));
  let server: ChildProcess;
  let port = 0;
  const setBody = (b: string) => writeFileSync(join(dir, "body"), b);

  beforeAll(async () => {
    const sh = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
    writeFileSync(join(dir, "san.cnf"), "subjectAltName=IP:127.0.0.1\n");
    sh(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=kubernetes", "-days", "1"]);
    sh(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out", "other.crt", "-subj", "/CN=other", "-days", "1"]);
    sh(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=kube-apiserver"]);
    sh(["x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial", "7", "-out", "srv.crt", "-days", "1", "-extfile", "san.cnf"]);
    setBody("ok");
    server = spawn(process.execPath, ["-e", SERVER, dir], { stdio: ["ignore", "pipe", "inherit"] });
    port = await new Promise<number>((resolve) => server.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))));
  });
  afterAll(async () => {
    const exited = new Promise((r) => server.once("exit", r));
    server.kill();
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });

  const probe = (caFile: string) =>
    withBootstrap("probe_apiserver 127.0.0.1 && echo answers", { CA_CERT: join(dir, caFile), WG_MESH_APISERVER_PORT: String(port) }).stdout.trim();

  it("answers when /readyz says ok over TLS the cluster CA signed", () => {
    setBody("ok");
    expect(probe("ca.crt")).toBe("answers");
  });
  it("does not answer for a server another CA signed (a machine pretending to be a control plane)", () => {
    setBody("ok");
    expect(probe("other.crt")).toBe("");
  });
  it("does not answer while /readyz is not ok", () => {
    setBody("[-]etcd failed: reason withheld");
    expect(probe("ca.crt")).toBe("");
  });
});
