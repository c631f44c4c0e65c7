#!/usr/bin/env bash
# Scaling: K concurrent scans (default 6) of a fixed tree on runtimes of 1, 2 and 3 nodes, each
# agent and its workers confined to the same CPU quota (cgroup v1 cpu controller,
# cpu.cfs_quota_us; default 0.5 CPU per node, so three nodes fit a 2-core machine). Throughput is
# files scanned per second over all runs; target 3 nodes : 1 node >= 2.5. Needs root.
#   bench/dispatch_scaling.sh [SHIR_BINARY] [K] [QUOTA_US]
set -euo pipefail
SHIR=${1:-build/ci/node/shir}; K=${2:-6}; QUOTA=${3:-50000}
. "$(dirname "$0")/dispatch_common.sh"
[ -w /sys/fs/cgroup/cpu ] || { echo "needs the cgroup v1 cpu controller, writable (root)" >&2; exit 1; }
tmp=$(mktemp -d)
cg=/sys/fs/cgroup/cpu/shir-bench-$$
cleanup() {
    for n in 1 2 3; do cluster_down "$tmp/c$n"; done
    for d in "$cg"/n*; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done; rmdir "$cg" 2>/dev/null; rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$cg"
mk_tree "$tmp/src" 20000 # every file read at L3 (no resource sets)
# Start N agents, each in a cgroup of its own with the quota; init and join as local-cluster does.
up() {
    local n=$1 dir=$tmp/c$1 i port key
    mkdir -p "$dir"
    for i in $(seq 1 "$n"); do
        mkdir -p "$cg/n$i"; echo 100000 >"$cg/n$i/cpu.cfs_period_us"; echo "$QUOTA" >"$cg/n$i/cpu.cfs_quota_us"
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        bash -c "echo \$\$ >'$cg/n$i/cgroup.procs'; exec '$SHIR' agent --data-dir '$dir/n$i' --listen 127.0.0.1:$port --node-name n$i" 2>>"$dir/n$i.log" &
        echo $! >>"$dir/pids"
        until "$SHIR" status --data-dir "$dir/n$i" >/dev/null 2>&1; do sleep 0.05; done
    done
    key=$("$SHIR" init --name s --data-dir "$dir/n1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key1"])')
    for i in $(seq 2 "$n"); do printf '%s\n' "$key" | "$SHIR" join --key-file - --data-dir "$dir/n$i" >/dev/null; done
    for i in $(seq 1 "$n"); do "$SHIR" nodes set "n$i" --capacity "$K" --data-dir "$dir/n1" >/dev/null; done
}
# The quota is a cap, not a reservation: on a busy machine a runtime may get less than its
# quota, and then the comparison measures the machine, not the runtime. cpu.stat says in how
# many 100 ms periods the nodes' cgroups (agent and workers: workers inherit the agent's cgroup)
# used their whole quota. cpu_stat N FIELD: the sum of FIELD over the first N nodes.
cpu_stat() {
    local i s=0
    for i in $(seq 1 "$1"); do s=$(( s + $(awk -v f="$2" '$1==f {print $2}' "$cg/n$i/cpu.stat") )); done
    echo "$s"
}
declare -A rate
for n in 1 2 3; do
    up "$n"
    dir=$tmp/c$n
    for k in $(seq 1 "$K"); do
        "$SHIR" scan create "k$k" --source "$tmp/src" --level L3 --sink "jsonl:$tmp/out$n" --data-dir "$dir/n1" >/dev/null
    done
    p0=$(cpu_stat "$n" nr_periods); q0=$(cpu_stat "$n" nr_throttled)
    t0=$(now_ms)
    for k in $(seq 1 "$K"); do "$SHIR" scan run "k$k" --data-dir "$dir/n1" >/dev/null; done
    until [ "$(runs_py "$dir/n1" "sum(1 for r in rs if r['state']=='succeeded')")" = "$K" ]; do
        [ "$(runs_py "$dir/n1" "sum(1 for r in rs if r['state']=='failed')")" = 0 ] || { echo "a run failed" >&2; exit 1; }
        sleep 0.2 # poll interval: a bench, not a test
    done
    ms=$(( $(now_ms) - t0 ))
    # Where the runs went and how long each took: an uneven spread or a late start shows here.
    runs_py "$dir/n1" "' '.join('%s:%s' % (r['node'], (r['attempts'][-1]['started'][17:23] + '-' + r['attempts'][-1]['finished'][17:23]) if r['attempts'] else '?') for r in sorted(rs, key=lambda r: r['node'] or ''))" |
        sed 's/^/  runs (node:started-finished second) /'
    rate[$n]=$(python3 -c "print('%.0f' % ($K * 20000 * 1000.0 / $ms))")
    p=$(( $(cpu_stat "$n" nr_periods) - p0 )); q=$(( $(cpu_stat "$n" nr_throttled) - q0 ))
    echo "$n node(s): $K scans of 20,000 files at L3 in $ms ms = ${rate[$n]} files/s" \
        "(quota hit in $q of $p node-periods: well below all of them means the machine, not the" \
        "quota, limited this runtime)"
    cluster_down "$dir"
done
python3 -c "print('3 nodes : 1 node = %.2f (target >= 2.5); 2 : 1 = %.2f' % (${rate[3]}/${rate[1]}, ${rate[2]}/${rate[1]}))"
