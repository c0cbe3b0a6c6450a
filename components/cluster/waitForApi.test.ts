// The readiness wait against a real HTTPS server whose certificate a real (openssl) CA signs.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { waitForApiServer } from "./waitForApi";

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

function serve(handler: (n: number) => { status: number; body: string }): Promise<{ server: Server; url: string }> {
  let n = 0;
  const server = createServer({ key, cert }, (_req, res) => {
    const r = handler(++n);
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
      await expect(waitForApiServer({ url, caPem: otherCaPem, timeoutMs: 300, intervalMs: 50 })).rejects.toThrow(/not ready after .*last: .*(certificate|self.signed|issuer)/i);
    } finally {
      server.close();
    }
  });

  it("gives up at the deadline with the last error and where to look", async () => {
    await expect(waitForApiServer({ url: "https://127.0.0.1:1", caPem, timeoutMs: 200, intervalMs: 50 })).rejects.toThrow(/ECONNREFUSED.*wg-mesh-bootstrap/);
  });
});
