#!/usr/bin/env bash
# Entry of `npm run lab` and `npm run bench:agent`: both build network namespaces, WireGuard
# devices and captures, so both need root. Same set-up as `npm test` (scripts/setup.sh), then a
# build, then the compiled entry point with the remaining arguments.
#   usage: run-as-root.sh WHAT ENTRY.js [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
what=$1 entry=$2
shift 2

for arg in "$@"; do
  if [ "$arg" = "--help" ] || [ "$arg" = "-h" ]; then need_root=no; fi
done
if [ "${need_root:-yes}" = yes ] && [ "$(id -u)" -ne 0 ]; then
  echo "${what} needs root (network namespaces, WireGuard, nftables, tcpdump): run it as: sudo npm run ${what}${*:+ -- $*}" >&2
  exit 1
fi

bash scripts/setup.sh
# npm puts node_modules/.bin first on PATH, so `node` is the pinned Node 22 from the lockfile.
export PATH="$PWD/node_modules/.bin:$PATH"
tsc -p tsconfig.build.json
exec node "$entry" "$@"
