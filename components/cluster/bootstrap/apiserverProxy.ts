// The node-local API proxy: HAProxy (Ubuntu's package) listening on 127.0.0.1:7445 and
// balancing over every control plane's API server, each health-checked on /readyz over TLS
// that trusts only the cluster CA. It is the cluster's controlPlaneEndpoint and Cilium's
// k8sServiceHost, so a lost control plane is taken out of rotation within seconds and no
// kubelet or agent loses the API. It runs before kubeadm, so joining goes through it too.
import { API_PROXY_HOST, API_PROXY_PORT, API_SERVER_PORT } from "../apiEndpoint";
import { CA_CERT_FILE } from "./bootstrapEnv";
import type { ControlPlaneRef } from "./types";

export const PROXY_CONFIG_FILE = "/etc/wg-mesh/apiserver-proxy.cfg";
export const PROXY_UNIT = "wg-mesh-apiserver-proxy.service";

export function renderProxyConfig(controlPlanes: readonly ControlPlaneRef[], caFile = CA_CERT_FILE): string {
  return [
    "# wg-mesh: this node's proxy to every control plane's API server (written by cloud-init).",
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
    ...controlPlanes.map((cp) => `  server ${cp.name} ${cp.ip}:${API_SERVER_PORT}`),
    "",
  ].join("\n");
}

export const PROXY_UNIT_CONTENT = `[Unit]
Description=wg-mesh: local proxy to every control plane's API server (${API_PROXY_HOST}:${API_PROXY_PORT})
Wants=network-online.target
After=network-online.target

[Service]
Type=notify
User=haproxy
Group=haproxy
ExecStartPre=/usr/sbin/haproxy -c -q -f ${PROXY_CONFIG_FILE}
ExecStart=/usr/sbin/haproxy -Ws -f ${PROXY_CONFIG_FILE}
ExecReload=/bin/kill -USR2 $MAINPID
Restart=always
RestartSec=2s

[Install]
WantedBy=multi-user.target
`;
