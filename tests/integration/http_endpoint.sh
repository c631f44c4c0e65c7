#!/usr/bin/env bash
# The agent's HTTP endpoint (--http-listen): /metrics in strict Prometheus text (prom_check.py)
# with every family there from the start, /v1/status = `shir status --json`, the page at /, the
# refusals (methods, bodies, unknown paths, bad flags, a port in use) and the limits (connections
# per client, idle connections closed) — on a fresh node, then on a 2-node runtime.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY all_proxy ALL_PROXY
check="$SHIR_SOURCE_DIR/tests/integration/prom_check.py"
declare -A HP

# get NAME PATH: the body of GET PATH on NAME's endpoint (fails on a non-2xx answer).
get() { curl -sSf --max-time 5 "http://127.0.0.1:${HP[$1]}$2"; }
# code NAME PATH CURL-ARGS...: the status code of a request.
code() { local n=$1 p=$2; shift 2; curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "http://127.0.0.1:${HP[$n]}$p"; }
# metric NAME SERIES: the value of one series of NAME's /metrics, checked by prom_check.py.
metric() {
    get "$1" /metrics | python3 "$check" |
        python3 -c "import json,sys; print(json.load(sys.stdin)['series'].get(sys.argv[1], 'absent'))" "$2"
}
# metric_is NAME SERIES PYEXPR(v): wait-able check of one series.
metric_is() {
    local v; v=$(metric "$1" "$2") || return 1
    python3 -c "import sys; v=float(sys.argv[1]); sys.exit(0 if ($3) else 1)" "$v" 2>/dev/null
}
# same_status NAME: /v1/status and `shir status --json` agree on everything but host load and
# lag, which move between the two reads.
same_status() {
    python3 - "$(get "$1" /v1/status)" "$(st "$1")" <<'EOF'
import json, sys
def norm(d):
    for n in d["nodes"]:
        for k in ("cpuPercent", "memoryAvailableMb", "lag"):
            n.pop(k, None)
    return d
a, b = (norm(json.loads(x)) for x in sys.argv[1:3])
sys.exit(0 if a == b else 1)
EOF
}
start_http() { local n=$1; shift; HP[$n]=$(free_port); start "$n" --http-listen "127.0.0.1:${HP[$n]}" "$@"; }

# ---- the checker itself refuses what it must (a checker that cannot fail proves nothing) ----
for bad in 'shir_x 1' $'# HELP x h\n# TYPE x gauge\nx 1' \
           $'# HELP shir_a h\n# TYPE shir_a counter\nshir_a 1' \
           $'# HELP shir_a_total h\n# TYPE shir_a_total counter\nshir_a_total{l="1"} 1\nshir_a_total{l="1"} 2' \
           $'# HELP shir_g h\n# TYPE shir_g gauge\nshir_g{l="a\\q"} 1' \
           $'# HELP shir_g h\n# TYPE shir_g gauge\nshir_g one'; do
    printf '%s\n' "$bad" | python3 "$check" >/dev/null 2>&1 && fail "prom_check accepted: $bad"
done

# ---- bad flags, and a port that is taken ----------------------------------------------------
expect_exit 2 "$SHIR_BIN" agent --data-dir "$tmp/x" --http-listen example.org:80
expect_exit 2 "$SHIR_BIN" agent --data-dir "$tmp/x" --http-listen 127.0.0.1:0
expect_exit 2 "$SHIR_BIN" agent --data-dir "$tmp/x" --http-listen 70000
taken=$(free_port)
python3 -c "
import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1',$taken)); s.listen(1); print('ready', flush=True); sys.stdin.read()" \
    < <(sleep 30) >"$tmp/holder.out" & holder=$!; pids+=("$holder")
wait_until 10 grep -q ready "$tmp/holder.out" || fail "port holder did not start"
"$SHIR_BIN" agent --data-dir "$tmp/x" --listen "127.0.0.1:$(free_port)" --http-listen "127.0.0.1:$taken" \
    2>"$tmp/x.log" && fail "an agent started on an HTTP port in use"
grep -q "cannot serve HTTP on 127.0.0.1:$taken" "$tmp/x.log" || fail "no reason for the taken port: $(cat "$tmp/x.log")"
kill "$holder" 2>/dev/null

# ---- a fresh node: every family from the start ----------------------------------------------
start_http n1
wait_until 10 get n1 /metrics || fail "no /metrics on n1: $(logs)"
out=$(get n1 /metrics | python3 "$check") || fail "n1's /metrics is not valid exposition: $(get n1 /metrics)"
json_get "$out" 'd["samples"] >= 15' | grep -q True || fail "fewer than 15 samples on a fresh node: $out"
for fam in shir_up shir_build_info shir_registered shir_raft_term shir_raft_commit_index \
           shir_raft_applied_index shir_raft_leader_changes_total shir_raft_commands_applied_total \
           shir_peers shir_gossip_probes_total shir_gossip_suspicions_total \
           shir_tls_handshake_failures_total shir_outbox_batches shir_scan_files_total \
           shir_scan_bytes_total shir_scan_assets_total shir_worker_crashes_total shir_runs; do
    json_get "$out" "'$fam' in d['families']" | grep -q True || fail "family $fam missing: $out"
