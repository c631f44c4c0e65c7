#!/usr/bin/env bash
# The agent under systemd, without systemd: READY=1 reaches a NOTIFY_SOCKET this test binds once
# the agent serves (its status answers), STOPPING=1 on SIGTERM; log lines carry journald's "<N>"
# priority prefixes only when JOURNAL_STREAM names the agent's stderr; the unit file scores
# "OK" (<= 3.0) in systemd-analyze's offline security check when that tool is installed.
set -u
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d); pid=; lpid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    [ -n "$lpid" ] && kill "$lpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
port=$(free_port)

# The notify socket: a datagram listener that appends each message, newlines as '|', to a file.
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2], "w").close()
while True:
    m = s.recv(4096).decode()
    with open(sys.argv[2], "a") as f:
        f.write(m.replace("\n", "|") + "\n")
' "$tmp/notify.sock" "$tmp/notify.log" &
lpid=$!
wait_until 10 test -S "$tmp/notify.sock" || fail "notify listener did not start"

NOTIFY_SOCKET=$tmp/notify.sock "$SHIR_BIN" agent --data-dir "$tmp/d" --listen "127.0.0.1:$port" \
    --node-name n1 2>"$tmp/agent.log" &
pid=$!
wait_until 20 grep -q '^READY=1|STATUS=serving (NeedRegistration)$' "$tmp/notify.log" ||
    fail "no READY=1: $(cat "$tmp/notify.log") $(cat "$tmp/agent.log")"
# Ready means serving: status answers at once (no waiting).
"$SHIR_BIN" status --data-dir "$tmp/d" >/dev/null || fail "READY=1 before the agent answers"
! grep -q STOPPING "$tmp/notify.log" || fail "STOPPING before a stop"
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
[ "$rc" = 0 ] || fail "agent exited $rc: $(cat "$tmp/agent.log")"
wait_until 10 grep -q '^STOPPING=1' "$tmp/notify.log" || fail "no STOPPING=1: $(cat "$tmp/notify.log")"
# Without journald's stream the log is plain.
! grep -q '^<[0-9]>' "$tmp/agent.log" || fail "priority prefixes without JOURNAL_STREAM"

# JOURNAL_STREAM naming stderr's file: every line starts with its priority (<6> info, <4> warn).
: >"$tmp/journal.log"
js=$(stat -c '%d:%i' "$tmp/journal.log")
JOURNAL_STREAM=$js "$SHIR_BIN" agent --data-dir "$tmp/d" --listen "127.0.0.1:$port" \
    --node-name n1 2>>"$tmp/journal.log" &
pid=$!
wait_until 20 "$SHIR_BIN" status --data-dir "$tmp/d" || fail "agent did not answer: $(cat "$tmp/journal.log")"
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
[ "$rc" = 0 ] || fail "agent exited $rc: $(cat "$tmp/journal.log")"
grep -q '^<6>.* INFO  .*agent started' "$tmp/journal.log" || fail "no <6> prefix: $(cat "$tmp/journal.log")"
! grep -qv '^<[3467]>' "$tmp/journal.log" || fail "a line without a prefix: $(cat "$tmp/journal.log")"

# JOURNAL_STREAM naming another file (inherited from a parent whose stderr was the journal): plain.
: >"$tmp/other.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$tmp/journal.log") "$SHIR_BIN" agent --data-dir "$tmp/d" \
    --listen "127.0.0.1:$port" --node-name n1 2>>"$tmp/other.log" &
pid=$!
wait_until 20 "$SHIR_BIN" status --data-dir "$tmp/d" || fail "agent did not answer: $(cat "$tmp/other.log")"
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
[ "$rc" = 0 ] || fail "agent exited $rc"
! grep -q '^<[0-9]>' "$tmp/other.log" || fail "prefixes on a stream that is not the journal"

# The unit's hardening score.
unit=${SHIR_SOURCE_DIR:-$(dirname "$0")/../..}/deploy/shir.service
if command -v systemd-analyze >/dev/null 2>&1; then
    out=$(systemd-analyze security --offline=yes "$unit" 2>&1) || fail "systemd-analyze: $out"
    score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for shir.service: \([0-9.]*\).*/\1/p')
    [ -n "$score" ] || fail "no score in: $out"
    awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }' || fail "unit exposure $score > 3.0: $out"
    grep -q '^Type=notify$' "$unit" || fail "the unit is not Type=notify"
    grep -q '^Restart=always$' "$unit" || fail "the unit does not restart always"
    grep -q '^ExecStart=/usr/bin/shir agent --config /etc/shir/shir.conf$' "$unit" ||
        fail "the unit does not start from the config file"
else
    echo "note: systemd-analyze not installed, unit score not checked"
fi
pass
