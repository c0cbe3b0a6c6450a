#!/usr/bin/env bash
# The project's one test command (`npm test`): sets up everything it needs on a fresh
# Debian machine, then checks the formatting (Prettier), type-checks, lints and runs every test, the root-only network
# namespace tests included.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

# npm prepends node_modules/.bin to PATH, so `node` below is the pinned Node 22 from the
# `node` package even where the machine's own Node is older.
export PATH="$PWD/node_modules/.bin:$PATH"
echo "node $(node --version)"

echo "== format";    prettier --check --log-level warn "**/*.{ts,js,mjs}" || { echo "those files are not formatted: npm run format fixes them" >&2; exit 1; }
echo "== typecheck"; time tsc -p tsconfig.json --noEmit
echo "== lint";      eslint .
echo "== build";     tsc -p tsconfig.build.json
echo "== tests";     jest --ci "$@"