done
json_get "$out" 'd["series"]["shir_registered"] == 0 and d["series"]["shir_up"] == 1 and d["series"]["shir_runs{state=\"running\"}"] == 0' |
    grep -q True || fail "fresh node's values: $out"
same_status n1 || fail "/v1/status differs from status --json on a fresh node: $(get n1 /v1/status) vs $(st n1)"
get n1 / | grep -q '<title>shir status</title>' || fail "no status page at /"
csp=$(curl -sS -D - -o /dev/null "http://127.0.0.1:${HP[n1]}/")
expect_match "$csp" "Content-Security-Policy: default-src 'none'" "the page's CSP"

# ---- refusals -------------------------------------------------------------------------------
[ "$(code n1 /metrics -X POST -d x)" = 405 ] || fail "POST was not refused with 405"
[ "$(code n1 / -X DELETE)" = 405 ] || fail "DELETE was not refused with 405"
[ "$(code n1 /v1/status -X GET -d hello)" = 413 ] || fail "a GET with a body was not refused with 413"
[ "$(code n1 /secret)" = 404 ] || fail "unknown path not 404"
big=$(head -c 20000 /dev/zero | tr '\0' a)
c=$(code n1 /metrics -H "X-Big: $big")
[ "$c" -ge 400 ] 2>/dev/null || fail "a 20 KB header was answered $c (limit 16 KiB)"

# ---- limits: 8 connections per client address, idle ones closed after 10 s -------------------
python3 - "${HP[n1]}" <<'EOF' || fail "connection limits"
import socket, sys, time
port = int(sys.argv[1])
socks = [socket.create_connection(("127.0.0.1", port), 2) for _ in range(8)]
# The 9th from the same address is closed at once (EOF or reset), not served.
s9 = socket.create_connection(("127.0.0.1", port), 2)
s9.settimeout(5)
try:
    s9.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    got = s9.recv(100)
except (ConnectionResetError, BrokenPipeError):
    got = b""
if got:
    sys.exit("a 9th connection from one address was served: %r" % got[:40])
# Idle connections are closed by the server within its 10 s timeout (deadline 20 s).
socks[0].settimeout(20)
t = time.monotonic()
try:
    data = socks[0].recv(1)
except ConnectionResetError:
    data = b""
if data != b"" or time.monotonic() - t > 20:
    sys.exit("an idle connection was not closed")
for s in socks[1:]:
    s.close()
EOF
# Once the others are closed, it serves again.
wait_until 15 get n1 /metrics || fail "the endpoint did not recover after the connection limit"

# ---- a 2-node runtime -----------------------------------------------------------------------
start_http n2
key=$(form n1 web n2)
expect_view 30 n2 's["n1"]["status"]=="Online" and s["n2"]["status"]=="Online"' "both online"
wait_until 20 metric_is n1 shir_registered 'v==1' || fail "n1 not registered in metrics: $(get n1 /metrics)"
wait_until 20 metric_is n1 shir_raft_is_leader 'v==1' || fail "n1 does not lead per metrics"
wait_until 20 metric_is n2 shir_raft_has_leader 'v==1' || fail "n2 knows no leader per metrics"
wait_until 20 metric_is n2 'shir_peers{state="alive"}' 'v==1' || fail "n2 sees n1 alive per metrics: $(get n2 /metrics)"
wait_until 20 metric_is n1 shir_gossip_probes_total 'v>=1' || fail "no gossip probe counted"
wait_until 20 metric_is n1 shir_raft_commands_applied_total 'v>=3' || fail "commands applied"
wait_until 20 metric_is n1 shir_raft_commit_index 'v>=3' || fail "commit index"
wait_until 20 metric_is n2 shir_raft_applied_index 'v>=3' || fail "applied index on n2"
wait_until 20 metric_is n1 shir_raft_term 'v>=1' || fail "term"
wait_until 20 metric_is n1 shir_raft_leader_changes_total 'v>=1' || fail "leader changes"
wait_until 20 metric_is n1 'shir_tls_sessions_total{direction="in"}' 'v>=1' || fail "TLS sessions in"
# A client that is not a member: its refused handshake is counted by reason.
python3 -c "
import socket; s=socket.create_connection(('127.0.0.1',${PORT[n1]}),2); s.sendall(b'GET / HTTP/1.0\r\n\r\n'); s.recv(10)" 2>/dev/null
wait_until 20 metric_is n1 'shir_tls_handshake_failures_total{direction="in",reason="handshake"}' 'v>=1' ||
    fail "a plaintext client was not counted as a handshake failure: $(get n1 /metrics | grep failures)"
wait_until 20 same_status n2 || fail "/v1/status differs from status --json on n2: $(get n2 /v1/status) vs $(st n2)"
pass
