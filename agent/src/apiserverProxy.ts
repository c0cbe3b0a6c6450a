// The node-local API proxy's configuration: HAProxy on 127.0.0.1:7445 balancing over every
// control plane's API server, each health-checked on /readyz over TLS that trusts only the
// cluster CA. One renderer for both of its writers: the program puts it in the boot files (the
// control planes of the instance's creation), and the agent renders it again from every good
// node table it persists (<state dir>/apiserver-proxy.cfg), which the host's
// wg-mesh-apiserver-proxy-sync installs and reloads HAProxy with, so every node's proxy follows
// the control planes as they are added and removed.
import type { NodeTable } from "./nodeTable";

/** The API server's own port on every control plane (the firewall's bootstrap port). */
export const API_SERVER_PORT = 6443;
/** The node-local proxy: the cluster's controlPlaneEndpoint and Cilium's k8sServiceHost. */
export const API_PROXY_HOST = "127.0.0.1";
export const API_PROXY_PORT = 7445;
/** The cluster CA the proxy's health checks trust (written by the boot files). */
export const CLUSTER_CA_FILE = "/etc/wg-mesh/cluster-ca.crt";
/** The agent's copy in its state directory (the host's sync unit watches it). */
export const PROXY_STATE_FILE = "apiserver-proxy.cfg";

export interface ProxyBackend {
  /** Node name (also its etcd member name). */
  readonly name: string;
  /** The address its API server advertises (its static public IPv4). */
  readonly ip: string;
}

/**
 * The control planes of a table as proxy backends: each one's first IPv4 address, which the
 * program lists first (its static public address, the API server's advertise address). A control
 * plane without IPv4 is left out: kubeadm advertises the API on that address.
 */
export function proxyBackends(table: NodeTable): ProxyBackend[] {
  return table.nodes.flatMap((n) => {
    const ip = n.role === "control-plane" ? n.addresses.find((a) => !a.includes(":")) : undefined;
    return ip ? [{ name: n.name, ip }] : [];
  });
}

/** The configuration for a table, or undefined when it lists no control plane (nothing to balance over: keep what is there). */
export function proxyConfigOf(table: NodeTable): string | undefined {
  const backends = proxyBackends(table);
  return backends.length > 0 ? renderProxyConfig(backends) : undefined;
}

export function renderProxyConfig(controlPlanes: readonly ProxyBackend[], caFile = CLUSTER_CA_FILE): string {
  return [
    "# wg-mesh: this node's proxy to every control plane's API server (boot files, then the agent's node table).",
    "global",
    "  maxconn 20000",
    "  log stderr format short local0 info",
    "",
    "defaults",
    "  mode tcp",
    "  log global",
    "  timeout connect 5s",
    // Watches and exec/log streams are long-lived; client-go pings idle HTTP/2 connections.
    "  timeout client 24h",
    "  timeout server 24h",
    "  timeout check 5s",
    "",
    "frontend apiserver",
    `  bind ${API_PROXY_HOST}:${API_PROXY_PORT}`,
    "  default_backend control-planes",
    "",
    "backend control-planes",
    "  balance roundrobin",
    "  option httpchk",
    "  http-check send meth GET uri /readyz",
    "  http-check expect status 200",
    // A control plane counts only once its API server is ready and presents a certificate
    // of the cluster CA; it leaves rotation after two failed checks (6 s).
    `  default-server check check-ssl verify required ca-file ${caFile} inter 3s fall 2 rise 1`,
    // The only lines the host's sync accepts a change in (wg-mesh-apiserver-proxy-sync).
    ...controlPlanes.map((cp) => `  server ${cp.name} ${cp.ip}:${API_SERVER_PORT}`),
    "",
  ].join("\n");
}
