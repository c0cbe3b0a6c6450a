#!/usr/bin/env bash
# The one set-up step every entry point shares (npm test, npm run lab, npm run bench:agent):
# installs the Debian tools the tests and the lab run for real (shellcheck, cloud-init,
# WireGuard, iproute2, nftables, tcpdump, ethtool (the MTU lab turns offloads off); HAProxy and etcd for the boot script's API proxy
# and etcd steps; gpg and curl for its repository keys; promtool for the alert rules, ...) when missing, then the npm packages exactly as
# the lockfiles pin them, Node 22 (the `node` package) included.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pair in shellcheck:shellcheck cloud-init:cloud-init wireguard-go:wireguard-go wg:wireguard-tools \
            ip:iproute2 nft:nftables tcpdump:tcpdump ping:iputils-ping unshare:util-linux \
            jq:jq openssl:openssl haproxy:haproxy etcd:etcd-server gpg:gnupg curl:curl promtool:prometheus \
            python3:python3 ethtool:ethtool; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: these Debian packages are missing and installing them needs root: ${need[*]}" >&2
    echo "setup: run the same command with sudo, or: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# `npm ci` alone: the lockfile is complete for every platform (test/lockfiles.test.ts), so
# there is no fallback. Reinstall only when node_modules is missing or older than the lockfile.
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
