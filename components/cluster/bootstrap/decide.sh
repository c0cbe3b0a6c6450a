# shellcheck shell=bash
# wg-mesh bootstrap library: init or join, decided on the node. Sourced by
# /usr/local/sbin/wg-mesh-bootstrap.
#
# A node never runs `kubeadm init` where a cluster already exists:
# - if any other control plane answers /readyz (TLS verified against the cluster CA), join;
# - a worker, or a control plane that may not init, waits for one to answer;
# - a control plane whose disk holds etcd data never inits over it (it waits);
# - only the control plane allowed to (MAY_INIT, the first one of a cluster being created)
#   inits, and only after INIT_CONFIRMATIONS rounds in a row in which nobody answered.
# A rebuilt first control plane therefore joins the others; a lone control plane that was
# rebuilt (its etcd went with its disk) starts a new cluster, as it must.

ETCD_DATA_DIR="${WG_MESH_ETCD_DATA_DIR:-/var/lib/etcd}"
DECIDE_INTERVAL="${WG_MESH_DECIDE_INTERVAL:-10}"
DECIDE_ROUNDS="${WG_MESH_DECIDE_ROUNDS:-180}" # 30 minutes at 10 s
INIT_CONFIRMATIONS="${WG_MESH_INIT_CONFIRMATIONS:-3}"
APISERVER_PORT="${WG_MESH_APISERVER_PORT:-6443}"

# probe_apiserver IP: succeeds when https://IP:6443/readyz answers "ok" with a certificate
# of the cluster CA.
probe_apiserver() {
  curl -fsS --max-time 5 --cacert "$CA_CERT" "https://${1}:${APISERVER_PORT}/readyz" 2>/dev/null | grep -qx ok
}

# The first other control plane that answers, or nothing (status 1).
answering_control_plane() {
  local ip
  for ip in $CP_IPS; do
    [[ "$ip" == "$NODE_IP" ]] && continue
    if probe_apiserver "$ip"; then
      printf '%s\n' "$ip"
      return 0
    fi
  done
  return 1
}

has_etcd_data() {
  [[ -d "${ETCD_DATA_DIR}/member" ]]
}

# decide: prints init, join or wait for this round (the reason goes to the log).
decide() {
  local ip
  if ip=$(answering_control_plane); then
    log "control plane ${ip} answers: join"
    echo join
  elif [[ "$ROLE" != control-plane ]]; then
    log "no control plane answers yet: wait"
    echo wait
  elif has_etcd_data; then
    log "no control plane answers and ${ETCD_DATA_DIR} holds etcd data: never init over it; wait (if this member's data is stale, remove ${ETCD_DATA_DIR} after checking)"
    echo wait
  elif [[ "$MAY_INIT" == true ]]; then
    log "no control plane answers, no etcd data, and this node may init"
    echo init
  else
    log "no control plane answers; this node may not init: wait"
    echo wait
  fi
}

# await_decision: prints init or join once decided; fails after DECIDE_ROUNDS rounds.
await_decision() {
  local round=1 confirmed=0 action
  while ((round <= DECIDE_ROUNDS)); do
    action=$(decide)
    case "$action" in
      join)
        echo join
        return 0
        ;;
      init)
        confirmed=$((confirmed + 1))
        if ((confirmed >= INIT_CONFIRMATIONS)); then
          echo init
          return 0
        fi
        ;;
      *) confirmed=0 ;;
    esac
    round=$((round + 1))
    sleep "$DECIDE_INTERVAL"
  done
  return 1
}
