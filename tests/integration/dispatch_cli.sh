#!/usr/bin/env bash
# Issue 11's commands on a 1-node runtime: scan create/show/list/update/delete with every flag,
# bad input (exit 2 for usage, 1 with a reason otherwise), a run through the dispatcher to
# `succeeded` with its parts and _SUCCESS, BUSY naming the active run, cancel, delete --force,
# nodes drain/set, status RUNNING/CAP, the new settings, and every --json shape (errors too).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
S=$SHIR_BIN
D=(--data-dir "$tmp/n1")
ISO='^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$'

# The trees: a small one that scans in moments, a big one (30,000 CSV files read at L3) that
# keeps a run active for seconds while BUSY, RUNNING and cancel are checked. The big one lives in
# tmpfs when there is one: its 30,000 files take ~30 s to create on the test machine's ext4 under
# load (a third of this test's time), ~4 s in /dev/shm. It is removed on exit.
trees=$(mktemp -d /dev/shm/shir-test.XXXXXX 2>/dev/null) || trees=$tmp
trap 'cleanup; rm -rf "$trees"' EXIT
python3 - "$tmp" "$trees" <<'PY'
import os, sys
root, trees = sys.argv[1], sys.argv[2]
def put(rel, data, base=root):
    p = os.path.join(base, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(data)
put("small/people.csv", "name,email\nann,ann@example.com\nbob,bob@example.com\n")
put("small/data/orders.csv", "id,total\n1,10.5\n2,3.25\n")
put("small/notes.txt", "hello\n")
put("small/tmp1/skip.csv", "x\n")
def word(i):  # letters only, none a-f (no hex word): no resource sets, every file is read
    w = ""
    for _ in range(4):
        w += "ghjklmnpqrstuvwxyz"[i % 18]; i //= 18
    return w
for d in range(30):
    for f in range(1000):
        put(f"big/{word(d)}/{word(d * 1000 + f)}.csv", f"id,email\n{f},u{f}@example.com\n", trees)
PY
printf '[rule CUSTOMER_ID]\nregex = CUS-[0-9]{8}\nhints = customer\n' >"$tmp/rules.ini"
head -c 16385 /dev/zero | tr '\0' '#' >"$tmp/big-rules.ini"

# In a build with the test faults, workers take 20 ms per file: the big run stays active for
# minutes whatever the machine (it is cancelled), the small ones still end in moments.
[ "${SHIR_BUILT_WITH_FAULTS:-0}" = 1 ] && export SHIR_TEST_WORKER_FAULT=slow
start n1
form n1 dc >/dev/null

# ---- bad input ------------------------------------------------------------------------------
expect_exit 2 "$S" scan create 'bad name!' --source "$tmp/small" --sink "jsonl:$tmp/out" "${D[@]}"
expect_exit 2 "$S" scan create s1 --sink "jsonl:$tmp/out" "${D[@]}"            # no --source
expect_exit 2 "$S" scan create s1 --source "$tmp/small" "${D[@]}"              # no --sink
expect_exit 2 "$S" scan create s1 --source "$tmp/small" --sink "ftp:x" "${D[@]}"
expect_exit 2 "$S" scan create s1 --source "$tmp/small" --sink "jsonl:$tmp/out" --timeout 5x "${D[@]}"
expect_exit 2 "$S" scan create s1 --source "$tmp/small" --sink "jsonl:$tmp/out" --timeout 30 "${D[@]}"
expect_exit 2 "$S" scan create s1 --source "$tmp/small" --sink "jsonl:$tmp/out" --level L9 "${D[@]}"
expect_exit 2 "$S" scan create s1 --source "$tmp/small" --sink "jsonl:$tmp/out" --max-attempts 11 "${D[@]}"
expect_exit 2 "$S" scan create s1 --source "$tmp/small" --sink "jsonl:$tmp/out" --bogus "${D[@]}"
expect_exit 2 "$S" scan create s1 --source "$tmp/small" --sink "jsonl:$tmp/out" --wait "${D[@]}"
expect_exit 2 "$S" scan update s1 "${D[@]}"                                     # nothing to change
expect_exit 2 "$S" scan cancel notanumber "${D[@]}"
expect_exit 2 "$S" scan frobnicate "${D[@]}"
out=$("$S" scan create s1 --source "$tmp/small" --sink "jsonl:$tmp/out" --timeout 1w --json "${D[@]}" 2>/dev/null)
[ $? -eq 2 ] || fail "bad duration with --json did not exit 2"
json_check "$out" 'd["error"]["code"]=="USAGE" and "--timeout" in d["error"]["message"]' "usage error as JSON"
out=$("$S" scan create s1 --source "$tmp/nope" --sink "jsonl:$tmp/out" --json "${D[@]}" 2>"$tmp/err")
[ $? -eq 1 ] || fail "a missing source did not exit 1"
json_check "$out" '"error" in d and "nope" in d["error"]["message"]' "missing source as JSON"
expect_match "$(cat "$tmp/err")" "cannot use source $tmp/nope: No such file or directory" "missing source message"
err=$("$S" scan create s1 --source "$tmp/small" --sink "jsonl:$tmp/out" --rules "$tmp/big-rules.ini" "${D[@]}" 2>&1 >/dev/null)
[ $? -eq 1 ] || fail "a rules file over 16 KiB was not refused"
expect_match "$err" "is 16385 bytes; a scan stores at most 16384" "rules size message"
# Rules every L3 attempt would fail on are refused when the definition is made, not stored.
printf '[rule BROKEN]\nregex = (\n' >"$tmp/bad-rules.ini"
out=$("$S" scan create s1 --source "$tmp/small" --sink "jsonl:$tmp/out" --rules "$tmp/bad-rules.ini" \
    "${D[@]}" --json 2>/dev/null)
[ $? -eq 1 ] || fail "a rules file with a bad regex was not refused: $out"
json_check "$out" "d['error']['code']=='INVAL' and 'rule BROKEN: invalid regex' in d['error']['message']" \
    "a bad rules file is refused with its rule"
[ ! -e "$tmp/out" ] || fail "a refused create made its sink directory"

# ---- create, show, list, update, delete -----------------------------------------------------
out=$("$S" scan create s1 --source "$tmp/small" --level L2 --include '*.csv' --include 'data/*' \
    --exclude 'tmp*' --rules "$tmp/rules.ini" --sink "jsonl:$tmp/out/new/dir" --no-directories \
    --follow-symlinks --host-name files.example --timeout 2h --max-attempts 5 --json "${D[@]}") ||
    fail "create s1: $out $(logs)"
rules_len=$(stat -c %s "$tmp/rules.ini")
json_check "$out" "d['name']=='s1' and d['source']=='$tmp/small' and d['level']=='L2' and
    d['sink']=='jsonl:$tmp/out/new/dir' and d['includes']==['*.csv','data/*'] and
    d['excludes']==['tmp*'] and d['noDirectories'] is True and d['followSymlinks'] is True and
    d['hostName']=='files.example' and d['timeoutMs']==7200000 and d['maxAttempts']==5 and
    d['rulesBytes']==$rules_len and d['activeRun'] is None and re.match(r'$ISO', d['created'])
    and re.match(r'$ISO', d['updated'])" "create s1 --json"
[ "$(stat -c %a "$tmp/out/new/dir")" = 750 ] || fail "the sink directory is not 0750"
[ "$(stat -c %a "$tmp/out/new")" = 750 ] || fail "the sink's parent was not created 0750"
# Relative paths are stored absolute; defaults are filled in.
out=$(cd "$tmp" && "$S" scan create rel --source small --sink jsonl:out-rel --json "${D[@]}") ||
    fail "create rel: $out"
json_check "$out" "d['source']=='$tmp/small' and d['sink']=='jsonl:$tmp/out-rel' and
    d['level']=='L1' and d['maxAttempts']==3 and d['timeoutMs']==86400000 and d['includes']==[]
    and d['hostName'] is None and d['rulesBytes']==0 and d['noDirectories'] is False" "create rel defaults"
out=$("$S" scan create rel --source "$tmp/small" --sink "jsonl:$tmp/out" --json "${D[@]}" 2>/dev/null)
[ $? -eq 1 ] || fail "a second create of rel did not exit 1"
json_check "$out" 'd["error"]["code"]=="EXISTS"' "duplicate create as JSON"

out=$("$S" scan show s1 --json "${D[@]}") || fail "show s1"
json_check "$out" 'd["name"]=="s1" and d["level"]=="L2" and d["maxAttempts"]==5' "show s1"
expect_match "$("$S" scan show s1 "${D[@]}")" '^level +L2$' "human show"
out=$("$S" scan list --json "${D[@]}") || fail "list"
json_check "$out" '[s["name"] for s in d["scans"]]==["rel","s1"]' "list --json (name order)"
expect_match "$("$S" scan list "${D[@]}")" '^s1 +L2 ' "human list"

out=$("$S" scan update s1 --level L1 --max-attempts 2 --directories --no-follow-symlinks \
    --include '' --json "${D[@]}") || fail "update s1: $out"
json_check "$out" "d['level']=='L1' and d['maxAttempts']==2 and d['noDirectories'] is False and
    d['followSymlinks'] is False and d['includes']==[] and d['excludes']==['tmp*'] and
    d['timeoutMs']==7200000 and d['rulesBytes']==$rules_len and d['hostName']=='files.example'
    and d['sink']=='jsonl:$tmp/out/new/dir'" "update changes only the flags given"
out=$("$S" scan update s1 --rules '' --timeout 90m --json "${D[@]}") || fail "update s1 rules"
json_check "$out" "d['rulesBytes']==0 and d['timeoutMs']==5400000 and d['level']=='L1'" "update --rules ''"
out=$("$S" scan update nosuch --level L1 --json "${D[@]}" 2>/dev/null)
[ $? -eq 1 ] || fail "update of an unknown scan did not exit 1"
json_check "$out" 'd["error"]["code"]=="NOTFOUND" and "nosuch" in d["error"]["message"]' "update nosuch"

"$S" scan delete rel "${D[@]}" >/dev/null || fail "delete rel"
out=$("$S" scan show rel --json "${D[@]}" 2>/dev/null)
[ $? -eq 1 ] || fail "show of a deleted scan did not exit 1"
json_check "$out" 'd["error"]["code"]=="NOTFOUND"' "show deleted"

# ---- a run to success: parts and _SUCCESS ---------------------------------------------------
"$S" scan create ok --source "$tmp/small" --sink "jsonl:$tmp/out" "${D[@]}" >/dev/null || fail "create ok"
out=$("$S" scan run ok --wait --json "${D[@]}") || fail "run ok --wait exited $?: $out $(logs)"
json_check "$out" 'd["scan"]=="ok" and d["state"]=="succeeded" and type(d["run"]) is int' "run --wait --json"
run=$(json_get "$out" 'd["run"]')
[ -f "$tmp/out/ok/$run/_SUCCESS" ] || fail "no _SUCCESS in $tmp/out/ok/$run: $(ls -la "$tmp/out/ok/$run" 2>&1)"
ls "$tmp/out/ok/$run"/part-*.jsonl >/dev/null 2>&1 || fail "no parts in $tmp/out/ok/$run"
! ls "$tmp/out/ok/$run"/.tmp-* >/dev/null 2>&1 || fail "temporary parts left in $tmp/out/ok/$run"
python3 - "$tmp/out/ok/$run" <<'PY' || fail "the parts are not JSON lines of distinct assets"
import glob, json, sys
lines = [l for p in sorted(glob.glob(sys.argv[1] + "/part-*.jsonl")) for l in open(p)]
assert lines, "no assets"
names = [json.loads(l)["qualifiedName"] for l in lines]
assert len(names) == len(set(names)), "an asset is in two parts"
# Stable names: the host part is the definition's, by default the runtime's name (dc).
assert all(n.startswith("file://dc/") for n in names), names[:3]
PY
out=$("$S" scan runs ok --json "${D[@]}") || fail "runs ok"
json_check "$out" "len(d['runs'])==1 and (lambda r: r['id']==$run and r['scan']=='ok' and
    r['state']=='succeeded' and r['node']=='n1' and r['attempt']==1 and r['trigger']=='manual'
    and all(re.match(r'$ISO', r[k]) for k in ('created','started','finished')) and
    r['waiting'] is None and r['progress']['files']>0 and
    set(r['progress'])=={'files','assets','bytes'} and
    (r['checkpoint'] is None or (set(r['checkpoint'])=={'part','files','key'} and
     r['checkpoint']['key'] is None)) and
    r['summary']['filesSeen']>0 and r['summary']['assets']>0 and r['error'] is None and
    len(r['attempts'])==1 and r['attempts'][0]['attempt']==1 and r['attempts'][0]['node']=='n1'
    and r['attempts'][0]['outcome']=='succeeded' and r['attempts'][0]['resumedFrom'] is None and
    re.match(r'$ISO', r['attempts'][0]['started']))(d['runs'][0])" "RUN shape"
