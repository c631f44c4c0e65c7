#!/usr/bin/env bash
# `shir scan run-local` on a generated tree: summary (table and JSON), JSON-lines assets with
# normalised qualified names, resource sets, globs, symlink containment, --flag=value, file
# names that are not UTF-8, usage errors.
set -u
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d /tmp/shir-scan-rl.XXXXXX)
trap 'rm -rf "$T"' EXIT

python3 - "$T/src" <<'PY'
import os, sys
root = sys.argv[1]
def put(rel, data):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(data)
put("people.csv", "name,email\nann,ann@example.com\nbob,bob@example.com\n")
put("events.jsonl", '{"id":1,"ip":"10.0.0.1"}\n{"id":2,"ip":"10.0.0.2"}\n')
put("my file #1.txt", "hello\n")
for m in range(1, 4):
    for p in range(1, 5):
        put(f"sales/year=2025/month={m:02d}/part-{p:04d}.csv", "sku,qty\na,1\n")
for d in range(1, 10):
    put(f"logs/2025-11-0{d}.log", f"line {d}\n")
put("tmp/skip.csv", "x\n")
PY
mkdir -p "$T/outside" && echo secret > "$T/outside/secret.txt"
ln -s "$T/outside" "$T/src/escape"
ln -s .. "$T/src/logs/loop"

out=$("$SHIR_BIN" scan run-local "$T/src" --sink "jsonl:$T/l1.jsonl" 2>"$T/err") ||
    fail "L1 run exited $?: $(cat "$T/err")"
expect_match "$out" '^status +ok' "status"
expect_match "$out" 'files seen +25' "files seen"
expect_match "$out" 'resource sets +2' "resource sets"
expect_match "$out" 'errors +2' "the escape and the loop are reported"
expect_match "$(cat "$T/err")" 'escape: symlink leads outside the root' "escape reported"
expect_match "$(cat "$T/err")" 'loop: directory loop' "loop reported"

python3 - "$T/l1.jsonl" "$T/src" <<'PY' || fail "L1 JSON lines"
import json, sys, socket
rows = [json.loads(l) for l in open(sys.argv[1])]
root = sys.argv[2]
host = socket.gethostname()
by = {r["qualifiedName"]: r for r in rows}
for r in rows:
    for k in ("qualifiedName", "type", "format", "modified", "columns", "classifications", "errors"):
        assert k in r, (k, r)
    assert r["qualifiedName"].startswith("file://" + host + "/"), r
    assert r["modified"].endswith("Z"), r
    assert "secret" not in json.dumps(r), r
base = "file://" + host + root
sales = by[base + "/sales/year={N}/month={N}/part-{N}.csv"]
assert sales["type"] == "resource_set" and sales["partitionCount"] == 12, sales
assert sales["format"] == "csv" and sales["size"] == 12 * 12, sales
logs = by[base + "/logs/{Date}.log"]
assert logs["partitionCount"] == 9 and logs["format"] == "text", logs
f = by[base + "/my%20file%20%231.txt"]
assert f["type"] == "file" and f["size"] == 6, f
assert by[base + "/people.csv"]["format"] == "csv"
assert by[base + "/events.jsonl"]["format"] == "jsonl"
assert by[base + "/sales"]["type"] == "directory"
assert len([r for r in rows if r["type"] == "file"]) == 4, [r["qualifiedName"] for r in rows]
PY

# Globs, file:// URL source, JSON summary, L2; --flag=value and --flag value mixed (issue 12,
# defect 5: run-local refused --level=L2).
json=$("$SHIR_BIN" scan run-local "file://localhost$T/src" --level=L2 --include='*.csv' \
    --exclude tmp --exclude=sales --no-directories --json --sink="jsonl:$T/l2.jsonl" 2>"$T/err") ||
    fail "L2 run exited $?: $(cat "$T/err")"
python3 - "$json" "$T/l2.jsonl" <<'PY' || fail "L2 summary/assets: $json"
import json, sys
s = json.loads(sys.argv[1])
assert s["status"] == "ok" and s["filesSeen"] == 1 and s["assets"] == 1, s
assert s["bytesRead"] > 0, s
rows = [json.loads(l) for l in open(sys.argv[2])]
assert [r["qualifiedName"].rsplit("/", 1)[1] for r in rows] == ["people.csv"], rows
PY

# Following symlinks out of the root is opt-in.
"$SHIR_BIN" scan run-local "$T/src" --follow-symlinks --include 'secret*' --no-directories \
    --sink "jsonl:$T/f.jsonl" >/dev/null 2>&1 || fail "follow run"
grep -q '/escape/secret.txt' "$T/f.jsonl" || fail "--follow-symlinks did not follow"

# Unreadable paths are reported per path and the scan goes on (as an unprivileged user).
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
    mkdir -p "$T/src/locked" && echo x > "$T/src/locked/x.csv" && chmod 000 "$T/src/locked"
    chmod 755 "$T" && chmod -R a+rX "$T/src" 2>/dev/null; chmod 000 "$T/src/locked"
    if setpriv --reuid=65534 --regid=65534 --clear-groups "$SHIR_BIN" --version >/dev/null 2>&1; then
        out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$SHIR_BIN" scan run-local \
            "$T/src" 2>"$T/err") || fail "unreadable dir failed the scan: $(cat "$T/err")"
        expect_match "$(cat "$T/err")" 'locked: cannot open directory: [Pp]ermission denied' "locked reported"
    fi
    chmod 755 "$T/src/locked"
