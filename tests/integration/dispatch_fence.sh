#!/usr/bin/env bash
# Fencing: a node paused (SIGSTOP) past the node-loss grace loses its run to another node; its
# worker, hearing no acknowledgement, stops itself; resumed, the node delivers nothing stale and
# the run's parts are exactly the tree's. And kill -9 of the leader with runs queued and running:
# every run ends succeeded exactly once, none lost, none doubled.
set -u
. "$(dirname "$0")/lib.sh"
[ "${SHIR_BUILT_WITH_FAULTS:-0}" = 1 ] || { echo "SKIP: needs a build with SHIR_TEST_FAULTS"; exit 77; }
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/dispatch_lib.sh"
export SHIR_TEST_WORKER_FAULT=slow

start n1; start n2; start n3
form n1 rt n2 n3 >/dev/null
expect_view 60 n1 'all(s[x]["status"]=="Online" for x in ("n1","n2","n3"))' "runtime not formed"
mk_tree "$tmp/src" 400 # ~8 s with the slow fault
"$SHIR_BIN" scan run-local "$tmp/src" --level L2 --sink "jsonl:$tmp/local.jsonl" \
    --data-dir "$tmp/local" >/dev/null 2>&1 || fail "run-local"
scan n1 create p --source "$tmp/src" --level L2 --sink "jsonl:$tmp/out" --part-size 50 >/dev/null ||
    scan n1 create p --source "$tmp/src" --level L2 --sink "jsonl:$tmp/out" >/dev/null || fail "create"
id=$(json_get "$(scan n1 run p)" 'd["run"]')
expect_run 60 n1 "$id" 'r["state"]=="running"' "not running"
victim=$(run_get n1 "$id" 'r["node"]')
worker=$(pgrep -P "${PID[$victim]}" | head -1)
[ -n "$worker" ] || fail "no worker under $victim"
kill -STOP "${PID[$victim]}"
other=n1; [ "$victim" = n1 ] && other=n2
expect_run 60 "$other" "$id" "r['attempt']>=2 and r['node']!='$victim' and r['state']=='running'" \
    "run $id not moved off the paused $victim"
# Exited: gone, or a zombie its paused parent has not reaped yet.
wait_until 20 bash -c "s=\$(ps -o stat= -p $worker); [ -z \"\$s\" ] || [ \"\${s#Z}\" != \"\$s\" ]" ||
    fail "worker $worker of paused $victim did not fence itself"
kill -CONT "${PID[$victim]}"
expect_run 120 "$other" "$id" 'r["state"]=="succeeded"' "run $id"
lines "$tmp"/out/p/"$id"/part-*.jsonl >"$tmp/parts.sorted"
lines "$tmp/local.jsonl" >"$tmp/local.sorted"
cmp -s "$tmp/parts.sorted" "$tmp/local.sorted" || fail "parts differ from run-local after the pause"
expect_view 60 "$other" "s['$victim']['status']=='Online'" "$victim not back"

# The leader killed with runs queued and running.
for n in n1 n2 n3; do "$SHIR_BIN" nodes set "$n" --capacity 1 --data-dir "$tmp/$other" >/dev/null; done
mk_tree "$tmp/small" 100
ids=()
for i in 1 2 3 4 5; do
    scan "$other" create "q$i" --source "$tmp/small" --level L2 --sink "jsonl:$tmp/out" >/dev/null
    ids+=("$(json_get "$(scan "$other" run "q$i")" 'd["run"]')")
done
leader=$(json_get "$(st "$other")" 'd["leader"]')
crash "$leader"
watch=n1; [ "$leader" = n1 ] && watch=n2
for id in "${ids[@]}"; do
    expect_run 180 "$watch" "$id" 'r["state"]=="succeeded"' "run $id after the leader's loss"
done
count=$(runs "$watch" | python3 -c "
import json,sys; print(sum(1 for r in json.load(sys.stdin)['runs'] if r['scan'].startswith('q')))")
[ "$count" = 5 ] || fail "$count runs of the q scans, not 5"
for i in 1 2 3 4 5; do
    id=${ids[$((i - 1))]}
    [ "$(lines "$tmp"/out/q$i/$id/part-*.jsonl | grep -c '"type":"file"')" = 100 ] ||
        fail "q$i run $id: not exactly 100 file assets"
done
pass
