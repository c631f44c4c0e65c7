#!/usr/bin/env bash
# Pull the network cable of the leader of a 3-node runtime (its every link down: no reset, no
# FIN, packets vanish — unlike kill -9, whose kernel closes the sockets). The two others elect a
# new leader that takes writes and see the old one Offline; the isolated node answers status at
# once, without quorum: no leader, itself Limited. Plugged back in, it rejoins as a member
# (pre-vote keeps it from disrupting the leader it missed), catches up on what was written meanwhile, and all three are Online on every node.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns_lib.sh"

host a 10.77.8.1; host b 10.77.8.2; host c 10.77.8.3
link a b; link b c; link a c
for n in a b c; do agent $n; done
form a unplugged b c >/dev/null
all_online="len(s)==3 and all(n['status']=='Online' for n in s.values())"
for n in a b c; do expect_view 20 $n "$all_online" "not all Online on $n"; done
old=$(json_get "$(st a)" 'd["leader"]')
others=(); for n in a b c; do [ "$n" = "$old" ] || others+=("$n"); done

unplug "$old"
expect_view 20 "${others[0]}" "d['leader'] in ('${others[0]}', '${others[1]}') and s['$old']['status']=='Offline'" \
    "no new leader, or the unplugged $old not Offline"
wait_until 20 "$SHIR_BIN" settings set --standby-promotion-delay 77 --data-dir "$tmp/${others[1]}" ||
    fail "no writes without $old: $(logs)"
expect_view 20 "$old" "d['leader'] is None and s['$old']['status']=='Limited' and s['$old']['why']=='no leader'" \
    "the unplugged node's own view"

plug "$old"
for n in a b c; do
    expect_view 30 $n "$all_online and d['leader'] is not None" "not all Online with a leader on $n after plugging $old back"
done
wait_until 20 bash -c "'$SHIR_BIN' settings show --data-dir '$tmp/$old' --json | grep -q '\"standbyPromotionDelayMs\":77000'" ||
    fail "$old did not catch up: $("$SHIR_BIN" settings show --data-dir "$tmp/$old" --json)"
"$SHIR_BIN" keys regenerate key2 --data-dir "$tmp/$old" >/dev/null || fail "no writes through $old: $(logs)"
pass
