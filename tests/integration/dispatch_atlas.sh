#!/usr/bin/env bash
# Runtime runs to Atlas deliver by parts and checkpoint only delivered parts (issue 11), on a
# 3-node runtime against the Atlas stand-in (scan_atlas_server.py), workers slowed by the test
# fault so the run lasts while the test acts:
# 1. kill -9 of the node running a scan of 24 parts after its first checkpoint: the run succeeds
#    on another node from that checkpoint (resumedFrom.files > 0); the qualifiedNames Atlas
#    received are exactly those of an uninterrupted run-local of the tree; whatever was sent twice
#    lies in the one part after the checkpoint the resumed attempt started from; and at every
#    checkpoint the watcher saw, the server already held every entity of the parts it covers.
# 2. an endpoint that refuses (503) every try of part 3's batch: that attempt fails with the
#    reason, its checkpoint stays at part 2 (never past undelivered data), nothing waits in an
#    outbox, and the next attempt resumes at part 3 and succeeds.
set -u
. "$(dirname "$0")/lib.sh"
[ "${SHIR_BUILT_WITH_FAULTS:-0}" = 1 ] || { echo "SKIP: needs a build with SHIR_TEST_FAULTS"; exit 77; }
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/dispatch_lib.sh"
export SHIR_TEST_WORKER_FAULT=slow # 20 ms per file: a part of 50 files takes about 1 s, and a
                                   # run 25-40 s: time for a loaded machine's CLI polls to see the
                                   # first checkpoint and kill the node well before the end
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY all_proxy ALL_PROXY
N=50 # files per part

# server DIR: start an Atlas stand-in recording into DIR; its URL in $url.
server() {
    mkdir -p "$1"
    python3 "$(dirname "$0")/scan_atlas_server.py" "$1" >>"$tmp/atlas.log" 2>&1 & pids+=($!)
    wait_until 10 test -s "$1/port" || fail "atlas stand-in did not start: $(cat "$tmp/atlas.log")"
    url="http://127.0.0.1:$(cat "$1/port")"
}
# watch RUN SERVER_DIR OUT: the checkpoint watcher in the background (its pid in $watcher).
watch() {
    python3 "$(dirname "$0")/dispatch_atlas_watch.py" "$SHIR_BIN" "$tmp" "$1" "$tmp/local.jsonl" \
        "$N" "$2" "$3" & watcher=$!; pids+=("$watcher")
}
# check_watch OUT MIN: the watcher ended with the run succeeded, saw at least MIN checkpoints,
# and at none of them was an entity of a checkpointed part missing from the server.
check_watch() {
    wait "$watcher" || fail "watcher failed"
    python3 - "$1" "$2" <<'PY' || fail "checkpoints vs deliveries: $(cat "$1")"
import json, sys
w = json.load(open(sys.argv[1]))
assert w["state"] == "succeeded", w["state"]
assert len(w["observations"]) >= int(sys.argv[2]), w["observations"]
bad = [o for o in w["observations"] if o["missing"]]
assert not bad, bad
PY
}

start n1; start n2; start n3
form n1 rt n2 n3 >/dev/null
expect_view 60 n1 'all(s[x]["status"]=="Online" for x in ("n1","n2","n3"))' "runtime not formed"
mk_tree "$tmp/src" 1200 # 24 parts of 50 files, then the final part of directories
"$SHIR_BIN" scan run-local "$tmp/src" --level L2 --host-name files.example \
    --sink "jsonl:$tmp/local.jsonl" --data-dir "$tmp/local" >/dev/null 2>&1 || fail "run-local"

# 1. kill -9 after the first checkpoint.
server "$tmp/atlas1"
scan n1 create a --source "$tmp/src" --level L2 --sink "atlas:$url" --part-size "$N" \
    --host-name files.example >/dev/null || fail "create a"
