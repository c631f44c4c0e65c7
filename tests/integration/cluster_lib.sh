# Helpers for tests that run several agents on loopback (source after lib.sh). Every agent lives
# under $tmp, logs to $tmp/NAME.log, and is killed when the test exits.
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
declare -A PID PORT

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
st() { "$SHIR_BIN" status --data-dir "$tmp/$1" --json; }

# form FIRST RUNTIME [OTHERS...]: init on FIRST, join OTHERS with key1 (on stdin); prints key1.
form() {
    local first=$1 name=$2 key n; shift 2
    key=$(json_get "$("$SHIR_BIN" init --name "$name" --data-dir "$tmp/$first" --json)" 'd["key1"]') ||
        fail "init on $first: $(logs)"
    for n in "$@"; do
        printf '%s\n' "$key" | "$SHIR_BIN" join --key-file - --data-dir "$tmp/$n" >/dev/null ||
            fail "join $n: $(logs)"
    done
    printf '%s\n' "$key"
}

# On failure: each agent's last lines, and any sanitizer report in full (they are long).
logs() {
    for f in "$tmp"/*.log; do
        echo "== $f"; grep -v ' DEBUG ' "$f" | tail -8
        grep -A60 -E 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$f" | head -80
    done
}
