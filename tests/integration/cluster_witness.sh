#!/usr/bin/env bash
# Two scan nodes are told plainly that they cannot fail over; a witness (`agent --witness`) makes
# three voters, and the runtime then survives kill -9 of its leader.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

start n1; start n2; start w --witness
key=$(json_get "$("$SHIR_BIN" init --name pair --data-dir "$tmp/n1" --json)" 'd["key1"]')
printf '%s\n' "$key" | "$SHIR_BIN" join --key-file - --data-dir "$tmp/n2" || fail "join n2: $(logs)"
wait_until 20 bash -c "'$SHIR_BIN' status --data-dir '$tmp/n2' --json | grep -q 'automatic failover needs a third member'" ||
    fail "2 voters without a warning: $(st n2)"

printf '%s\n' "$key" | "$SHIR_BIN" join --key-file - --data-dir "$tmp/w" || fail "join witness: $(logs)"
wait_until 20 bash -c "'$SHIR_BIN' status --data-dir '$tmp/n1' --json | grep -q '\"name\":\"w\",\"id\":3,[^}]*\"role\":\"witness\"'" ||
    fail "no witness: $(st n1)"
json_get "$(st n1)" 'd["quorum"]["voters"]==3 and d["quorum"]["tolerates"]==1' | grep -q True ||
    fail "quorum with witness: $(st n1)"

crash n1
wait_until 20 bash -c "'$SHIR_BIN' status --data-dir '$tmp/n2' --json | grep -Eq '\"leader\":\"(n2|w)\"'" ||
    fail "no new leader after losing n1: $(st n2) $(logs)"
wait_until 20 "$SHIR_BIN" keys regenerate key2 --data-dir "$tmp/n2" || fail "no writes after losing n1: $(logs)"
pass
