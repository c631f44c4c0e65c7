#!/usr/bin/env bash
# Issue 13's replicated credentials on a 2-node runtime: a credential with a unique canary
# password set on one node, a scan of a SQLite database source naming it run through the
# runtime (the run succeeds only if the node that runs it opened the sealed password), delete
# refused while the scan names it, and then the canary searched for byte for byte: in every
# file under both data directories (raft log, snapshots, identity), the agents' logs, `ps` of
# every process and the environment of every worker sampled throughout the run, a saved
# snapshot and a diag bundle, and the JSON of every command (status, scan show/list/runs,
# credentials list). The credential's user, stored beside the password, must be found in the
# raft log: the search can see what it looks for.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/dispatch_lib.sh"
command -v sqlite3 >/dev/null || fail "sqlite3 not found (deploy/install-deps.sh)"
canary="canary-cred-$(date +%s%N)-pw"
user="creduser$(date +%s%N)"
creds() { local n=$1; shift; "$SHIR_BIN" credentials "$@" --data-dir "$tmp/$n" --json; }
json_of() { printf '%s' "$1" | python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($2) else 1)"; }

start n1; start n2
form n1 credrt n2 >/dev/null
expect_view 60 n1 's["n1"]["status"]=="Online" and s["n2"]["status"]=="Online"' "runtime not formed"

# Set on n2 from stdin; never a flag value.
out=$(printf '%s\n' "$canary" | creds n2 set pg.ro --user "$user" --password-file -) ||
    fail "credentials set: $out $(logs)"
json_of "$out" 'd=={"name":"pg.ro"}' || fail "set answered $out"
expect_exit 2 "$SHIR_BIN" credentials set x --user u --data-dir "$tmp/n1" # no --password-file
expect_exit 2 "$SHIR_BIN" credentials set 'bad name' --user u --password-file - --data-dir "$tmp/n1"
out=$(creds n1 set x --user u --password-file /dev/null) && fail "an empty password was taken"
json_of "$out" 'd["error"]["code"]=="INVAL"' || fail "empty password: $out"
listed() {
    creds n1 list | python3 -c "
import json,sys
c=json.load(sys.stdin)['credentials']
sys.exit(0 if len(c)==1 and c[0]['name']=='pg.ro' and c[0]['kind']=='basic' and
         c[0]['user']=='$user' and sorted(c[0])==['created','kind','name','updated','user'] else 1)"
}
wait_until 20 listed || fail "credentials list on n1: $(creds n1 list)"

# A SQLite fixture; a scan naming an unknown credential is refused, then one naming pg.ro.
mkdir "$tmp/db" "$tmp/out"
sqlite3 "$tmp/db/shop.db" "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT);
    INSERT INTO customers VALUES (1, 'a@example.org'), (2, 'b@example.org');" ||
    fail "sqlite fixture"
out=$(scan n1 create db1 --source "sqlite://$tmp/db/shop.db" --sink "jsonl:$tmp/out" \
    --level L3 --credential nope) && fail "an unknown credential was taken: $out"
json_of "$out" 'd["error"]["code"]=="NOTFOUND" and "nope" in d["error"]["message"]' ||
    fail "unknown credential: $out"
out=$(scan n1 create db1 --source "sqlite://$tmp/db/shop.db" --sink "jsonl:$tmp/out" \
    --level L3 --credential pg.ro) || fail "scan create: $out $(logs)"
json_of "$out" 'd["credential"]=="pg.ro" and d["source"].startswith("sqlite://")' ||
    fail "scan create answered $out"
out=$(scan n2 create files --source "$tmp/db" --sink "jsonl:$tmp/out") || fail "create files: $out"
json_of "$out" 'd["credential"] is None' || fail "a scan without credential: $out"

# Delete refused while db1 names it.
out=$(creds n1 delete pg.ro) && fail "delete of a credential in use succeeded: $out"
json_of "$out" 'd["error"]["code"]=="BUSY" and "db1" in d["error"]["message"]' ||
    fail "delete in use: $out"

# The run, with ps and every worker's environment sampled until it ends.
( while :; do
      ps -eo pid,args >>"$tmp/ps.txt" 2>/dev/null
      for p in $(pgrep -f 'shir worker' 2>/dev/null); do
          cat "/proc/$p/environ" >>"$tmp/environ.bin" 2>/dev/null && echo "$p" >>"$tmp/workers.txt"
      done
  done ) &
mon=$!
out=$(scan n1 run db1) || fail "scan run: $out"
id=$(json_get "$out" 'd["run"]')
expect_run 60 n2 "$id" 'r["state"]=="succeeded"' "the run of db1 did not succeed"
kill "$mon"; wait "$mon" 2>/dev/null
[ -s "$tmp/ps.txt" ] || fail "ps was not sampled"
cat "$tmp"/out/db1/"$id"/part-*.jsonl 2>/dev/null | grep -q '"type":"table"' ||
    fail "no table asset in the parts of $tmp/out/db1/$id: $(ls -R "$tmp/out")"
echo "workers sampled: $(sort -u "$tmp/workers.txt" 2>/dev/null | wc -l)"

# Every output a user can ask for.
{
    for n in n1 n2; do
        st "$n"; scan "$n" show db1; scan "$n" list; scan "$n" runs; creds "$n" list
    done
} >"$tmp/outputs.json" 2>&1 || fail "an output command failed: $(tail -5 "$tmp/outputs.json")"
grep -q '"credential":"pg.ro"' "$tmp/outputs.json" || fail "scan show/list lack the credential"
"$SHIR_BIN" snapshot save "$tmp/state.snap" --data-dir "$tmp/n1" >/dev/null || fail "snapshot save"
"$SHIR_BIN" diag --output "$tmp/diag.tgz" --data-dir "$tmp/n2" >/dev/null || fail "diag"
mkdir "$tmp/diag" && tar -xzf "$tmp/diag.tgz" -C "$tmp/diag" || fail "diag bundle unreadable"

# The search: the user is found in the raft log (the search sees it), the canary nowhere.
grep -rqa -- "$user" "$tmp/n1" || fail "the credential's user is not in n1's data directory"
for where in "$tmp/n1" "$tmp/n2" "$tmp/n1.log" "$tmp/n2.log" "$tmp/ps.txt" "$tmp/outputs.json" \
    "$tmp/state.snap" "$tmp/diag" "$tmp/out"; do
    if grep -rqa -- "$canary" "$where"; then fail "the canary password is in $where"; fi
done
if [ -e "$tmp/environ.bin" ] && grep -qa -- "$canary" "$tmp/environ.bin"; then
    fail "the canary password is in a worker's environment"
fi

# Dropped from the scan, the credential can go.
out=$(scan n2 update db1 --credential '') || fail "update --credential '': $out"
json_of "$out" 'd["credential"] is None' || fail "update kept the credential: $out"
out=$(creds n2 delete pg.ro) || fail "delete: $out"
json_of "$out" 'd=={"name":"pg.ro"}' || fail "delete answered $out"
gone() { creds n1 list | python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)['credentials']==[] else 1)"; }
wait_until 20 gone || fail "pg.ro still listed: $(creds n1 list)"
out=$(creds n1 delete pg.ro) && fail "a second delete succeeded"
json_of "$out" 'd["error"]["code"]=="NOTFOUND"' || fail "second delete: $out"
pass
