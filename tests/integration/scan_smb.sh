#!/usr/bin/env bash
# SMB shares as a source (issue 13) against a real Samba server started here (smb_lib.sh): a
# share over a copy of sample-data/ (CSV, a partitioned resource set, JSON lines, Parquet, Avro,
# logs, text) plus a name that needs encoding and the Delta tables of tests/fixtures/delta,
# scanned at L3 by `scan run-local smb://…` gives the same assets (paths relative to the share,
# formats, sizes, times, columns, samples' classifications, resource sets, Delta tables) as
# `scan run-local` of the same tree on the disk. With signing
# mandatory on the server, and a second share that requires SMB3 encryption. A wrong password
# fails fast with a clear error and writes no asset; a URL with a user or password is refused
# and not echoed; the same server limited to SMB1 (NT1) is refused. A runtime run of a scan
# naming a replicated credential (1 node) writes the same assets in parts. Canary: the password
# is in no output, log, result, data directory, process listing or worker environment.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/dispatch_lib.sh"
. "$(dirname "$0")/smb_lib.sh"
# Sanitizer builds: libsmbclient is dlopen'd (scan/source/smblib.h), so the thread-local storage
# of Samba's libraries is dynamic, and GCC 12's LeakSanitizer records a bogus dynamic-TLS range
# for one of them (seen: "DTLS 11 at 0x11b-0x8000121d") and its tracer dies on it at exit
# ("Tracer caught signal 11", the worker aborts). use_tls=0 skips scanning TLS for roots; what
# only TLS then keeps (glibc's dlerror buffer) is suppressed in scan/source/smb.c. Every process
# of this test (run-local, its workers, the agent and its workers) inherits it; other tests keep
# the default.
if [ "${SHIR_SANITIZED:-0}" = 1 ]; then
    export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}use_tls=0"
fi
mon= main_pid=
# main_pid: the first smbd while the SMB1-only one runs (a failure there must stop both).
trap '[ -n "$mon" ] && kill "$mon" 2>/dev/null; smb_cleanup; SMB_PID=$main_pid; smb_cleanup
      cleanup' EXIT
canary="smb-canary-$(date +%s%N)-pw"
chmod 755 "$tmp"

# The tree: sample-data and an awkward name; readable by the share's user.
mkdir -p "$tmp/tree"
cp -r "$SHIR_SOURCE_DIR/sample-data/." "$tmp/tree/"
rm -f "$tmp/tree/generate.py"
mkdir -p "$tmp/tree/odd dir/deeper"
printf 'id,email\n' >"$tmp/tree/odd dir/deeper/#1 a=b;c ä%41.csv"
for i in $(seq 1 40); do printf '%d,person%d@example.org\n' "$i" "$i"; done \
    >>"$tmp/tree/odd dir/deeper/#1 a=b;c ä%41.csv"
# Delta tables (tests/fixtures/delta: a classic, a multi-part, a V2 Parquet and a V2 JSON
# checkpoint, commits after it, files removed): each is one `table` asset on the share too.
mkdir "$tmp/tree/lake"
for t in sales sales_multipart sales_v2 sales_v2json; do
    cp -r "$SHIR_SOURCE_DIR/tests/fixtures/delta/$t" "$tmp/tree/lake/"
done
chmod -R a+rX "$tmp/tree"

SHARES="[share]
  path = $tmp/tree
  read only = yes
  valid users = $SMB_USER
[sealed]
  path = $tmp/tree
  read only = yes
  valid users = $SMB_USER
  smb encrypt = required"
mkdir "$tmp/smb"
smb_start "$tmp/smb" "$SHARES" "  server signing = mandatory"
printf '%s\n' "$canary" | smb_user "$tmp/smb"
URL="smb://127.0.0.1:$SMB_PORT/share"

# ps and every worker's environment, sampled while the scans below run. Stopped by a file, not
# a signal: a killed loop can leave a `ps` running that would list the canary searches below.
( while [ ! -e "$tmp/stop-monitor" ]; do
      ps -eo pid,args >>"$tmp/ps.txt" 2>/dev/null
      for p in $(pgrep -f 'shir worker' 2>/dev/null); do
          cat "/proc/$p/environ" >>"$tmp/environ.bin" 2>/dev/null
      done
  done ) &
mon=$!

local_run() { "$SHIR_BIN" scan run-local "$@" --json; }
out=$(local_run "$tmp/tree" --level L3 --sink "jsonl:$tmp/local.jsonl" 2>"$tmp/local.err") ||
    fail "local run: $out $(cat "$tmp/local.err")"
