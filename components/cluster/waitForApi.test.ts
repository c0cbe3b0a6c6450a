// The readiness wait against a real HTTPS server whose certificate a real (openssl) CA signs.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { readClusterId, waitForApiServer, waitForCluster } from "./waitForApi";

const dir = mkdtempSync(join(tmpdir(), "wait-api-"));
const sh = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
let caPem: string;
let otherCaPem: string;
let key: string;
let cert: string;

beforeAll(() => {
  writeFileSync(join(dir, "san.cnf"), "subjectAltName=IP:127.0.0.1\n");
  sh(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=kubernetes", "-days", "1"]);
  sh(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out", "other.crt", "-subj", "/CN=other", "-days", "1"]);
  sh(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=kube-apiserver"]);
  sh(["x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "srv.crt", "-days", "1", "-extfile", "san.cnf"]);
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  [caPem, otherCaPem, key, cert] = [read("ca.crt"), read("other.crt"), read("srv.key"), read("srv.crt")];
});

function serve(handler: (n: number, path: string) => { status: number; body: string }): Promise<{ server: Server; url: string }> {
  let n = 0;
  const server = createServer({ key, cert }, (req, res) => {
    const r = handler(++n, req.url ?? "");
    res.writeHead(r.status).end(r.body);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("waitForApiServer", () => {
  it("returns once /readyz answers ok, retrying while it does not", async () => {
    const { server, url } = await serve((n) => (n < 3 ? { status: 500, body: "[-]etcd failed" } : { status: 200, body: "ok" }));
    try {
      const r = await waitForApiServer({ url, caPem, timeoutMs: 10_000, intervalMs: 20 });
      expect(r.attempts).toBe(3);
    } finally {
      server.close();
    }
  });

  it("trusts only the cluster CA", async () => {
    const { server, url } = await serve(() => ({ status: 200, body: "ok" }));
    try {
      await expect(waitForApiServer({ url, caPem: otherCaPem, timeoutMs: 300, intervalMs: 50 })).rejects.toThrow(
        /not ready after .*last: .*(certificate|self.signed|issuer)/i,
      );
    } finally {
      server.close();
    }
  });

  it("gives up at the deadline with the last error and where to look", async () => {
    await expect(waitForApiServer({ url: "https://127.0.0.1:1", caPem, timeoutMs: 200, intervalMs: 50 })).rejects.toThrow(/ECONNREFUSED.*wg-mesh-bootstrap/);
  });
});

describe("the cluster's identity", () => {
  const clusterInfo = (uid: string) => JSON.stringify({ kind: "ConfigMap", metadata: { name: "cluster-info", namespace: "kube-public", uid } });

  it("is kube-public/cluster-info's UID, read with the cluster CA only", async () => {
    const { server, url } = await serve((_n, path) =>
      path === "/api/v1/namespaces/kube-public/configmaps/cluster-info"
        ? { status: 200, body: clusterInfo("1b4e28ba-2fa1-11d2-883f-0016d3cca427") }
        : { status: 404, body: "" },
    );
    try {
      expect(await readClusterId(url, caPem)).toBe("1b4e28ba-2fa1-11d2-883f-0016d3cca427");
      await expect(readClusterId(url, otherCaPem)).rejects.toThrow(/certificate|self.signed|issuer/i);
    } finally {
      server.close();
    }
  });

  it("fails clearly where there is no cluster-info (no kubeadm cluster there)", async () => {
    const { server, url } = await serve(() => ({ status: 403, body: '{"kind":"Status","reason":"Forbidden"}' }));
    try {
      await expect(readClusterId(url, caPem)).rejects.toThrow(/did not serve kube-public\/cluster-info \(HTTP 403/);
    } finally {
      server.close();
    }
  });

  it("is read once the API is ready, retrying until kubeadm has created it", async () => {
    let infoCalls = 0;
    const { server, url } = await serve((_n, path) => {
      if (path === "/readyz") return { status: 200, body: "ok" };
      return ++infoCalls < 3 ? { status: 404, body: "{}" } : { status: 200, body: clusterInfo("uid-after-init") };
    });
    try {
      expect(await waitForCluster({ url, caPem, timeoutMs: 10_000, intervalMs: 20 })).toMatchObject({ clusterId: "uid-after-init" });
      expect(infoCalls).toBe(3);
    } finally {
      server.close();
    }
  });
});
