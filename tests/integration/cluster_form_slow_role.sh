#!/usr/bin/env bash
# Chaos seed 18 (issue 10): under load, the membership queue's tick ran between the init's
# NODE_ADD and NODE_SET_ROLE, saw the first node PENDING and queued a join for it; raft refused
# making a voter a voter, and that op held the head of the queue, so a joiner waited behind it.
# Here a test-build fault holds n1's NODE_SET_ROLE back for 2 s (many ticks): the leader's queue
# must finish the first node's join from what raft has (record its role; or drop the join if the
# init recorded it first), never ask raft for a change it already has, and n2 must join as a voter.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

SHIR_TEST_FAULT_INIT_ROLE_DELAY_MS=2000 start n1
start n2
key=$("$SHIR_BIN" init --name slow --data-dir "$tmp/n1" --json) || fail "init: $(logs)"
key1=$(json_get "$key" 'd["key1"]')
"$SHIR_BIN" join --key "$key1" --data-dir "$tmp/n2" || fail "join n2: $(logs)"
expect_view 30 n1 "s['n2']['role']=='voter' and s['n2']['status']=='Online' and s['n1']['role']=='voter'" \
    "n2 did not become a voter"
# The fault opened the window: the first node's join was queued and finished (or dropped).
wait_until 10 grep -qE "node 1 (is now a voter|no longer needs its join)" "$tmp/n1.log" ||
    fail "the first node's join was never queued (did the fault act?): $(logs)"
if grep -E "membership change (for|of) node [0-9]+.*refused" "$tmp/n1.log"; then
    fail "the leader asked raft for a change it refused: $(logs)"
fi
pass
