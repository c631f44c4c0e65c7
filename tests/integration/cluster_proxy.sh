#!/usr/bin/env bash
# Proxy settings through a real 3-node runtime: set on a follower, read back on every node at
# once; `proxy test` makes a real request through tinyproxy (Debian's) on loopback, with and
# without credentials; and a canary password is searched for, byte for byte, in every file of
# every data directory and every log — and must not be found.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY all_proxy ALL_PROXY
command -v tinyproxy >/dev/null || fail "tinyproxy is not installed (deploy/install-deps.sh installs it)"
canary="canary-7Qx2-$(date +%s%N)-pw"

start_proxy() { # EXTRA-CONFIG
    pport=$(free_port)
    printf 'Port %s\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\nAllow 127.0.0.1\nLogLevel Info\n%s\n' \
        "$pport" "$1" >"$tmp/tp.conf"
    tinyproxy -d -c "$tmp/tp.conf" >>"$tmp/tp.log" 2>&1 & pids+=("$!"); proxy_pid=$!
    wait_until 10 python3 -c "import socket; socket.create_connection(('127.0.0.1',$pport),1)" ||
        fail "tinyproxy did not start: $(cat "$tmp/tp.log")"
}

for n in n1 n2 n3; do start $n; done
key=$(form n1 px n2 n3)

# A web server to reach, on loopback.
mkdir -p "$tmp/www" && echo hello >"$tmp/www/index.html"
wport=$(free_port)
python3 -m http.server "$wport" --bind 127.0.0.1 --directory "$tmp/www" >"$tmp/www.log" 2>&1 & pids+=("$!")
wait_until 10 python3 -c "import socket; socket.create_connection(('127.0.0.1',$wport),1)" || fail "web server"
url="http://127.0.0.1:$wport/index.html"

# No proxy: a direct request.
out=$("$SHIR_BIN" proxy test "$url" --data-dir "$tmp/n1" --json) || fail "direct proxy test: $(logs)"
json_get "$out" 'd["status"]==200 and d["via"]=="none"' | grep -q True || fail "direct: $out"

# Usage errors.
expect_exit 2 "$SHIR_BIN" proxy set --mode custom --data-dir "$tmp/n1"
expect_exit 2 "$SHIR_BIN" proxy set --mode bogus --data-dir "$tmp/n1"
expect_exit 2 "$SHIR_BIN" proxy show --mode none --data-dir "$tmp/n1"

# With credentials, set on a follower (forwarded to the leader), read back everywhere.
start_proxy "BasicAuth alice $canary"
printf '%s\n' "$canary" | "$SHIR_BIN" proxy set --mode custom --address 127.0.0.1 --port "$pport" \
    --user alice --password-file - --auth basic --bypass example.invalid --data-dir "$tmp/n2" >/dev/null ||
    fail "proxy set: $(logs)"
for n in n1 n2 n3; do
    wait_until 10 bash -c "'$SHIR_BIN' proxy show --data-dir '$tmp/$n' --json | grep -q '\"port\":$pport'" ||
        fail "proxy settings not on $n: $("$SHIR_BIN" proxy show --data-dir "$tmp/$n" --json)"
    show=$("$SHIR_BIN" proxy show --data-dir "$tmp/$n" --json)
    json_get "$show" 'd["mode"]=="custom" and d["user"]=="alice" and d["password"] is True and d["auth"]=="basic"' |
        grep -q True || fail "proxy show on $n: $show"
done
out=$("$SHIR_BIN" proxy test "$url" --data-dir "$tmp/n3" --json) || fail "proxy test with auth: $(logs)"
json_get "$out" 'd["status"]==200 and d["via"]=="custom"' | grep -q True || fail "with auth: $out"
grep -q "127.0.0.1:$wport/index.html" "$tmp/tp.log" || fail "the request did not go through tinyproxy"

# A wrong password is refused by the proxy (tinyproxy answers 401; others say 407), and said so.
printf 'wrong-password\n' | "$SHIR_BIN" proxy set --mode custom --address 127.0.0.1 --port "$pport" \
    --user alice --password-file - --auth basic --data-dir "$tmp/n1" >/dev/null || fail "proxy set 2"
out=$("$SHIR_BIN" proxy test "$url" --data-dir "$tmp/n1" --json) || fail "proxy test, wrong password"
json_get "$out" 'd["status"] in (401, 407)' | grep -q True || fail "wrong password: $out"

# Without credentials: a second tinyproxy with no BasicAuth.
kill "$proxy_pid"; start_proxy ""
"$SHIR_BIN" proxy set --mode custom --address 127.0.0.1 --port "$pport" --data-dir "$tmp/n1" >/dev/null ||
    fail "proxy set without credentials"
wait_until 10 bash -c "'$SHIR_BIN' proxy show --data-dir '$tmp/n2' --json | grep -q '\"port\":$pport'" || fail "n2 lags"
out=$("$SHIR_BIN" proxy test "$url" --data-dir "$tmp/n2" --json) || fail "proxy test without auth: $(logs)"
json_get "$out" 'd["status"]==200 and d["via"]=="custom"' | grep -q True || fail "without auth: $out"

# bypass-local sends loopback around the proxy: tinyproxy sees nothing new.
"$SHIR_BIN" proxy set --mode custom --address 127.0.0.1 --port "$pport" --bypass-local --data-dir "$tmp/n1" >/dev/null
before=$(grep -c "index.html" "$tmp/tp.log")
out=$("$SHIR_BIN" proxy test "$url" --data-dir "$tmp/n1" --json) || fail "bypass-local test"
[ "$(grep -c "index.html" "$tmp/tp.log")" = "$before" ] || fail "bypass-local went through the proxy"

"$SHIR_BIN" proxy clear --data-dir "$tmp/n1" >/dev/null || fail "proxy clear"
wait_until 10 bash -c "'$SHIR_BIN' proxy show --data-dir '$tmp/n3' --json | grep -q '\"mode\":\"none\"'" || fail "clear not applied"

# The canary: stop the agents (logs flushed, files closed), then search every byte.
stop_all
hits=$(grep -rlaF -- "$canary" "$tmp"/n1 "$tmp"/n2 "$tmp"/n3 "$tmp"/n*.log 2>/dev/null)
[ -z "$hits" ] || fail "the proxy password was found in clear in: $hits"
pass
