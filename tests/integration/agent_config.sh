#!/usr/bin/env bash
# `shir agent --config FILE`: the file alone starts a node; SHIR_* variables override the file and
# flags override both; an unknown key or a bad value stops the agent before it touches anything,
# exit 2, with FILE:LINE in the message.
set -u
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d); pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port=$(free_port); port2=$(free_port)

# A file with every key the agent knows.
cat >"$tmp/shir.conf" <<CONF
# shir agent settings
listen = 127.0.0.1:$port
advertise = 127.0.0.1:$port
data_dir = $tmp/fromfile
node_name = filenode
log_level = info
http_listen = 127.0.0.1:$port2
witness = false
min_free = 1
CONF

run_agent() { # ENV... -- ARGS...: start an agent, wait for its status on data directory $dir
    env "$@" 2>>"$tmp/agent.log" &
    pid=$!
    wait_until 20 "$SHIR_BIN" status --data-dir "$dir" || fail "agent did not answer: $(cat "$tmp/agent.log")"
}
stop_agent() {
    kill -TERM "$pid"; wait "$pid"; local rc=$?; pid=
    [ "$rc" = 0 ] || fail "agent exited $rc: $(tail -20 "$tmp/agent.log")"
}
node() { json_get "$("$SHIR_BIN" status --data-dir "$dir" --json)" "d['nodes'][0]['$1']"; }

# The file alone.
dir=$tmp/fromfile
run_agent "$SHIR_BIN" agent --config "$tmp/shir.conf"
[ "$(node name)" = filenode ] || fail "name from the file: $(node name)"
[ "$(node address)" = "127.0.0.1:$port" ] || fail "address from the file: $(node address)"
[ "$(stat -c %a "$dir")" = 700 ] || fail "data directory from the file not created 0700"
stop_agent

# The environment overrides the file, key by key; an empty variable counts as unset.
dir=$tmp/fromenv
run_agent SHIR_DATA_DIR="$dir" SHIR_NODE_NAME=envnode SHIR_ADVERTISE= \
    "$SHIR_BIN" agent --config "$tmp/shir.conf"
[ "$(node name)" = envnode ] || fail "name from the environment: $(node name)"
[ "$(node address)" = "127.0.0.1:$port" ] || fail "address kept from the file: $(node address)"
stop_agent

# Flags override both.
dir=$tmp/fromflag
run_agent SHIR_DATA_DIR="$tmp/fromenv" SHIR_NODE_NAME=envnode \
    "$SHIR_BIN" agent --config "$tmp/shir.conf" --data-dir "$dir" --node-name flagnode
[ "$(node name)" = flagnode ] || fail "name from the flag: $(node name)"
stop_agent

# Errors: exit 2, FILE:LINE and the key in the message, nothing created.
bad() { # TEXT WANT
    printf '%s\n' "$1" >"$tmp/bad.conf"
    "$SHIR_BIN" agent --config "$tmp/bad.conf" --data-dir "$tmp/never" 2>"$tmp/err"
    local rc=$?
    [ "$rc" = 2 ] || fail "bad config '$1' exited $rc, want 2: $(cat "$tmp/err")"
    expect_match "$(cat "$tmp/err")" "$2" "bad config '$1'"
    [ ! -e "$tmp/never" ] || fail "a refused config still created the data directory"
}
bad $'listen = 127.0.0.1:1\nlisten_addr = 1' "bad.conf:2: unknown key 'listen_addr'"
bad $'# c\n\nlisten = vm1:8060' "bad.conf:3: listen wants a numeric address"
bad $'min_free = lots' "bad.conf:1: min_free wants MiB"
bad $'[agent]\nlisten = 127.0.0.1:1' "bad.conf:1: sections are not used"
bad $'[main]' "bad.conf:1: sections are not used" # no key after it: libinih never calls the handler
bad $'advertise' "bad.conf:1: not a 'key = value' line"
"$SHIR_BIN" agent --config "$tmp/missing.conf" 2>"$tmp/err"; rc=$?
[ "$rc" = 2 ] || fail "a missing config file exited $rc"
expect_match "$(cat "$tmp/err")" "missing.conf: cannot read the config file" "missing file"
SHIR_LOG_LEVEL=loud "$SHIR_BIN" agent --config "$tmp/shir.conf" 2>"$tmp/err"; rc=$?
[ "$rc" = 2 ] || fail "a bad SHIR_LOG_LEVEL exited $rc"
expect_match "$(cat "$tmp/err")" "SHIR_LOG_LEVEL: log_level wants" "bad variable"
pass
