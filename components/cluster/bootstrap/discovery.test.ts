import { readFileSync } from "node:fs";
import { join } from "node:path";
import { discoveryTokenCaCertHash, pkiBundleFiles } from "./discovery";
import { requireTool, run, withTempDir } from "../../../test/tools";

beforeAll(() => {
  requireTool("openssl", "openssl");
  requireTool("sha256sum", "coreutils");
});

// A fresh CA from the real openssl, and kubeadm's documented pipeline for its hash.
function opensslCa(dir: string, keyAlg: string[]): { pem: string; expected: string } {
  const key = join(dir, "ca.key");
  const crt = join(dir, "ca.crt");
  const gen = run("openssl", ["req", "-x509", "-newkey", ...keyAlg, "-nodes", "-keyout", key, "-out", crt, "-days", "1", "-subj", "/CN=kubernetes"]);
  expect(gen.status).toBe(0);
  const pipe = run("bash", [
    "-c",
    'set -o pipefail; openssl x509 -pubkey -noout -in "$1" | openssl pkey -pubin -outform der | sha256sum | cut -d" " -f1',
    "_",
    crt,
  ]);
  expect(pipe.status).toBe(0);
  return { pem: readFileSync(crt, "utf8"), expected: `sha256:${pipe.output.trim()}` };
}

it.each([
  ["RSA 2048", ["rsa:2048"]],
  ["ECDSA P-256", ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"]],
])("matches the openssl pipeline for an %s CA", (_name, alg) => {
  withTempDir((dir) => {
    const { pem, expected } = opensslCa(dir, alg);
    expect(expected).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(discoveryTokenCaCertHash(pem)).toBe(expected);
  });
});

it("different CAs give different hashes", () => {
  const [a, b] = [1, 2].map(() => withTempDir((dir) => opensslCa(dir, ["rsa:2048"]).pem));
  expect(discoveryTokenCaCertHash(a)).not.toBe(discoveryTokenCaCertHash(b));
});

it("rejects input that is not a certificate, saying what to pass", () => {
  expect(() => discoveryTokenCaCertHash("not a pem")).toThrow(/caCertPem is not a PEM X.509 certificate/);
});

it("the PKI bundle holds exactly kubeadm's shared control-plane files", () => {
  expect([...pkiBundleFiles].sort()).toEqual([
    "ca.crt",
    "ca.key",
    "etcd/ca.crt",
    "etcd/ca.key",
    "front-proxy-ca.crt",
    "front-proxy-ca.key",
    "sa.key",
    "sa.pub",
  ]);
  expect(Object.isFrozen(pkiBundleFiles)).toBe(true);
});
