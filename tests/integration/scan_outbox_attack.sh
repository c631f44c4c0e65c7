#!/usr/bin/env bash
# The Atlas outbox under a local attacker: whatever sits in the outbox is POSTed to the Atlas
# endpoint, so a planted symlink named like a batch would make a root scan send a root-only file
# (and let the planter inject entities). An outbox that others can write to, that another user
# owns, or that is a symlink is refused before anything is sent; a symlink named like a batch in
# a private outbox is skipped and reported, never followed. The default outbox is
# DATA_DIR/outbox, created 0700.
set -u
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d /tmp/shir-scan-outbox.XXXXXX)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$T"' EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY all_proxy ALL_PROXY

mkdir -p "$T/src" "$T/srv" && echo 'a,b' > "$T/src/x.csv"
secret="root-only-$RANDOM-$RANDOM"
printf '{"entities":[{"typeName":"fs_path","attributes":{"qualifiedName":"%s"}}]}' "$secret" \
    > "$T/secret" && chmod 600 "$T/secret"
python3 "$(dirname "$0")/scan_atlas_server.py" "$T/srv" & server=$!
wait_until 10 test -s "$T/srv/port" || fail "atlas stand-in did not start"
url="http://127.0.0.1:$(cat "$T/srv/port")"
batch=batch-0000000000001-1-000001-n1.json

scan() { # OUTBOX-FLAGS... -> exit status in $rc, stdout in $T/out, stderr in $T/err
    "$SHIR_BIN" scan run-local "$T/src" --sink "atlas:$url" --retries 1 --json "$@" \
        >"$T/out" 2>"$T/err"
    rc=$?
}
never_sent() { # WHAT
    if grep -rqF "$secret" "$T/srv"; then fail "$1: the secret file reached the Atlas endpoint"; fi
}
requests() { ls "$T/srv" | grep -c '^req-.*\.json$'; }

# 1. The attack: a world-writable (sticky, like /var/tmp) outbox with a planted batch symlink.
mkdir -p "$T/pub/outbox" && chmod 1777 "$T/pub/outbox"
ln -s "$T/secret" "$T/pub/outbox/$batch"
scan --outbox "$T/pub/outbox"
never_sent "world-writable outbox"
[ "$rc" -eq 1 ] || fail "world-writable outbox: exit $rc, expected 1 ($(cat "$T/err"))"
expect_match "$(cat "$T/err")" \
    "outbox $T/pub/outbox is writable by group or others \\(mode 1777\\); refusing it" "refusal says why"
[ "$(requests)" -eq 0 ] || fail "a refused outbox still sent $(requests) requests"
[ "$(stat -c %a "$T/pub/outbox")" = 1777 ] || fail "the outbox mode was changed"
[ -L "$T/pub/outbox/$batch" ] || fail "the planted link was touched"

# 2. Another user's outbox (root only: a test cannot hand a directory to someone else).
if [ "$(id -u)" -eq 0 ]; then
    mkdir -p "$T/foreign" && ln -s "$T/secret" "$T/foreign/$batch"
    chown -h 65534:65534 "$T/foreign" "$T/foreign/$batch" && chmod 755 "$T/foreign"
    scan --outbox "$T/foreign"
    never_sent "foreign-owned outbox"
    [ "$rc" -eq 1 ] || fail "foreign-owned outbox: exit $rc, expected 1"
    expect_match "$(cat "$T/err")" "outbox $T/foreign belongs to uid 65534" "foreign refusal"
    [ "$(requests)" -eq 0 ] || fail "a foreign outbox still sent requests"
    [ "$(stat -c %u "$T/foreign")" = 65534 ] || fail "the outbox owner was changed"
else
    echo "not root: the foreign-owner case is not exercised"
fi

# 3. The outbox path itself a symlink (to a private directory).
mkdir -m 700 "$T/private" && ln -s "$T/private" "$T/oblink"
scan --outbox "$T/oblink"
[ "$rc" -eq 1 ] || fail "symlinked outbox: exit $rc, expected 1"
expect_match "$(cat "$T/err")" "outbox $T/oblink is a symlink; refusing it" "symlink refusal"
[ "$(requests)" -eq 0 ] || fail "a symlinked outbox still sent requests"

# 4. A private outbox holding a symlink named like a batch: the scan delivers its own results,
#    skips the link and says so, and never reads what it points to.
ln -s "$T/secret" "$T/private/$batch"
scan --outbox "$T/private"
never_sent "private outbox with a planted link"
[ "$rc" -eq 0 ] || fail "private outbox: exit $rc ($(cat "$T/err"))"
expect_match "$(cat "$T/err")" "outbox entry $T/private/$batch is not a regular file" "skip reported"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert d["delivered"] == d["assets"] > 0 and d["queued"] == 0, d' "$T/out" ||
    fail "own results not delivered: $(cat "$T/out")"
[ -L "$T/private/$batch" ] || fail "the planted link was removed"

# 5. The default outbox: DATA_DIR/outbox, both created 0700 (endpoint down: batches wait there).
kill "$server"; wait "$server" 2>/dev/null; server=
scan --data-dir "$T/data"
[ "$rc" -eq 0 ] || fail "default outbox run: exit $rc ($(cat "$T/err"))"
[ "$(stat -c %a "$T/data")" = 700 ] && [ "$(stat -c %a "$T/data/outbox")" = 700 ] ||
    fail "data dir/outbox modes: $(stat -c '%n %a' "$T/data" "$T/data/outbox")"
ls "$T/data/outbox" | grep -q '^batch-.*\.json$' || fail "no batch in DATA_DIR/outbox"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["queued"]==d["assets"]>0, d' \
    "$T/out" || fail "batches not queued: $(cat "$T/out")"
pass