expect_match "$("$S" scan runs ok "${D[@]}")" "^$run +ok +succeeded +n1 " "human runs"
out=$("$S" scan runs nosuch --json "${D[@]}" 2>/dev/null)
[ $? -eq 1 ] || fail "runs of an unknown scan did not exit 1"
json_check "$out" 'd["error"]["code"]=="NOTFOUND"' "runs of an unknown scan"

# A run that fails (its source vanished, one attempt allowed): --wait exits 1 and says why.
mkdir "$tmp/gone"
"$S" scan create gone --source "$tmp/gone" --sink "jsonl:$tmp/out" --max-attempts 1 "${D[@]}" >/dev/null ||
    fail "create gone"
rmdir "$tmp/gone"
out=$("$S" scan run gone --wait --json "${D[@]}" 2>/dev/null)
[ $? -eq 1 ] || fail "run --wait of a failing run did not exit 1: $out"
json_check "$out" 'd["scan"]=="gone" and d["state"]=="failed"' "failed run --wait --json"
json_check "$("$S" scan runs gone --json "${D[@]}")" "(lambda r: r['state']=='failed' and r['error']
    and r['summary'] is None and r['attempts'][-1]['outcome'] in ('failed','unreachable','crashed')
    )(d['runs'][0])" "failed RUN shape"
