#!/usr/bin/env bash
# Lays out another revision of the agent as its image does, for a side-by-side benchmark:
#   bash agent/bench/prepareBaseline.sh main /tmp/nr-baseline
#   sudo npm run bench:agent -- --baseline /tmp/nr-baseline
# DIR/dist: that revision's agent and lab, compiled with THIS checkout's benchmark (agent/bench),
# so that both builds are measured by the same code; DIR/node_modules: its agent's runtime
# dependencies (agent/package-lock.json, as the image installs them); DIR/agent/Dockerfile: its
# image's node flags, which the benchmark applies to it. The benchmark drives the agent through
# its kernel port, guard, node-table file and reconciler; a revision whose interfaces differ
# fails to compile here (then compare with that revision's own benchmark instead).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 <git-ref> <dir>" >&2; exit 2; }
ref=$1
dir=$2
root=$(git rev-parse --show-toplevel)
rm -rf "$dir"
mkdir -p "$dir"
git -C "$root" archive "$ref" agent lab tsconfig.json tsconfig.build.json | tar -x -C "$dir"
rm -rf "$dir/agent/bench"
cp -r "$root/agent/bench" "$dir/agent/bench"
cp "$dir/agent/package.json" "$dir/agent/package-lock.json" "$dir/"
(cd "$dir" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
# Emit only, with this checkout's TypeScript and Node types: that revision was type-checked when
# it was committed, and its runtime dependencies are all the build needs besides.
mkdir -p "$dir/node_modules/@types"
ln -sfn "$root/node_modules/@types/node" "$dir/node_modules/@types/node"
"$root/node_modules/.bin/tsc" -p "$dir/tsconfig.build.json" --noCheck
echo "baseline $ref ($(git -C "$root" rev-parse --short "$ref")) in $dir"