fi

# Issue 12, defect 6: a file name that is not UTF-8 (byte 0xff) still gives valid UTF-8 JSON
# lines: U+FFFD in "path", the raw bytes in "pathBytes" (base64), qualifiedName percent-encoded;
# a UTF-8 name gets no pathBytes. The CLI's JSON printer follows the same rule.
mkdir -p "$T/u8/d$(printf '\xfe')" && echo 'a,b' > "$T/u8/caf$(printf '\xff').csv" &&
    echo 'a,b' > "$T/u8/d$(printf '\xfe')/ok-é.csv"
"$SHIR_BIN" scan run-local "$T/u8" --sink "jsonl:$T/u8.jsonl" >/dev/null 2>"$T/err" ||
    fail "0xff run exited $?: $(cat "$T/err")"
python3 - "$T/u8.jsonl" "$T/u8" <<'PY' || fail "0xff names: not valid UTF-8 JSON lines"
import base64, json, os, sys
raw = open(sys.argv[1], "rb").read()
lines = raw.split(b"\n")
assert lines[-1] == b"" and len(lines) > 1, raw
rows = []
for l in lines[:-1]:
    rows.append(json.loads(l.decode("utf-8", errors="strict")))  # strict: any bad byte raises
root = os.fsencode(sys.argv[2])
by = {base64.b64decode(r["pathBytes"]) if "pathBytes" in r else r["path"].encode(): r for r in rows}
want = {root + b"/caf\xff.csv", root + b"/d\xfe", root + b"/d\xfe/ok-\xc3\xa9.csv"}
assert want <= set(by), sorted(by)
bad = by[root + b"/caf\xff.csv"]
assert bad["path"].endswith("/caf\ufffd.csv"), bad
assert bad["qualifiedName"].endswith("/caf%FF.csv"), bad
assert "pathBytes" not in by[root]
for r in rows:
    assert ("pathBytes" in r) == ("\ufffd" in r["path"]), r
PY
out=$("$SHIR_BIN" diag --output "$T/bundle-$(printf '\xff').tar.gz" --data-dir "$T/no-agent" --json 2>/dev/null) ||
    fail "diag exited $?"
printf '%s' "$out" | python3 -c '
import json, sys
d = json.loads(sys.stdin.buffer.read().decode("utf-8", errors="strict"))
assert d["output"].endswith("/bundle-\ufffd.tar.gz"), d' || fail "CLI JSON with a 0xff path: $out"

# Usage errors exit 2; a bad source is one line and exit 1.
expect_exit 2 "$SHIR_BIN" scan
expect_exit 2 "$SHIR_BIN" scan run-local
expect_exit 2 "$SHIR_BIN" scan run-local "$T/src" --level L9
expect_exit 2 "$SHIR_BIN" scan run-local "$T/src" --bogus
expect_exit 2 "$SHIR_BIN" scan run-local "$T/src" --sink ftp:x
expect_exit 2 "$SHIR_BIN" scan run-local "$T/src" --proxy-mode custom
expect_exit 2 "$SHIR_BIN" scan run-local "$T/src" --level=L9
expect_exit 2 "$SHIR_BIN" scan run-local "$T/src" "$T/src"
err=$("$SHIR_BIN" scan run-local "$T/src" --json=yes 2>&1); [ $? -eq 2 ] || fail "--json=yes was taken"
expect_match "$err" "--json takes no value" "value on a flag without one"
err=$("$SHIR_BIN" scan run-local "$T/src" --level 2>&1); [ $? -eq 2 ] || fail "--level without a value was taken"
expect_match "$err" "--level needs a value" "flag without its value"
err=$("$SHIR_BIN" scan run-local "$T/src" --bogus=1 2>&1); [ $? -eq 2 ] || fail "--bogus=1 was taken"
expect_match "$err" "unknown flag '--bogus'" "unknown flag with a value"
# A prefix of a flag is not the flag (getopt_long would take --lev for --level): a flag added
# later must not change what an operator's script meant.
err=$("$SHIR_BIN" scan run-local "$T/src" --lev 1 2>&1); [ $? -eq 2 ] || fail "--lev was taken for --level"
expect_match "$err" "unknown flag '--lev'" "abbreviated flag"
err=$("$SHIR_BIN" scan run-local "$T/src" --lev=1 2>&1); [ $? -eq 2 ] || fail "--lev=1 was taken for --level"
expect_match "$err" "unknown flag '--lev'" "abbreviated flag with a value"
err=$("$SHIR_BIN" scan run-local "$T/nope" 2>&1 >/dev/null); rc=$?
[ "$rc" -eq 1 ] || fail "bad source exited $rc"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "bad source: more than one line: $err"
expect_match "$err" "cannot scan $T/nope: No such file or directory" "bad source message"
expect_exit 1 "$SHIR_BIN" scan run-local "file://otherhost/x"
pass
