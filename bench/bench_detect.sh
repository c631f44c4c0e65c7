#!/usr/bin/env bash
# Failure detection as an operator sees it, on a 3-node runtime on loopback with the default
# gossip timings (probe period 500 ms, ack timeout 250 ms, suspicion 2 s): N times, kill -9 a
# follower and measure until `shir status` on the other follower shows it Offline, then until it
# shows it dead; restart it and measure until it is Online again there. Prints every sample and
# the median and p95 of each (docs/cli.md: Offline about 1 s after a crash, dead 2 s later;
# Online within a round trip of the restart, plus the agent's start). Not a test.
#   bench/bench_detect.sh [SHIR_BINARY] [N]
set -euo pipefail
SHIR=${1:-build/ci/node/shir}
N=${2:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'SHIR=$SHIR "$here/deploy/local-cluster.sh" stop "$tmp/c" >/dev/null 2>&1 || true
      [ -n "${restarted:-}" ] && kill -9 "$restarted" 2>/dev/null; rm -rf "$tmp"' EXIT
now_ms() { date +%s%3N; }
# field VIEWER NODE KEY: KEY of NODE in VIEWER's status (sed, not python: polls must be cheap).
field() {
    "$SHIR" status --data-dir "$tmp/c/$1" --json 2>/dev/null |
        sed -n "s/.*\"name\":\"$2\",[^}]*\"$3\":\"\\([^\"]*\\)\".*/\\1/p"
}
until_is() { # until_is VIEWER NODE KEY VALUE T0: ms from T0 until it holds (30 s at most)
    while [ "$(field "$1" "$2" "$3")" != "$4" ]; do
        [ $(( $(now_ms) - $5 )) -lt 30000 ] || { echo "no '$3=$4' for $2 on $1 within 30 s" >&2; exit 1; }
    done
    echo $(( $(now_ms) - $5 ))
}
off=(); dead=(); back=()
for i in $(seq 1 "$N"); do
    rm -rf "$tmp/c"
    SHIR=$SHIR "$here/deploy/local-cluster.sh" start 3 "$tmp/c" >/dev/null
    leader=$("$SHIR" status --data-dir "$tmp/c/n1" --json | sed -n 's/.*"leader":"\([^"]*\)".*/\1/p')
    fs=(); for n in n1 n2 n3; do [ "$n" = "$leader" ] || fs+=("$n"); done
    victim=${fs[0]}; viewer=${fs[1]}
    pid=$(sed -n "${victim#n}p" "$tmp/c/pids")
    port=$(sed -n 's/.*"name":"'"$victim"'",[^}]*"address":"127.0.0.1:\([0-9]*\)".*/\1/p' \
        <<<"$("$SHIR" status --data-dir "$tmp/c/$viewer" --json)")
    t0=$(now_ms)
    kill -9 "$pid"
    off+=("$(until_is "$viewer" "$victim" status Offline "$t0")")
    dead+=("$(until_is "$viewer" "$victim" liveness dead "$t0")")
    t1=$(now_ms)
    "$SHIR" agent --data-dir "$tmp/c/$victim" --listen "127.0.0.1:$port" --node-name "$victim" \
        2>>"$tmp/c/$victim.log" &
    restarted=$!
    back+=("$(until_is "$viewer" "$victim" status Online "$t1")")
    printf 'run %2d: %s killed: Offline on %s after %d ms, dead after %d ms; restarted: Online after %d ms\n' \
        "$i" "$victim" "$viewer" "${off[-1]}" "${dead[-1]}" "${back[-1]}"
    kill -9 "$restarted" 2>/dev/null || true
    wait "$restarted" 2>/dev/null || true
    SHIR=$SHIR "$here/deploy/local-cluster.sh" stop "$tmp/c" >/dev/null 2>&1 || true
done
summary() { # summary WHAT SAMPLES...
    local what=$1; shift
    printf '%s\n' "$@" | sort -n | python3 -c '
import sys
v = [int(x) for x in sys.stdin]
p = lambda q: v[min(len(v) - 1, int(round(q * (len(v) - 1))))]
print(f"'"$what"', n={len(v)}: median {p(0.5)} ms, p95 {p(0.95)} ms, min {v[0]} ms, max {v[-1]} ms")'
}
summary "kill -9 -> Offline on a survivor" "${off[@]}"
summary "kill -9 -> dead on a survivor" "${dead[@]}"
summary "restart -> Online on a survivor (agent start included)" "${back[@]}"
