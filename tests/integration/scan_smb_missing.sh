#!/usr/bin/env bash
# A machine without libsmbclient (scan/source/smblib.h: it is dlopen'd on the first smb://
# source, not linked). The test re-runs itself in a private mount namespace (unshare -m) where an
# overlay with a whiteout over the library directory removes libsmbclient.so.0 for real: the
# loader sees "No such file or directory", exactly as on a host without the package, and nothing
# outside the namespace changes. There: no binary needs it to start (`shir version`, an agent);
# `scan run-local smb://…` fails with what to install and exit 1, without a crash; a runtime run
# of an SMB scan fails with the same reason; `run-local` of a tree and of an SQLite database,
# and a runtime run of a tree, still succeed. Needs root (mount namespaces, overlayfs).
set -u
if [ -z "${SHIR_NOSMB_NS:-}" ]; then
    name=$(basename "$0" .sh)
    [ "$(id -u)" -eq 0 ] || { echo "SKIP [$name]: needs root for a mount namespace"; exit 77; }
    for t in unshare mount mknod ldconfig sqlite3; do
        command -v $t >/dev/null || { echo "SKIP [$name]: $t is not installed"; exit 77; }
    done
    SHIR_NOSMB_NS=1 exec unshare --mount --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/dispatch_lib.sh"

# Hide the library: a whiteout (character device 0/0) in an upper layer over its directory.
lib=$(ldconfig -p | awk '/libsmbclient\.so\.0 /{print $NF; exit}')
[ -n "$lib" ] || fail "libsmbclient.so.0 is not installed here, so the test proves nothing"
dir=$(readlink -f "$(dirname "$lib")")
mkdir "$tmp/wh"
mknod "$tmp/wh/libsmbclient.so.0" c 0 0 || fail "mknod"
mount -t overlay shir-nosmb -o "lowerdir=$tmp/wh:$dir" "$dir" || fail "cannot mount the overlay"
[ ! -e "$dir/libsmbclient.so.0" ] || fail "libsmbclient.so.0 is still visible"
[ -e "$lib" ] && fail "$lib is still visible"
# The binary links none of it (ldd would fail on a missing NEEDED library).
ldd "$SHIR_BIN" >"$tmp/ldd.txt" 2>&1 || fail "ldd: $(cat "$tmp/ldd.txt")"
grep -qE 'smbclient|not found' "$tmp/ldd.txt" &&
    fail "shir still needs: $(grep -E 'smbclient|not found' "$tmp/ldd.txt")"
"$SHIR_BIN" version >/dev/null 2>"$tmp/version.err" ||
    fail "shir version: $(cat "$tmp/version.err")"

# run-local of a share: a failed scan with the reason, exit 1 (no crash, no sanitizer report).
why='SMB sources need libsmbclient: apt-get install libsmbclient '
why+='\(libsmbclient\.so\.0: cannot open shared object file'
out=$(printf 'pw\n' | "$SHIR_BIN" scan run-local smb://127.0.0.1:9/share --user u \
    --password-file - --json --sink "jsonl:$tmp/smb.jsonl" 2>"$tmp/smb.err")
rc=$?
[ "$rc" -eq 1 ] || fail "run-local smb:// exited $rc, expected 1: $out $(cat "$tmp/smb.err")"
json_check "$out" 'd["status"]=="failed" and d["assets"]==0' "smb summary"
expect_match "$out" "$why" "the reason in the summary"
expect_match "$(cat "$tmp/smb.err")" "scan failed: $why" "the reason on stderr"
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$tmp/smb.err" &&
    fail "sanitizer report: $(cat "$tmp/smb.err")"

# Local and database sources do not need it.
mk_tree "$tmp/tree" 20
out=$("$SHIR_BIN" scan run-local "$tmp/tree" --json --sink "jsonl:$tmp/local.jsonl" \
    2>"$tmp/local.err") ||
    fail "run-local of a tree: $out $(cat "$tmp/local.err")"
json_check "$out" 'd["status"]=="ok" and d["filesSeen"]==20 and d["errors"]==0' "tree summary"
sqlite3 "$tmp/shop.db" "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT);
    INSERT INTO customers VALUES (1, 'p1@example.org');" || fail "sqlite fixture"
out=$("$SHIR_BIN" scan run-local "sqlite://$tmp/shop.db" --json --sink "jsonl:$tmp/db.jsonl" \
    2>"$tmp/db.err") || fail "run-local of sqlite: $out $(cat "$tmp/db.err")"
json_check "$out" 'd["status"]=="ok" and d["assets"]==2' "sqlite summary (a schema and a table)"

# A runtime: the agent starts, an SMB run fails with the reason, a tree run succeeds.
start n1
form n1 nosmb >/dev/null
expect_view 60 n1 's["n1"]["status"]=="Online"' "runtime not formed"
mkdir "$tmp/out"
out=$(scan n1 create share --source smb://127.0.0.1:9/share --sink "jsonl:$tmp/out") ||
    fail "scan create share: $out $(logs)"
out=$(scan n1 run share) || fail "scan run share: $out"
id=$(json_get "$out" 'd["run"]')
expect_run 120 n1 "$id" \
    'r["state"]=="failed" and "apt-get install libsmbclient" in r.get("error","")' \
    "the SMB run did not fail with the reason"
out=$(scan n1 create tree --source "$tmp/tree" --sink "jsonl:$tmp/out") ||
    fail "scan create tree: $out $(logs)"
out=$(scan n1 run tree) || fail "scan run tree: $out"
id=$(json_get "$out" 'd["run"]')
expect_run 120 n1 "$id" 'r["state"]=="succeeded"' "the tree run did not succeed"
pass