out=$(printf '%s\n' "$canary" | local_run "$URL" --user "$SMB_USER" --password-file - \
    --level L3 --sink "jsonl:$tmp/smb.jsonl" 2>"$tmp/smb.err") ||
    fail "smb run: $out $(cat "$tmp/smb.err") $(tail -n 5 "$tmp/smb/smbd.log")"
printf '%s' "$out" >"$tmp/smb.out"
json_check "$out" 'd["status"]=="ok" and d["errors"]==0 and d["resourceSets"]==2' "smb summary"

# Same assets: keys relative to the root, everything but path and qualifiedName equal (Delta
# tables included: columns, partition columns, tableVersion, liveFiles, rowCount, size).
python3 - "$tmp/local.jsonl" "$tmp/tree" "$tmp/smb.jsonl" "$URL" <<'PY' || fail "assets differ"
import json, sys, urllib.parse
def load(f, pre):
    d = {}
    for line in open(f):
        r = json.loads(line)
        assert r["path"].startswith(pre), r["path"]
        d[r["path"][len(pre):]] = r
    return d
loc, smb = load(sys.argv[1], sys.argv[2]), load(sys.argv[3], sys.argv[4])
assert sorted(loc) == sorted(smb), (sorted(loc), sorted(smb))
for k, r in smb.items():
    l = loc[k]
    q, lq = r.pop("qualifiedName"), l.pop("qualifiedName")
    # Encoded alike: the part below the root is the same string.
    assert q.startswith(sys.argv[4]) and q[len(sys.argv[4]):] == lq.split(sys.argv[2], 1)[1], (q, lq)
    r.pop("path"); l.pop("path")
    assert r == l, (k, r, l)
odd = smb["/odd dir/deeper/#1 a=b;c ä%41.csv"]
cl = {c["name"]: c["classifications"] for c in odd["columns"]}
assert cl["email"] == ["EMAIL_ADDRESS"] and cl["id"] == [], cl
fmts = {r["format"] for r in smb.values()}
assert {"csv", "jsonl", "parquet", "avro", "text"} <= fmts, fmts
assert any(r["type"] == "resource_set" for r in smb.values())
# The Delta tables: read through the share (schema, partition columns, liveFiles, tableVersion,
# rows equal the local run's above; here also what the fixture holds), and no asset for a data
# file or a log file inside them.
names = ("sales", "sales_multipart", "sales_v2", "sales_v2json")
tables = {k: r for k, r in smb.items() if r["type"] == "table"}
assert sorted(tables) == ["/lake/" + t for t in names], sorted(tables)
for k, t in tables.items():
    assert (t["format"], t["tableVersion"], t["liveFiles"], t["rowCount"], t["errors"]) == \
        ("delta", 3, 3, 30, []), (k, t)
    cols = {c["name"]: c["typeDetail"] for c in t["columns"]}
    assert cols["region"] == "string partition" and cols["customer.email"] == "string", (k, cols)
inner = [k for k in smb if k.startswith("/lake/") and k not in tables]
assert not inner, inner
PY

# Parts and resume, as on a local tree: an attempt resumed at part 2 writes parts 2.. exactly as
# the full run did (the walk order, hence every walk index, is the same in every attempt).
for p in full resumed; do
    extra=(); [ "$p" = resumed ] && extra=(--resume-part 2)
    out=$(printf '%s\n' "$canary" | local_run "$URL" --user "$SMB_USER" --password-file - \
        --level L2 --parts "$tmp/parts-$p" --part-size 4 "${extra[@]}" 2>&1) ||
        fail "parts run ($p): $out"
done
full=$(ls "$tmp/parts-full/local/1" | grep -c '^part-')
[ "$full" -ge 5 ] || fail "expected at least 5 parts: $(ls "$tmp/parts-full/local/1")"
[ ! -e "$tmp/parts-resumed/local/1/part-000001.jsonl" ] || fail "the resumed run rewrote part 1"
for f in "$tmp/parts-full/local/1"/part-*.jsonl; do
    case "$f" in */part-000000.jsonl|*/part-000001.jsonl) continue;; esac
    cmp -s "$f" "$tmp/parts-resumed/local/1/${f##*/}" || fail "resumed ${f##*/} differs"
done

# Encryption required by the share: negotiated as the share demands.
out=$(printf '%s\n' "$canary" | local_run "smb://127.0.0.1:$SMB_PORT/sealed/crm" \
    --user "$SMB_USER" --password-file - --level L2 --sink "jsonl:$tmp/sealed.jsonl" 2>&1) ||
    fail "encrypted share: $out"
grep -q '"format":"csv"' "$tmp/sealed.jsonl" || fail "encrypted share: no CSV asset"