"$S" scan delete gone "${D[@]}" >/dev/null || fail "delete gone"

# ---- an active run: BUSY, RUNNING, cancel ---------------------------------------------------
"$S" scan create big --source "$trees/big" --level L3 --sink "jsonl:$tmp/out" "${D[@]}" >/dev/null || fail "create big"
out=$("$S" scan run big --json "${D[@]}") || fail "run big: $out"
json_check "$out" 'd["scan"]=="big" and d["state"] in ("queued","assigned","running")' "run --json"
big=$(json_get "$out" 'd["run"]')
still_active() { # fail when the big run ended before the checks that need it active
    json_check "$("$S" scan runs big --json "${D[@]}")" \
        "d['runs'][0]['state'] in ('queued','assigned','running')" \
        "run $big ended before $1: make the big tree bigger for this machine"
}
out=$("$S" scan run big --json "${D[@]}" 2>"$tmp/err")
[ $? -eq 1 ] || fail "a second run of big was not refused"
json_check "$out" "d['error']['code']=='BUSY' and 'active run $big' in d['error']['message']" "BUSY names the run"
expect_match "$(cat "$tmp/err")" "scan big already has an active run $big" "BUSY message"
out=$("$S" scan delete big --json "${D[@]}" 2>/dev/null)
[ $? -eq 1 ] || fail "delete of a scan with an active run was not refused"
json_check "$out" "d['error']['code']=='BUSY' and 'run $big' in d['error']['message'] and '--force' in d['error']['message']" "delete BUSY"
still_active "BUSY was checked"
wait_until 30 sees n1 "s['n1']['running']==1 and s['n1']['capacity']>=1 and s['n1']['draining'] is False" ||
    fail "status never showed the run on n1: $(st n1)"
