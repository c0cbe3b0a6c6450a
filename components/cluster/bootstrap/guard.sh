#!/usr/bin/env bash
# wg-mesh egress guard at boot: loads the node-router agent's nftables guard with the host's own
# nft, before containerd and the kubelet start, on every boot (wg-mesh-guard.service; the kubelet
# requires it). No image, no registry, no network: the ruleset is a file, rendered by the program
# (/etc/wg-mesh/guard.nft, this node's guard without node addresses, plus every node's address
# that the bootstrap read from the secret store at first boot into /etc/wg-mesh/guard-nodes.nft)
# or persisted by the agent from every good table it read since (/var/lib/wg-mesh/guard.nft). The
# newer of the two wins; if nft refuses it (or the addresses are missing), the other is tried; with neither loaded the script fails and the
# kubelet stays stopped (fail closed). The ruleset is parametric in $UNDERLAY, the interfaces
# that reach other nodes in the clear, which only this host knows: detected here as the agent
# detects them, unless the env file lists them. Every path can be overridden (WG_MESH_*), so the
# lab and the tests run this very script in a network namespace.
set -euo pipefail

ENV_FILE="${WG_MESH_ENV_FILE:-/etc/wg-mesh/bootstrap.env}"
BOOT_RULESET="${WG_MESH_BOOT_RULESET:-/etc/wg-mesh/guard.nft}"
STATE_RULESET="${WG_MESH_STATE_RULESET:-/var/lib/wg-mesh/guard.nft}"
BOOT_NODES="${WG_MESH_BOOT_NODES:-/etc/wg-mesh/guard-nodes.nft}"
RUN_DIR="${WG_MESH_RUN_DIR:-/run/wg-mesh}"
SYS_NET="${WG_MESH_SYS_NET:-/sys/class/net}"
CGROUP_ROOT="${WG_MESH_CGROUP_ROOT:-/sys/fs/cgroup}"

