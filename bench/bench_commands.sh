#!/usr/bin/env bash
# Start a 3-node runtime on loopback and measure replicated commands/s through its leader.
#   bench/bench_commands.sh [BUILD_DIR] [N] [WINDOW]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build/ci}
tmp=$(mktemp -d)
trap 'SHIR=$build/node/shir "$here/deploy/local-cluster.sh" stop "$tmp/c" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
SHIR=$build/node/shir "$here/deploy/local-cluster.sh" start 3 "$tmp/c" >/dev/null
"$build/bench/bench_commands" "$tmp/c/n1" "${2:-5000}" "${3:-64}"
