#!/usr/bin/env bash
# What a follower answers right after the leader changed something the follower's replica may
# not have applied yet (a forwarded command returns once the leader applied it): a second
# `scan run` names the active run (BUSY's value travels with the leader's refusal), a cancel of a
# run that just ended does not call it "running", a `scan create` of a taken name says what to
# do, and with one of three voters dead `status --json` counts what the runtime still tolerates
# as its summary does (0, not the configured 1).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/dispatch_lib.sh"
export SHIR_TEST_WORKER_FAULT=slow # 20 ms per file: a run stays active while it is checked

start n1
start n2
start n3
form n1 follow n2 n3 >/dev/null
expect_view 30 n1 "all(s[x]['status']=='Online' for x in ('n1','n2','n3'))" "three nodes Online"
leader=$(json_get "$(st n1)" 'd["leader"]')
f=n2
[ "$leader" = n2 ] && f=n3
other=n3
[ "$f" = n3 ] && other=n2

mk_tree "$tmp/tree" 1500
scan "$f" create t --source "$tmp/tree" --sink "jsonl:$tmp/out" >/dev/null || fail "create: $(logs)"

out=$(scan "$f" create t --source "$tmp/tree" --sink "jsonl:$tmp/out")
json_check "$out" "d['error']['code']=='EXISTS' and \"'shir scan update t'\" in d['error']['message']" \
    "a create of a taken name says so and what to do"

for i in 1 2 3 4 5; do
    out=$(scan "$f" run t) || fail "run $i: $out $(logs)"
    id=$(json_get "$out" 'd["run"]')
    out=$(scan "$f" run t)
    rc=$?
    [ "$rc" -eq 1 ] || fail "a second run exited $rc: $out"
    json_check "$out" "d['error']['code']=='BUSY' and 'active run $id:' in d['error']['message'] and \
'scan cancel $id' in d['error']['message']" "try $i: BUSY from $f names the active run $id"
    scan "$leader" cancel "$id" >/dev/null || fail "cancel $id on the leader"
    out=$(scan "$f" cancel "$id")
    [ $? -eq 1 ] || fail "a second cancel of $id succeeded: $out"
    json_check "$out" "d['error']['code']=='STALE' and not re.search(r'\((queued|assigned|running)\)', \
d['error']['message'])" "try $i: a cancel of an ended run never calls it active"
done

json_check "$(st "$leader")" "d['quorum']['tolerates']==1" "3 voters alive tolerate 1 failure"
crash "$other"
expect_view 30 "$leader" "s['$other']['status']=='Offline' and \
d['quorum']['summary']=='3 voters, 1 offline: a further failure stops the runtime'" "the summary counts live voters"
json_check "$(st "$leader")" "d['quorum']['tolerates']==0 and d['quorum']['voters']==3" \
    "JSON tolerates counts live voters as the summary does"
pass
