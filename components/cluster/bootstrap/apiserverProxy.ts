// The node-local API proxy's boot files: its configuration (rendered by the agent's own
// renderer, agent/src/apiserverProxy.ts, from the control planes of this instance's creation),
// its unit, and the sync that keeps it following the node table afterwards: the agent writes
// the configuration for every good table it persists (/var/lib/wg-mesh/apiserver-proxy.cfg), a
// path unit notices, and wg-mesh-apiserver-proxy-sync checks that only the backend lines changed,
// lets `haproxy -c` judge the result, installs it and reloads HAProxy (master-worker: the old
// worker keeps serving its established connections, watches included, until they end).
import { PROXY_STATE_FILE, renderProxyConfig } from "../../../agent/src/apiserverProxy";
import { API_PROXY_HOST, API_PROXY_PORT } from "../apiEndpoint";

export { renderProxyConfig };

export const PROXY_CONFIG_FILE = "/etc/wg-mesh/apiserver-proxy.cfg";
export const PROXY_UNIT = "wg-mesh-apiserver-proxy.service";
export const PROXY_SYNC_SCRIPT_PATH = "/usr/local/sbin/wg-mesh-apiserver-proxy-sync";
export const PROXY_SYNC_UNIT = "wg-mesh-apiserver-proxy-sync.service";
export const PROXY_SYNC_PATH_UNIT = "wg-mesh-apiserver-proxy-sync.path";
/** What the agent writes: in its state directory on the host (the DaemonSet's STATE_DIR mount). */
export const PROXY_CANDIDATE_FILE = `/var/lib/wg-mesh/${PROXY_STATE_FILE}`;

// Before each start the agent's newer copy (from a table read since this instance was created)
// is installed when valid: `+` runs it with full privileges, `-` keeps the boot file if refused.
export const PROXY_UNIT_CONTENT = `[Unit]
Description=wg-mesh: local proxy to every control plane's API server (${API_PROXY_HOST}:${API_PROXY_PORT})
Wants=network-online.target
After=network-online.target

[Service]
Type=notify
User=haproxy
Group=haproxy
ExecStartPre=-+${PROXY_SYNC_SCRIPT_PATH} --no-reload
ExecStartPre=/usr/sbin/haproxy -c -q -f ${PROXY_CONFIG_FILE}
ExecStart=/usr/sbin/haproxy -Ws -f ${PROXY_CONFIG_FILE}
ExecReload=/usr/sbin/haproxy -c -q -f ${PROXY_CONFIG_FILE}
ExecReload=/bin/kill -USR2 $MAINPID
Restart=always
RestartSec=2s

[Install]
WantedBy=multi-user.target
`;

/** Wakes the sync whenever the agent writes (renames) a new copy into place. */
export const PROXY_SYNC_PATH_UNIT_CONTENT = `[Unit]
Description=wg-mesh: follow the node table's control planes in the local API proxy

[Path]
PathChanged=${PROXY_CANDIDATE_FILE}

[Install]
WantedBy=multi-user.target
`;

export const PROXY_SYNC_UNIT_CONTENT = `[Unit]
Description=wg-mesh: install the agent's API proxy configuration and reload the proxy

[Service]
Type=oneshot
ExecStart=${PROXY_SYNC_SCRIPT_PATH}
`;
