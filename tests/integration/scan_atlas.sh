#!/usr/bin/env bash
# The Atlas sink against a local HTTP server: entity-bulk documents in batches, the outbox when
# the endpoint is down (delivered by a later run, and by the same run's final retry), and a real
# proxy (tinyproxy from Debian) in custom mode with and without Basic auth, and in system mode.
set -u
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d /tmp/shir-scan-atlas.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
SD="$SHIR_SOURCE_DIR/sample-data"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY all_proxy ALL_PROXY

start_server() { # DIR
    mkdir -p "$1"; rm -f "$1/port"
    python3 "$(dirname "$0")/scan_atlas_server.py" "$1" & pids+=($!); server=$!
    wait_until 10 test -s "$1/port" || fail "atlas stand-in did not start"
    port=$(cat "$1/port")
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_proxy() { # CONF-EXTRA
    pport=$(free_port)
    printf 'Port %s\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\nAllow 127.0.0.1\nLogLevel Info\n%s\n' \
        "$pport" "$1" > "$T/tp.conf"
    tinyproxy -d -c "$T/tp.conf" >"$T/tp.log" 2>&1 & pids+=($!); proxy=$!
    wait_until 10 python3 -c "import socket; socket.create_connection(('127.0.0.1',$pport),1)" ||
        fail "tinyproxy did not start: $(cat "$T/tp.log")"
}
scan() { # URL EXTRA... -> JSON summary in $T/sum, stderr in $T/err
    "$SHIR_BIN" scan run-local "$SD" --level L3 --exclude generate.py --json \
        --sink "atlas:$1" --outbox "$T/outbox" --batch 5 --retries 2 "${@:2}" >"$T/sum" 2>"$T/err"
}
field() { python3 -c "import json,sys; print(json.load(open('$T/sum'))['$1'])"; }

# 1. Delivery in batches of 5 assets.
start_server "$T/s1"
scan "http://127.0.0.1:$port" || fail "atlas run exited $?: $(cat "$T/err")"
assets=$(field assets)
[ "$(field delivered)" = "$assets" ] && [ "$(field queued)" = 0 ] || fail "delivery: $(cat "$T/sum")"
python3 - "$T/s1" "$assets" <<'PY' || fail "entity bulk documents"
import glob, json, math, sys
d, assets = sys.argv[1], int(sys.argv[2])
reqs = sorted(glob.glob(d + "/req-*.json"))
assert len(reqs) == math.ceil(assets / 5), (len(reqs), assets)
ents = [e for r in reqs for e in json.load(open(r))["entities"]]
paths = [e for e in ents if e["typeName"] == "fs_path"]
assert len(paths) == assets, len(paths)
csv = [e for e in paths if e["attributes"]["qualifiedName"].endswith("/crm/customers.csv")][0]
assert csv["attributes"]["isFile"] is True and csv["attributes"]["fileSize"] > 0, csv
assert {"typeName": "EMAIL_ADDRESS"} in csv["classifications"], csv
cols = [e for e in ents if e["typeName"] == "column"
        and e["attributes"]["qualifiedName"].endswith("customers.csv#__tabular_schema//ssn")]
assert cols and {"typeName": "US_SSN"} in cols[0]["classifications"], cols
schema_guid = cols[0]["relationshipAttributes"]["composeSchema"]["guid"]
assert any(e["guid"] == schema_guid and e["typeName"] == "tabular_schema" for e in ents)
rs = [e for e in paths if "{N}" in e["attributes"]["qualifiedName"]]
assert rs and rs[0]["attributes"]["isFile"] is False, rs
PY

# 2. Endpoint down: everything waits in the outbox; the next run (endpoint back) delivers it.
kill "$server"; wait "$server" 2>/dev/null
scan "http://127.0.0.1:$port" || fail "a down endpoint failed the scan: $(cat "$T/err")"
[ "$(field queued)" = "$assets" ] && [ "$(field delivered)" = 0 ] || fail "outbox: $(cat "$T/sum")"
n=$(ls "$T/outbox" | grep -c '^batch-.*\.json$')
[ "$n" -ge 1 ] || fail "no outbox files"
ls -a "$T/outbox" | grep -q '^\.tmp' && fail "temporary outbox file left behind"
start_server "$T/s2"
scan "http://127.0.0.1:$port" || fail "delivery run exited $?: $(cat "$T/err")"
[ "$(field delivered)" = $((assets * 2)) ] && [ "$(field queued)" = 0 ] ||
    fail "outbox not delivered on the next run: $(cat "$T/sum")"
[ -z "$(ls "$T/outbox")" ] || fail "outbox not emptied"

# 3. The same run's final retry: the first requests fail (503 x2 = one batch's attempts).
echo 2 > "$T/s2/fail"
scan "http://127.0.0.1:$port" || fail "final-retry run exited $?: $(cat "$T/err")"
[ "$(field delivered)" = "$assets" ] && [ "$(field queued)" = 0 ] ||
    fail "final retry did not deliver: $(cat "$T/sum")"
expect_match "$(cat "$T/err")" 'atlas: attempt 2/2 failed: HTTP 503' "503 retried"

# 4. Through tinyproxy, custom mode, no auth: the server sees tinyproxy's Via header.
start_proxy ""
rm -f "$T/s2"/req-*
scan "http://127.0.0.1:$port" --proxy-mode custom --proxy-address 127.0.0.1 --proxy-port "$pport" ||
    fail "proxied run exited $?: $(cat "$T/err")"
[ "$(field delivered)" = "$assets" ] || fail "proxied delivery: $(cat "$T/sum")"
grep -qi '^Via: .*tinyproxy' "$T/s2"/req-0.hdr || fail "request did not go through the proxy"

# ... unless the endpoint is on the bypass list.
rm -f "$T/s2"/req-*
scan "http://127.0.0.1:$port" --proxy-mode custom --proxy-address 127.0.0.1 --proxy-port "$pport" \
    --proxy-bypass "localhost,127.0.0.1" || fail "bypass run exited $?"
grep -qi '^Via:' "$T/s2"/req-0.hdr && fail "a bypassed host went through the proxy"

# 5. System mode: http_proxy from the environment reaches the worker.
rm -f "$T/s2"/req-*
http_proxy="http://127.0.0.1:$pport" scan "http://127.0.0.1:$port" --proxy-mode system ||
    fail "system-proxy run exited $?"
grep -qi '^Via: .*tinyproxy' "$T/s2"/req-0.hdr || fail "system mode ignored http_proxy"
# ... and mode none ignores it.
rm -f "$T/s2"/req-*
http_proxy="http://127.0.0.1:$pport" scan "http://127.0.0.1:$port" --proxy-mode none ||
    fail "no-proxy run exited $?"
grep -qi '^Via:' "$T/s2"/req-0.hdr && fail "mode none went through the proxy"
kill "$proxy"; wait "$proxy" 2>/dev/null

# 6. Basic auth at the proxy; the password comes from a file and appears nowhere else.
pw='pr0xy-Pa55word'
start_proxy "BasicAuth shiruser $pw"
printf '%s\n' "$pw" > "$T/pw"
rm -f "$T/s2"/req-*
scan "http://127.0.0.1:$port" --proxy-mode custom --proxy-address 127.0.0.1 --proxy-port "$pport" \
    --proxy-user shiruser --proxy-password-file "$T/pw" --proxy-auth basic ||
    fail "authenticated proxy run exited $?: $(cat "$T/err")"
[ "$(field delivered)" = "$assets" ] || fail "auth proxy delivery: $(cat "$T/sum")"
grep -qi '^Via: .*tinyproxy' "$T/s2"/req-0.hdr || fail "auth run did not use the proxy"
grep -q "$pw" "$T/err" "$T/sum" && fail "the proxy password leaked into output"
# Password on stdin works too. A wrong one is refused by the proxy: nothing is delivered, and
# either the 407 fails the scan (exit 1) or, when tinyproxy resets the connection before we read
# its answer, the batches wait in the outbox.
rm -f "$T/s2"/req-*
printf 'wrong-password\n' | scan "http://127.0.0.1:$port" --proxy-mode custom \
    --proxy-address 127.0.0.1 --proxy-port "$pport" --proxy-user shiruser \
    --proxy-password-file - --proxy-auth basic
rc=$?
ls "$T/s2"/req-*.json >/dev/null 2>&1 && fail "a wrong proxy password still delivered"
if [ "$rc" -eq 0 ]; then
    [ "$(field queued)" = "$assets" ] || fail "wrong password: $(cat "$T/sum")"
else
    [ "$rc" -eq 1 ] || fail "wrong proxy password: exit $rc"
    expect_match "$(cat "$T/err")" 'HTTP 407' "407 reported"
fi
grep -q 'wrong-password' "$T/err" "$T/sum" && fail "the proxy password leaked into output"
pass
