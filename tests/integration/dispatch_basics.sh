#!/usr/bin/env bash
# The dispatcher on a runtime of three scan nodes and a witness: six runs at once spread evenly
# (capacity 2 each), the witness never runs one (nor takes a capacity), every run leaves its parts and _SUCCESS, a
# drained node gets no new run and gets them again once undrained, a cancelled run's worker stops.
# Runs are made to last (the test build's `slow` fault: 20 ms per file) so they overlap.
set -u
. "$(dirname "$0")/lib.sh"
[ "${SHIR_BUILT_WITH_FAULTS:-0}" = 1 ] || { echo "SKIP: needs a build with SHIR_TEST_FAULTS"; exit 77; }
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/dispatch_lib.sh"
export SHIR_TEST_WORKER_FAULT=slow

start n1; start n2; start n3; start w --witness
form n1 rt n2 n3 w >/dev/null
expect_view 60 n1 'all(s[x]["status"]=="Online" for x in ("n1","n2","n3","w"))' "runtime not formed"
for n in n1 n2 n3; do
    "$SHIR_BIN" nodes set "$n" --capacity 2 --data-dir "$tmp/n1" >/dev/null || fail "capacity $n"
done
expect_view 20 n2 'all(s[x]["capacity"]==2 for x in ("n1","n2","n3")) and s["w"]["capacity"]==0' \
    "capacities not shown"
# A witness runs nothing: a capacity for it is refused, not answered as if it were used.
out=$("$SHIR_BIN" nodes set w --capacity 3 --data-dir "$tmp/n2" --json 2>/dev/null)
[ $? -eq 1 ] || fail "a capacity for the witness was accepted: $out"
json_check "$out" "d['error']['code']=='UNSUPPORTED' and 'witness' in d['error']['message']" \
    "a witness's capacity is refused with the reason"

# ~18 s per run with the slow fault: long enough that the six are still running when gossip is
# checked for RUNNING on a loaded machine (with 300 files they could end first).
files=900
mk_tree "$tmp/src" "$files"
for i in 1 2 3 4 5 6; do
    scan "n$(( (i - 1) % 3 + 1 ))" create "s$i" --source "$tmp/src" --sink "jsonl:$tmp/out" \
        --level L2 >/dev/null || fail "create s$i: $(logs)"
done
# Queue all six while every node is drained (they wait, saying why), then lift the drains: the
# dispatcher places them together whatever the speed of the machine.
for n in n1 n2 n3; do "$SHIR_BIN" nodes drain "$n" --data-dir "$tmp/n1" >/dev/null || fail "drain $n"; done
ids=()
for i in 1 2 3 4 5 6; do
    out=$(scan n1 run "s$i") || fail "run s$i: $out"
    ids+=("$(json_get "$out" 'd["run"]')")
done
expect_run 10 n2 "${ids[5]}" 'r["state"]=="queued" and r["waiting"]=="draining"' "queued run does not say why"
for n in n1 n2 n3; do "$SHIR_BIN" nodes drain "$n" --off --data-dir "$tmp/n1" >/dev/null || fail "undrain $n"; done

# All six placed at once: two per node, none on the witness.
all_running() {
    runs n2 | python3 -c "
import json,sys
rs=[r for r in json.load(sys.stdin)['runs'] if r['id'] in ($(IFS=,; echo "${ids[*]}"))]
sys.exit(0 if len(rs)==6 and all(r['state'] in ('assigned','running') for r in rs) else 1)"
}
wait_until 60 all_running || fail "six runs not running at once: $(runs n2) $(logs)"
spread=$(runs n2 | python3 -c "
import json,sys,collections
rs=[r for r in json.load(sys.stdin)['runs'] if r['id'] in ($(IFS=,; echo "${ids[*]}"))]
c=collections.Counter(r['node'] for r in rs); print(sorted(c.items()))")
[ "$spread" = "[('n1', 2), ('n2', 2), ('n3', 2)]" ] || fail "uneven spread: $spread"
expect_view 15 n3 'all(s[x]["running"]==2 for x in ("n1","n2","n3"))' "RUNNING not shown"

for id in "${ids[@]}"; do
    expect_run 240 n3 "$id" 'r["state"]=="succeeded"' "run $id did not succeed"
done
for i in 1 2 3 4 5 6; do
    id=${ids[$((i - 1))]}
    [ -f "$tmp/out/s$i/$id/_SUCCESS" ] || fail "no _SUCCESS for s$i run $id: $(ls -R "$tmp/out" | head)"
    [ "$(lines "$tmp"/out/s$i/$id/part-*.jsonl | grep -c '"type":"file"')" = "$files" ] ||
        fail "s$i: not $files file assets in its parts"
done

# The rest needs runs that overlap, not long ones: a smaller tree.
mk_tree "$tmp/small" 300 # ~6 s per run with the slow fault
for i in 1 2 3 4 5 6; do
    scan n2 update "s$i" --source "$tmp/small" >/dev/null || fail "update s$i: $(logs)"
done

# Drain n2: three new runs go elsewhere, then n2 takes runs again.
"$SHIR_BIN" nodes drain n2 --data-dir "$tmp/n3" >/dev/null || fail "drain"
expect_view 10 n1 's["n2"]["draining"]' "drain not shown"
new=()
for i in 1 2 3; do new+=("$(json_get "$(scan n1 run "s$i")" 'd["run"]')"); done
for id in "${new[@]}"; do
    expect_run 240 n1 "$id" 'r["state"]=="succeeded"' "run $id (n2 drained) did not succeed"
    [ "$(run_get n1 "$id" 'r["node"]')" != n2 ] || fail "run $id went to the drained n2"
done
"$SHIR_BIN" nodes drain n2 --off --data-dir "$tmp/n1" >/dev/null || fail "undrain"
for n in n1 n3; do "$SHIR_BIN" nodes set "$n" --capacity 1 --data-dir "$tmp/n1" >/dev/null; done
again=()
for i in 4 5 6; do again+=("$(json_get "$(scan n1 run "s$i")" 'd["run"]')"); done
for id in "${again[@]}"; do expect_run 240 n1 "$id" 'r["state"]=="succeeded"' "run $id"; done
runs n1 | python3 -c "
import json,sys
rs=[r for r in json.load(sys.stdin)['runs'] if r['id'] in ($(IFS=,; echo "${again[*]}"))]
sys.exit(0 if any(r['node']=='n2' for r in rs) else 1)" || fail "undrained n2 took none of three runs"

# Cancel: the run ends cancelled and its worker process goes away (a run of the large tree, so
# that it is still running when the cancel arrives on a loaded machine).
scan n1 create long --source "$tmp/src" --sink "jsonl:$tmp/out" --level L2 >/dev/null ||
    fail "create long: $(logs)"
id=$(json_get "$(scan n1 run long)" 'd["run"]')
expect_run 30 n1 "$id" 'r["state"]=="running"' "run $id not running"
node=$(run_get n1 "$id" 'r["node"]')
scan n1 cancel "$id" >/dev/null || fail "cancel $id"
expect_run 10 n2 "$id" 'r["state"]=="cancelled"' "run $id not cancelled"
wait_until 20 bash -c "! pgrep -P ${PID[$node]} >/dev/null" || fail "worker of run $id still runs"
[ ! -f "$tmp/out/long/$id/_SUCCESS" ] || fail "cancelled run $id wrote _SUCCESS"

# The witness never ran anything.
runs n1 | python3 -c "
import json,sys
sys.exit(0 if all(r['node']!='w' for r in json.load(sys.stdin)['runs']) else 1)" || fail "a run on the witness"
pass
