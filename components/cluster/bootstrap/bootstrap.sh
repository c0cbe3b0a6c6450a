#!/usr/bin/env bash
# wg-mesh node bootstrap: turns a fresh Ubuntu VM into a Kubernetes node with kubeadm,
# with no one logging in. cloud-init installs this file as /usr/local/sbin/wg-mesh-bootstrap
# and starts wg-mesh-bootstrap.service, which runs it with output to the journal and the
# serial console. Per-node values come from the env file, the kubeadm config from the file
# it names. Safe to re-run: each step checks first or is idempotent, and a node that has
# already joined exits at once.
set -euo pipefail
shopt -s inherit_errexit

ENV_FILE="${WG_MESH_ENV_FILE:-/etc/wg-mesh/bootstrap.env}"
PKI_DIR="${WG_MESH_PKI_DIR:-/etc/kubernetes/pki}"
KEYRING=/etc/apt/keyrings/kubernetes-apt-keyring.gpg
# The snap-packaged AWS CLI lives here; systemd's default PATH does not include it.
export PATH="${PATH}:/snap/bin"

log() { printf '%s wg-mesh-bootstrap: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }
die() {
  log "FATAL: $*"
  exit 1
}

# retry ATTEMPTS DELAY_SECONDS COMMAND...: cloud APIs, IAM grants and the API server
# all become ready some time after the VM boots.
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

apt_get() {
  # The lock timeout covers unattended-upgrades, which often runs on first boot.
  DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=600 -o Acquire::Retries=5 "$@"
}

load_env() {
  [[ -r "$ENV_FILE" ]] || die "missing ${ENV_FILE} (written by cloud-init)"
  # shellcheck source=/dev/null
  source "$ENV_FILE"
  : "${CLOUD:?} ${ROLE:?} ${INIT:?} ${NODE_IP:?} ${API_ENDPOINT:?} ${K8S_VERSION:?} ${K8S_MINOR:?}"
  : "${CONTAINERD_VERSION:?} ${MESH_INTERFACE:?} ${KUBEADM_CONFIG:?}"
  : "${PKI_FILES?} ${PKI_AWS_REGION?} ${PKI_AWS_SECRET_ID?} ${PKI_GCP_PROJECT?} ${PKI_GCP_SECRET_ID?}"
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
  systemctl enable --now systemd-networkd
  networkctl reload
  retry 30 1 has_mesh_address || die "${NODE_IP}/32 did not appear on ${MESH_INTERFACE}; see networkctl status ${MESH_INTERFACE}"
}

install_packages() {
  log "containerd ${CONTAINERD_VERSION}, kubelet/kubeadm/kubectl ${K8S_VERSION} (pinned, held)"
  apt_get update
  apt_get install ca-certificates curl gpg jq
  install -d -m 0755 /etc/apt/keyrings
  if [[ ! -s "$KEYRING" ]]; then
    curl -fsSL --retry 5 "https://pkgs.k8s.io/core:/stable:/${K8S_MINOR}/deb/Release.key" |
      gpg --batch --yes --dearmor -o "$KEYRING"
  fi
  chmod 0644 "$KEYRING" # apt verifies signatures as the unprivileged _apt user
  echo "deb [signed-by=${KEYRING}] https://pkgs.k8s.io/core:/stable:/${K8S_MINOR}/deb/ /" \
    >/etc/apt/sources.list.d/kubernetes.list
  apt_get update
  apt-mark unhold containerd kubelet kubeadm kubectl >/dev/null 2>&1 || true
  apt_get install "containerd=${CONTAINERD_VERSION}*" \
    "kubelet=${K8S_VERSION}-*" "kubeadm=${K8S_VERSION}-*" "kubectl=${K8S_VERSION}-*"
  apt-mark hold containerd kubelet kubeadm kubectl
}

configure_containerd() {
  log "containerd: systemd cgroup driver"
  local config=/etc/containerd/config.toml pause
  install -d -m 0755 /etc/containerd
  containerd config default >"${config}.new"
  # kubelet (kubeadm's default) uses the systemd cgroup driver; runc must match.
  sed -i 's/SystemdCgroup = false/SystemdCgroup = true/' "${config}.new"
  grep -q 'SystemdCgroup = true' "${config}.new" || die "could not enable SystemdCgroup in ${config}"
  # Use the pause image this kubeadm expects, so kubelet and containerd agree on it.
  pause=$(kubeadm config images list --kubernetes-version "v${K8S_VERSION}" 2>/dev/null | grep '/pause:' || true)
  if [[ -n "$pause" ]]; then
    sed -i "s|sandbox_image = \".*\"|sandbox_image = \"${pause}\"|" "${config}.new"
  fi
  mv -f "${config}.new" "$config"
  printf 'runtime-endpoint: unix:///run/containerd/containerd.sock\n' >/etc/crictl.yaml
  systemctl enable containerd
  systemctl restart containerd
  systemctl enable kubelet
}

fetch_pki_aws() {
  if ! command -v aws >/dev/null; then
    snap wait system seed.loaded >&2
    snap install aws-cli --classic >&2
  fi
  # Credentials come from the instance role (IMDSv2); only that role may read the secret.
  aws secretsmanager get-secret-value --region "$PKI_AWS_REGION" --secret-id "$PKI_AWS_SECRET_ID" \
    --query SecretString --output text
}

fetch_pki_gcp() {
  local token url
  token=$(curl -fsS -H 'Metadata-Flavor: Google' \
    'http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token' |
    jq -er .access_token)
  url="https://secretmanager.googleapis.com/v1/projects/${PKI_GCP_PROJECT}/secrets/${PKI_GCP_SECRET_ID}/versions/latest:access"
  # The token goes in through stdin so it never shows up in the process list.
  printf 'Authorization: Bearer %s\n' "$token" | curl -fsS -H @- "$url" |
    jq -er .payload.data | tr '_-' '/+' | base64 -d
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
  local bundle
  # Explicit returns: this runs inside `if`, where bash ignores `set -e`.
  bundle=$(retry 30 10 "fetch_pki_${CLOUD}") || return 1
  printf '%s' "$bundle" | write_pki_bundle
}

api_ready() {
  curl -fsSk --max-time 5 -o /dev/null "https://${API_ENDPOINT}/readyz"
}

# One kubeadm attempt. kubeadm reset (between attempts) wipes /etc/kubernetes/pki, so
# control-plane nodes put the bundle back every time.
kubeadm_attempt() {
  if [[ "$ROLE" == control-plane ]]; then install_pki || return 1; fi
  if [[ "$INIT" == true ]]; then
    kubeadm init --config "$KUBEADM_CONFIG" --skip-phases=addon/kube-proxy
  else
    kubeadm join --config "$KUBEADM_CONFIG"
  fi
}

join_or_init() {
  if [[ "$INIT" != true ]]; then
    log "waiting for the API server at ${API_ENDPOINT}"
    retry 180 10 api_ready || die "API server ${API_ENDPOINT} did not answer within 30 minutes"
  fi
  local n
  for n in 1 2 3 4 5; do
    log "kubeadm ($([[ "$INIT" == true ]] && echo init || echo join) as ${ROLE}), attempt ${n}"
    if kubeadm_attempt; then return 0; fi
    log "kubeadm failed; resetting before the next attempt"
    kubeadm reset -f || true
    sleep 30
  done
  die "kubeadm did not succeed after 5 attempts"
}

main() {
  load_env
  if [[ -f /etc/kubernetes/kubelet.conf ]]; then
    log "already a cluster member (/etc/kubernetes/kubelet.conf exists); nothing to do"
    return 0
  fi
  prepare_kernel
  ensure_mesh_address
  install_packages
  configure_containerd
  join_or_init
  log "node ${NODE_NAME:-?} bootstrapped as ${ROLE}"
}

# Sourcing the file (the tests do) defines the functions without running anything.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