# Wrong password: fails fast (a deadline, not a threshold), says why, writes nothing.
out=$(printf 'not-it\n' | timeout 60 "$SHIR_BIN" scan run-local "$URL" --user "$SMB_USER" \
    --password-file - --json --sink "jsonl:$tmp/wrong.jsonl" 2>&1) && fail "wrong password: $out"
expect_match "$out" 'access denied' "wrong password message"
[ -s "$tmp/wrong.jsonl" ] && fail "a refused login wrote assets"
# A password libsmbclient cannot carry is refused before anything is sent.
out=$(head -c 300 /dev/zero | tr '\0' x | timeout 60 "$SHIR_BIN" scan run-local "$URL" \
    --user "$SMB_USER" --password-file - --json --sink "jsonl:$tmp/long.jsonl" 2>&1) &&
    fail "a 300-byte password was taken: $out"
expect_match "$out" '255 bytes' "long password message"
# Credentials never in the URL, and such a URL is not echoed.
# (Not the canary: this one is in argv on purpose.)
out=$("$SHIR_BIN" scan run-local "smb://$SMB_USER:url-pw-x9@127.0.0.1:$SMB_PORT/share" --json \
    --sink "jsonl:$tmp/x.jsonl" 2>&1) && fail "a URL with a password was taken"
expect_match "$out" 'no user, password' "URL with a password"
case "$out" in *url-pw-x9*) fail "the refused URL was echoed";; esac
out=$("$SHIR_BIN" scan run-local "$tmp/tree" --user u --password-file /dev/null 2>&1) &&
    fail "--user on a path was taken"

# The same server limited to SMB1 is refused (only the protocol lines differ).
mkdir "$tmp/smb1"
main_pid=$SMB_PID main_port=$SMB_PORT
smb_start "$tmp/smb1" "$SHARES" "  server min protocol = NT1
  server max protocol = NT1"
printf '%s\n' "$canary" | smb_user "$tmp/smb1"
out=$(printf '%s\n' "$canary" | timeout 60 "$SHIR_BIN" scan run-local \
    "smb://127.0.0.1:$SMB_PORT/share" --user "$SMB_USER" --password-file - --json \
    --sink "jsonl:$tmp/smb1.jsonl" 2>&1) && fail "an SMB1-only server was used: $out"
expect_match "$out" 'did not negotiate SMB2 or SMB3' "SMB1 refusal message"
smb_stop
SMB_PID=$main_pid SMB_PORT=$main_port main_pid=

# A runtime run: the credential replicated and sealed, opened by the node that runs the scan.
start n1
form n1 smbrt >/dev/null
expect_view 60 n1 's["n1"]["status"]=="Online"' "runtime not formed"
out=$(printf '%s\n' "$canary" | "$SHIR_BIN" credentials set smb.ro --user "$SMB_USER" \
    --password-file - --data-dir "$tmp/n1" --json) || fail "credentials set: $out"
mkdir "$tmp/out"
out=$(scan n1 create files --source "$URL" --sink "jsonl:$tmp/out" --level L3 \
    --credential smb.ro) || fail "scan create: $out $(logs)"
json_check "$out" 'd["source"]=="'"$URL"'" and d["credential"]=="smb.ro"' "scan create"
out=$(scan n1 run files) || fail "scan run: $out"
id=$(json_get "$out" 'd["run"]')
expect_run 120 n1 "$id" 'r["state"]=="succeeded"' "the SMB run did not succeed"
[ -f "$tmp/out/files/$id/_SUCCESS" ] || fail "no _SUCCESS: $(ls -R "$tmp/out")"
diff <(LC_ALL=C sort "$tmp/smb.jsonl") <(cat "$tmp/out/files/$id"/part-*.jsonl | LC_ALL=C sort) \
    >"$tmp/parts.diff" || fail "the runtime run's parts differ from run-local: $(head -c 2000 "$tmp/parts.diff")"
touch "$tmp/stop-monitor"; wait "$mon"; mon=
[ -s "$tmp/ps.txt" ] || fail "ps was not sampled"

# The canary: in no output, log, result, data directory, process listing or environment.
for where in "$tmp/n1" "$tmp/n1.log" "$tmp/ps.txt" "$tmp/out" "$tmp/smb.jsonl" "$tmp/smb.err" \
    "$tmp/smb.out" "$tmp/local.err"; do
    if grep -rqa -- "$canary" "$where"; then
        fail "the canary password is in $where: $(grep -rah -- "$canary" "$where" | head -n 3 |
            sed "s/$canary/CANARY/g" | cut -c1-300)"
    fi
done
if [ -e "$tmp/environ.bin" ] && grep -qa -- "$canary" "$tmp/environ.bin"; then
    fail "the canary password is in a worker's environment"
fi
stop_all
smb_stop
pass
