#!/usr/bin/env bash
# A write that committed is reported as done even when the read that shows its result cannot be
# confirmed (found by bench/chaos.sh seed 29: `proxy set` committed, every other node showed the
# new value, and the CLI exited 1 with "this node did not catch up with the leader in time").
# The test-build fault SHIR_TEST_FAULT_READS_FAIL makes every linearizable read on the agent fail
# as one does under a leadership change; writes still commit. Test builds only (SHIR_TEST_FAULTS).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

SHIR_TEST_FAULT_READS_FAIL=1 start n1
"$SHIR_BIN" init --name rb --data-dir "$tmp/n1" >/dev/null || fail "init: $(logs)"
wait_until 20 bash -c "'$SHIR_BIN' status --data-dir '$tmp/n1' --json | grep -q '\"leader\":\"n1\"'" ||
    fail "n1 did not lead: $(st n1)"

# The fault is on: a plain read fails, as it should when the state cannot be confirmed.
out=$("$SHIR_BIN" proxy show --data-dir "$tmp/n1" 2>&1) && fail "proxy show succeeded with reads failing: $out"

# Writes commit and say so, with the settings as this node's replica has them.
out=$("$SHIR_BIN" proxy set --bypass readback.invalid --data-dir "$tmp/n1" --json 2>&1) ||
    fail "proxy set reported a committed write as failed: $out"
json_check "$out" "d['bypass']=='readback.invalid'" "proxy set shows the new bypass"
out=$("$SHIR_BIN" settings set --run-history 5 --data-dir "$tmp/n1" --json 2>&1) ||
    fail "settings set reported a committed write as failed: $out"
json_check "$out" "d['runHistory']==5" "settings set shows the new history"
out=$("$SHIR_BIN" proxy clear --data-dir "$tmp/n1" 2>&1) || fail "proxy clear reported a committed write as failed: $out"

# And they did commit: without the fault the same node reads them back.
kill -TERM "${PID[n1]}"; wait "${PID[n1]}" 2>/dev/null; reaped n1
start n1
wait_until 20 bash -c "'$SHIR_BIN' settings show --data-dir '$tmp/n1' --json | grep -q '\"runHistory\":5'" ||
    fail "the settings write did not commit: $("$SHIR_BIN" settings show --data-dir "$tmp/n1" --json 2>&1)"
json_check "$("$SHIR_BIN" proxy show --data-dir "$tmp/n1" --json)" "d['mode']=='none'" "proxy clear committed"
pass
