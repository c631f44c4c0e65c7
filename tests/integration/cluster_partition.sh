#!/usr/bin/env bash
# A node that is up but cannot reach one of the others is Limited, and every node says so.
# Three hosts in network namespaces this test creates (one per agent, a veth pair between each
# two of them, each node's address on its own loopback, routed over the pair). Cutting the A-C
# pair leaves A and C alive to everyone (B relays the probes: SWIM's indirect ping), but each
# reports a live member it cannot reach, or no leader: both are Limited on B, while B stays
# Online. Healing the pair brings all three back Online. Needs root (ip netns); skipped without.
set -u
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP [$TEST_NAME]: needs root for ip netns"; exit 77; }
command -v ip >/dev/null || fail "iproute2 (ip) is missing: deploy/install-deps.sh installs it"

tag=shir$$; tmp=$(mktemp -d); pids=()
names=(a b c); declare -A ADDR=([a]=10.77.9.1 [b]=10.77.9.2 [c]=10.77.9.3) PID
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    for n in "${names[@]}"; do ip netns del "$tag-$n" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT

for n in "${names[@]}"; do
    ip netns add "$tag-$n" || fail "ip netns add $tag-$n"
    ip -n "$tag-$n" link set lo up
    ip -n "$tag-$n" addr add "${ADDR[$n]}/32" dev lo
done
# link X Y: a veth pair between X and Y, each end routing to the other's address.
link() {
    ip link add "$tag$1$2" netns "$tag-$1" type veth peer name "$tag$2$1" netns "$tag-$2" ||
        fail "veth $1-$2"
    ip -n "$tag-$1" link set "$tag$1$2" up
    ip -n "$tag-$2" link set "$tag$2$1" up
    ip -n "$tag-$1" route add "${ADDR[$2]}/32" dev "$tag$1$2" src "${ADDR[$1]}"
    ip -n "$tag-$2" route add "${ADDR[$1]}/32" dev "$tag$2$1" src "${ADDR[$2]}"
}
link a b; link b c; link a c
ip netns exec "$tag-a" python3 -c "import socket; socket.create_connection(('${ADDR[c]}', 9), 2)" 2>&1 |
    grep -q 'refused' || fail "the namespaces do not route a -> c"

# The agents: one per namespace; the CLI reaches each through its socket in the data dir.
for n in "${names[@]}"; do
    ip netns exec "$tag-$n" "$SHIR_BIN" agent --data-dir "$tmp/$n" --listen "${ADDR[$n]}:8060" \
        --node-name "$n" --log-level debug 2>>"$tmp/$n.log" &
    PID[$n]=$!; pids+=("$!")
    wait_until 20 "$SHIR_BIN" status --data-dir "$tmp/$n" || fail "$n did not start: $(tail -5 "$tmp/$n.log")"
done
st() { "$SHIR_BIN" status --data-dir "$tmp/$1" --json; }
logs() { for f in "$tmp"/*.log; do echo "== $f"; grep -v ' DEBUG ' "$f" | tail -8; done; }
sees() {
    st "$1" | python3 -c "
import json,sys; d=json.load(sys.stdin); s={n['name']:n for n in d['nodes']}
sys.exit(0 if ($2) else 1)"
}
expect_view() { wait_until "$1" sees "$2" "$3" || fail "$4 (status on $2: $(st "$2")) $(logs)"; }

key=$(json_get "$("$SHIR_BIN" init --name parted --data-dir "$tmp/a" --json)" 'd["key1"]') || fail "init: $(logs)"
for n in b c; do
    printf '%s\n' "$key" | "$SHIR_BIN" join --key-file - --data-dir "$tmp/$n" >/dev/null || fail "join $n: $(logs)"
done
all_online="len(s)==3 and all(n['status']=='Online' for n in s.values())"
for n in "${names[@]}"; do expect_view 20 "$n" "$all_online" "not all Online on $n"; done

# Cut a-c. a and c stay alive (b vouches for each), both Limited, at least one because it
# cannot reach a member (the other may instead have lost its leader, which is Limited too).
ip -n "$tag-a" link set "${tag}ac" down
expect_view 20 b "s['a']['status']=='Limited' and s['c']['status']=='Limited' and s['b']['status']=='Online' \
and s['a']['liveness']=='alive' and s['c']['liveness']=='alive' \
and ('cannot reach' in s['a']['why'] or 'cannot reach' in s['c']['why'])" "a and c not Limited on b"
# The runtime still takes writes (b reaches everyone).
wait_until 20 "$SHIR_BIN" keys regenerate key2 --data-dir "$tmp/b" || fail "no writes while a-c is cut: $(logs)"

# Heal: everyone Online again, on every node.
ip -n "$tag-a" link set "${tag}ac" up
ip -n "$tag-c" link set "${tag}ca" up
ip -n "$tag-a" route replace "${ADDR[c]}/32" dev "${tag}ac" src "${ADDR[a]}"
ip -n "$tag-c" route replace "${ADDR[a]}/32" dev "${tag}ca" src "${ADDR[c]}"
for n in "${names[@]}"; do expect_view 20 "$n" "$all_online" "not all Online on $n after healing"; done
pass
