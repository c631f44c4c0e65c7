#!/usr/bin/env bash
# A one-node runtime through real processes: `shir init` creates it and prints both keys;
# `status` shows the runtime, its leader and quorum; `keys show` returns the same keys;
# `keys regenerate` replaces exactly one; a second init is refused; a restart of the agent keeps
# everything (state comes back from the raft log); no key ever reaches the log.
set -u
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d); pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
dir="$tmp/n1"
port=$(free_port)

start_agent() {
    "$SHIR_BIN" agent --data-dir "$dir" --listen "127.0.0.1:$port" --node-name n1 \
        --log-level debug 2>>"$tmp/agent.log" &
    pid=$!
    wait_until 20 "$SHIR_BIN" status --data-dir "$dir" || fail "agent did not answer: $(cat "$tmp/agent.log")"
}
stop_agent() {
    kill -TERM "$pid"
    wait "$pid"; local rc=$?; pid=
    [ "$rc" -eq 0 ] || fail "agent exited $rc: $(tail -20 "$tmp/agent.log")"
}

expect_exit 2 "$SHIR_BIN" init --data-dir "$dir"                 # --name is required
expect_exit 2 "$SHIR_BIN" init --data-dir "$dir" --name x --node-name 'bad name'
expect_exit 2 "$SHIR_BIN" keys --data-dir "$dir" regenerate key3
expect_exit 2 "$SHIR_BIN" keys --data-dir "$dir" frobnicate

start_agent
err=$("$SHIR_BIN" keys show --data-dir "$dir" 2>&1) && fail "keys show on an unregistered node succeeded"
expect_match "$err" "not registered" "keys show before init"

keys=$("$SHIR_BIN" init --name demo --data-dir "$dir" --json) || fail "init failed: $(tail -20 "$tmp/agent.log")"
key1=$(json_get "$keys" 'd["key1"]'); key2=$(json_get "$keys" 'd["key2"]')
expect_match "$key1" '^SHIR1-[A-Za-z0-9_-]{100,}$' "key1 shape"
expect_match "$key2" '^SHIR1-[A-Za-z0-9_-]{100,}$' "key2 shape"
[ "$key1" != "$key2" ] || fail "key1 == key2"

st=$("$SHIR_BIN" status --data-dir "$dir" --json) || fail "status failed"
json_get "$st" 'd["runtime"]["name"]=="demo" and len(d["runtime"]["id"])==32 and d["leader"]=="n1" and d["term"]>=1' |
    grep -q True || fail "status after init: $st"
json_get "$st" 'd["quorum"]["voters"]==1 and d["nodes"][0]["role"]=="voter" and d["nodes"][0]["status"]=="Online" and d["nodes"][0]["id"]==1' |
    grep -q True || fail "status nodes after init: $st"
expect_match "$(json_get "$st" 'd["quorum"]["summary"]')" "1 voter" "quorum in words"
runtime_id=$(json_get "$st" 'd["runtime"]["id"]')
human=$("$SHIR_BIN" status --data-dir "$dir")
expect_match "$human" "^leader: +n1" "human leader line"

shown=$("$SHIR_BIN" keys show --data-dir "$dir" --json) || fail "keys show failed"
[ "$(json_get "$shown" 'd["key1"]')" = "$key1" ] || fail "keys show key1 differs from init's"
[ "$(json_get "$shown" 'd["key2"]')" = "$key2" ] || fail "keys show key2 differs from init's"

err=$("$SHIR_BIN" init --name again --data-dir "$dir" 2>&1) && fail "a second init succeeded"
expect_match "$err" "already registered" "second init"

"$SHIR_BIN" keys regenerate key1 --data-dir "$dir" >/dev/null || fail "regenerate failed: $(tail "$tmp/agent.log")"
shown=$("$SHIR_BIN" keys show --data-dir "$dir" --json)
new1=$(json_get "$shown" 'd["key1"]')
[ "$new1" != "$key1" ] || fail "key1 did not change"
[ "$(json_get "$shown" 'd["key2"]')" = "$key2" ] || fail "key2 changed with key1"

# Restart: the runtime, the regenerated key and the leader come back from disk.
stop_agent
start_agent
wait_until 20 bash -c "'$SHIR_BIN' status --data-dir '$dir' --json | grep -q '\"leader\":\"n1\"'" ||
    fail "no leader after restart: $("$SHIR_BIN" status --data-dir "$dir" --json)"
st=$("$SHIR_BIN" status --data-dir "$dir" --json)
[ "$(json_get "$st" 'd["runtime"]["id"]')" = "$runtime_id" ] || fail "runtime id changed on restart"
wait_until 20 bash -c "'$SHIR_BIN' keys show --data-dir '$dir' >/dev/null" || fail "keys show after restart"
shown=$("$SHIR_BIN" keys show --data-dir "$dir" --json)
[ "$(json_get "$shown" 'd["key1"]')" = "$new1" ] || fail "regenerated key1 lost on restart"
[ "$(json_get "$shown" 'd["key2"]')" = "$key2" ] || fail "key2 lost on restart"
stop_agent

# Secret files are private; no key reached the log.
for f in node.key ca.key data.secret; do
    [ "$(stat -c %a "$dir/identity/$f")" = 600 ] || fail "identity/$f mode $(stat -c %a "$dir/identity/$f")"
done
for k in "$key1" "$key2" "$new1"; do
    ! grep -qF -- "$k" "$tmp/agent.log" || fail "a registration key appears in the agent log"
    ! grep -rqF -- "$k" "$dir" || fail "a registration key appears in clear in the data directory"
done
pass
