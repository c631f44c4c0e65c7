# Hosts in network namespaces for tests that need a real network between agents (source after
# lib.sh). Each host gets its own namespace with its address on loopback; `link X Y` joins two
# hosts with a veth pair routed both ways, `cut`/`mend` take a pair down and up again, `unplug`/
# `plug` do it for every pair of a host (a pulled network cable: no reset, packets just vanish).
# Every agent logs to $tmp/NAME.log; everything is removed when the test exits. Needs root.
[ "$(id -u)" = 0 ] || { echo "SKIP [$TEST_NAME]: needs root for ip netns"; exit 77; }
command -v ip >/dev/null || fail "iproute2 (ip) is missing: deploy/install-deps.sh installs it"

tag=shir$$; tmp=$(mktemp -d); pids=(); hosts=(); links=()
declare -A ADDR PID
. "$(dirname "${BASH_SOURCE[0]}")/runtime_lib.sh"
netns_cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    for n in "${hosts[@]}"; do ip netns del "$tag-$n" 2>/dev/null; done
    rm -rf "$tmp"
}
trap netns_cleanup EXIT

# host NAME ADDRESS
host() {
    ip netns add "$tag-$1" || fail "ip netns add $tag-$1"
    ip -n "$tag-$1" link set lo up
    ip -n "$tag-$1" addr add "$2/32" dev lo
    ADDR[$1]=$2; hosts+=("$1")
}
# route X Y: X reaches Y's address over their pair.
route() { ip -n "$tag-$1" route replace "${ADDR[$2]}/32" dev "$tag$1$2" src "${ADDR[$1]}"; }
link() {
    ip link add "$tag$1$2" netns "$tag-$1" type veth peer name "$tag$2$1" netns "$tag-$2" ||
        fail "veth $1-$2"
    links+=("$1 $2")
    mend "$1" "$2"
}
cut() { ip -n "$tag-$1" link set "$tag$1$2" down; }
mend() {
    ip -n "$tag-$1" link set "$tag$1$2" up; ip -n "$tag-$2" link set "$tag$2$1" up
    route "$1" "$2"; route "$2" "$1"
}
# unplug/plug NAME: every pair of NAME down/up.
each_link_of() {
    local l x y
    for l in "${links[@]}"; do
        read -r x y <<<"$l"
        if [ "$x" = "$2" ]; then "$1" "$x" "$y"; elif [ "$y" = "$2" ]; then "$1" "$y" "$x"; fi
    done
}
unplug() { each_link_of cut "$1"; }
plug() { each_link_of mend "$1"; }

# agent NAME [BIN]: start an agent in NAME's namespace on ADDR:8060 and wait until it answers.
agent() {
    ip netns exec "$tag-$1" "${2:-$SHIR_BIN}" agent --data-dir "$tmp/$1" --listen "${ADDR[$1]}:8060" \
        --node-name "$1" --log-level debug 2>>"$tmp/$1.log" &
    PID[$1]=$!; pids+=("$!")
    wait_until 20 "$SHIR_BIN" status --data-dir "$tmp/$1" || fail "$1 did not start: $(tail -5 "$tmp/$1.log")"
}
