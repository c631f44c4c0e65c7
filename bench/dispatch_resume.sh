#!/usr/bin/env bash
# Resume latency: a 3-node runtime runs an L3 scan of a big tree; kill -9 of the node running it,
# and the time until the run is `running` again on another node. N trials (default 10).
# Target: p50 <= 5 s, p99 <= 10 s (Nomad marks a node down after 20-30 s; ADF/Purview restart or
# fail such a scan).   bench/dispatch_resume.sh [SHIR_BINARY] [N]
set -euo pipefail
SHIR=${1:-build/ci/node/shir}; N=${2:-10}
. "$(dirname "$0")/dispatch_common.sh"
tmp=$(mktemp -d); trap 'cluster_down "$tmp/c"; rm -rf "$tmp"' EXIT
cluster_up "$tmp/c" 3
mk_tree "$tmp/src" 300000
"$SHIR" scan create big --source "$tmp/src" --level L3 --sink "jsonl:$tmp/out" --data-dir "$tmp/c/n1" >/dev/null
samples=()
for i in $(seq 1 "$N"); do
    id=$("$SHIR" scan run big --data-dir "$tmp/c/n1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["run"])')
    until [ "$(runs_py "$tmp/c/n1" "[r['state'] for r in rs if r['id']==$id][0]")" = running ]; do sleep 0.05; done
    node=$(runs_py "$tmp/c/n1" "[r['node'] for r in rs if r['id']==$id][0]")
    pid=$(sed -n "${node#n}p" "$tmp/c/pids")
    watch=n1; [ "$node" = n1 ] && watch=n2
    t0=$(now_ms); kill -9 "$pid"
    # The next attempt's start as the replica recorded it (wall clock, ms): exact, whatever the
    # poll interval, and whether or not the resumed attempt is still running when it is read.
    while :; do
        s=$("$SHIR" scan runs big --data-dir "$tmp/c/$watch" --json 2>/dev/null |
            python3 -c "
import json,sys,datetime
r=[r for r in json.load(sys.stdin)['runs'] if r['id']==$id][0]; a=r['attempts'][-1]
if len(r['attempts'])>=2 and a['started']:
    t=datetime.datetime.strptime(a['started'],'%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=datetime.timezone.utc)
    print(int(t.timestamp()*1000), a['node'])" 2>/dev/null || true)
        [ -n "$s" ] && break
        [ $(( $(now_ms) - t0 )) -lt 60000 ] || { echo "trial $i: not resumed within 60 s" >&2; exit 1; }
        sleep 0.05
    done
    ms=$(( ${s%% *} - t0 )); samples+=("$ms")
    printf 'trial %2d: %s killed, run %s resumed on %s after %d ms\n' "$i" "$node" "$id" "${s#* }" "$ms"
    "$SHIR" scan cancel "$id" --data-dir "$tmp/c/$watch" >/dev/null 2>&1 || true
    # Bring the killed node back (same data directory, same port) before the next trial.
    port=$(sed -n 's/.*"address":"127.0.0.1:\([0-9]*\)".*/\1/p' <<<"$("$SHIR" status --data-dir "$tmp/c/$watch" --json |
           python3 -c "import json,sys; print(json.dumps([n for n in json.load(sys.stdin)['nodes'] if n['name']=='$node'][0]))")")
    "$SHIR" agent --data-dir "$tmp/c/$node" --listen "127.0.0.1:$port" --node-name "$node" 2>>"$tmp/c/$node.log" &
    sed -i "${node#n}s/.*/$!/" "$tmp/c/pids"
    until "$SHIR" status --data-dir "$tmp/c/$watch" --json 2>/dev/null | grep -q "\"name\":\"$node\"[^}]*\"status\":\"Online\""; do sleep 0.05; done
done
printf '%s\n' "${samples[@]}" | pctl
echo "target: p50 <= 5000 ms, p99 <= 10000 ms"
