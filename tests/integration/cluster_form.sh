#!/usr/bin/env bash
# Forming runtimes through real agents on loopback: 3 nodes with one key (one by --key-file -,
# one by --key), every registration failure gives its reason and leaves the node unregistered
# (bad key, regenerated key, another runtime's key pinned to a different CA), a 4th node becomes
# a standby, forwarded writes share kept connections, and after kill -9 of the leader a write sent at once
# waits for the survivors to elect a new one, which serves writes.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
q() { json_get "$(st "$1")" "$2"; }


for n in n1 n2 n3 n4 other; do start $n; done
keys=$("$SHIR_BIN" init --name prod --data-dir "$tmp/n1" --json) || fail "init: $(logs)"
key1=$(json_get "$keys" 'd["key1"]')

printf '%s\n' "$key1" | "$SHIR_BIN" join --key-file - --data-dir "$tmp/n2" || fail "join n2: $(logs)"
"$SHIR_BIN" join --key "$key1" --data-dir "$tmp/n3" || fail "join n3: $(logs)"

for n in n1 n2 n3; do
    expect_view 20 $n "d['leader']=='n1' and len(d['nodes'])==3 and d['quorum']['voters']==3" \
        "status on $n"
done
expect_match "$(q n2 'd["quorum"]["summary"]')" "3 voters, tolerates 1 failure" "quorum words"
[ "$(q n3 'd["runtime"]["id"]')" = "$(q n1 'd["runtime"]["id"]')" ] || fail "runtime id differs"

# A follower takes a mutation and forwards it to the leader.
old2=$(json_get "$("$SHIR_BIN" keys show --data-dir "$tmp/n1" --json)" 'd["key2"]')
"$SHIR_BIN" keys regenerate key2 --data-dir "$tmp/n3" >/dev/null || fail "regenerate on a follower: $(logs)"
wait_until 10 bash -c "[ \"\$('$SHIR_BIN' keys show --data-dir '$tmp/n2' --json)\" != '' ] && ! '$SHIR_BIN' keys show --data-dir '$tmp/n2' --json | grep -qF -- '$old2'" ||
    fail "key2 regenerated through n3 did not change on n2"
# Forwarded requests reuse kept connections (cluster/rpc_client.h): a dozen more writes through
# the follower open at most RPC_CLIENT_CONNS (4) connections to the leader, not one each.
for i in $(seq 12); do
    "$SHIR_BIN" keys regenerate key2 --data-dir "$tmp/n3" >/dev/null || fail "forwarded write $i: $(logs)"
done
dials=$(grep -c 'rpc: new connection' "$tmp/n3.log")
[ "$dials" -ge 1 ] && [ "$dials" -le 4 ] || fail "n3 dialed $dials rpc connections for 13 forwarded writes"

# Failures leave the node unregistered, each with its reason.
bad="${key1%?}$( [ "${key1: -1}" = A ] && echo B || echo A )"
err=$("$SHIR_BIN" join --key "$bad" --data-dir "$tmp/n4" 2>&1) && fail "a mistyped key joined"
expect_match "$err" "bad key" "mistyped key"
okeys=$("$SHIR_BIN" init --name other --data-dir "$tmp/other" --json) || fail "init other"
crash other   # its key must not find its own runtime through the address hint
err=$("$SHIR_BIN" join --key "$(json_get "$okeys" 'd["key1"]')" --peer "127.0.0.1:${PORT[n1]}" \
      --data-dir "$tmp/n4" 2>&1) && fail "another runtime's key joined"
expect_match "$err" "does not chain to the pinned CA key" "wrong CA pin"
"$SHIR_BIN" keys regenerate key1 --data-dir "$tmp/n1" >/dev/null || fail "regenerate"
err=$("$SHIR_BIN" join --key "$key1" --data-dir "$tmp/n4" 2>&1) && fail "a regenerated key joined"
expect_match "$err" "regenerated" "regenerated key"
[ "$(q n4 'd["nodes"][0]["status"]')" = NeedRegistration ] || fail "n4 not left unregistered"
[ ! -e "$tmp/n4/identity/node.id" ] || fail "n4 kept an identity after failed joins"

# The current key registers the 4th node as a standby; registered nodes were unaffected.
new1=$(json_get "$("$SHIR_BIN" keys show --data-dir "$tmp/n1" --json)" 'd["key1"]')
"$SHIR_BIN" join --key "$new1" --data-dir "$tmp/n4" || fail "join n4: $(logs)"
wait_until 20 bash -c "'$SHIR_BIN' status --data-dir '$tmp/n1' --json | grep -q '\"name\":\"n4\",\"id\":4,[^}]*\"role\":\"standby\"'" ||
    fail "n4 is not a standby: $(st n1)"
[ "$(q n1 'd["quorum"]["voters"]')" = 3 ] || fail "voters after n4: $(st n1)"

# kill -9 the leader: a write sent at once, before the survivors notice, waits for the election
# (cluster__propose_wait) instead of failing; a new leader among the survivors serves writes.
crash n1
out=$("$SHIR_BIN" keys regenerate key2 --data-dir "$tmp/n2" 2>&1) ||
    fail "a write right after the leader died failed instead of waiting for the election: $out $(logs)"
wait_until 20 bash -c "'$SHIR_BIN' status --data-dir '$tmp/n2' --json | grep -Eq '\"leader\":\"n[23]\"'" ||
    fail "no new leader: $(st n2) $(logs)"
leader=$(q n2 'd["leader"]')
wait_until 20 "$SHIR_BIN" keys regenerate key2 --data-dir "$tmp/$leader" ||
    fail "the new leader $leader does not serve writes: $(logs)"
pass
