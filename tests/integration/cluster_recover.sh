#!/usr/bin/env bash
# Two voters without a witness: losing the leader leaves the survivor without quorum, and status
# says so at once; `shir recover` (confirmed) makes it a one-voter runtime that takes writes.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

start n1; start n2
key=$(form n1 duo n2)
# A runtime at its node limit refuses a join with the reason, and the node stays unregistered.
"$SHIR_BIN" settings set --max-nodes=2 --data-dir="$tmp/n1" >/dev/null || fail "settings set --max-nodes=2"
start n3
err=$(printf '%s\n' "$key" | "$SHIR_BIN" join --key-file - --data-dir "$tmp/n3" 2>&1) && fail "a full runtime took a 3rd node"
expect_match "$err" "the runtime is full: it has 2 nodes and its limit \(max nodes\) is 2" "runtime full"
expect_match "$err" "shir settings set --max-nodes N" "runtime full names the setting"
[ "$(json_get "$(st n3)" 'd["nodes"][0]["status"]')" = NeedRegistration ] || fail "n3 not left unregistered"
crash n3
err=$("$SHIR_BIN" recover --yes --data-dir "$tmp/n2" 2>&1) && fail "recover with a live leader succeeded"
expect_match "$err" "has a leader \(n1\): nothing to recover" "recover refused while healthy"

crash n1
wait_until 20 bash -c "'$SHIR_BIN' status --data-dir '$tmp/n2' --json | grep -q '\"leader\":null'" ||
    fail "the survivor still reports a leader: $(st n2)"
# The words count live voters: once gossip sees n1 Offline (about 1-3 s after the crash; the
# leader may be gone before that) the summary says quorum is lost.
expect_view 20 n2 "'2 voters: quorum lost, 1 of 2 voters online and 2 needed' in d['quorum']['summary']" \
    "no-quorum words"
err=$(echo no | "$SHIR_BIN" recover --data-dir "$tmp/n2" 2>&1) && fail "recover without confirmation succeeded"
expect_match "$err" "not confirmed; nothing changed" "confirmation"

echo yes | "$SHIR_BIN" recover --data-dir "$tmp/n2" >/dev/null || fail "recover: $(logs)"
expect_view 20 n2 "d['leader']=='n2' and [n['name'] for n in d['nodes']]==['n2'] and d['quorum']['voters']==1" \
    "not a one-voter runtime"
"$SHIR_BIN" keys regenerate key1 --data-dir "$tmp/n2" >/dev/null || fail "no writes after recover: $(logs)"
# And it stays recovered across a restart.
stop n2
start n2
wait_until 20 bash -c "'$SHIR_BIN' status --data-dir '$tmp/n2' --json | grep -q '\"leader\":\"n2\"'" ||
    fail "no leader after restarting the recovered node: $(st n2)"
pass
