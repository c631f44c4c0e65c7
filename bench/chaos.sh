#!/usr/bin/env bash
# The fault campaign at length: N seeded schedules of tests/chaos/chaos.py, one after another,
# each on a fresh runtime; prints every run's line and the totals (faults injected, operations,
# anomalies) and every anomaly in full. Not a test: it exits 1 when an anomaly was found, so a
# loop or a CI job can stop on it, and keeps each such run's history and logs (path printed).
#   bench/chaos.sh N [SHIR_BINARY]
# Environment: CHAOS_FIRST_SEED (default 1), CHAOS_FAULTS per run (default 10), CHAOS_NODES (3|4,
# default 3), CHAOS_MODE (netns when root and nftables is installed, else loopback).
set -uo pipefail
N=${1:?usage: bench/chaos.sh N [SHIR_BINARY]}
here=$(cd "$(dirname "$0")/.." && pwd)
SHIR=${2:-$here/build/ci/node/shir}
[ -x "$SHIR" ] || { echo "bench/chaos.sh: no agent binary at $SHIR" >&2; exit 2; }
first=${CHAOS_FIRST_SEED:-1}
mode=${CHAOS_MODE:-}
if [ -z "$mode" ]; then
    if [ "$(id -u)" = 0 ] && command -v nft >/dev/null; then mode=netns; else mode=loopback; fi
fi
flags=(--faults "${CHAOS_FAULTS:-10}" --nodes "${CHAOS_NODES:-3}")
[ "$mode" = netns ] && flags+=(--netns)
logs=$(mktemp -d)
faults=0 writes=0 acked=0 reads=0 anomalies=0 failed=0 runs=0 sruns=0 sok=0
for ((seed = first; seed < first + N; seed++)); do
    line=$(python3 "$here/tests/chaos/chaos.py" --shir "$SHIR" --seed "$seed" "${flags[@]}" 2>"$logs/$seed.err")
    rc=$?
    printf '%s\n' "$line"
    summary=$(printf '%s\n' "$line" | grep '^chaos seed=')
    if [ "$rc" -eq 2 ] || [ -z "$summary" ]; then
        failed=$((failed + 1)); echo "  (run not carried out; stderr in $logs/$seed.err)"; continue
    fi
    runs=$((runs + 1))
    read -r f w a r sr so x < <(printf '%s\n' "$summary" |
        sed -E 's/.*faults=([0-9]+) writes=([0-9]+) \(acked ([0-9]+)\) reads=([0-9]+) runs=([0-9]+) \(succeeded ([0-9]+)\) anomalies=([0-9]+).*/\1 \2 \3 \4 \5 \6 \7/')
    sruns=$((sruns + sr)); sok=$((sok + so))
    faults=$((faults + f)); writes=$((writes + w)); acked=$((acked + a)); reads=$((reads + r))
    anomalies=$((anomalies + x))
done
echo "chaos campaign: $runs runs ($mode, seeds $first..$((first + N - 1))), $failed not carried out;" \
     "faults injected $faults; operations $((writes + reads)) (writes $writes, acknowledged $acked;" \
     "reads $reads); scan runs acknowledged $sruns (succeeded $sok); anomalies $anomalies"
[ "$anomalies" -eq 0 ] && [ "$failed" -eq 0 ] && rm -rf "$logs"
[ "$anomalies" -eq 0 ] && [ "$failed" -eq 0 ]
