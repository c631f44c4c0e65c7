#!/usr/bin/env bash
# A node that is up but cannot reach one of the others is Limited, and every node says so.
# Three hosts in network namespaces (netns_lib.sh). Cutting the a-c pair leaves a and c alive to
# everyone (b relays the probes: SWIM's indirect ping), but each reports a live member it cannot
# reach, or no leader: both are Limited on b, while b stays Online and the runtime takes writes.
# Mending the pair brings all three back Online.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns_lib.sh"

host a 10.77.9.1; host b 10.77.9.2; host c 10.77.9.3
link a b; link b c; link a c
ip netns exec "$tag-a" python3 -c "import socket; socket.create_connection(('${ADDR[c]}', 9), 2)" 2>&1 |
    grep -q 'refused' || fail "the namespaces do not route a -> c"
for n in a b c; do agent $n; done
form a parted b c >/dev/null
all_online="len(s)==3 and all(n['status']=='Online' for n in s.values())"
for n in a b c; do expect_view 20 $n "$all_online" "not all Online on $n"; done

cut a c
expect_view 20 b "s['a']['status']=='Limited' and s['c']['status']=='Limited' and s['b']['status']=='Online' \
and s['a']['liveness']=='alive' and s['c']['liveness']=='alive' \
and ('cannot reach' in s['a']['why'] or 'cannot reach' in s['c']['why'])" "a and c not Limited on b"
wait_until 20 "$SHIR_BIN" keys regenerate key2 --data-dir "$tmp/b" || fail "no writes while a-c is cut: $(logs)"

mend a c
for n in a b c; do expect_view 20 $n "$all_online" "not all Online on $n after mending"; done
pass
