#!/usr/bin/env bash
# The disk guard (findings F2 and F4): a node whose data directory's disk is nearly full closes its
# raft channel, refuses writes with a clear message, logs why, and shows Limited "disk nearly
# full" on every node, while the others carry on; when space comes back it reopens raft and
# catches up by itself, without a crash. Then the same on the leader: it steps down and the others
# elect a new one. Each node's data directory is on a tmpfs of its own (root: mount).
set -u
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP [$TEST_NAME]: needs root to mount a tmpfs"; exit 77; }
. "$(dirname "$0")/cluster_lib.sh"
mounts=()
trap 'cleanup_mounts' EXIT
cleanup_mounts() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    for m in "${mounts[@]}"; do umount -l "$m" 2>/dev/null; done
    rm -rf "$tmp"
}

# A 160 MiB file system per node: the guard's 64 MiB minimum leaves room for raft's segments.
for n in n1 n2 n3; do
    mkdir -p "$tmp/$n"
    mount -t tmpfs -o size=160m,mode=0700 tmpfs "$tmp/$n" || fail "mount a tmpfs on $tmp/$n"
    mounts+=("$tmp/$n")
done
for n in n1 n2 n3; do start $n; done
form n1 disk n2 n3 >/dev/null
expect_view 20 n1 "all(x['status']=='Online' for x in s.values()) and len(s)==3" "not all Online"

free_mib() { df -Pm "$tmp/$1" | awk 'NR==2 {print $4}'; }
# fill NAME: leave about 32 MiB free on NAME's file system; unfill NAME: free it again.
fill() { dd if=/dev/zero of="$tmp/$1/filler" bs=1M count=$(( $(free_mib "$1") - 32 )) status=none ||
             fail "cannot fill $1"; }
unfill() { rm -f "$tmp/$1/filler"; }

# 1. A follower's disk fills up.
leader=$(json_get "$(st n1)" 'd["leader"]')
f=n3; [ "$leader" = n3 ] && f=n2
fill $f
for n in n1 n2 n3; do
    expect_view 10 $n "s['$f']['status']=='Limited' and s['$f']['why']=='disk nearly full'" \
        "$f not shown Limited on $n"
done
wait_until 5 grep -q "disk nearly full: .* MiB free" "$tmp/$f.log" || fail "$f logged nothing"
out=$("$SHIR_BIN" keys regenerate key2 --data-dir "$tmp/$f" 2>&1) && fail "a write went through $f"
expect_match "$out" "disk is nearly full" "the refusal says why"
# The others carry on, and $f falls behind.
for i in 1 2 3; do
    "$SHIR_BIN" keys regenerate key2 --data-dir "$tmp/$leader" >/dev/null || fail "write $i: $(logs)"
done

# 2. Space comes back: raft reopens, the node catches up and takes writes again.
unfill $f
for n in n1 n2 n3; do
    expect_view 20 $n "s['$f']['status']=='Online'" "$f not back Online on $n"
done
wait_until 5 grep -q "disk space back" "$tmp/$f.log" || fail "$f did not log its recovery"
wait_until 20 bash -c "[ \"\$('$SHIR_BIN' keys show --data-dir '$tmp/$f' --json)\" = \"\$('$SHIR_BIN' keys show --data-dir '$tmp/$leader' --json)\" ]" ||
    fail "$f did not catch up"
"$SHIR_BIN" keys regenerate key1 --data-dir "$tmp/$f" >/dev/null || fail "no write through $f after: $(logs)"

# 3. The leader's disk fills up: it steps down, the others elect a leader and take writes.
leader=$(json_get "$(st n1)" 'd["leader"]')
fill "$leader"
other=n1; [ "$leader" = n1 ] && other=n2
expect_view 20 $other "d['leader'] not in (None, '$leader') and s['$leader']['why']=='disk nearly full'" \
    "no new leader while $leader's disk is full"
"$SHIR_BIN" keys regenerate key2 --data-dir "$tmp/$other" >/dev/null || fail "no writes without $leader: $(logs)"
unfill "$leader"
expect_view 20 $other "all(x['status']=='Online' for x in s.values())" "$leader not back"
wait_until 20 bash -c "[ \"\$('$SHIR_BIN' keys show --data-dir '$tmp/$leader' --json)\" = \"\$('$SHIR_BIN' keys show --data-dir '$tmp/$other' --json)\" ]" ||
    fail "$leader did not catch up"
pass
