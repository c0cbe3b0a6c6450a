# shellcheck shell=bash
# wg-mesh bootstrap library: packages. Sourced by /usr/local/sbin/wg-mesh-bootstrap.
#
# containerd comes from Docker's apt repository (containerd.io), which keeps every
# released version, so `containerd.io=<version>-*` still installs after newer ones ship
# (Ubuntu's archive keeps only the current version of a pocket). Its signing key is
# accepted only if its fingerprint is the one pinned here, and the repository is trusted
# only for that key (signed-by). kubelet/kubeadm/kubectl come from pkgs.k8s.io, one
# repository per minor version, which also keeps every patch release. HAProxy (the local
# API proxy) is Ubuntu's current package. All of them are held. nftables (the host's nft,
# which loads the egress guard at boot) is Ubuntu's, installed only where the image lacks it.

DOCKER_KEY_URL=https://download.docker.com/linux/ubuntu/gpg
DOCKER_KEY_FINGERPRINT=9DC858229FC7DD38854AE2D88D81803C0EBFCD88
DOCKER_KEYRING=/etc/apt/keyrings/docker.gpg
K8S_KEYRING=/etc/apt/keyrings/kubernetes-apt-keyring.gpg
HELD_PACKAGES=(containerd.io kubelet kubeadm kubectl haproxy)

apt_get() {
  # The lock timeout covers unattended-upgrades, which often runs on first boot.
  DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=600 -o Acquire::Retries=5 "$@"
}

# download URL FILE: transient network errors are retried, an HTTP error is not hidden.
download() {
  curl -fsSL --retry 10 --retry-all-errors --retry-delay 5 --max-time 120 -o "$2" "$1"
}

# First boot on a cloud can run before the instance has egress; wait for it (10 min).
has_egress() {
  curl -fsS --max-time 5 -o /dev/null "$DOCKER_KEY_URL"
}

wait_for_egress() {
  log "waiting for egress to the package repositories"
  retry 120 5 has_egress || die "no egress to ${DOCKER_KEY_URL} after 10 minutes; check the node's public address and route to the internet"
}

# install_keyring URL KEYRING FINGERPRINT: fetches an armored key and installs it as a
# keyring only if its primary key has exactly FINGERPRINT ("" accepts any, for a key
# fetched over HTTPS from the repository's own host).
install_keyring() {
  local url=$1 keyring=$2 want=$3 tmp got
  tmp=$(mktemp)
  download "$url" "$tmp" || {
    rm -f "$tmp"
    return 1
  }
  got=$(gpg --batch --with-colons --show-keys "$tmp" 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')
  if [[ -n "$want" && "$got" != "$want" ]]; then
    rm -f "$tmp"
    die "the signing key at ${url} has fingerprint ${got:-none}, not the pinned ${want}; refusing to trust it"
  fi
  install -d -m 0755 "$(dirname "$keyring")"
  gpg --batch --yes --dearmor -o "$keyring" "$tmp"
  chmod 0644 "$keyring" # apt verifies signatures as the unprivileged _apt user
  rm -f "$tmp"
}

# The boot guard (wg-mesh-guard.service) loads its ruleset with the host's nft. Only the tool:
# nftables.service stays as the package leaves it (disabled on Ubuntu), since its
# /etc/nftables.conf starts with `flush ruleset`, which would remove the guard.
ensure_nft() {
  command -v nft >/dev/null && return 0
  log "installing nftables (nft loads the egress guard)"
  retry 5 30 apt_get install nftables || die "could not install nftables: the egress guard cannot be loaded without nft"
}

install_packages() {
  log "containerd.io ${CONTAINERD_VERSION}, kubelet/kubeadm/kubectl ${K8S_VERSION} (pinned, held), haproxy"
  local codename arch
  retry 5 30 apt_get update || die "apt-get update failed"
  retry 5 30 apt_get install ca-certificates curl gpg jq openssl || die "could not install the base tools"
  ensure_nft
  # shellcheck source=/dev/null
  codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
  arch=$(dpkg --print-architecture)
  [[ -s "$DOCKER_KEYRING" ]] || install_keyring "$DOCKER_KEY_URL" "$DOCKER_KEYRING" "$DOCKER_KEY_FINGERPRINT" ||
    die "could not fetch Docker's repository key"
  echo "deb [arch=${arch} signed-by=${DOCKER_KEYRING}] https://download.docker.com/linux/ubuntu ${codename} stable" \
    >/etc/apt/sources.list.d/docker.list
  [[ -s "$K8S_KEYRING" ]] || install_keyring "https://pkgs.k8s.io/core:/stable:/${K8S_MINOR}/deb/Release.key" "$K8S_KEYRING" "" ||
    die "could not fetch the Kubernetes repository key"
  echo "deb [signed-by=${K8S_KEYRING}] https://pkgs.k8s.io/core:/stable:/${K8S_MINOR}/deb/ /" \
    >/etc/apt/sources.list.d/kubernetes.list
  retry 5 30 apt_get update || die "apt-get update failed"
  apt-mark unhold "${HELD_PACKAGES[@]}" >/dev/null 2>&1 || true
  retry 5 30 apt_get install "containerd.io=${CONTAINERD_VERSION}-*" \
    "kubelet=${K8S_VERSION}-*" "kubeadm=${K8S_VERSION}-*" "kubectl=${K8S_VERSION}-*" haproxy ||
    die "could not install containerd.io ${CONTAINERD_VERSION} and Kubernetes ${K8S_VERSION}; check that both versions exist"
  apt-mark hold "${HELD_PACKAGES[@]}" >/dev/null
}

configure_containerd() {
  log "containerd: systemd cgroup driver"
  local config=/etc/containerd/config.toml pause
  install -d -m 0755 /etc/containerd
  # containerd.io ships a config with the CRI plugin disabled; start from the defaults.
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

# The local API proxy (its config and unit come from cloud-init): replaces the distribution's
# default haproxy instance, and must run before kubeadm, which reaches the API through it.
start_apiserver_proxy() {
  log "local API proxy on ${API_PROXY} to ${CP_IPS// /, }"
  systemctl disable --now haproxy.service >/dev/null 2>&1 || true
  systemctl daemon-reload
  systemctl enable --now wg-mesh-apiserver-proxy.service
  # From now on the proxy follows the node table the agent persists (wg-mesh-apiserver-proxy-sync).
  systemctl enable --now wg-mesh-apiserver-proxy-sync.path
}

# Pull the node-router image now, so the DaemonSet starts without a registry round trip and
# a registry or digest problem shows in this journal. Not fatal: the kubelet pulls again.
pull_agent_image() {
  log "pulling ${AGENT_IMAGE}"
  retry 5 10 ctr --namespace k8s.io images pull "$AGENT_IMAGE" >/dev/null ||
    log "WARNING: could not pull ${AGENT_IMAGE}; the node-router DaemonSet will retry"
}