expect_match "$("$S" status "${D[@]}")" 'RUNNING +CAP' "status columns"
expect_match "$("$S" status "${D[@]}")" '^n1 .* 1 +[0-9]+  ' "status RUNNING 1"
out=$("$S" scan runs --active --json "${D[@]}") || fail "runs --active"
json_check "$out" "[r['id'] for r in d['runs']]==[$big]" "runs --active"
still_active "cancel"
out=$("$S" scan cancel "$big" --json "${D[@]}") || fail "cancel $big: $out"
json_check "$out" "d['run']==$big and d['state']=='cancelled'" "cancel --json"
json_check "$("$S" scan runs big --json "${D[@]}")" "d['runs'][0]['state']=='cancelled'" "cancelled"
out=$("$S" scan cancel "$big" --json "${D[@]}" 2>/dev/null)
[ $? -eq 1 ] || fail "a second cancel did not exit 1"
json_check "$out" "'already ended' in d['error']['message']" "cancel of an ended run"
out=$("$S" scan cancel 999999 --json "${D[@]}" 2>/dev/null)
[ $? -eq 1 ] || fail "cancel of an unknown run did not exit 1"
json_check "$out" 'd["error"]["code"]=="NOTFOUND"' "cancel unknown"
wait_until 30 sees n1 "s['n1']['running']==0" || fail "the cancelled run still counts on n1: $(st n1)"
# Newest first, --limit.
out=$("$S" scan runs --json "${D[@]}") || fail "runs"
json_check "$out" "[r['id'] for r in d['runs']]==[$big,$run]" "runs newest first"
json_check "$("$S" scan runs --limit 1 --json "${D[@]}")" "[r['id'] for r in d['runs']]==[$big]" "runs --limit"
# delete --force takes the active run with it.
big2=$(json_get "$("$S" scan run big --json "${D[@]}")" 'd["run"]') || fail "run big again"
"$S" scan delete big --force "${D[@]}" >/dev/null || fail "delete --force"
json_check "$("$S" scan runs --json "${D[@]}")" "$big2 not in [r['id'] for r in d['runs']] and
    all(r['scan']!='big' for r in d['runs'])" "delete --force drops the runs"

