#!/usr/bin/env bash
# `shir leave`: a follower leaves (its agent stops and comes back NeedRegistration, the others
# drop it); then the leader leaves (it hands leadership over first) and the last node goes on.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
names() { json_get "$(st "$1")" "' '.join(n['name'] for n in d['nodes'])"; }

for n in n1 n2 n3; do start $n; done
key=$(form n1 bye n2 n3)

"$SHIR_BIN" leave --data-dir "$tmp/n3" >/dev/null || fail "n3 leave: $(logs)"
wait "${PID[n3]}"; rc=$?; reaped n3
[ "$rc" -eq 0 ] || fail "n3's agent exited $rc after leaving"
[ ! -e "$tmp/n3/identity/node.id" ] || fail "n3 kept its identity"
# Nothing of the old membership is left: no identity file, no raft file (defect 8 of issue 12).
left=$(find "$tmp/n3/identity" "$tmp/n3/raft" -type f 2>/dev/null)
[ -z "$left" ] || fail "n3 kept files after leaving: $left"
expect_view 10 n1 "[n['name'] for n in d['nodes']]==['n1','n2']" "n3 still a member"
start n3
[ "$(json_get "$(st n3)" 'd["nodes"][0]["status"]')" = NeedRegistration ] || fail "n3 after leave: $(st n3)"

# The leader leaves: leadership goes to n2 first, which then removes n1.
"$SHIR_BIN" leave --data-dir "$tmp/n1" >/dev/null || fail "n1 leave: $(logs)"
wait "${PID[n1]}" || fail "n1's agent failed after leaving"
reaped n1
wait_until 20 bash -c "'$SHIR_BIN' status --data-dir '$tmp/n2' --json | grep -q '\"leader\":\"n2\"'" || fail "n2 not leader: $(st n2)"
[ "$(names n2)" = n2 ] || fail "n1 still a member: $(st n2)"
wait_until 10 "$SHIR_BIN" keys regenerate key1 --data-dir "$tmp/n2" || fail "no writes on the last node"
# The node that left can join again, with the current key.
key=$(json_get "$("$SHIR_BIN" keys show --data-dir "$tmp/n2" --json)" 'd["key1"]')
printf '%s\n' "$key" | "$SHIR_BIN" join --key-file - --data-dir "$tmp/n3" || fail "n3 rejoin: $(logs)"
pass
