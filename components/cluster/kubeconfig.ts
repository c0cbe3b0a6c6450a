// The admin kubeconfig, rendered from the cluster CA and an admin client certificate.
import { stringify } from "yaml";

export interface KubeconfigInput {
  readonly clusterName: string;
  /** `https://<host>:6443` */
  readonly server: string;
  readonly caCertPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

export function renderKubeconfig(k: KubeconfigInput): string {
  const user = `${k.clusterName}-admin`;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: k.clusterName, cluster: { server: k.server, "certificate-authority-data": b64(k.caCertPem) } }],
    users: [{ name: user, user: { "client-certificate-data": b64(k.clientCertPem), "client-key-data": b64(k.clientKeyPem) } }],
    contexts: [{ name: k.clusterName, context: { cluster: k.clusterName, user } }],
    "current-context": k.clusterName,
  });
}
