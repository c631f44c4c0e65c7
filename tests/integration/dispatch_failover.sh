#!/usr/bin/env bash
# kill -9 of the node running a scan of a big tree after its first checkpoint: the run finishes
# on another node from that checkpoint (resumedFrom.files > 0), and its parts hold exactly the
# assets of an uninterrupted `scan run-local` of the same tree (same lines, none twice), although
# files were added and removed before the checkpoint between the attempts (the resume key: by
# index, they would have shifted the resume point). Then a fast restart: the running node
# killed and restarted at once is detected as lost by itself.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/dispatch_lib.sh"

files=200000
[ "${SHIR_SANITIZED:-0}" = 1 ] && files=40000 # ASan reads ~5x slower: the same path, a smaller tree
start n1; start n2; start n3
form n1 rt n2 n3 >/dev/null
expect_view 60 n1 'all(s[x]["status"]=="Online" for x in ("n1","n2","n3"))' "runtime not formed"
# The tree lives in tmpfs when there is one: creating 200,000 files on the test machines' ext4
# takes minutes (most of this test's time), in /dev/shm seconds. It is removed on exit.
trees=$(mktemp -d /dev/shm/shir-test.XXXXXX 2>/dev/null) || trees=$tmp
trap 'cleanup; rm -rf "$trees"' EXIT
src=$trees/big
mk_tree "$src" "$files"
"$SHIR_BIN" scan run-local "$src" --level L2 --sink "jsonl:$tmp/local.jsonl" \
    --data-dir "$tmp/local" >/dev/null 2>&1 || fail "run-local"
scan n1 create big --source "$src" --level L2 --sink "jsonl:$tmp/out" >/dev/null || fail "create"
id=$(json_get "$(scan n2 run big)" 'd["run"]') || fail "run"
expect_run 60 n1 "$id" 'r["checkpoint"] is not None and r["state"]=="running"' "no checkpoint"
victim=$(run_get n1 "$id" 'r["node"]')
# Its resume point, in --json and in the table: the part, the files done and the key (a path
# relative to the root, here dirXX/x/NAME.csv or dirXX/x-y/NAME.csv), a JSON string in both.
run_get n1 "$id" 'r["checkpoint"]' | python3 -c "
import ast,re,sys
c=ast.literal_eval(sys.stdin.read())
sys.exit(0 if c['files']>0 and re.fullmatch(r'dir[a-z]{2}/(x|x-y)/[a-z]{5}\.csv', c['key'] or '') else 1)" ||
    fail "checkpoint without its key: $(run_get n1 "$id" 'r["checkpoint"]')"
expect_match "$("$SHIR_BIN" scan runs big --data-dir "$tmp/n1")" \
    '^ +resume after part [0-9]+ \([0-9]+ files done\), after "dir[a-z]{2}/(x|x-y)/[a-z]{5}\.csv"$' \
    "the table's resume point"
# The tree changes behind the first checkpoint (its part is the first 2,000 files; dirgg holds
# the first 500): three files added, one removed (names that are no word of hex letters, which
# would be held for the final part: scan/resset.c). The removed one's line is in part 0 already;
# those added are behind the walk, as for any walk, so the parts must still equal run-local's
# (the directories' times put back: their assets describe the tree as the last attempt saw it).
for d in x x-y; do touch -r "$src/dirgg/$d" "$tmp/mtime-$d"; done
for f in dirgg/x/iiiii.csv dirgg/x/iiiio.csv dirgg/x-y/iiiii.csv; do
    printf 'id\n1\n' >"$src/$f" || fail "add $f"
done
rm "$src/dirgg/x/hgggg.csv" || fail "remove a file"
for d in x x-y; do touch -r "$tmp/mtime-$d" "$src/dirgg/$d"; done
crash "$victim"
other=n1; [ "$victim" = n1 ] && other=n2
expect_run 180 "$other" "$id" 'r["state"]=="succeeded"' "run $id did not finish after losing $victim"
run_get "$other" "$id" 'r["attempts"]' | python3 -c "
import ast,sys
a=ast.literal_eval(sys.stdin.read())
ok=len(a)>=2 and a[0]['outcome']=='node-lost' and a[-1]['node']!='$victim' and \
   a[-1]['resumedFrom'] is not None and a[-1]['resumedFrom']['files']>0
sys.exit(0 if ok else 1)" || fail "attempts: $(run_get "$other" "$id" 'r["attempts"]')"
[ -f "$tmp/out/big/$id/_SUCCESS" ] || fail "no _SUCCESS"
lines "$tmp"/out/big/"$id"/part-*.jsonl >"$tmp/parts.sorted"
lines "$tmp/local.jsonl" >"$tmp/local.sorted"
[ "$(uniq -d "$tmp/parts.sorted" | wc -l)" = 0 ] || fail "duplicate assets in the parts"
cmp -s "$tmp/parts.sorted" "$tmp/local.sorted" ||
    fail "parts differ from run-local: $(diff "$tmp/parts.sorted" "$tmp/local.sorted" | head -5)"
ls "$tmp/out/big/$id" | grep -q '^\.tmp-' && fail "temporary files left"
# The summary counts the whole run, not only the resumed attempt.
want=$(wc -l <"$tmp/local.sorted")
got=$(run_get "$other" "$id" 'r["summary"]["assets"]')
[ "$got" = "$want" ] || fail "the summary counts $got assets, the parts hold $want"

# Fast restart of the running node: it reports its own run lost when it comes back.
start "$victim"
expect_view 60 "$other" "s['$victim']['status']=='Online'" "$victim did not come back"
scan "$other" create again --source "$src" --level L3 --sink "jsonl:$tmp/out" >/dev/null || fail "create again"
id2=$(json_get "$(scan "$other" run again)" 'd["run"]') || fail "second run"
expect_run 60 "$other" "$id2" 'r["state"]=="running"' "second run not running"
v2=$(run_get "$other" "$id2" 'r["node"]')
crash "$v2"; start "$v2"
watcher=$other; [ "$v2" = "$other" ] && watcher=$victim; [ "$watcher" = "$v2" ] && watcher=n3
expect_run 180 "$watcher" "$id2" 'r["state"]=="succeeded"' "run $id2 after a fast restart of $v2"
run_get "$watcher" "$id2" 'r["attempts"][0]["outcome"]' | grep -q node-lost ||
    fail "first attempt of $id2 not node-lost: $(run_get "$watcher" "$id2" 'r["attempts"]')"
pass
