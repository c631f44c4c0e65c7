#!/usr/bin/env bash
# Two voters without a witness: losing the leader leaves the survivor without quorum, and status
# says so at once; `shir recover` (confirmed) makes it a one-voter runtime that takes writes.
set -u
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
declare -A PID
start() {
    "$SHIR_BIN" agent --data-dir "$tmp/$1" --listen "127.0.0.1:$(free_port)" --node-name "$1" \
        --log-level debug 2>>"$tmp/$1.log" &
    PID[$1]=$!; pids+=("$!")
    wait_until 20 "$SHIR_BIN" status --data-dir "$tmp/$1" || fail "$1 did not start"
}
st() { "$SHIR_BIN" status --data-dir "$tmp/$1" --json; }
logs() { for f in "$tmp"/*.log; do echo "== $f"; grep -v ' DEBUG ' "$f" | tail -8;
         grep -A60 -E 'ERROR: AddressSanitizer|runtime error:' "$f" | head -80; done; }

start n1; start n2
key=$(json_get "$("$SHIR_BIN" init --name duo --data-dir "$tmp/n1" --json)" 'd["key1"]')
printf '%s\n' "$key" | "$SHIR_BIN" join --key-file - --data-dir "$tmp/n2" || fail "join: $(logs)"
err=$("$SHIR_BIN" recover --yes --data-dir "$tmp/n2" 2>&1) && fail "recover with a live leader succeeded"
expect_match "$err" "has a leader \(n1\): nothing to recover" "recover refused while healthy"

kill -9 "${PID[n1]}"
wait_until 20 bash -c "'$SHIR_BIN' status --data-dir '$tmp/n2' --json | grep -q '\"leader\":null'" ||
    fail "the survivor still reports a leader: $(st n2)"
expect_match "$(json_get "$(st n2)" 'd["quorum"]["summary"]')" "automatic failover needs a third member" "no-quorum words"
err=$(echo no | "$SHIR_BIN" recover --data-dir "$tmp/n2" 2>&1) && fail "recover without confirmation succeeded"
expect_match "$err" "not confirmed; nothing changed" "confirmation"

echo yes | "$SHIR_BIN" recover --data-dir "$tmp/n2" >/dev/null || fail "recover: $(logs)"
wait_until 20 bash -c "'$SHIR_BIN' status --data-dir '$tmp/n2' --json | python3 -c '
import json,sys; d=json.load(sys.stdin)
assert d[\"leader\"]==\"n2\" and [n[\"name\"] for n in d[\"nodes\"]]==[\"n2\"] and d[\"quorum\"][\"voters\"]==1, d'" ||
    fail "not a one-voter runtime: $(st n2)"
"$SHIR_BIN" keys regenerate key1 --data-dir "$tmp/n2" >/dev/null || fail "no writes after recover: $(logs)"
# And it stays recovered across a restart.
kill -TERM "${PID[n2]}"; wait "${PID[n2]}"
start n2
wait_until 20 bash -c "'$SHIR_BIN' status --data-dir '$tmp/n2' --json | grep -q '\"leader\":\"n2\"'" ||
    fail "no leader after restarting the recovered node: $(st n2)"
pass
