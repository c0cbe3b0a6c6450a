// Where the cluster's API is reached. Inside the cluster every node talks to its own local
// proxy (HAProxy on 127.0.0.1:7445, installed by the boot script), which balances over
// every control plane's public address on 6443 and health-checks /readyz: kubelet,
// kubeadm's controlPlaneEndpoint and Cilium's k8sServiceHost all point there, so losing any
// one control plane cuts no node off. Outside the cluster (Pulumi, operators) the admin
// kubeconfig points at one host: cluster.apiEndpoint, or the first control plane.
// README, "Design choices: the API endpoint", weighs this against DNS and cloud load balancers.

import { API_PROXY_HOST, API_PROXY_PORT, API_SERVER_PORT } from "../../agent/src/apiserverProxy";

// Declared beside the proxy's renderer, which the agent shares.
export { API_PROXY_HOST, API_PROXY_PORT, API_SERVER_PORT } from "../../agent/src/apiserverProxy";
export const API_PROXY_ENDPOINT = `${API_PROXY_HOST}:${API_PROXY_PORT}`;

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;

/** Why `host` cannot be cluster.apiEndpoint, or undefined when it can. */
export function apiEndpointProblem(host: string): string | undefined {
  if (IPV4.test(host) || DNS_NAME.test(host)) return undefined;
  return `"${host}" is not a host name or IPv4 address; give only the host (no scheme, no port: the port is always ${API_SERVER_PORT}), e.g. api.example.com`;
}
