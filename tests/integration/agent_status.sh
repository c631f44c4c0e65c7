#!/usr/bin/env bash
# `shir agent` and `shir status` over the admin socket: an unregistered node reports
# NeedRegistration; the data directory and socket are private; one agent per data directory;
# garbage on the socket does not hurt the agent; another user gets a permission message and a
# stopped agent a timeout that says what to check; SIGTERM stops it cleanly.
set -u
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d); agent_pid=
cleanup() { [ -n "$agent_pid" ] && kill -9 "$agent_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
dir="$tmp/data"

# No agent: a one-line reason and exit 1, fast; with --json also an error object on stdout
# (issue 12, defect 4), for every client command.
err=$("$SHIR_BIN" status --data-dir "$dir" 2>&1) && fail "status without an agent succeeded"
expect_match "$err" "no agent is running on data directory" "status without agent"
for cmd in "status" "nodes list" "keys show" "settings show" "proxy show" "proxy clear" "leave" \
           "recover --yes" "snapshot save $tmp/snap" "join --key SHIR1-x"; do
    out=$("$SHIR_BIN" $cmd --data-dir "$dir" --json 2>/dev/null); rc=$?
    [ "$rc" = 1 ] || fail "$cmd --json without an agent exited $rc: $out"
    json_check "$out" 'd["error"]["code"]=="UNAVAILABLE" and "no agent is running" in d["error"]["message"]' \
        "$cmd --json failure object"
done

# Bad flags are usage errors.
expect_exit 2 "$SHIR_BIN" agent --data-dir "$dir" --listen nonsense
expect_exit 2 "$SHIR_BIN" agent --data-dir "$dir" --listen 127.0.0.1:70000
expect_exit 2 "$SHIR_BIN" agent --data-dir "$dir" --node-name 'a b'
expect_exit 2 "$SHIR_BIN" agent --data-dir "$dir" --bogus
expect_exit 2 "$SHIR_BIN" status --data-dir "$dir" extra
expect_exit 2 "$SHIR_BIN" status --data-dir

"$SHIR_BIN" agent --data-dir "$dir" --listen 127.0.0.1:18060 --node-name n1 2>"$tmp/agent.log" &
agent_pid=$!
wait_until 20 "$SHIR_BIN" status --data-dir "$dir" || fail "agent did not answer: $(cat "$tmp/agent.log")"

json=$("$SHIR_BIN" status --data-dir "$dir" --json) || fail "status --json exited $?"
echo "$json" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["runtime"] is None and d["leader"] is None and d["term"] == 0, d
n = d["nodes"]
assert len(n) == 1 and n[0]["name"] == "n1" and n[0]["status"] == "NeedRegistration", n
assert n[0]["address"] == "127.0.0.1:18060", n
assert "not registered" in d["quorum"]["summary"], d
' || fail "status --json: $json"
# One flag parser (issue 12, defect 5): --data-dir=DIR, and SHIR_DATA_DIR for every client
# command, a flag still winning over it.
[ "$("$SHIR_BIN" status --data-dir="$dir" --json)" = "$json" ] || fail "status --data-dir=DIR"
[ "$(SHIR_DATA_DIR="$dir" "$SHIR_BIN" status --json)" = "$json" ] || fail "status from SHIR_DATA_DIR"
SHIR_DATA_DIR="$tmp/elsewhere" "$SHIR_BIN" status --data-dir "$dir" >/dev/null ||
    fail "--data-dir does not override SHIR_DATA_DIR"
err=$(SHIR_DATA_DIR="$tmp/elsewhere" "$SHIR_BIN" status 2>&1) && fail "SHIR_DATA_DIR ignored"
expect_match "$err" "no agent is running on data directory $tmp/elsewhere" "SHIR_DATA_DIR named"
# One naming style (issue 12, defect 4): every key of status is camelCase.
printf '%s' "$json" | python3 -c '
import json, sys
def keys(v):
    if isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from keys(x)
    elif isinstance(v, list):
        for x in v:
            yield from keys(x)
bad = [k for k in keys(json.load(sys.stdin)) if "_" in k]
assert not bad, bad' || fail "status --json keys not camelCase: $json"
human=$("$SHIR_BIN" status --data-dir "$dir") || fail "status exited $?"
expect_match "$human" "NeedRegistration" "human status"
expect_match "$human" "^runtime: +\(not registered\)" "human runtime line"

[ "$(stat -c %a "$dir")" = 700 ] || fail "data directory mode $(stat -c %a "$dir")"
[ "$(stat -c %a "$dir/admin.sock")" = 600 ] || fail "admin socket mode $(stat -c %a "$dir/admin.sock")"

# A second agent on the same directory refuses to start and leaves the first one alone.
err=$("$SHIR_BIN" agent --data-dir "$dir" --listen 127.0.0.1:18061 2>&1) && fail "second agent started"
expect_match "$err" "another agent is running" "second agent"
"$SHIR_BIN" status --data-dir "$dir" >/dev/null || fail "first agent hurt by the second"

# Garbage, an oversize frame header and an unknown method: the agent answers or hangs up, and
# keeps serving.
python3 - "$dir/admin.sock" <<'PY' || fail "garbage client script failed"
import socket, struct, sys
path = sys.argv[1]
for payload in [b"GET / HTTP/1.1\r\n\r\n", struct.pack(">I", 0xFFFFFFF0) + b"x", b"\x00\x00\x00\x01\xc1"]:
    s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(path); s.sendall(payload)
    try:
        s.recv(4096)
    except socket.timeout:
        sys.exit("agent neither answered nor closed")
    s.close()
# [0, id=7, deadline=1000, "nope", nil] -> an error response with our id
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(path)
msg = bytes([0x95, 0x00, 0x07, 0xcd, 0x03, 0xe8, 0xa4]) + b"nope" + b"\xc0"
s.sendall(struct.pack(">I", len(msg)) + msg)
reply = s.recv(4096)
assert reply[4] == 0x94 and reply[5] == 0x02 and reply[6] == 0x07, reply
PY
"$SHIR_BIN" status --data-dir "$dir" >/dev/null || fail "agent stopped serving after garbage"

# Issue 12, defect 7: errors that point the right way. Another user reaching this agent's
# private directory is a permission problem, not a missing agent.
if [ "$(id -u)" = 0 ]; then
    err=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$SHIR_BIN" status --data-dir "$dir" 2>&1) &&
        fail "another user reached a private admin socket"
else
    chmod 000 "$dir"
    err=$("$SHIR_BIN" status --data-dir "$dir" 2>&1); rc=$?
    chmod 700 "$dir"
    [ "$rc" -ne 0 ] || fail "status through a directory without access succeeded"
fi
expect_match "$err" "permission denied on the agent's admin socket" "permission message"
expect_match "$err" "run this command as that user .* or with sudo" "permission fix"
printf '%s' "$err" | grep -q "no agent is running" && fail "a permission problem read as no agent: $err"
# An agent that accepts but does not answer (stopped): say what to check.
kill -STOP "$agent_pid"
err=$("$SHIR_BIN" status --data-dir "$dir" 2>&1); rc=$?
kill -CONT "$agent_pid"
[ "$rc" -eq 1 ] || fail "status of a stopped agent exited $rc: $err"
expect_match "$err" "accepted but did not answer 'status' within [0-9]+ ms: check that its process is not stopped" \
    "timeout message"
expect_match "$err" "its log" "timeout message names the log"
"$SHIR_BIN" status --data-dir "$dir" >/dev/null || fail "agent did not serve again after SIGCONT"

kill -TERM "$agent_pid"
wait_until 20 bash -c "! kill -0 $agent_pid" || fail "agent did not stop on SIGTERM"
wait "$agent_pid"; rc=$?; agent_pid=
[ "$rc" -eq 0 ] || fail "agent exited $rc on SIGTERM: $(cat "$tmp/agent.log")"
[ ! -e "$dir/admin.sock" ] || fail "admin socket left behind"
expect_match "$(cat "$tmp/agent.log")" "agent stopped" "stop logged"
pass
