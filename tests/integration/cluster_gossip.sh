#!/usr/bin/env bash
# Every member knows every member's liveness (SWIM over shir-gossip/1), not only the leader:
# status on a follower shows all nodes Online with their version, lag and host load; a killed
# node turns Offline on every survivor and Online again when it restarts; a paused leader is
# Offline on the others and Online again (as a follower) once it resumes; a survivor without
# quorum says it is Limited (no leader) and that the others are Offline, within the status
# deadline.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

all_online="all(n['status']=='Online' and n['liveness']=='alive' for n in s.values())"

for n in a b c; do start $n; done
form a trio b c >/dev/null
leader=$(json_get "$(st a)" 'd["leader"]')
follower=b; other=c
[ "$leader" = b ] && follower=a
[ "$leader" = c ] && other=a

# A follower's view is complete: everyone Online, with the version each runs and its lag.
expect_view 15 "$follower" "$all_online and len(s)==3" "the follower does not see all three Online"
expect_view 10 "$follower" "all(n['version']=='$("$SHIR_BIN" --version | head -1 | awk '{print $2}')' and isinstance(n['lag'], int) for n in s.values())" \
    "versions or lag missing on the follower"
# ... and each node's host load, as that node measured it (CPU share, memory from /proc).
expect_view 10 "$follower" "all(0 <= n['cpuPercent'] <= 100 and 0 < n['memoryAvailableMb'] <= n['memoryTotalMb'] for n in s.values())" \
    "host load missing on the follower"

# kill -9 a follower: Offline on the leader and on the other follower, with a reason.
crash "$other"
for v in "$leader" "$follower"; do
    expect_view 10 "$v" "s['$other']['status']=='Offline' and s['$other']['liveness'] in ('suspect','dead') and s['$other']['why']" \
        "$other not Offline on $v"
done
expect_view 10 "$follower" "s['$other']['liveness']=='dead'" "$other not declared dead on $follower"
# It restarts (same data directory): Online again everywhere.
start "$other"
for v in "$leader" "$follower"; do expect_view 15 "$v" "$all_online" "$other not back Online on $v"; done

# Pause the leader: the others elect a new one and see the old one Offline; it resumes as a
# follower and is Online again (it refutes the suspicion with a higher incarnation).
kill -STOP "${PID[$leader]}"
expect_view 15 "$follower" "d['leader'] not in (None, '$leader') and s['$leader']['status']=='Offline'" \
    "paused leader not replaced / not Offline"
kill -CONT "${PID[$leader]}"
for v in "$leader" "$follower" "$other"; do expect_view 15 "$v" "$all_online" "resumed node not Online on $v"; done

# Lose quorum: the survivor answers status within its deadline, Limited itself, others Offline.
survivor=$follower
for n in a b c; do [ "$n" = "$survivor" ] || crash "$n"; done
expect_view 15 "$survivor" "d['leader'] is None and s['$survivor']['status']=='Limited' and s['$survivor']['why']=='no leader' and all(n['status']=='Offline' for k,n in s.items() if k!='$survivor')" \
    "the survivor's view without quorum"
pass
