# Helpers for tests that talk to a runtime of agents whose data directories are $tmp/NAME and
# whose logs are $tmp/NAME.log (sourced by cluster_lib.sh and netns_lib.sh, after lib.sh).

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

# sees VIEWER PYEXPR: VIEWER's status satisfies PYEXPR over d (the JSON) and s (name -> node).
sees() {
    st "$1" | python3 -c "
import json,sys; d=json.load(sys.stdin); s={n['name']:n for n in d['nodes']}
sys.exit(0 if ($2) else 1)"
}
# expect_view SECONDS VIEWER PYEXPR WHAT: wait until `sees` holds, else fail with WHAT.
expect_view() { wait_until "$1" sees "$2" "$3" || fail "$4 (status on $2: $(st "$2")) $(logs)"; }

# Stopping agents. PID[NAME] holds every agent the test still expects to be running. A shell test
# must notice a crash or a sanitizer report at shutdown, so `pass` stops each of them with SIGTERM
# and fails unless it exits 0; agents the test kills on purpose go through `crash`, and agents
# that exit on their own (after `leave`) through `reaped`.
stop() {
    local p=${PID[$1]} rc
    kill -CONT "$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null
    wait "$p"; rc=$?; unset "PID[$1]"
    [ "$rc" -eq 0 ] || fail "$1's agent exited $rc when stopped: $(logs)"
}
crash() { kill -9 "${PID[$1]}"; wait "${PID[$1]}" 2>/dev/null; unset "PID[$1]"; }
reaped() { unset "PID[$1]"; }
stop_all() { local n; for n in "${!PID[@]}"; do stop "$n"; done; }
pass() { stop_all; echo "PASS [$TEST_NAME]"; exit 0; }
