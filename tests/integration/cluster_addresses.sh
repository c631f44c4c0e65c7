#!/usr/bin/env bash
# Safe addresses (issue 12, defect 1), on three hosts with 10.x addresses in network namespaces:
# - an agent listening on 0.0.0.0 with no advertise address starts and serves status, but init
#   and join refuse, naming the address detected on the host and the key/flag to set, and leave
#   both sides as they were (the joiner unregistered, the runtime without it);
# - restarted with --advertise, it inits / joins and the runtime forms;
# - an agent restarted with a new --advertise records it through a raft entry (the others see it
#   and reach it there);
# - `shir nodes set NAME --address` changes a node's recorded address from any member;
# - the raft "presents node id X, expected Y" warning is rate-limited;
# - a join that cannot complete because the joiner's advertise address is wrong (routable, but
#   not its own) is completed once its agent restarts with the right one.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns_lib.sh"

host a 10.77.9.1; host b 10.77.9.2; host c 10.77.9.3; host d 10.77.9.4
link a b; link b c; link a c; link a d; link b d; link c d
# b has a second address, for the move below.
ip -n "$tag-b" addr add 10.77.9.22/32 dev lo
route_extra() { # X: X reaches b's second address over their pair
    ip -n "$tag-$1" route replace 10.77.9.22/32 dev "$tag$1b" src "${ADDR[$1]}"
}
route_extra a; route_extra c

# wagent NAME [FLAGS...]: an agent listening on every interface of NAME's host.
wagent() {
    local n=$1; shift
    ip netns exec "$tag-$n" "$SHIR_BIN" agent --data-dir "$tmp/$n" --listen 0.0.0.0:8060 \
        --node-name "$n" --log-level debug "$@" 2>>"$tmp/$n.log" &
    PID[$n]=$!; pids+=("$!")
    wait_until 20 "$SHIR_BIN" status --data-dir "$tmp/$n" || fail "$n did not start: $(tail -5 "$tmp/$n.log")"
}

# Wildcard listen, no advertise: serves status, init refused with the fix.
wagent a
[ "$(json_get "$(st a)" 'd["nodes"][0]["status"]')" = NeedRegistration ] || fail "a: $(st a)"
err=$("$SHIR_BIN" init --name addr --data-dir "$tmp/a" 2>&1) && fail "init with 0.0.0.0 succeeded"
expect_match "$err" "refusing to init with address 0.0.0.0:8060" "init refusal"
expect_match "$err" "advertise = 10.77.9.1:8060" "init refusal names the detected address"
expect_match "$err" "--advertise 10.77.9.1:8060" "init refusal names the flag"
[ ! -e "$tmp/a/identity/node.id" ] || fail "a refused init left an identity"
stop a

# With --advertise: init works.
wagent a --advertise 10.77.9.1:8060
key=$(json_get "$("$SHIR_BIN" init --name addr --data-dir "$tmp/a" --json)" 'd["key1"]') ||
    fail "init with --advertise: $(logs)"

# A joiner with a loopback advertise on a wildcard listen: refused, both sides clean.
wagent b --advertise 127.0.0.1:8060
err=$(printf '%s\n' "$key" | "$SHIR_BIN" join --key-file - --data-dir "$tmp/b" 2>&1) &&
    fail "join with a loopback advertise succeeded"
expect_match "$err" "refusing to join with address 127.0.0.1:8060" "join refusal"
expect_match "$err" "advertise = 10.77.9.2:8060" "join refusal names b's address"
[ "$(json_get "$(st b)" 'd["nodes"][0]["status"]')" = NeedRegistration ] || fail "b after refusal: $(st b)"
[ "$(json_get "$(st a)" 'len(d["nodes"])')" = 1 ] || fail "a refused join left a node on a: $(st a)"
stop b

wagent b --advertise 10.77.9.2:8060
printf '%s\n' "$key" | "$SHIR_BIN" join --key-file - --data-dir "$tmp/b" >/dev/null || fail "join b: $(logs)"
agent c
printf '%s\n' "$key" | "$SHIR_BIN" join --key-file - --data-dir "$tmp/c" >/dev/null || fail "join c: $(logs)"
all_online="len(s)==3 and all(n['status']=='Online' for n in s.values())"
expect_view 20 a "$all_online and s['b']['address']=='10.77.9.2:8060'" "not formed"

