#!/usr/bin/env bash
# `shir leave`: a follower leaves (its agent stops and comes back NeedRegistration, the others
# drop it); then the leader leaves (it hands leadership over first) and the last node goes on.
set -u
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
declare -A PID PORT
start() {
    [ -n "${PORT[$1]:-}" ] || PORT[$1]=$(free_port)
    "$SHIR_BIN" agent --data-dir "$tmp/$1" --listen "127.0.0.1:${PORT[$1]}" --node-name "$1" \
        --log-level debug 2>>"$tmp/$1.log" &
    PID[$1]=$!; pids+=("$!")
    wait_until 20 "$SHIR_BIN" status --data-dir "$tmp/$1" || fail "$1 did not start"
}
st() { "$SHIR_BIN" status --data-dir "$tmp/$1" --json; }
names() { json_get "$(st "$1")" "' '.join(n['name'] for n in d['nodes'])"; }
logs() { for f in "$tmp"/*.log; do echo "== $f"; grep -v ' DEBUG ' "$f" | tail -8;
         grep -A60 -E 'ERROR: AddressSanitizer|runtime error:' "$f" | head -80; done; }

for n in n1 n2 n3; do start $n; done
key=$(json_get "$("$SHIR_BIN" init --name bye --data-dir "$tmp/n1" --json)" 'd["key1"]')
for n in n2 n3; do printf '%s\n' "$key" | "$SHIR_BIN" join --key-file - --data-dir "$tmp/$n" || fail "join $n: $(logs)"; done

"$SHIR_BIN" leave --data-dir "$tmp/n3" >/dev/null || fail "n3 leave: $(logs)"
wait "${PID[n3]}"; rc=$?
[ "$rc" -eq 0 ] || fail "n3's agent exited $rc after leaving"
[ ! -e "$tmp/n3/identity/node.id" ] || fail "n3 kept its identity"
wait_until 10 bash -c "[ \"\$('$SHIR_BIN' status --data-dir '$tmp/n1' --json | python3 -c 'import json,sys; print(\" \".join(n[\"name\"] for n in json.load(sys.stdin)[\"nodes\"]))')\" = 'n1 n2' ]" ||
    fail "n3 still a member: $(st n1)"
start n3
[ "$(json_get "$(st n3)" 'd["nodes"][0]["status"]')" = NeedRegistration ] || fail "n3 after leave: $(st n3)"

# The leader leaves: leadership goes to n2 first, which then removes n1.
"$SHIR_BIN" leave --data-dir "$tmp/n1" >/dev/null || fail "n1 leave: $(logs)"
wait "${PID[n1]}" || fail "n1's agent failed after leaving"
wait_until 20 bash -c "'$SHIR_BIN' status --data-dir '$tmp/n2' --json | grep -q '\"leader\":\"n2\"'" || fail "n2 not leader: $(st n2)"
[ "$(names n2)" = n2 ] || fail "n1 still a member: $(st n2)"
wait_until 10 "$SHIR_BIN" keys regenerate key1 --data-dir "$tmp/n2" || fail "no writes on the last node"
# The node that left can join again, with the current key.
key=$(json_get "$("$SHIR_BIN" keys show --data-dir "$tmp/n2" --json)" 'd["key1"]')
printf '%s\n' "$key" | "$SHIR_BIN" join --key-file - --data-dir "$tmp/n3" || fail "n3 rejoin: $(logs)"
pass
