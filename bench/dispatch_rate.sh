#!/usr/bin/env bash
# Dispatch rate: 1,000 runs of an empty directory queued while every node is drained, capacity
# 400 per node; then the drains are lifted and the time until no run is queued any more is the
# time the leader took to assign them all. Target >= 500 assignments/s.
#   bench/dispatch_rate.sh [SHIR_BINARY] [RUNS]
set -euo pipefail
SHIR=${1:-build/ci/node/shir}; R=${2:-1000}
. "$(dirname "$0")/dispatch_common.sh"
export SHIR_LOG_LEVEL=debug
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
python3 -c "print('end to end: %d runs out of the queue in %d ms = %.0f/s (the three undrain commands and a poll of %d runs every 50 ms included)' % ($R, $ms, $R * 1000.0 / max($ms, 1), $R))"
# The dispatcher's own rate, from the leader's log: each RUN_ASSIGN entry it committed (debug
# line "assigned N run(s)"), from the first to the last. Agents log at debug for this
# (SHIR_LOG_LEVEL, read by the agent like its --log-level).
cat "$tmp"/c/n*.log | python3 -c "
import sys, re, datetime
ev = []
for l in sys.stdin:
    m = re.match(r'(\S+Z) DEBUG .*assigned (\d+) run', l)
    if m:
        t = datetime.datetime.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S.%fZ')
        ev.append((t, int(m.group(2))))
ev.sort()
if len(ev) < 2:
    print('dispatcher: too few assignment entries logged'); sys.exit(0)
n = sum(k for _, k in ev)
span = (ev[-1][0] - ev[0][0]).total_seconds()
print('dispatcher: %d assignments in %d entries over %.3f s = %.0f assignments/s (target >= 500)' % (n, len(ev), span, n / max(span, 1e-3)))"