# b moves to its second address: restarted with a new --advertise, it records it itself.
stop b
wagent b --advertise 10.77.9.22:8060
for n in a c; do
    expect_view 30 $n "s['b']['address']=='10.77.9.22:8060' and $all_online" "b's new address not recorded"
done
grep -q "this node's advertise address changed from 10.77.9.2:8060 to 10.77.9.22:8060" "$tmp/b.log" ||
    fail "b did not log the change"
wait_until 20 "$SHIR_BIN" keys regenerate key2 --data-dir "$tmp/b" || fail "no writes through b: $(logs)"

# `nodes set` from another member moves the record back (b listens on both addresses).
"$SHIR_BIN" nodes set b --address 10.77.9.2:8060 --data-dir "$tmp/c" >/dev/null || fail "nodes set: $(logs)"
for n in a b c; do expect_view 20 $n "s['b']['address']=='10.77.9.2:8060'" "nodes set not seen"; done
expect_view 20 a "$all_online" "not all Online after nodes set"
# Refusals of nodes set: a wildcard address, an unknown node, a missing --address.
err=$("$SHIR_BIN" nodes set b --address 0.0.0.0:8060 --data-dir "$tmp/a" 2>&1) && fail "wildcard set succeeded"
expect_match "$err" "not an address other nodes can dial" "wildcard nodes set"
err=$("$SHIR_BIN" nodes set zz --address 10.77.9.9:8060 --data-dir "$tmp/a" 2>&1) && fail "unknown node set"
expect_match "$err" "no node named 'zz'" "unknown node"
expect_exit 2 "$SHIR_BIN" nodes set b --data-dir "$tmp/a"

# A recorded address that reaches another node: c's record points at a, and c is down. Raft on
# a and b keeps dialling "c" there and finds a: the warning is rate-limited (10 at once, then one
# per 5 s with the count of what was dropped), not written at every retry.
"$SHIR_BIN" nodes set c --address 10.77.9.1:8060 --data-dir "$tmp/a" >/dev/null || fail "nodes set c: $(logs)"
expect_view 20 b "s['c']['address']=='10.77.9.1:8060'" "c's wrong address not recorded"
stop c
wait_until 30 grep -q "raft connect: .*presents node id.*similar lines suppressed" "$tmp/a.log" "$tmp/b.log" ||
    fail "the id mismatch was not repeated and suppressed: $(grep -h "presents node id\|raft connect" "$tmp/a.log" "$tmp/b.log" | tail -5)"
for n in a b; do
    lines=$(grep -c "raft connect: .*presents node id" "$tmp/$n.log")
    [ "$lines" -le 20 ] || fail "$n logged the id mismatch $lines times"
done
# c comes back with its own address (10.77.9.3:8060) and records it itself.
agent c
for n in a b c; do
    expect_view 30 $n "$all_online and s['c']['address']=='10.77.9.3:8060'" "c not back at its own address"
done

# d joins with an address that is not its own: the leader records it but cannot add it to raft,
# and the join waits. Restarted with the right --advertise, d records it and becomes a member.
wagent d --advertise 10.77.9.44:8060
printf '%s\n' "$key" | "$SHIR_BIN" join --key-file - --data-dir "$tmp/d" >"$tmp/d.join" 2>&1 &
jpid=$!
expect_view 20 a "'d' in s and s['d']['address']=='10.77.9.44:8060'" "d not recorded"
stop d
wait "$jpid" && fail "the join through an unreachable address succeeded"
wagent d --advertise 10.77.9.4:8060
four="len(s)==4 and all(n['status']=='Online' for n in s.values())"
for n in a d; do
    expect_view 40 $n "$four and s['d']['address']=='10.77.9.4:8060' and s['d']['role']=='standby'" \
        "d not a member after fixing its address"
done
pass
