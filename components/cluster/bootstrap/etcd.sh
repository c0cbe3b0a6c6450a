# shellcheck shell=bash
# wg-mesh bootstrap library: control planes join etcd one at a time. Sourced by
# /usr/local/sbin/wg-mesh-bootstrap.
#
# Control plane n (in CP_NAMES order) joins only once control plane n-1 is a healthy,
# voting etcd member: concurrent control-plane joins are a known kubeadm failure. A
# rebuilt control plane keeps its name and address, so etcd still lists its old member
# (whose data went with the old disk); that member is removed before kubeadm adds the new
# one. etcd's API is reached with a short-lived client certificate signed by the etcd CA
# from the PKI bundle, through its JSON gateway (/v3/...).

ETCD_CLIENT_DIR=""
ETCD_CLIENT_PORT="${WG_MESH_ETCD_PORT:-2379}"

# make_etcd_client: a client certificate valid for a day, in a private temporary directory.
make_etcd_client() {
  local ca="${PKI_DIR}/etcd/ca.crt" key="${PKI_DIR}/etcd/ca.key"
  [[ -r "$ca" && -r "$key" ]] || die "no etcd CA in ${PKI_DIR}/etcd (the PKI bundle is written first)"
  ETCD_CLIENT_DIR=$(mktemp -d)
  chmod 0700 "$ETCD_CLIENT_DIR"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=wg-mesh-bootstrap-${NODE_NAME}" \
    -keyout "${ETCD_CLIENT_DIR}/client.key" -out "${ETCD_CLIENT_DIR}/client.csr" 2>/dev/null
  printf 'extendedKeyUsage = clientAuth\n' >"${ETCD_CLIENT_DIR}/ext.cnf"
  openssl x509 -req -in "${ETCD_CLIENT_DIR}/client.csr" -CA "$ca" -CAkey "$key" -set_serial "0x$(openssl rand -hex 8)" \
    -days 1 -extfile "${ETCD_CLIENT_DIR}/ext.cnf" -out "${ETCD_CLIENT_DIR}/client.crt" 2>/dev/null
}

drop_etcd_client() {
  [[ -n "$ETCD_CLIENT_DIR" ]] && rm -rf "$ETCD_CLIENT_DIR"
  ETCD_CLIENT_DIR=""
ETCD_CLIENT_PORT="${WG_MESH_ETCD_PORT:-2379}"
}

# etcd_api IP PATH [JSON]: GET (or POST with JSON) https://IP:2379/PATH with the client
# certificate; prints the response body.
etcd_api() {
  local args=(-fsS --max-time 5 --cacert "${PKI_DIR}/etcd/ca.crt" --cert "${ETCD_CLIENT_DIR}/client.crt" --key "${ETCD_CLIENT_DIR}/client.key")
  if (($# > 2)); then args+=(-X POST -H 'Content-Type: application/json' --data "$3"); fi
  curl "${args[@]}" "https://${1}:${ETCD_CLIENT_PORT}/${2}"
}

# ip_of NAME / predecessor_of NAME: from the parallel lists CP_NAMES and CP_IPS.
ip_of() {
  local -a names ips
  local i
  read -r -a names <<<"$CP_NAMES"
  read -r -a ips <<<"$CP_IPS"
  for i in "${!names[@]}"; do
    if [[ "${names[$i]}" == "$1" ]]; then
      printf '%s\n' "${ips[$i]}"
      return 0
    fi
  done
  return 1
}

predecessor_of() {
  local -a names
  local i
  read -r -a names <<<"$CP_NAMES"
  for i in "${!names[@]}"; do
    if [[ "${names[$i]}" == "$1" ]]; then
      ((i > 0)) && printf '%s\n' "${names[$((i - 1))]}"
      return 0
    fi
  done
  return 1
}

# etcd_members: the member list (JSON) as another control plane's etcd reports it.
etcd_members() {
  local ip
  for ip in $CP_IPS; do
    [[ "$ip" == "$NODE_IP" ]] && continue
    if etcd_api "$ip" v3/cluster/member/list '{}'; then return 0; fi
  done
  return 1
}

# member_is_healthy NAME: NAME is a voting member and its own etcd reports healthy.
member_is_healthy() {
  local name=$1 ip members
  ip=$(ip_of "$name") || return 1
  members=$(etcd_members) || return 1
  jq -e --arg n "$name" 'any(.members[]?; .name == $n and (.isLearner | not))' <<<"$members" >/dev/null || return 1
  etcd_api "$ip" health | jq -e '.health == "true"' >/dev/null
}

wait_for_predecessor() {
  local pred
  pred=$(predecessor_of "$NODE_NAME") || die "${NODE_NAME} is not in CP_NAMES (${CP_NAMES})"
  [[ -z "$pred" ]] && return 0
  log "waiting until ${pred} is a healthy etcd member before joining (one control plane at a time)"
  retry "${WG_MESH_PREDECESSOR_ROUNDS:-180}" "${WG_MESH_PREDECESSOR_INTERVAL:-10}" member_is_healthy "$pred" ||
    die "${pred} did not become a healthy etcd member within 30 minutes"
}

# stale_member_ids MEMBERS_JSON: IDs of members that are this node's former self.
stale_member_ids() {
  jq -r --arg n "$NODE_NAME" --arg p "https://${NODE_IP}:2380" \
    '.members[]? | select(.name == $n or any(.peerURLs[]?; . == $p)) | .ID' <<<"$1"
}

remove_stale_member() {
  local members id ip
  members=$(etcd_members) || die "no other control plane's etcd answers; cannot check for a stale member of ${NODE_NAME}"
  for id in $(stale_member_ids "$members"); do
    for ip in $CP_IPS; do
      [[ "$ip" == "$NODE_IP" ]] && continue
      if etcd_api "$ip" v3/cluster/member/remove "{\"ID\":\"${id}\"}" >/dev/null; then
        log "removed stale etcd member ${id} (${NODE_NAME}'s former self) via ${ip}"
        continue 2
      fi
    done
    die "could not remove stale etcd member ${id} of ${NODE_NAME}"
  done
}

# Before `kubeadm join --control-plane`: the PKI is on disk (install_pki).
prepare_control_plane_join() {
  make_etcd_client
  wait_for_predecessor
  remove_stale_member
  drop_etcd_client
}
