#!/usr/bin/env bash
# `shir nodes list|remove`: removal runs on the leader only (a follower names it), takes the node
# out of raft and the replicated state, and cuts it off: the members close its live connections
# and refuse its certificate, so the removed node loses its leader; the runtime goes on.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

for n in n1 n2 n3; do start $n; done
key=$(form n1 rm n2 n3)
wait_until 20 bash -c "'$SHIR_BIN' status --data-dir '$tmp/n3' --json | grep -q '\"leader\":\"n1\"'" || fail "n3 has no leader"

list=$("$SHIR_BIN" nodes list --data-dir "$tmp/n2" --json) || fail "nodes list"
[ "$(json_get "$list" 'len(d["nodes"])')" = 3 ] || fail "nodes list: $list"
expect_match "$("$SHIR_BIN" nodes list --data-dir "$tmp/n2")" "^n3 +3 " "human nodes list"
expect_exit 2 "$SHIR_BIN" nodes remove --data-dir "$tmp/n1"
err=$("$SHIR_BIN" nodes remove n3 --data-dir "$tmp/n2" 2>&1) && fail "removal on a follower succeeded"
expect_match "$err" "run this on the leader \(n1\)" "follower names the leader"
err=$("$SHIR_BIN" nodes remove nosuch --data-dir "$tmp/n1" 2>&1) && fail "removed a node that does not exist"
expect_match "$err" "no node named 'nosuch'" "unknown node"

"$SHIR_BIN" nodes remove n3 --data-dir "$tmp/n1" >/dev/null || fail "remove n3: $(logs)"
for n in n1 n2; do
    expect_view 10 $n "[x['name'] for x in d['nodes']]==['n1','n2']" "n3 still listed on $n"
    wait_until 5 grep -q "a member was removed" "$tmp/$n.log" || fail "$n did not cut n3 off"
done
grep -Eq "a member was removed: .*, [1-9][0-9]* live connection" "$tmp/n1.log" ||
    fail "the leader closed none of n3's live connections: $(grep 'member was removed' "$tmp/n1.log")"
# Cut off: n3 can no longer reach a leader (its handshakes are refused).
wait_until 20 bash -c "'$SHIR_BIN' status --data-dir '$tmp/n3' --json | grep -q '\"leader\":null'" ||
    fail "the removed node still has a leader: $(st n3)"
# The runtime goes on: 2 voters take writes.
"$SHIR_BIN" keys regenerate key1 --data-dir "$tmp/n2" >/dev/null || fail "no writes after the removal: $(logs)"
pass
