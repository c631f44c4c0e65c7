#!/usr/bin/env bash
# A local multi-node runtime on loopback, for trying shir out on one machine.
#   deploy/local-cluster.sh start [N] [DIR]   start N agents (default 3) under DIR, init, join
#   deploy/local-cluster.sh status [DIR]      shir status from every node
#   deploy/local-cluster.sh stop [DIR]        stop the agents (SIGTERM)
# SHIR (default build/demo/node/shir) names the binary. Each node gets DIR/nK (data directory),
# DIR/nK.log and a free loopback port; the key goes to the joiners on stdin, never argv.
set -euo pipefail
cmd=${1:-}
SHIR=${SHIR:-build/demo/node/shir}
die() { echo "local-cluster: $*" >&2; exit 1; }
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_for() { # wait_for SECONDS CMD...: poll until CMD succeeds or the deadline passes
    local end=$(( $(date +%s) + $1 )); shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.1  # poll interval
    done
}
case "$cmd" in
start)
    n=${2:-3}; dir=${3:-/tmp/shir-local}
    [ "$n" -ge 1 ] && [ "$n" -le 8 ] || die "N must be 1-8"
    [ -x "$SHIR" ] || die "no binary at $SHIR (set SHIR=...)"
    [ ! -e "$dir/pids" ] || die "$dir already holds a running cluster; stop it first"
    mkdir -p "$dir"
    for i in $(seq 1 "$n"); do
        port=$(free_port)
        "$SHIR" agent --data-dir "$dir/n$i" --listen "127.0.0.1:$port" --node-name "n$i" \
            2>>"$dir/n$i.log" &
        echo $! >>"$dir/pids"
        wait_for 20 "$SHIR" status --data-dir "$dir/n$i" || die "n$i did not start: $(tail -5 "$dir/n$i.log")"
    done
    keys=$("$SHIR" init --name local --data-dir "$dir/n1" --json) || die "init failed"
    key=$(printf '%s' "$keys" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key1"])')
    for i in $(seq 2 "$n"); do
        printf '%s\n' "$key" | "$SHIR" join --key-file - --data-dir "$dir/n$i" >/dev/null ||
            die "n$i could not join: $(tail -5 "$dir/n$i.log")"
    done
    # Settled: every node sees all n Online (gossip has met everyone, all follow the leader).
    settled() {
        local i
        for i in $(seq 1 "$n"); do
            "$SHIR" status --data-dir "$dir/n$i" --json | python3 -c "
import json,sys; d=json.load(sys.stdin)
sys.exit(0 if len(d['nodes'])==$n and all(x['status']=='Online' for x in d['nodes']) else 1)" || return 1
        done
    }
    wait_for 20 settled || echo "local-cluster: not every node is Online yet (see 'status')" >&2
    echo "local-cluster: $n node(s) running under $dir (logs: $dir/nK.log)"
    ;;
status)
    dir=${2:-/tmp/shir-local}
    "$SHIR" status --data-dir "$dir/n1" 2>/dev/null || "$SHIR" status --data-dir "$dir/n2"
    ;;
stop)
    dir=${2:-/tmp/shir-local}
    [ -e "$dir/pids" ] || exit 0
    while read -r pid; do kill -TERM "$pid" 2>/dev/null || true; done <"$dir/pids"
    while read -r pid; do wait_for 20 bash -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true; done <"$dir/pids"
    rm -f "$dir/pids"
    ;;
*)
    sed -n '2,7p' "$0" >&2; exit 2 ;;
esac