# stderr: the unit sends it to the journal and the serial console (StandardError=journal+console).
log() { printf '%s wg-mesh-guard: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }
fatal() {
  log "FATAL: $*; the kubelet stays stopped (it requires wg-mesh-guard.service)"
  exit 1
}

[[ -r "$ENV_FILE" ]] || fatal "no env file at ${ENV_FILE}"
# shellcheck source=/dev/null
source "$ENV_FILE"
: "${NODE_IP:?} ${GUARD_DEVICE:?}"
LOCAL_INTERFACES="${GUARD_LOCAL_INTERFACES:-}"
read -r -a local_interfaces <<<"${LOCAL_INTERFACES//,/ }"
EXPLICIT_UNDERLAY="${GUARD_UNDERLAY_DEVICES:-}"

# The guard lets the node's own services (system.slice) reach the metadata service and nothing
# else: it matches sockets by cgroup v2 path, which nft resolves under /sys/fs/cgroup at load time.
[[ -r "${CGROUP_ROOT}/cgroup.controllers" ]] ||
  fatal "cgroup v2 is not mounted at ${CGROUP_ROOT} (no cgroup.controllers): the guard matches sockets by cgroup v2 path; use an image whose systemd runs the unified hierarchy (Ubuntu 22.04 and later), or boot with systemd.unified_cgroup_hierarchy=1"

# Devices named by `dev NAME` in ip's one-line output (routes, multipath nexthops, addresses).
devices_in() { awk '{ for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1) }'; }

# Whether a device never carries traffic to other nodes in the clear: loopback, the WireGuard
# device, and the local interfaces (pods; "lxc*" matches by prefix, as in the agent).
excluded() {
  local dev=$1 pattern
  [[ "$dev" == lo || "$dev" == "$GUARD_DEVICE" ]] && return 0
  for pattern in "${local_interfaces[@]}"; do
    # shellcheck disable=SC2053 # the pattern is a glob on purpose
    [[ "$dev" == $pattern ]] && return 0
  done
  return 1
}

# The underlay, as the agent detects it: the devices of the default routes (both families), the
# device holding this node's address, and every device backed by hardware (a NIC, virtio or an
# ENI: /sys/class/net/<dev>/device), minus the excluded ones. Sorted and unique. A source that
# fails (no IPv6, say) adds nothing and stops none of the others.
detect_underlay() {
  local dev
  {
    ip -o -4 route show default 2>/dev/null | devices_in || true
    ip -o -6 route show default 2>/dev/null | devices_in || true
    ip -o addr show to "$NODE_IP" 2>/dev/null | awk '{ sub(/@.*/, "", $2); print $2 }' || true
    for dev in "$SYS_NET"/*; do
      if [[ -e "${dev}/device" ]]; then basename "$dev"; fi
    done
  } | sort -u | while read -r dev; do
    if [[ -n "$dev" ]] && ! excluded "$dev"; then echo "$dev"; fi
  done
}

if [[ -n "$EXPLICIT_UNDERLAY" ]]; then
  read -r -a underlay <<<"${EXPLICIT_UNDERLAY//,/ }"
else
  mapfile -t underlay < <(detect_underlay)
fi
((${#underlay[@]} > 0)) ||
  fatal "no underlay device found (no default route, no hardware device); list them in GUARD_UNDERLAY_DEVICES in ${ENV_FILE}"
underlay_set=$(printf '"%s", ' "${underlay[@]}")
# Nested braces, as the agent writes it (guard.ts underlayDefine): nft 1.0.6 (Debian 12) crashes
# on a netdev chain's `devices = $UNDERLAY` when a one-device set is given as `{ "eth0" }`.
underlay_set="{ { ${underlay_set%, } } }"

# The newest first: the persisted copy is newer unless the program re-created this instance's
# boot files since (an equal mtime keeps the persisted one first).
rulesets=()
if [[ -f "$STATE_RULESET" && -f "$BOOT_RULESET" && "$BOOT_RULESET" -nt "$STATE_RULESET" ]]; then
  rulesets=("$BOOT_RULESET" "$STATE_RULESET")
else
  for f in "$STATE_RULESET" "$BOOT_RULESET"; do
    [[ -f "$f" ]] && rulesets+=("$f")
  done
fi
((${#rulesets[@]} > 0)) || fatal "no ruleset: neither ${STATE_RULESET} nor ${BOOT_RULESET} exists"

# One node address in the store's document (bootGuard.ts bootGuardNodes): an element of the inet
# table's node maps and nothing else, so a hostile or damaged store value can add no other command.
NODE_ELEMENT='^add element inet node_router_guard nodes[46] \{ ([0-9A-Fa-f.:]+) : jump (to_node|to_control_plane) \}$'
NODES_HEADER='^# node-router boot guard: node addresses, ([0-9]+) statements$'

# with_node_addresses RULESET OUT: RULESET followed by every node address of BOOT_NODES but this
# node's own, each for the inet table and again for the netdev one (the same maps). Status 1, after
# saying why, when the document is missing, not whole, or holds anything but node addresses.
with_node_addresses() {
  local ruleset=$1 out=$2 header line n=0 count
  if [[ ! -r "$BOOT_NODES" ]]; then
    log "no node addresses at ${BOOT_NODES} for ${ruleset}: the bootstrap writes them from the secret store before it starts the guard"
    return 1
  fi
  IFS= read -r header <"$BOOT_NODES" || true
  if [[ ! "$header" =~ $NODES_HEADER ]]; then
    log "refusing ${BOOT_NODES}: its first line is not the node-address header"
    return 1
  fi
  count=${BASH_REMATCH[1]}
  cat "$ruleset" >"$out"
  while IFS= read -r line; do
    n=$((n + 1))
    if [[ ! "$line" =~ $NODE_ELEMENT ]]; then
      log "refusing ${BOOT_NODES}: line $((n + 1)) is not a node address element: ${line:0:120}"
      return 1
    fi
    [[ "${BASH_REMATCH[1]}" == "$NODE_IP" ]] && continue
    printf '%s\n%s\n' "$line" "${line/#add element inet node_router_guard /add element netdev node_router_guard_underlay }" >>"$out"
  done < <(tail -n +2 "$BOOT_NODES")
  if ((n != count)); then
    log "refusing ${BOOT_NODES}: ${n} node addresses where its header says ${count} (cut short?)"
    return 1
  fi
}

install -d -m 0700 "$RUN_DIR"
composed=$(mktemp -p "$RUN_DIR" guard-boot.XXXXXX)
trap 'rm -f "$composed"' EXIT

for ruleset in "${rulesets[@]}"; do
  load=$ruleset
  if [[ "$ruleset" == "$BOOT_RULESET" ]]; then
    with_node_addresses "$ruleset" "$composed" || continue
    load=$composed
  fi
  rc=0
  out=$(nft -D "UNDERLAY=${underlay_set}" -f "$load" 2>&1) || rc=$?
  if ((rc == 0)); then
    log "egress guard loaded from ${ruleset} (underlay: ${underlay[*]})"
    exit 0
  fi
  log "nft refused ${ruleset} (exit ${rc}): ${out//$'\n'/ | }"
done
fatal "no egress guard: no ruleset could be loaded (${rulesets[*]}; see above)"
