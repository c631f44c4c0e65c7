#!/usr/bin/env bash
# The `shir` binary's contract: version output, help, usage errors exit 2.
set -u
. "$(dirname "$0")/lib.sh"

out=$("$SHIR_BIN" --version) || fail "--version exited $?"
expect_match "$out" '^shir [0-9]+\.[0-9]+\.[0-9]+' "version line"
expect_match "$out" 'raft +0\.2[2-9]\.' "raft 0.22.x"
for lib in libuv OpenSSL libcurl msgpack-c vectorscan zlib; do
    expect_match "$out" "$lib" "$lib version"
done
json=$("$SHIR_BIN" version --json) || fail "version --json exited $?"
echo "$json" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["libraries"]["raft"].startswith("0.2")' ||
    fail "version --json is not the documented JSON: $json"

"$SHIR_BIN" help >/dev/null || fail "help exited $?"
"$SHIR_BIN" help version | grep -q '^usage: shir version' || fail "help version"
"$SHIR_BIN" version --help | grep -q '^usage: shir version' || fail "version --help"

expect_exit 2 "$SHIR_BIN"
expect_exit 2 "$SHIR_BIN" no-such-command
expect_exit 2 "$SHIR_BIN" version --bogus
expect_exit 2 "$SHIR_BIN" help no-such-command
err=$("$SHIR_BIN" no-such-command 2>&1 >/dev/null)
expect_match "$err" "unknown command 'no-such-command'" "unknown command message"
expect_match "$err" "usage: shir COMMAND" "usage after an unknown command"

# With --json every failure prints one JSON object on stdout, a usage error (exit 2) too, in
# every command (not only `scan`): {"error":{"code":"USAGE","message":...}}, the usage on stderr.
while IFS= read -r line; do
    read -ra args <<<"$line"
    out=$("$SHIR_BIN" "${args[@]}" --json 2>/dev/null)
    rc=$?
    [ "$rc" -eq 2 ] || fail "'shir $line --json' exited $rc, expected 2"
    json_check "$out" 'd["error"]["code"]=="USAGE" and d["error"]["message"] and len(d)==1' \
        "'shir $line --json' prints the usage error as one JSON object"
done <<'EOF'
status --bogus
status extra
nodes set n1 --capacity 0
nodes frob
settings set
init
join
diag
snapshot save
keys regenerate key3
proxy set
leave extra
credentials set x
scan frob
scan create x
scan run-local /tmp --level=L9
EOF
pass
