// A throwaway CA with a server certificate for 127.0.0.1 and a client certificate, made with
// openssl, for TLS stand-ins of the API server.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderKubeconfig } from "../../components/cluster/kubeconfig";

export interface TestPki {
  readonly caPem: string;
  readonly serverKeyPem: string;
  readonly serverCertPem: string;
  readonly clientKeyPem: string;
  readonly clientCertPem: string;
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "test-pki-"));
  try {
    const sh = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    writeFileSync(join(dir, "san.cnf"), "subjectAltName=IP:127.0.0.1\n");
    sh(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=kubernetes", "-days", "1"]);
    for (const [n, cn] of [
      ["srv", "/CN=kube-apiserver"],
      ["cli", "/O=kubeadm:cluster-admins/CN=admin"],
    ]) {
      sh(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${n}.key`, "-out", `${n}.csr`, "-subj", cn]);
      sh([
        "x509",
        "-req",
        "-in",
        `${n}.csr`,
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        `${n}.crt`,
        "-days",
        "1",
        ...(n === "srv" ? ["-extfile", "san.cnf"] : []),
      ]);
    }
    const read = (f: string) => readFileSync(join(dir, f), "utf8");
    return {
      caPem: read("ca.crt"),
      serverKeyPem: read("srv.key"),
      serverCertPem: read("srv.crt"),
      clientKeyPem: read("cli.key"),
      clientCertPem: read("cli.crt"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An admin kubeconfig for a TLS stand-in at `server`: its CA and the PKI's client certificate. */
export function standInKubeconfig(pki: TestPki, server: string, clusterName = "demo"): string {
  return renderKubeconfig({ clusterName, server, caCertPem: pki.caPem, clientCertPem: pki.clientCertPem, clientKeyPem: pki.clientKeyPem });
}
