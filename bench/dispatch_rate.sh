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
# Four CLI processes at a time: queueing is not what is measured.
queue_one() {
    "$SHIR" scan create "e$1" --source "$tmp/empty" --level L1 --sink "jsonl:$tmp/out" --data-dir "$tmp/c/n$(( $1 % 3 + 1 ))" >/dev/null &&
        "$SHIR" scan run "e$1" --data-dir "$tmp/c/n$(( $1 % 3 + 1 ))" >/dev/null
}
export -f queue_one; export SHIR tmp
seq 1 "$R" | xargs -P 4 -I{} bash -c 'queue_one {}' || { echo "queueing failed" >&2; exit 1; }
[ "$(runs_py "$tmp/c/n1" "sum(1 for r in rs if r['state']=='queued')")" = "$R" ] || { echo "not all queued" >&2; exit 1; }
# How many assignments the leaders have logged so far (debug line "assigned N run(s)", one per
# RUN_ASSIGN entry committed). Reading logs, not `scan runs`: listing 1,000 runs every 50 ms
# would load the very leader being measured.
assigned_so_far() { cat "$tmp"/c/n*.log | sed -n 's/.* assigned \([0-9]*\) run(s)$/\1/p' | awk '{s+=$1} END {print s+0}'; }
t0=$(now_ms)
for n in n1 n2 n3; do "$SHIR" nodes drain "$n" --off --data-dir "$tmp/c/n1" >/dev/null; done
while [ "$(assigned_so_far)" -lt "$R" ]; do
    [ $(( $(now_ms) - t0 )) -lt 120000 ] || { echo "only $(assigned_so_far) of $R assigned within 120 s" >&2; exit 1; }
    sleep 0.05
done
ms=$(( $(now_ms) - t0 ))
echo "end to end: $R runs assigned within $ms ms of the first undrain command (three CLI calls and a 50 ms poll included)"
# The dispatcher's own rate: from its first to its last RUN_ASSIGN entry.
cat "$tmp"/c/n*.log | python3 -c "
import sys, re, datetime
ev = []
for l in sys.stdin:
    m = re.match(r'(\\S+Z) DEBUG .*assigned (\\d+) run', l)
    if m:
        t = datetime.datetime.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S.%fZ')
        ev.append((t, int(m.group(2))))
ev.sort()
if len(ev) < 2:
    print('dispatcher: too few assignment entries logged'); sys.exit(0)
n = sum(k for _, k in ev)
span = (ev[-1][0] - ev[0][0]).total_seconds()
print('dispatcher: %d assignments in %d entries over %.3f s = %.0f assignments/s (target >= 500)' % (n, len(ev), span, n / max(span, 1e-3)))"
