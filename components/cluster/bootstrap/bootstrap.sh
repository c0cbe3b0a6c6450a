#!/usr/bin/env bash
# wg-mesh node bootstrap: turns a fresh Ubuntu VM into a Kubernetes node with kubeadm,
# with no one logging in. cloud-init installs this file as /usr/local/sbin/wg-mesh-bootstrap,
# its libraries under /usr/local/lib/wg-mesh, and starts wg-mesh-bootstrap.service, which
# runs it with output to the journal and the serial console and retries it on failure.
# Per-node values come from the env file. Safe to re-run: each step checks first or is
# idempotent, and a node that has already joined exits at once.
set -euo pipefail
shopt -s inherit_errexit

ENV_FILE="${WG_MESH_ENV_FILE:-/etc/wg-mesh/bootstrap.env}"
PKI_DIR="${WG_MESH_PKI_DIR:-/etc/kubernetes/pki}"
LIB_DIR="${WG_MESH_LIB_DIR:-/usr/local/lib/wg-mesh}"
# The snap-packaged AWS CLI lives here; systemd's default PATH does not include it.
export PATH="${PATH}:/snap/bin"

log() { printf '%s wg-mesh-bootstrap: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }
die() {
  log "FATAL: $*"
  exit 1
}

# retry ATTEMPTS DELAY_SECONDS COMMAND...: networks, cloud APIs, IAM grants and the API
# server all become ready some time after the VM boots.
retry() {
  local attempts=$1 delay=$2 n=1
  shift 2
  until "$@"; do
    if ((n >= attempts)); then return 1; fi
    log "attempt ${n}/${attempts} failed: $1; retrying in ${delay}s"
    sleep "$delay"
    n=$((n + 1))
  done
}

for lib in packages.sh decide.sh etcd.sh secrets.sh; do
  # shellcheck source=/dev/null
  source "${LIB_DIR}/${lib}"
done

load_env() {
  [[ -r "$ENV_FILE" ]] || die "missing ${ENV_FILE} (written by cloud-init)"
  # shellcheck source=/dev/null
  source "$ENV_FILE"
  : "${CLOUD:?} ${ROLE:?} ${MAY_INIT:?} ${NODE_NAME:?} ${NODE_IP:?} ${CP_NAMES:?} ${CP_IPS:?} ${API_PROXY:?}"
  : "${K8S_VERSION:?} ${K8S_MINOR:?} ${CONTAINERD_VERSION:?} ${AGENT_IMAGE:?} ${MESH_INTERFACE:?}"
  : "${KUBEADM_JOIN_CONFIG:?} ${KUBEADM_INIT_CONFIG?} ${CA_CERT:?}"
  : "${PKI_FILES?} ${PKI_AWS_REGION?} ${PKI_AWS_SECRET_ID?} ${PKI_GCP_PROJECT?} ${PKI_GCP_SECRET_ID?}"
  : "${JOIN_TOKEN_AWS_REGION?} ${JOIN_TOKEN_AWS_SECRET_ID?} ${JOIN_TOKEN_GCP_PROJECT?} ${JOIN_TOKEN_GCP_SECRET_ID?}"
  : "${BOOT_GUARD_AWS_REGION?} ${BOOT_GUARD_AWS_SECRET_ID?} ${BOOT_GUARD_GCP_PROJECT?} ${BOOT_GUARD_GCP_SECRET_ID?}"
  : "${GUARD_DEVICE:?} ${GUARD_LOCAL_INTERFACES?} ${GUARD_UNDERLAY_DEVICES?}"
  [[ "$CLOUD" == aws || "$CLOUD" == gcp ]] || die "CLOUD must be aws or gcp, not ${CLOUD}"
}

prepare_kernel() {
  log "kernel modules and sysctls"
  printf '%s\n' overlay br_netfilter >/etc/modules-load.d/wg-mesh-k8s.conf
  modprobe overlay
  modprobe br_netfilter
  printf '%s\n' 'net.ipv4.ip_forward = 1' \
    'net.bridge.bridge-nf-call-iptables = 1' \
    'net.bridge.bridge-nf-call-ip6tables = 1' >/etc/sysctl.d/90-wg-mesh-k8s.conf
  sysctl --system >/dev/null
  swapoff -a
}

has_mesh_address() {
  ip -4 -o addr show dev "$MESH_INTERFACE" 2>/dev/null | grep -qF " ${NODE_IP}/32 "
}

# The cloud holds the public IP in its 1:1 NAT, never on the VM, but kubelet only accepts a
# --node-ip that is on a local interface. cloud-init wrote systemd-networkd units for a dummy
# interface carrying the public IP as a /32; routing is unchanged (outbound traffic still
# leaves the real NIC from the private address, which the cloud NATs to the public one).
ensure_mesh_address() {
  log "public IP ${NODE_IP}/32 on ${MESH_INTERFACE}"
  systemctl enable systemd-networkd
  # A restart, not a reload: networkd reads networkd.conf (leave foreign rules and routes
  # alone, for the agent's) only when it starts.
  systemctl restart systemd-networkd
  networkctl reload
  retry 30 1 has_mesh_address || die "${NODE_IP}/32 did not appear on ${MESH_INTERFACE}; see networkctl status ${MESH_INTERFACE}"
}

# Reads the PKI bundle JSON on stdin and writes exactly the expected files (PKI_FILES),
# each 0600 and byte for byte (jq -j adds no newline), ignoring any other key so the
# bundle cannot write outside PKI_DIR.
write_pki_bundle() {
  local bundle file dest files
  bundle=$(cat)
  printf '%s' "$bundle" | jq -e 'type == "object"' >/dev/null || die "PKI bundle is not a JSON object"
  read -r -a files <<<"$PKI_FILES"
  ((${#files[@]} > 0)) || die "PKI_FILES is empty"
  (
    umask 077
    for file in "${files[@]}"; do
      dest="${PKI_DIR}/${file}"
      mkdir -p "$(dirname "$dest")"
      printf '%s' "$bundle" | jq -ej --arg k "$file" '.[$k] | strings' >"${dest}.tmp" ||
        die "PKI bundle has no string value for \"${file}\""
      chmod 0600 "${dest}.tmp"
      mv -f "${dest}.tmp" "$dest"
    done
  )
}

install_pki() {
  log "PKI bundle from the ${CLOUD} secret store"
  local bundle status=0
  # Explicit returns: this runs inside `if`, where bash ignores `set -e`.
  bundle=$(store_fetch pki) || status=$?
  if ((status == STORE_DENIED)); then die "cannot read the PKI bundle (access denied; see above)"; fi
  ((status == 0)) || return 1
  printf '%s' "$bundle" | write_pki_bundle
}

# One kubeadm attempt. kubeadm reset (between attempts) wipes /etc/kubernetes/pki, so
# control-plane nodes put the bundle back every time; the join token is read every time too
# (a fresher one may have been published since).
kubeadm_attempt() {
  if [[ "$ROLE" == control-plane ]]; then install_pki || return 1; fi
  if [[ "$1" == join && "$ROLE" == control-plane ]]; then prepare_control_plane_join; fi
  kubeadm_with_token "$1"
}

# kubeadm_with_retries init|join: any failure is followed by `kubeadm reset -f` and
# another try (5 in all); then the unit fails and systemd runs the whole script again.
kubeadm_with_retries() {
  local n
  for n in 1 2 3 4 5; do
    log "kubeadm ${1} as ${ROLE}, attempt ${n}"
    if kubeadm_attempt "$1"; then return 0; fi
    log "kubeadm ${1} failed; resetting before the next attempt"
    kubeadm reset -f 2>&1 | redact >&2 || true
    sleep 30
  done
  die "kubeadm ${1} did not succeed after 5 attempts"
}

become_node() {
  local action
  action=$(await_decision) || die "no control plane answered within $((DECIDE_ROUNDS * DECIDE_INTERVAL / 60)) minutes, and this node may not start a cluster"
  if [[ "$action" == init && -z "$KUBEADM_INIT_CONFIG" ]]; then die "decided to init without an init configuration"; fi
  kubeadm_with_retries "$action"
}

main() {
  load_env
  if [[ -f /etc/kubernetes/kubelet.conf ]]; then
    log "already a cluster member (/etc/kubernetes/kubelet.conf exists); nothing to do"
    return 0
  fi
  prepare_kernel
  ensure_mesh_address
  wait_for_egress
  install_packages
  install_boot_guard_nodes
  start_egress_guard # as on every later boot: before containerd (nft is installed now)
  configure_containerd
  start_apiserver_proxy
  pull_agent_image
  become_node
  log "node ${NODE_NAME} bootstrapped as ${ROLE}"
}

# Every node's address for the boot guard, which the user data leaves out (it would not fit in
# EC2's 16 KiB past a few hundred nodes): read from the store (gzip, then base64) into BOOT_NODES,
# replacing it whole. guard.sh checks every line each time it loads them; here only that the value
# unpacks. Read at every run of this script, so a retry picks up nodes added since.
BOOT_NODES="${WG_MESH_BOOT_NODES:-/etc/wg-mesh/guard-nodes.nft}"
install_boot_guard_nodes() {
  local packed doc status=0
  log "node addresses of the egress guard from the ${CLOUD} secret store"
  packed=$(store_fetch boot-guard) || status=$?
  if ((status == STORE_DENIED)); then die "cannot read the node addresses (access denied; see above)"; fi
  ((status == 0)) || die "the node addresses could not be read from the secret store"
  doc=$(printf '%s' "$packed" | base64 -d 2>/dev/null | gunzip 2>/dev/null) || die "the boot-guard secret does not unpack (gzip, then base64): was it written by this program?"
  mkdir -p "$(dirname "$BOOT_NODES")"
  printf '%s\n' "$doc" >"${BOOT_NODES}.tmp"
  mv -f "${BOOT_NODES}.tmp" "$BOOT_NODES"
}

# The egress guard (the ruleset the program rendered, or the agent's newer copy), before kubeadm
# starts the kubelet (which requires it), and on every later boot (the unit is enabled).
start_egress_guard() {
  log "egress guard (wg-mesh-guard.service)"
  systemctl daemon-reload
  systemctl enable wg-mesh-guard.service
  systemctl start wg-mesh-guard.service || die "the egress guard could not be applied; see journalctl -u wg-mesh-guard"
}

# Sourcing the file (the tests do) defines the functions without running anything.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
