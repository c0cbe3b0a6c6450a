#!/usr/bin/env bash
# wg-mesh egress guard at boot: installs the node-router agent's nftables guard from the node
# table in the boot files, before kubelet starts, on every boot (wg-mesh-guard.service; the
# kubelet requires it). It runs the agent image's own `guard apply` through containerd, in
# the host network namespace with CAP_NET_ADMIN added (not privileged), the table bind-mounted read-only. Until
# the agent runs, packets to other nodes and to the pod CIDRs that would leave in the clear
# are dropped; the agent then keeps the guard up to date from the ConfigMap.
set -euo pipefail

ENV_FILE="${WG_MESH_ENV_FILE:-/etc/wg-mesh/bootstrap.env}"
ATTEMPTS="${WG_MESH_GUARD_ATTEMPTS:-30}"
DELAY="${WG_MESH_GUARD_DELAY:-10}"

log() { printf '%s wg-mesh-guard: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }

# shellcheck source=/dev/null
source "$ENV_FILE"
: "${AGENT_IMAGE:?} ${NODE_NAME:?} ${NODE_TABLE:?} ${GUARD_DEVICE:?} ${GUARD_WG_MARK:?} ${GUARD_WG_MASK:?} ${GUARD_EXEMPT_PORTS:?}"
[[ -r "$NODE_TABLE" ]] || {
  log "no node table at ${NODE_TABLE}"
  exit 1
}

apply_guard() {
  if ! ctr --namespace k8s.io images ls -q | grep -qxF "$AGENT_IMAGE"; then
    ctr --namespace k8s.io images pull "$AGENT_IMAGE" >/dev/null || return 1
  fi
  ctr --namespace k8s.io run --rm --net-host --cap-add CAP_NET_ADMIN \
    --mount "type=bind,src=${NODE_TABLE},dst=${NODE_TABLE},options=rbind:ro" \
    "$AGENT_IMAGE" "wg-mesh-guard-$$" \
    guard apply --node-table "$NODE_TABLE" --node-name "$NODE_NAME" --device "$GUARD_DEVICE" \
    --wg-mark "$GUARD_WG_MARK" --wg-mask "$GUARD_WG_MASK" --exempt-ports "$GUARD_EXEMPT_PORTS"
}

for ((n = 1; n <= ATTEMPTS; n++)); do
  if apply_guard; then
    log "egress guard applied from ${NODE_TABLE}"
    exit 0
  fi
  log "applying the egress guard failed (attempt ${n}/${ATTEMPTS}); retrying in ${DELAY}s"
  sleep "$DELAY"
done
log "FATAL: no egress guard after ${ATTEMPTS} attempts; kubelet stays stopped (it requires this unit)"
exit 1
