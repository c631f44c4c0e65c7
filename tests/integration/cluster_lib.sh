# Helpers for tests that run several agents on loopback (source after lib.sh). Every agent lives
# under $tmp, logs to $tmp/NAME.log, and is killed when the test exits.
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
declare -A PID PORT
. "$(dirname "${BASH_SOURCE[0]}")/runtime_lib.sh"

# start NAME [agent flags...]: start an agent (on a port of its own, kept across restarts) and
# wait until it answers. AGENT_BIN (default SHIR_BIN) names the binary that runs it.
start() {
    local n=$1; shift
    [ -n "${PORT[$n]:-}" ] || PORT[$n]=$(free_port)
    "${AGENT_BIN:-$SHIR_BIN}" agent --data-dir "$tmp/$n" --listen "127.0.0.1:${PORT[$n]}" --node-name "$n" \
        --log-level debug "$@" 2>>"$tmp/$n.log" &
    PID[$n]=$!; pids+=("$!")
    wait_until 20 "$SHIR_BIN" status --data-dir "$tmp/$n" || fail "$n did not start: $(tail -5 "$tmp/$n.log")"
}