# ---- nodes drain / set ----------------------------------------------------------------------
expect_exit 2 "$S" nodes set n1 "${D[@]}"
expect_exit 2 "$S" nodes set n1 --capacity 0 "${D[@]}"
expect_exit 2 "$S" nodes drain n1 --capacity 2 "${D[@]}"
out=$("$S" nodes drain nosuch --json "${D[@]}" 2>/dev/null)
[ $? -eq 1 ] || fail "drain of an unknown node did not exit 1"
json_check "$out" 'd["error"]["code"]=="NOTFOUND" and "nosuch" in d["error"]["message"]' "drain unknown"
out=$("$S" nodes drain n1 --json "${D[@]}") || fail "drain n1"
json_check "$out" 'd=={"node":"n1","draining":True}' "drain --json"
json_check "$(st n1)" '[n for n in d["nodes"] if n["name"]=="n1"][0]["draining"] is True' "status draining"
expect_match "$("$S" status "${D[@]}")" '^n1 .*draining' "human status says draining"
q=$(json_get "$("$S" scan run ok --json "${D[@]}")" 'd["run"]') || fail "run ok while draining"
wait_until 10 bash -c "'$S' scan runs ok --limit 1 --json --data-dir '$tmp/n1' |
    python3 -c 'import json,sys; r=json.load(sys.stdin)[\"runs\"][0]; sys.exit(0 if r[\"state\"]==\"queued\" and r[\"waiting\"] else 1)'" ||
    fail "a run on a draining runtime does not say why it waits: $("$S" scan runs ok --json "${D[@]}")"
out=$("$S" nodes drain n1 --off --json "${D[@]}") || fail "drain --off"
json_check "$out" 'd=={"node":"n1","draining":False}' "drain --off --json"
wait_until 60 bash -c "'$S' scan runs ok --limit 1 --json --data-dir '$tmp/n1' | grep -q '\"state\":\"succeeded\"'" ||
    fail "run $q did not run after the drain ended: $("$S" scan runs ok --json "${D[@]}")"
out=$("$S" nodes set n1 --capacity 3 --json "${D[@]}") || fail "set capacity"
json_check "$out" 'd=={"node":"n1","capacity":3}' "set --json"
json_check "$(st n1)" '[n for n in d["nodes"] if n["name"]=="n1"][0]["capacity"]==3' "status capacity 3"
expect_match "$("$S" nodes list "${D[@]}")" '^n1 .* 0 +3  ' "human CAP column"
"$S" nodes set n1 --capacity auto "${D[@]}" >/dev/null || fail "set capacity auto"
json_check "$(st n1)" '[n for n in d["nodes"] if n["name"]=="n1"][0]["capacity"]>=1' "status auto capacity"

# ---- settings -------------------------------------------------------------------------------
expect_exit 2 "$S" settings set --run-history 0 "${D[@]}"
expect_exit 2 "$S" settings set --node-loss-grace 2 "${D[@]}"
expect_exit 2 "$S" settings set --node-loss-grace 2h "${D[@]}"
# Issue 12, defect 4: set --json prints the settings as they now are (it printed null), in the
# camelCase shape of show.
out=$("$S" settings set --run-history 5 --node-loss-grace 2s --json "${D[@]}") || fail "settings set"
json_check "$out" 'd=={"maxNodes":4,"standbyPromotionDelayMs":30000,"runHistory":5,"nodeLossGraceMs":2000}' "settings set --json"
out=$("$S" settings show --json "${D[@]}") || fail "settings show"
json_check "$out" 'd=={"maxNodes":4,"standbyPromotionDelayMs":30000,"runHistory":5,"nodeLossGraceMs":2000}' "settings show --json"
out=$("$S" settings show "${D[@]}")
expect_match "$out" '^run history +5 ' "human settings: history"
expect_match "$out" '^node loss grace +2.000 s' "human settings: grace"

# ---- an error from no agent is JSON too ------------------------------------------------------
out=$("$S" scan list --json --data-dir "$tmp/none" 2>/dev/null)
[ $? -eq 1 ] || fail "scan list without an agent did not exit 1"
json_check "$out" 'd["error"]["code"]=="UNAVAILABLE" and "shir agent" in d["error"]["message"]' "no agent"
pass