json_check "$(scan n3 show a)" 'd["partSize"]==50' "scan show: the part size"
expect_exit 2 scan n1 update a --part-size 0
id=$(json_get "$(scan n2 run a)" 'd["run"]') || fail "run a"
watch "$id" "$tmp/atlas1" "$tmp/watch1.json"
expect_run 60 n1 "$id" 'r["checkpoint"] is not None and r["state"]=="running"' "no checkpoint"
victim=$(run_get n1 "$id" 'r["node"]')
crash "$victim"
other=n1; [ "$victim" = n1 ] && other=n2
expect_run 180 "$other" "$id" 'r["state"]=="succeeded"' "run $id did not finish after losing $victim"
check_watch "$tmp/watch1.json" 2
from=$(run_get "$other" "$id" 'r["attempts"][-1]["resumedFrom"]["files"] if r["attempts"][-1]["resumedFrom"] else 0')
run_get "$other" "$id" 'r["attempts"]' | python3 -c "
import ast,sys
a=ast.literal_eval(sys.stdin.read())
ok=len(a)>=2 and a[0]['outcome']=='node-lost' and a[-1]['node']!='$victim' and $from>0
sys.exit(0 if ok else 1)" || fail "attempts: $(run_get "$other" "$id" 'r["attempts"]')"
python3 - "$tmp/atlas1/entities.json" "$tmp/local.jsonl" "$from" "$N" <<'PY' || fail "deliveries"
import json, sys
got = json.load(open(sys.argv[1]))["fsPaths"]
lines = [json.loads(l) for l in open(sys.argv[2])]
want = {l["qualifiedName"] for l in lines}
files = [l["qualifiedName"] for l in lines if l["type"] == "file"]
start, n = int(sys.argv[3]), int(sys.argv[4])
assert set(got) == want, ("differ", sorted(set(got) ^ want)[:5])
again = {q for q, c in got.items() if c > 1}
# The resumed attempt started at walk index `start`: what the lost one sent after its last
# checkpoint is at most that one part, re-sent (an upsert by qualifiedName), nothing before it.
assert again <= set(files[start:start + n]), ("re-sent outside the resumed part", sorted(again)[:5])
print("re-sent %d entities, resumed at file %d" % (len(again), start))
PY
[ -z "$(ls -A "$tmp/$other/outbox" 2>/dev/null)" ] || fail "batches left in $other's outbox"

# 2. The endpoint refuses part 3's batch on every try (4 tries by default; one batch per part of
#    50 files, so the refused requests come after 3 accepted ones): the attempt fails, the
#    checkpoint stays at part 2, the next attempt starts at part 3.
server "$tmp/atlas2"
echo "3 4" > "$tmp/atlas2/refuse-after"
scan "$other" create b --source "$tmp/src" --level L2 --sink "atlas:$url" --part-size "$N" \
    --host-name files.example >/dev/null || fail "create b"
id=$(json_get "$(scan "$other" run b)" 'd["run"]') || fail "run b"
watch "$id" "$tmp/atlas2" "$tmp/watch2.json"
expect_run 180 "$other" "$id" 'r["state"]=="succeeded"' "run $id with a refusing endpoint"
check_watch "$tmp/watch2.json" 2
run_get "$other" "$id" 'r["attempts"]' | python3 -c "
import ast,sys
a=ast.literal_eval(sys.stdin.read())
ok=len(a)==2 and a[0]['outcome']=='failed' and a[1]['outcome']=='succeeded' and \
   a[1]['resumedFrom'] is not None and a[1]['resumedFrom']['files']==150
sys.exit(0 if ok else 1)" || fail "attempts of run $id: $(run_get "$other" "$id" 'r["attempts"]') refuse-after: $(cat "$tmp/atlas2/refuse-after"); $(ls "$tmp/atlas2" | wc -l) files; $(grep -h "atlas\|run $id" "$tmp"/n?.log | grep -v DEBUG | tail -20)"
grep -h "run $id attempt 1 ended: failed: Atlas unreachable: HTTP 503 (part 3 not delivered" \
    "$tmp"/n?.log >/dev/null || fail "the failed attempt's reason: $(grep -h "run $id attempt" "$tmp"/n?.log)"
[ "$(cat "$tmp/atlas2/refuse-after")" = "3 0" ] || fail "not every refusal was used: $(cat "$tmp/atlas2/refuse-after")"
python3 - "$tmp/atlas2/entities.json" "$tmp/local.jsonl" <<'PY' || fail "deliveries of run b"
import json, sys
got = json.load(open(sys.argv[1]))["fsPaths"]
want = {json.loads(l)["qualifiedName"] for l in open(sys.argv[2])}
assert set(got) == want, sorted(set(got) ^ want)[:5]
assert all(c == 1 for c in got.values()), "an accepted part was sent twice"
PY
for n in n1 n2 n3; do
    [ -z "$(ls -A "$tmp/$n/outbox" 2>/dev/null)" ] || fail "batches left in $n's outbox"
done
pass
