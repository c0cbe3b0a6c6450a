#!/usr/bin/env bash
# wg-mesh: the local API proxy follows the node table's control planes. The node-router agent
# renders HAProxy's configuration (the same renderer as the boot files) from every good node table
# it persists, into its state directory; a path unit runs this script when that copy changes, and
# the proxy's unit runs it (--no-reload) before every start. It installs the copy only if nothing
# but the backend server lines differ from the configuration in place, every server line is a
# name and an IPv4 address on the API port, there is at least one, and `haproxy -c` accepts it;
# then it reloads HAProxy (master-worker: a new worker takes the new backends, the old one keeps
# its established connections until they end). Anything else keeps the configuration in place and
# fails the unit, saying why. Every path can be overridden (WG_MESH_*) for the tests.
set -euo pipefail

CANDIDATE="${WG_MESH_PROXY_CANDIDATE:-/var/lib/wg-mesh/apiserver-proxy.cfg}"
LIVE="${WG_MESH_PROXY_CONFIG:-/etc/wg-mesh/apiserver-proxy.cfg}"
UNIT="${WG_MESH_PROXY_UNIT:-wg-mesh-apiserver-proxy.service}"
reload=yes
[[ "${1:-}" == --no-reload ]] && reload=no

log() { printf '%s wg-mesh-apiserver-proxy-sync: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }

[[ -f "$CANDIDATE" ]] || exit 0
[[ -f "$LIVE" ]] || { log "no configuration in place at ${LIVE}: nothing to compare ${CANDIDATE} with"; exit 1; }

# Judge a private copy (the agent may rename a newer one into place meanwhile), in the target's
# directory so that installing it is one rename.
next=$(mktemp "${LIVE}.XXXXXX")
trap 'rm -f "$next"' EXIT
cp "$CANDIDATE" "$next"
cmp -s "$next" "$LIVE" && exit 0

refuse() {
  log "kept ${LIVE}: ${CANDIDATE} $*"
  exit 1
}
server='^  server [A-Za-z0-9._-]+ ([0-9]{1,3}\.){3}[0-9]{1,3}:6443$'
grep '^  server ' "$next" | grep -Evq "$server" && refuse "has a server line that is not '  server <name> <IPv4>:6443'"
grep -Eq "$server" "$next" || refuse "lists no control plane"
cmp -s <(grep -v '^  server ' "$next") <(grep -v '^  server ' "$LIVE") || refuse "differs in more than the backend servers"
out=$(haproxy -c -q -f "$next" 2>&1) || refuse "is refused by haproxy -c: ${out//$'\n'/ | }"

chmod 0644 "$next"
mv -f "$next" "$LIVE"
log "installed backends: $(grep -E "$server" "$LIVE" | awk '{ print $2 "=" $3 }' | paste -sd ' ')"
if [[ "$reload" == yes ]]; then
  # Reloads a running proxy; one not running picks the file up when it starts.
  systemctl try-reload-or-restart "$UNIT"
fi
