#!/usr/bin/env bash
# Installs what the tests need when it is missing: Debian packages (real tools the tests
# run: shellcheck, cloud-init, WireGuard, iproute2, nftables, tcpdump; HAProxy and etcd for
# the boot script's API proxy and etcd steps; gpg and curl for its repository keys) and the
# npm packages from the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pair in shellcheck:shellcheck cloud-init:cloud-init wireguard-go:wireguard-go wg:wireguard-tools \
            ip:iproute2 nft:nftables tcpdump:tcpdump ping:iputils-ping unshare:util-linux \
            jq:jq openssl:openssl haproxy:haproxy etcd:etcd-server gpg:gnupg curl:curl; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "setup: need root to install: ${need[*]}" >&2; exit 1; }
  echo "setup: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Reinstall from the lockfile when node_modules is missing or older than the lockfile.
# `npm ci` is the strict path; where the registry serves only this platform's builds of
# packages with per-platform optional dependencies (@swc/core, jest's resolver), npm ci
# rejects the lockfile as incomplete, so fall back to `npm install --no-save`, which
# installs the same locked versions without touching the lockfile.
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund 2>/dev/null || npm install --no-save --no-audit --no-fund
fi
