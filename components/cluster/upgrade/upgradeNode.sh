#!/usr/bin/env bash
set -euo pipefail
# wg-mesh in-place upgrade, the node's half (issue 27). The program runs one step on one node
# as a privileged one-shot Job that enters the host's namespaces (nsenter --target 1 ...) and
# runs this text with `bash -c`; the program drains, orders and waits, this script only acts:
#   snapshot             an etcd snapshot on this control plane, kept on the host
#   etcd-health          every etcd member started, voting and healthy (between control planes)
#   first-control-plane  kubeadm (upgrade apply), kubelet, kubectl and containerd.io
#   control-plane|worker kubeadm (upgrade node), kubelet, kubectl and containerd.io
# Packages come as at boot (packages.sh): pkgs.k8s.io, one repository per minor version,
# pinned `<version>-*`, held. Safe to run again: at the target versions every command is a
# no-op (apt installs nothing, kubeadm upgrades to the version it already runs).
#
# Output: progress lines on stdout. A failure exits non-zero with exactly one line on stderr,
#   wg-mesh-upgrade: FAILED at <what> (<command> exit <code>): <hint>
# so everything the commands themselves print goes to stdout (the Job's log), in order.
shopt -s inherit_errexit

# Where things are on the host; overridable only so the tests can point them elsewhere.
SOURCES_DIR="${WG_MESH_APT_SOURCES_DIR:-/etc/apt/sources.list.d}"
K8S_KEYRING="${WG_MESH_APT_KEYRING:-/etc/apt/keyrings/kubernetes-apt-keyring.gpg}"
KUBERNETES_DIR="${WG_MESH_KUBERNETES_DIR:-/etc/kubernetes}"
ETCD_DATA_DIR="${WG_MESH_ETCD_DATA_DIR:-/var/lib/etcd}"
CONTAINERD_CONFIG="${WG_MESH_CONTAINERD_CONFIG:-/etc/containerd/config.toml}"
# kubeadm's etcd static pod mounts the host's /var/lib/etcd here, and its certificates at the
# same paths as on the host; etcdctl runs inside that container, so these are its paths.
ETCD_CONTAINER_DATA_DIR=/var/lib/etcd
ETCDCTL_TLS=(--endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt
  --cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key)
HELD_PACKAGES=(containerd.io kubelet kubeadm kubectl)
KEEP_SNAPSHOTS=5  # etcd snapshots kept on the control plane, newest first

STEP_PATTERN='^(snapshot|etcd-health|first-control-plane|control-plane|worker)$'
K8S_VERSION_PATTERN='^1\.[0-9]+\.[0-9]+$'
K8S_MINOR_PATTERN='^v1\.[0-9]+$'
CONTAINERD_VERSION_PATTERN='^[0-9]+\.[0-9]+\.[0-9]+$'
SNAPSHOT_DIR_PATTERN='^/[A-Za-z0-9._/-]*$'

PHASE="starting"  # what the script is doing, for a failure outside must/capture
CLEANUP=()        # files removed on exit, whatever happens
UNHELD=false      # some package is unheld: re-held if the step fails

exec 3>&2 2>&1

log() { printf 'wg-mesh-upgrade: %s\n' "$*"; }

# fail WHAT COMMAND CODE HINT: the one line on stderr, then exit (1 if the command itself
# succeeded but its answer is wrong).
fail() {
  printf 'wg-mesh-upgrade: FAILED at %s (%s exit %s): %s\n' "$1" "$2" "$3" "$4" >&3
  if (($3 == 0)); then exit 1; fi
  exit "$3"
}

# The command as a person would type it, for the FAILED line.
shown() {
  case "$1" in
    apt_get) printf 'apt-get %s' "${*:2}" ;;
    etcdctl_in) printf 'crictl exec %s etcdctl %s' "$2" "${*:3}" ;;
    *) printf '%s' "$*" ;;
  esac
}

# must WHAT HINT COMMAND...: runs one simple command (errexit does not reach into a function
# called here); if it fails, the FAILED line and exit.
must() {
  local what=$1 hint=$2 rc=0
  shift 2
  "$@" || rc=$?
  if ((rc != 0)); then fail "$what" "$(shown "$@")" "$rc" "$hint"; fi
}

