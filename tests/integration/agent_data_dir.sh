#!/usr/bin/env bash
# The agent's data directory and listen address (findings F8 and F12): a missing directory is
# created 0700; an existing one is used as it is, never chmod'ed, only when it belongs to the
# agent's user and nobody else can write to it; --listen must be a numeric address; an init that
# fails on the port leaves no identity or raft file behind and can simply be run again.
set -u
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d); pid=; squat=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    [ -n "$squat" ] && kill -9 "$squat" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
port=$(free_port)

mode() { stat -c %a "$1"; }
# refused DIR WHY: the agent exits 1 at once, says WHY, and leaves DIR's mode alone.
refused() {
    local before; before=$(mode "$1")
    "$SHIR_BIN" agent --data-dir "$1" --listen "127.0.0.1:$port" --node-name n1 2>"$tmp/err"
    local rc=$?
    [ "$rc" = 1 ] || fail "agent on $1 exited $rc, want 1: $(cat "$tmp/err")"
    expect_match "$(cat "$tmp/err")" "$2" "refusal of $1"
    [ "$(mode "$1")" = "$before" ] || fail "$1 changed mode from $before to $(mode "$1")"
}
start_agent() {
    "$SHIR_BIN" agent --data-dir "$1" --listen "127.0.0.1:$port" --node-name n1 2>>"$tmp/agent.log" &
    pid=$!
    wait_until 20 "$SHIR_BIN" status --data-dir "$1" || fail "agent on $1 did not answer: $(cat "$tmp/agent.log")"
}
stop_agent() {
    kill -TERM "$pid"; wait "$pid"; local rc=$?; pid=
    [ "$rc" = 0 ] || fail "agent exited $rc: $(tail -20 "$tmp/agent.log")"
}

# A world-writable directory (a `--data-dir /tmp` typo): refused, and /tmp-like modes survive.
mkdir "$tmp/shared"; chmod 1777 "$tmp/shared"
refused "$tmp/shared" "writable by others"
ln -s "$tmp/shared" "$tmp/link"
refused "$tmp/link" "writable by others"
[ "$(mode "$tmp/shared")" = 1777 ] || fail "the link's target was changed"
mkdir "$tmp/group"; chmod 0770 "$tmp/group"
refused "$tmp/group" "writable by others"
if [ "$(id -u)" = 0 ]; then
    mkdir "$tmp/foreign"; chmod 0700 "$tmp/foreign"; chown nobody "$tmp/foreign"
    refused "$tmp/foreign" "belongs to uid"
fi

# --listen must be bindable: a numeric address.
expect_exit 2 "$SHIR_BIN" agent --data-dir "$tmp/x" --listen nothost:1
[ ! -e "$tmp/x" ] || fail "a refused --listen still created the data directory"

# A 0755 directory of ours is fine, and left 0755; a missing one is created 0700.
mkdir "$tmp/ours"; chmod 0755 "$tmp/ours"
start_agent "$tmp/ours"; stop_agent
[ "$(mode "$tmp/ours")" = 755 ] || fail "the agent changed 0755 to $(mode "$tmp/ours")"
start_agent "$tmp/new"
[ "$(mode "$tmp/new")" = 700 ] || fail "a new data directory is $(mode "$tmp/new"), want 700"

# An init whose port is taken fails with the reason and leaves nothing behind; freed, it works.
# The squatter holds the port until the test closes its end of a pipe (fd 3), not for a time.
mkfifo "$tmp/hold"
python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); print("ready", flush=True); sys.stdin.read()' "$port" <"$tmp/hold" >"$tmp/squat" &
squat=$!
exec 3>"$tmp/hold"
wait_until 30 grep -q ready "$tmp/squat" || fail "could not take the port"
out=$("$SHIR_BIN" init --name demo --data-dir "$tmp/new" 2>&1) && fail "init on a taken port succeeded"
expect_match "$out" "cannot" "init's reason"
left=$(find "$tmp/new/identity" "$tmp/new/raft" -type f 2>/dev/null)
[ -z "$left" ] || fail "the failed init left files behind: $left"
exec 3>&-
wait "$squat" || fail "the squatter did not release the port cleanly"
squat=
"$SHIR_BIN" init --name demo --data-dir "$tmp/new" >/dev/null || fail "init after freeing the port: $(tail -5 "$tmp/agent.log")"
stop_agent
pass
