// Boot files of the egress guard and of systemd-networkd's restraint: the guard
// script and its unit (the ruleset it loads is bootGuard.ts's), a kubelet drop-in that makes
// the kubelet wait for (and require) it,
// and a networkd.conf drop-in so networkd leaves the agent's routing-policy rules and routes
// alone (by default it deletes rules and routes it did not configure whenever it
// reconfigures a link: cilium/cilium#18706).

export const GUARD_SCRIPT_PATH = "/usr/local/sbin/wg-mesh-guard";
export const GUARD_UNIT = "wg-mesh-guard.service";

/**
 * Oneshot on every boot, before containerd and the kubelet: no container or pod runs unguarded.
 * It needs no network, no image and no registry (the host's nft loads a file), so it has nothing
 * to wait for or retry, and a short timeout. The kubelet `Requires` it: a node whose guard cannot
 * be loaded does not start its kubelet (fail closed; the serial console, the journal and
 * `systemctl status wg-mesh-guard` say why).
 */
export const GUARD_UNIT_CONTENT = `[Unit]
Description=wg-mesh: node-to-node egress guard (before containerd and kubelet)
Before=containerd.service kubelet.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${GUARD_SCRIPT_PATH}
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=1min

[Install]
WantedBy=multi-user.target
`;

export const KUBELET_DROP_IN_PATH = "/etc/systemd/system/kubelet.service.d/05-wg-mesh-guard.conf";
export const KUBELET_DROP_IN = `[Unit]
After=${GUARD_UNIT}
Requires=${GUARD_UNIT}
`;

export const NETWORKD_DROP_IN_PATH = "/etc/systemd/networkd.conf.d/50-wg-mesh.conf";
/** networkd keeps its hands off routing-policy rules and routes it did not create. */
export const NETWORKD_DROP_IN = `[Network]
ManageForeignRoutingPolicyRules=no
ManageForeignRoutes=no
`;