# capture VAR WHAT HINT COMMAND...: must, with the command's stdout in VAR.
capture() {
  local var=$1 what=$2 hint=$3 captured rc=0
  shift 3
  captured=$("$@") || rc=$?
  if ((rc != 0)); then fail "$what" "$(shown "$@")" "$rc" "$hint"; fi
  printf -v "$var" '%s' "$captured"
}

# Anything else that fails still ends with the one line. Command substitutions and subshells
# leave it to the main shell, which sees their failure as its own command's.
on_error() {
  if [[ "$BASHPID" == "$$" ]]; then fail "$PHASE" "$2" "$1" "unexpected failure; see the output above"; fi
}

on_exit() {
  local rc=$?
  if ((${#CLEANUP[@]} > 0)); then rm -f -- "${CLEANUP[@]}" || true; fi
  # A failed step leaves the packages held, as the boot left them: nothing else may move them.
  if ((rc != 0)) && [[ "$UNHELD" == true ]]; then apt-mark hold "${HELD_PACKAGES[@]}" >/dev/null 2>&1 || true; fi
}

set -o errtrace
trap 'on_error "$?" "$BASH_COMMAND"' ERR
trap on_exit EXIT

# The lock timeout covers unattended-upgrades. The dpkg options keep configuration files the
# boot changed (containerd's config.toml, with the systemd cgroup driver) instead of asking,
# which with nobody to answer would fail the install.
apt_get() {
  DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=600 -o Acquire::Retries=5 \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

etcdctl_in() {
  crictl exec "$1" etcdctl "${ETCDCTL_TLS[@]}" "${@:2}"
}

# check_input NAME PATTERN FORM: exit 2 unless the variable is set and matches.
check_input() {
  local name=$1 pattern=$2 form=$3
  if [[ -z "${!name:-}" ]]; then
    fail "checking the inputs" "$name" 2 "${name} is not set; expected ${form}"
  fi
  if ! [[ "${!name}" =~ $pattern ]]; then
    fail "checking the inputs" "$name" 2 "${name}=${!name@Q} is malformed; expected ${form}"
  fi
}

check_inputs() {
  check_input UPGRADE_STEP "$STEP_PATTERN" "one of snapshot, etcd-health, first-control-plane, control-plane, worker"
  check_input K8S_VERSION "$K8S_VERSION_PATTERN" "MAJOR.MINOR.PATCH without a leading v, e.g. 1.34.2"
  check_input K8S_MINOR "$K8S_MINOR_PATTERN" "v<major>.<minor> of K8S_VERSION, e.g. v1.34"
  # The repository must be the version's own: any other has no such package.
  if [[ "$K8S_MINOR" != "v${K8S_VERSION%.*}" ]]; then
    fail "checking the inputs" K8S_MINOR 2 "K8S_MINOR=${K8S_MINOR} is not K8S_VERSION ${K8S_VERSION}'s minor; expected v${K8S_VERSION%.*}"
  fi
  check_input CONTAINERD_VERSION "$CONTAINERD_VERSION_PATTERN" "MAJOR.MINOR.PATCH, e.g. 1.7.27"
  SNAPSHOT_DIR="${SNAPSHOT_DIR:-/var/lib/wg-mesh/etcd-snapshots}"
  check_input SNAPSHOT_DIR "$SNAPSHOT_DIR_PATTERN" "an absolute path of letters, digits and . _ - /, e.g. /var/lib/wg-mesh/etcd-snapshots"
  SNAPSHOT_DIR="${SNAPSHOT_DIR%/}"
  STEP=$UPGRADE_STEP
}

# ETCD_ID: the running etcd container of kubeadm's static pod on this node.
ETCD_ID=""
find_etcd_container() {
  local ids
  capture ids "finding the etcd container" "is this a control plane, and crictl configured (/etc/crictl.yaml)?" \
    crictl ps --name etcd --state running -q
  ETCD_ID="${ids%%$'\n'*}"
  if [[ -z "$ETCD_ID" ]]; then
    fail "finding the etcd container" "crictl ps --name etcd --state running -q" 0 \
      "no running etcd container: run this step on a control plane whose etcd is up"
  fi
}

# etcdctl writes the snapshot inside the container, into the directory it shares with the host
# (private to root, as is the file), and the host moves it into SNAPSHOT_DIR, made private first.
# SNAPSHOT_DIR's parents get the usual modes: /var/lib/wg-mesh holds the agent's files too.
take_snapshot() {
  local name host_file target
  PHASE="taking an etcd snapshot"
  find_etcd_container
  name="wg-mesh-snapshot-$(date -u +%Y%m%dT%H%M%SZ).db"
  host_file="${ETCD_DATA_DIR}/${name}"
  target="${SNAPSHOT_DIR}/${name}"
  CLEANUP+=("$host_file")
  log "etcd snapshot from container ${ETCD_ID}"
  must "etcdctl snapshot save" "is this node's etcd healthy? see etcdctl's output above" \
    etcdctl_in "$ETCD_ID" snapshot save "${ETCD_CONTAINER_DATA_DIR}/${name}"
  if [[ ! -s "$host_file" ]]; then
    fail "finding the snapshot on the host" "test -s ${host_file}" 1 \
      "etcdctl saved ${ETCD_CONTAINER_DATA_DIR}/${name} in the etcd container, but ${ETCD_DATA_DIR} has no such file: does the etcd pod mount the host's ${ETCD_DATA_DIR}?"
  fi
  must "creating ${SNAPSHOT_DIR}" "is the path free and its filesystem writable?" mkdir -p "$SNAPSHOT_DIR"
  must "making ${SNAPSHOT_DIR} private" "is the path a directory?" chmod 0700 "$SNAPSHOT_DIR"
  must "moving the snapshot into ${SNAPSHOT_DIR}" "is there room on its filesystem?" mv -f "$host_file" "$target"
  must "making the snapshot private" "is the path a file?" chmod 0600 "$target"
  prune_snapshots
  log "snapshot ${target}"
}

# Each roll adds a snapshot the size of etcd's database; the newest KEEP_SNAPSHOTS stay (their
# names sort by time), so years of upgrades do not fill the control plane's disk. Only the
# script's own files are touched.
prune_snapshots() {
  local old=() i
  PHASE="removing old snapshots"
  shopt -s nullglob
  old=("${SNAPSHOT_DIR}"/wg-mesh-snapshot-*.db)
  shopt -u nullglob
  for ((i = 0; i < ${#old[@]} - KEEP_SNAPSHOTS; i++)); do
    must "removing old snapshot ${old[i]}" "is the file writable?" rm -f -- "${old[i]}"
    log "removed old snapshot ${old[i]}"
  done
}

check_etcd_health() {
  local members problems health unhealthy names rc=0
  PHASE="checking etcd"
  find_etcd_container
  capture members "etcdctl member list" "is this node's etcd up? see etcdctl's output above" \
    etcdctl_in "$ETCD_ID" member list -w json
  # A member without a name has been added but has not started; a learner does not vote yet.
  problems=$(jq -r 'def who: if (.name // "") != "" then .name else ((.peerURLs // []) | join(",")) end; (.members // []) as $m | if ($m | length) == 0 then "no members listed" else [$m[] | if (.name // "") == "" then "\(who) (not started)" elif .isLearner == true then "\(who) (learner)" else empty end] | join(", ") end' <<<"$members") ||
    fail "reading etcd's members" "jq" "$?" "etcdctl member list -w json did not answer the JSON expected; see its output above"
  if [[ -n "$problems" ]]; then
    fail "checking etcd's members" "$(shown etcdctl_in "$ETCD_ID" member list -w json)" 0 \
      "not every member is started and voting: ${problems}; wait until they are before upgrading another control plane"
  fi
  names=$(jq -r '[.members[].name] | join(",")' <<<"$members")
  log "etcd members started and voting: ${names}"
  health=$(etcdctl_in "$ETCD_ID" endpoint health --cluster -w json) || rc=$?
  if ((rc != 0)); then
    unhealthy=$(jq -r --argjson m "$members" '[.[]? | select(.health != true) | .endpoint as $e | ([$m.members[]? | select(any(.clientURLs[]?; . == $e)) | .name] | first // $e) as $n | if $n == $e then $e else "\($n) (\($e))" end] | join(", ")' <<<"$health" 2>/dev/null) || unhealthy=""
    if [[ -z "$unhealthy" ]]; then unhealthy="see the output above"; fi
    fail "checking etcd's health" "$(shown etcdctl_in "$ETCD_ID" endpoint health --cluster -w json)" "$rc" \
      "unhealthy: ${unhealthy}; do not upgrade another control plane until every member is healthy"
  fi
  log "every etcd endpoint healthy"
  log "done etcd-health members=${names}"
}

# The boot fetched this key for its own minor; pkgs.k8s.io serves it with every minor, so a node
# that lost it fetches it again from the new one, over HTTPS from the repository's own host.
ensure_keyring() {
  local url="https://pkgs.k8s.io/core:/stable:/${K8S_MINOR}/deb/Release.key" tmp
  if [[ -s "$K8S_KEYRING" ]]; then return 0; fi
  log "fetching the pkgs.k8s.io signing key (${url})"
  tmp=$(mktemp)
  CLEANUP+=("$tmp")
  must "fetching the pkgs.k8s.io ${K8S_MINOR} signing key" "check egress to pkgs.k8s.io and that ${K8S_MINOR} is published there" \
    curl -fsSL --retry 10 --retry-all-errors --retry-delay 5 --max-time 120 -o "$tmp" "$url"
  must "creating $(dirname "$K8S_KEYRING")" "is the path free?" mkdir -p "$(dirname "$K8S_KEYRING")"
  must "installing the pkgs.k8s.io signing key" "is ${url} an armored OpenPGP key?" gpg --batch --yes --dearmor -o "$K8S_KEYRING" "$tmp"
  # apt verifies signatures as the unprivileged _apt user.
  must "installing the pkgs.k8s.io signing key" "is ${K8S_KEYRING} a file?" chmod 0644 "$K8S_KEYRING"
}

# The pause image the new kubeadm expects, in containerd's config as the boot put it there
# (packages.sh), so kubelet and containerd agree on it; containerd reads it when restarted.
# Best effort: a config without the key, or a kubeadm that lists no pause image, keeps its own.
use_kubeadm_pause_image() {
  local images pause
  PHASE="pointing containerd at kubeadm's pause image"
  images=$(kubeadm config images list --kubernetes-version "v${K8S_VERSION}" 2>/dev/null) || images=""
  pause=$(grep -m1 '/pause:' <<<"$images") || pause=""
  if [[ -z "$pause" || ! -f "$CONTAINERD_CONFIG" ]] || ! grep -q '^[[:space:]]*sandbox_image = ' "$CONTAINERD_CONFIG"; then
    log "containerd: sandbox image kept (no pause image from kubeadm, or no sandbox_image in ${CONTAINERD_CONFIG})"
    return 0
  fi
  must "setting containerd's sandbox_image" "is ${CONTAINERD_CONFIG} writable?" \
    sed -i "s|^\([[:space:]]*\)sandbox_image = .*|\1sandbox_image = \"${pause}\"|" "$CONTAINERD_CONFIG"
  log "containerd: sandbox_image ${pause}"
}

upgrade_node() {
  local list="${SOURCES_DIR}/kubernetes.list" kubelet_says containerd_says field fields
  PHASE="checking the node"
  if [[ ! -f "${KUBERNETES_DIR}/kubelet.conf" ]]; then
    fail "checking the node" "test -f ${KUBERNETES_DIR}/kubelet.conf" 1 "this machine has not joined the cluster; there is nothing to upgrade"
  fi
  if [[ "$STEP" != worker && ! -f "${KUBERNETES_DIR}/manifests/kube-apiserver.yaml" ]]; then
    fail "checking the node" "test -f ${KUBERNETES_DIR}/manifests/kube-apiserver.yaml" 1 "this node runs no API server: it is a worker, upgrade it with the worker step"
  fi

  PHASE="pointing apt at pkgs.k8s.io ${K8S_MINOR}"
  log "apt: pkgs.k8s.io ${K8S_MINOR}"
  ensure_keyring
  if ! printf 'deb [signed-by=%s] https://pkgs.k8s.io/core:/stable:/%s/deb/ /\n' "$K8S_KEYRING" "$K8S_MINOR" >"$list"; then
    fail "$PHASE" "write ${list}" 1 "is ${SOURCES_DIR} writable?"
  fi
  must "apt-get update" "check egress to the package repositories and that pkgs.k8s.io publishes ${K8S_MINOR}" apt_get update

  # kubeadm first, and it alone: the new kubeadm upgrades the node's configuration (and, on a
  # control plane, its static pods) while the old kubelet still runs them.
  PHASE="upgrading kubeadm"
  log "kubeadm ${K8S_VERSION}"
  UNHELD=true
  must "releasing kubeadm's hold" "see apt-mark's output above" apt-mark unhold kubeadm
  must "installing kubeadm ${K8S_VERSION}" "check that Kubernetes ${K8S_VERSION} exists in pkgs.k8s.io ${K8S_MINOR}" \
    apt_get install "kubeadm=${K8S_VERSION}-*"
  must "holding kubeadm" "see apt-mark's output above" apt-mark hold kubeadm
  if [[ "$STEP" == first-control-plane ]]; then
    PHASE="kubeadm upgrade apply"
    log "kubeadm upgrade apply v${K8S_VERSION}"
    must "kubeadm upgrade apply" "see kubeadm's output above; fix the cause and run this step again" \
      kubeadm upgrade apply -y "v${K8S_VERSION}"
  else
    PHASE="kubeadm upgrade node"
    log "kubeadm upgrade node"
    must "kubeadm upgrade node" "see kubeadm's output above; fix the cause and run this step again" kubeadm upgrade node
  fi

  PHASE="upgrading kubelet, kubectl and containerd.io"
  log "kubelet and kubectl ${K8S_VERSION}, containerd.io ${CONTAINERD_VERSION}"
  must "releasing the holds" "see apt-mark's output above" apt-mark unhold kubelet kubectl containerd.io
  must "installing kubelet and kubectl ${K8S_VERSION} and containerd.io ${CONTAINERD_VERSION}" \
    "check that Kubernetes ${K8S_VERSION} exists in pkgs.k8s.io ${K8S_MINOR} and containerd.io ${CONTAINERD_VERSION} in Docker's repository" \
    apt_get install "kubelet=${K8S_VERSION}-*" "kubectl=${K8S_VERSION}-*" "containerd.io=${CONTAINERD_VERSION}-*"
  must "holding the packages" "see apt-mark's output above" apt-mark hold "${HELD_PACKAGES[@]}"
  UNHELD=false

  use_kubeadm_pause_image

  # Running containers outlive both restarts (their shims stay), this Job's included.
  PHASE="restarting containerd and kubelet"
  log "restarting containerd and kubelet"
  must "systemctl daemon-reload" "see systemd's output above" systemctl daemon-reload
  must "restarting containerd" "see journalctl -u containerd" systemctl restart containerd
  must "restarting kubelet" "see journalctl -u kubelet" systemctl restart kubelet

  # The binaries the units run are the versions asked for, whatever apt reported.
  PHASE="checking the versions"
  capture kubelet_says "checking kubelet's version" "is kubelet installed?" kubelet --version
  if [[ "$kubelet_says" != "Kubernetes v${K8S_VERSION}" ]]; then
    fail "checking kubelet's version" "kubelet --version" 0 \
      "it says ${kubelet_says@Q}, not 'Kubernetes v${K8S_VERSION}'; see apt's output above"
  fi
  capture containerd_says "checking containerd's version" "is containerd installed?" containerd --version
  read -r -a fields <<<"$containerd_says"
  for field in "${fields[@]}"; do
    if [[ "$field" == "$CONTAINERD_VERSION" || "$field" == "v${CONTAINERD_VERSION}" ]]; then
      log "done ${STEP} kubelet=v${K8S_VERSION} containerd=${CONTAINERD_VERSION}"
      return 0
    fi
  done
  fail "checking containerd's version" "containerd --version" 0 \
    "it says ${containerd_says@Q}, not version ${CONTAINERD_VERSION}; see apt's output above"
}

PHASE="checking the inputs"
check_inputs
log "step ${STEP}: Kubernetes ${K8S_VERSION} (pkgs.k8s.io ${K8S_MINOR}), containerd.io ${CONTAINERD_VERSION}"
case "$STEP" in
  snapshot) take_snapshot ;;
  etcd-health) check_etcd_health ;;
  *) upgrade_node ;;
esac
