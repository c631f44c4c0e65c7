#!/usr/bin/env bash
# Dispatch rate: 1,000 runs of an empty directory queued while every node is drained, capacity
# 400 per node; then the drains are lifted and the time until no run is queued any more is the
# time the leader took to assign them all. Target >= 500 assignments/s.
#   bench/dispatch_rate.sh [SHIR_BINARY] [RUNS]
set -euo pipefail
SHIR=${1:-build/ci/node/shir}; R=${2:-1000}
. "$(dirname "$0")/dispatch_common.sh"
tmp=$(mktemp -d); trap 'cluster_down "$tmp/c"; rm -rf "$tmp"' EXIT
cluster_up "$tmp/c" 3
mkdir -p "$tmp/empty"
for n in n1 n2 n3; do
    "$SHIR" nodes set "$n" --capacity 400 --data-dir "$tmp/c/n1" >/dev/null
    "$SHIR" nodes drain "$n" --data-dir "$tmp/c/n1" >/dev/null
done
"$SHIR" settings set --run-history 1 --data-dir "$tmp/c/n1" >/dev/null 2>&1 || true
echo "queueing $R runs (one per scan: a scan has at most one active run)..."
for i in $(seq 1 "$R"); do
    "$SHIR" scan create "e$i" --source "$tmp/empty" --level L1 --sink "jsonl:$tmp/out" --data-dir "$tmp/c/n$(( i % 3 + 1 ))" >/dev/null
    "$SHIR" scan run "e$i" --data-dir "$tmp/c/n$(( i % 3 + 1 ))" >/dev/null
done
[ "$(runs_py "$tmp/c/n1" "sum(1 for r in rs if r['state']=='queued')")" = "$R" ] || { echo "not all queued" >&2; exit 1; }
t0=$(now_ms)
for n in n1 n2 n3; do "$SHIR" nodes drain "$n" --off --data-dir "$tmp/c/n1" >/dev/null; done
while [ "$(runs_py "$tmp/c/n1" "sum(1 for r in rs if r['state']=='queued')")" != 0 ]; do
    [ $(( $(now_ms) - t0 )) -lt 120000 ] || { echo "not all assigned within 120 s" >&2; exit 1; }
done
ms=$(( $(now_ms) - t0 ))
python3 -c "print('%d runs assigned in %d ms: %.0f assignments/s (target >= 500; includes the three undrain commands and the polling)' % ($R, $ms, $R * 1000.0 / max($ms, 1)))"
