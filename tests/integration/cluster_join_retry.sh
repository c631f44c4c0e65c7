#!/usr/bin/env bash
# A join whose raft step cannot complete is retried until it does (finding F5), and a node that
# lost identity/members still finds its way back (F6).
#
# F5: n2 registers (its credentials are saved) while its raft channel is closed — started with a
# disk-guard minimum larger than its disk's free space, so the leader can add it as a spare but
# never promote it. Longer than one membership change may hold the queue (20 s), so the change
# times out; the node stays PENDING and status says so (Limited, "joining..."). Restarted with
# room on its disk, it becomes a voter: the leader keeps re-queueing every pending node.
# F6: the same node, stopped, loses identity/members; restarted it trusts the members of raft's
# own configuration until it catches up, and writes the file again.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

start n1
huge=$(( $(df -Pm "$tmp" | awk 'NR==2 {print $4}') + 1024 ))
start n2 --min-free-space "$huge"
key=$(form n1 retry)
( printf '%s\n' "$key" | "$SHIR_BIN" join --key-file - --data-dir "$tmp/n2" >"$tmp/join.out" 2>&1
  echo $? >"$tmp/join.rc" ) &
joiner=$!
expect_view 30 n1 "s['n2']['role']=='spare' and s['n2']['status']=='Limited'" "n2 not shown pending"
wait_until 60 grep -q "membership change of node 2 has not completed" "$tmp/n1.log" ||
    fail "the leader never gave the stuck change up: $(logs)"
stop n2
wait "$joiner"
[ "$(cat "$tmp/join.rc")" != 0 ] || fail "the join reported success with n2's raft closed"
start n2
expect_view 30 n1 "s['n2']['role']=='voter' and s['n2']['status']=='Online'" "the pending join was not retried"
"$SHIR_BIN" keys regenerate key1 --data-dir "$tmp/n2" >/dev/null || fail "no write through n2: $(logs)"

# F6: identity/members gone.
stop n2
[ -s "$tmp/n2/identity/members" ] || fail "n2 never saved its member list"
rm -f "$tmp/n2/identity/members"
start n2
# Two voters: n1 lost its quorum while n2 was away, so either may lead now.
expect_view 20 n2 "d['runtime'] is not None and d['leader'] in ('n1','n2') and s['n2']['status']=='Online'" \
    "n2 did not find its way back without identity/members"
grep -q "identity/members is missing" "$tmp/n2.log" || fail "n2 did not say what it fell back on"
wait_until 10 test -s "$tmp/n2/identity/members" || fail "n2 did not write identity/members again"
pass
