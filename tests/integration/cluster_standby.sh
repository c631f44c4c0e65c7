#!/usr/bin/env bash
# A 4-node runtime is 3 voters + 1 standby. When a voter stays offline past the promotion delay
# the leader promotes the standby and demotes the dead voter, so the runtime then survives a
# second failure — here kill -9 of the leader itself.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
role() { json_get "$(st "$1")" "[n['role'] for n in d['nodes'] if n['name']=='$2'][0]"; }

for n in n1 n2 n3 n4; do start $n; done
key=$(form n1 four n2 n3 n4)
[ "$(role n1 n4)" = standby ] || fail "the 4th node is not a standby: $(st n1)"
expect_exit 2 "$SHIR_BIN" settings set --standby-promotion-delay 0 --data-dir "$tmp/n1"
"$SHIR_BIN" settings set --standby-promotion-delay 2 --data-dir "$tmp/n2" >/dev/null || fail "settings set: $(logs)"
wait_until 10 bash -c "'$SHIR_BIN' settings show --data-dir '$tmp/n3' --json | grep -q '\"standbyPromotionDelayMs\":2000'" ||
    fail "settings not replicated: $("$SHIR_BIN" settings show --data-dir "$tmp/n3" --json)"
# The leader sees every member online (gossip).
expect_view 10 n1 "all(n['status']=='Online' for n in d['nodes'])" "not every node Online on the leader"

# First failure: a voter (not the leader). After the delay: n4 voter, n3 no longer a voter.
crash n3
wait_until 10 bash -c "'$SHIR_BIN' status --data-dir '$tmp/n1' --json | grep -q '\"name\":\"n3\",[^}]*\"status\":\"Offline\"'" ||
    fail "the leader does not see n3 Offline: $(st n1)"
expect_view 30 n1 "s['n4']['role']=='voter' and s['n3']['role']=='standby'" \
    "standby not promoted / dead voter not demoted"
[ "$(json_get "$(st n1)" 'd["quorum"]["voters"]')" = 3 ] || fail "voters after promotion: $(st n1)"

# Second failure: the leader. n2 and n4 are 2 of the 3 voters: a new leader, and writes.
crash n1
wait_until 20 bash -c "'$SHIR_BIN' status --data-dir '$tmp/n2' --json | grep -Eq '\"leader\":\"n[24]\"'" ||
    fail "no leader after the second failure: $(st n2) $(logs)"
leader=$(json_get "$(st n2)" 'd["leader"]')
wait_until 20 "$SHIR_BIN" keys regenerate key1 --data-dir "$tmp/$leader" || fail "no writes after the second failure: $(logs)"
pass
