#!/usr/bin/env bash
# A join that fails after the leader recorded the node leaves both sides clean (issue 12, defect
# 1), and the same name joins again:
# - n2 advertises an address nothing listens on: the leader records it but can never reach it.
#   Within its wait (60 s; 20 s in a test build) the joiner is not made a member, so it gives the join up: `shir join`
#   says so and fails, the agent tells the leader (join.abandon), deletes its identity and raft
#   files and exits 0 (as after `leave`); the leader removes the node through a raft entry.
# - n3 is killed (-9) after the leader recorded it and before it became a member (its raft channel
#   is kept closed by a disk-guard minimum above its disk's free space, as in cluster_join_retry,
#   so the kill cannot lose a race with the promotion): the leader hears nothing from it and
#   removes it after its 60 s bound (cluster/abandon.h). Restarted, n3 finds identity/joining,
#   waits its bound for a membership that will not come, then gives up the same way.
# Both then join again under the same names, with the right addresses, and become members.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
# The bound of a join that does not complete is 60 s on both sides; a test build takes a shorter
# one from the environment so that this test does not wait minutes (cluster__join_bound_ms).
[ "${SHIR_BUILT_WITH_FAULTS:-0}" = 1 ] && export SHIR_TEST_JOIN_BOUND_MS=20000

clean_dir() { # NAME: no identity, no raft data
    local f
    for f in node.id node.key node.pem ca.pem ca.key data.secret members joining; do
        [ ! -e "$tmp/$1/identity/$f" ] || fail "$1 kept identity/$f after its join was given up"
    done
    [ -z "$(ls -A "$tmp/$1/raft" 2>/dev/null)" ] || fail "$1 kept raft files: $(ls "$tmp/$1/raft")"
}
# exited_ok NAME SECONDS: the agent forgets its identity and exits on its own, with 0, within
# SECONDS (the line is logged once the agent has stopped, just before it exits).
exited_ok() {
    local n=$1 secs=$2 rc
    wait_until "$secs" grep -q "identity deleted: this node starts as NeedRegistration" "$tmp/$n.log" ||
        fail "$n's agent did not stop and forget its identity: $(logs)"
    wait "${PID[$n]}"; rc=$?
    reaped "$n"
    [ "$rc" -eq 0 ] || fail "$n's agent exited $rc after giving its join up: $(logs)"
}

start n1
key=$(form n1 abandon)
nowhere=$(free_port)
start n2 --advertise "127.0.0.1:$nowhere"
huge=$(( $(df -Pm "$tmp" | awk 'NR==2 {print $4}') + 1024 ))
start n3 --min-free-space "$huge"

( printf '%s\n' "$key" | "$SHIR_BIN" join --key-file - --data-dir "$tmp/n2" >"$tmp/join2.out" 2>&1
  echo $? >"$tmp/join2.rc" ) &
j2=$!
( printf '%s\n' "$key" | "$SHIR_BIN" join --key-file - --data-dir "$tmp/n3" >"$tmp/join3.out" 2>&1 ) &
j3=$!
expect_view 20 n1 "'n3' in s" "n3 not recorded"
wait_until 20 grep -q "registered as node" "$tmp/n3.log" || fail "n3 never got its credentials: $(logs)"
crash n3
wait "$j3" && fail "the join of a killed agent succeeded"
expect_view 20 n1 "'n2' in s and s['n2']['address']=='127.0.0.1:$nowhere'" "n2 not recorded"
[ -e "$tmp/n3/identity/joining" ] || fail "n3 was killed mid-join but left no identity/joining"

# n2: the joiner gives up within its wait and tells the leader.
wait "$j2"
[ "$(cat "$tmp/join2.rc")" != 0 ] || fail "the join through an unreachable address succeeded"
expect_match "$(cat "$tmp/join2.out")" "the join is given up" "the joiner's failure message"
exited_ok n2 30
clean_dir n2
wait_until 10 grep -q "the join of node 'n2' (id [0-9]*, 127.0.0.1:$nowhere) is abandoned" "$tmp/n1.log" ||
    fail "the leader did not log n2's abandonment: $(logs)"

# n3: silent since it was killed; the leader removes it after its bound, through raft.
expect_view 120 n1 "'n2' not in s and 'n3' not in s and len(s)==1" "abandoned joins left nodes behind"
grep -q "the join of node 'n3' .* is abandoned: not heard from for [0-9]* s" "$tmp/n1.log" ||
    fail "n3 was not removed for its silence: $(logs)"

# Restarted, n3 finds its interrupted join, waits its bound, then forgets it and exits 0.
start n3
wait_until 10 grep -q "the join of this node had not completed when the agent stopped" "$tmp/n3.log" ||
    fail "n3 did not notice its interrupted join: $(logs)"
exited_ok n3 120
clean_dir n3

# The same names join again, n2 now at its own address.
start n2
start n3
for n in n2 n3; do
    out=$(printf '%s\n' "$key" | "$SHIR_BIN" join --key-file - --data-dir "$tmp/$n" 2>&1) ||
        fail "the retried join of $n failed: $out $(logs)"
done
expect_view 30 n1 "len(s)==3 and all(x['status']=='Online' and x['role']=='voter' for x in s.values())" \
    "the retried joins did not make members"
[ ! -e "$tmp/n2/identity/joining" ] || fail "n2 kept identity/joining after it became a member"
"$SHIR_BIN" keys regenerate key2 --data-dir "$tmp/n3" >/dev/null || fail "no write through n3: $(logs)"
pass
