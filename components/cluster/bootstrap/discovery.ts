// kubeadm's discovery-token CA pin and the layout of the PKI bundle that control-plane
// nodes fetch from the cloud's secret store.
import { X509Certificate, createHash } from "node:crypto";

/**
 * "sha256:<hex>" of the CA certificate's SubjectPublicKeyInfo (DER), the value
 * `kubeadm join --discovery-token-ca-cert-hash` expects. Joining nodes use it to trust
 * the cluster-info they fetch anonymously, so a man in the middle cannot hand them a CA.
 */
export function discoveryTokenCaCertHash(caCertPem: string): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(caCertPem);
  } catch (e) {
    throw new Error(`discoveryTokenCaCertHash: caCertPem is not a PEM X.509 certificate (${(e as Error).message}); pass the cluster CA's certificate PEM`);
  }
  const spki = cert.publicKey.export({ type: "spki", format: "der" });
  return `sha256:${createHash("sha256").update(spki).digest("hex")}`;
}

/**
 * Keys of the PKI bundle JSON (paths relative to /etc/kubernetes/pki; values are PEM).
 * These are exactly the files kubeadm shares between control-plane nodes: with them in
 * place before `kubeadm init`/`join`, every control-plane node uses the Pulumi-made CA
 * and no `--certificate-key` (or uploaded certs) is needed.
 */
export const pkiBundleFiles: readonly string[] = Object.freeze([
  "ca.crt",
  "ca.key",
  "sa.key",
  "sa.pub",
  "front-proxy-ca.crt",
  "front-proxy-ca.key",
  "etcd/ca.crt",
  "etcd/ca.key",
]);
