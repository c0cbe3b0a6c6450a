// Where the agent finds the API: in-cluster (service-account token kubelet rotates, CA file,
// KUBERNETES_SERVICE_HOST/PORT) over real TLS, and kubeconfig files (YAML or JSON).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inClusterTarget, kubeconfigTarget, KubeConfigError } from "../../../src/kube/config";
import { KubeTransport } from "../../../src/kube/transport";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kubecfg-"));
  // A CA and a server certificate for 127.0.0.1, made with openssl (scripts/setup.sh installs it).
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  ssl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-subj",
    "/CN=test-ca",
    "-days",
    "1",
  );
  ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=kubernetes");
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
  ssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "srv.crt", "-days", "1", "-extfile", "san.ext");
  ssl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    "other.key",
    "-out",
    "other.crt",
    "-subj",
    "/CN=other-ca",
    "-days",
    "1",
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("in-cluster config", () => {
  it("names the missing environment variables", () => {
    expect(() => inClusterTarget({}, dir)).toThrow(/KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT.*--kubeconfig/);
  });

  it("brackets an IPv6 service host and names a missing token file", () => {
    writeFileSync(join(dir, "token"), "t0\n");
    expect(inClusterTarget({ KUBERNETES_SERVICE_HOST: "2001:db8::1", KUBERNETES_SERVICE_PORT: "443" }, dir).server.origin).toBe("https://[2001:db8::1]");
    expect(() => inClusterTarget({ KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" }, join(dir, "nowhere"))).toThrow(
      /ca\.crt.*automountServiceAccountToken/,
    );
  });

  it("verifies the API server against ca.crt and sends the token kubelet last wrote", async () => {
    const seen: string[] = [];
    const server: Server = createServer({ key: readFile("srv.key"), cert: readFile("srv.crt") }, (req, res) => {
      seen.push(req.headers.authorization ?? "");
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const env = { KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: String((server.address() as AddressInfo).port) };
    try {
      writeFileSync(join(dir, "token"), "first-token\n");
      const t = new KubeTransport(inClusterTarget(env, dir));
      expect(await t.getJson("/api/v1/nodes", { idleMs: 5000 })).toEqual({ ok: true });
      writeFileSync(join(dir, "token"), "rotated-token\n"); // kubelet rotates the projected token
      await t.getJson("/api/v1/nodes", { idleMs: 5000 });
      t.close();
      expect(seen).toEqual(["Bearer first-token", "Bearer rotated-token"]);

      // A server whose certificate the CA did not sign is refused.
      const otherDir = mkdtempSync(join(tmpdir(), "kubecfg-other-"));
      writeFileSync(join(otherDir, "ca.crt"), readFile("other.crt"));
      writeFileSync(join(otherDir, "token"), "x");
      const wrong = new KubeTransport(inClusterTarget(env, otherDir));
      await expect(wrong.getJson("/api/v1/nodes", { idleMs: 5000 })).rejects.toThrow(/certificate/);
      wrong.close();
      rmSync(otherDir, { recursive: true, force: true });
      expect(seen.length).toBe(2);
    } finally {
      server.close();
    }
  });
});

function readFile(name: string): Buffer {
  return readFileSync(join(dir, name));
}

const kubeconfig = (name: string, yaml: string) => {
  const file = join(dir, name);
  writeFileSync(file, yaml);
  return file;
};

describe("kubeconfig", () => {
  it("reads YAML: current context, CA file relative to the kubeconfig, tokenFile", async () => {
    writeFileSync(join(dir, "user.token"), "from-file\n");
    const file = kubeconfig(
      "config.yaml",
      [
        "apiVersion: v1",
        "kind: Config",
        "current-context: b",
        "clusters:",
        "- name: c1",
        "  cluster: {server: 'https://198.51.100.10:6443', certificate-authority: ca.crt, tls-server-name: kubernetes}",
        "users:",
        "- name: u1",
        "  user: {tokenFile: user.token}",
        "contexts:",
        "- name: a",
        "  context: {cluster: nope, user: nope}",
        "- name: b",
        "  context: {cluster: c1, user: u1}",
      ].join("\n"),
    );
    const t = await kubeconfigTarget(file);
    expect(t.server.origin).toBe("https://198.51.100.10:6443");
    expect(t.ca?.equals(readFile("ca.crt"))).toBe(true);
    expect(t.verifyTls).toBe(true);
    expect(t.tlsServerName).toBe("kubernetes");
    expect(await t.token?.()).toBe("from-file");
  });

  it("accepts plain http only with insecure-skip-tls-verify (the lab), and refuses what it cannot do by field name", async () => {
    const base = (cluster: string, user = "{}") =>
      `{"current-context":"x","contexts":[{"name":"x","context":{"cluster":"c","user":"u"}}],"clusters":[{"name":"c","cluster":${cluster}}],"users":[{"name":"u","user":${user}}]}`;
    expect((await kubeconfigTarget(kubeconfig("lab.json", base(`{"server":"http://198.51.100.10:6443","insecure-skip-tls-verify":true}`)))).verifyTls).toBe(
      false,
    );
    await expect(kubeconfigTarget(kubeconfig("http.json", base(`{"server":"http://198.51.100.10:6443"}`)))).rejects.toThrow(
      /clusters\[\]\.cluster\.server must be https/,
    );
    await expect(kubeconfigTarget(kubeconfig("exec.json", base(`{"server":"https://a:6443"}`, `{"exec":{"command":"aws"}}`)))).rejects.toThrow(
      /users\[\]\.user\.exec is not supported/,
    );
    await expect(kubeconfigTarget(kubeconfig("ctx.json", `{"current-context":"missing","contexts":[]}`))).rejects.toThrow(/no context .*"missing"/);
    await expect(kubeconfigTarget(join(dir, "absent"))).rejects.toThrow(KubeConfigError);
  });
});
