#!/usr/bin/env bash
# Failover time of a 3-node runtime on loopback, with the default raft timings (election 500 ms,
# heartbeat 50 ms, pre-vote on): N times, form a fresh runtime, kill -9 its leader, and measure
# until a survivor names a new leader and that leader has committed a write (keys regenerate).
# Prints every sample, the median and the p95 (target: median <= 1.5 s). Not a test.
#   bench/bench_failover.sh [SHIR_BINARY] [N]
set -euo pipefail
SHIR=${1:-build/ci/node/shir}
N=${2:-10}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'SHIR=$SHIR "$here/deploy/local-cluster.sh" stop "$tmp/c" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
now_ms() { date +%s%3N; }
samples=()
for i in $(seq 1 "$N"); do
    rm -rf "$tmp/c"
    SHIR=$SHIR "$here/deploy/local-cluster.sh" start 3 "$tmp/c" >/dev/null
    leader=$("$SHIR" status --data-dir "$tmp/c/n1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["leader"])')
    pid=$(sed -n "${leader#n}p" "$tmp/c/pids")
    t0=$(now_ms)
    kill -9 "$pid"
    survivor=n1; [ "$leader" = n1 ] && survivor=n2
    while :; do
        # sed, not python: the poll itself must cost little next to what it measures.
        new=$("$SHIR" status --data-dir "$tmp/c/$survivor" --json 2>/dev/null |
              sed -n 's/.*"leader":"\([^"]*\)".*/\1/p' || true)
        if [ -n "$new" ] && [ "$new" != "$leader" ] &&
           "$SHIR" keys regenerate key2 --data-dir "$tmp/c/$new" >/dev/null 2>&1; then
            break
        fi
        [ $(( $(now_ms) - t0 )) -lt 30000 ] || { echo "run $i: no new leader within 30 s" >&2; exit 1; }
    done
    ms=$(( $(now_ms) - t0 ))
    samples+=("$ms")
    printf 'run %2d: leader %s killed, %s led and committed a write after %d ms\n' "$i" "$leader" "$new" "$ms"
    SHIR=$SHIR "$here/deploy/local-cluster.sh" stop "$tmp/c" >/dev/null 2>&1 || true
done
printf '%s\n' "${samples[@]}" | sort -n | python3 -c '
import sys
v = [int(x) for x in sys.stdin]
p = lambda q: v[min(len(v) - 1, int(round(q * (len(v) - 1))))]
print(f"failover (kill -9 leader -> new leader committed a write), n={len(v)}: "
      f"median {p(0.5)} ms, p95 {p(0.95)} ms, min {v[0]} ms, max {v[-1]} ms (target: median <= 1500 ms)")'
