#!/usr/bin/env bash
# Proxy settings through a real 3-node runtime: set on a follower, read back on every node at
# once; a set changes only the fields given (issue 10, F11), clear drops the proxy; `proxy test` makes a real request through tinyproxy (Debian's) on loopback, with and
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

# Usage errors: no settings at all (F11: it used to reset the proxy to none), a bad mode, flags
# on show, a password with `--user ''`.
expect_exit 2 "$SHIR_BIN" proxy set --data-dir "$tmp/n1"
expect_exit 2 "$SHIR_BIN" proxy set --json --data-dir "$tmp/n1"
expect_exit 2 "$SHIR_BIN" proxy set --mode bogus --data-dir "$tmp/n1"
expect_exit 2 "$SHIR_BIN" proxy show --mode none --data-dir "$tmp/n1"
expect_exit 2 "$SHIR_BIN" proxy set --user '' --password-file /dev/null --data-dir "$tmp/n1"
# A custom proxy without an address is refused by the leader (the merge has no host), and said so.
err=$("$SHIR_BIN" proxy set --mode custom --data-dir "$tmp/n1" 2>&1) && fail "custom without address"
expect_match "$err" "proxy" "custom without address: $err"

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

# F11: a set changes only the fields given. --bypass-local alone keeps address, port, user,
# password and auth; --no-bypass-local turns it off again; a port alone keeps the rest.
show_holds() { # NODE PYTHON-EXPR: proxy show on NODE satisfies the expression over d
    local out
    out=$("$SHIR_BIN" proxy show --data-dir "$tmp/$1" --json) || return 1
    [ "$(json_get "$out" "$2")" = True ]
}
show_is() { # NODE PYTHON-EXPR WHAT
    wait_until 10 show_holds "$1" "$2" ||
        fail "$3: $("$SHIR_BIN" proxy show --data-dir "$tmp/$1" --json)"
}
"$SHIR_BIN" proxy set --bypass-local --data-dir "$tmp/n3" >/dev/null || fail "set --bypass-local"
for n in n1 n2 n3; do
    show_is $n "d['bypassLocal'] is True and d['mode']=='custom' and d['port']==$pport and d['user']=='alice' and d['password'] is True and d['auth']=='basic' and d['bypass']=='example.invalid'" \
        "--bypass-local alone changed other fields on $n"
done
"$SHIR_BIN" proxy set --no-bypass-local --data-dir "$tmp/n1" >/dev/null || fail "set --no-bypass-local"
show_is n2 "d['bypassLocal'] is False and d['user']=='alice' and d['password'] is True" "--no-bypass-local"
"$SHIR_BIN" proxy set --port 1 --data-dir "$tmp/n1" >/dev/null || fail "set --port alone"
show_is n3 "d['port']==1 and d['address']=='127.0.0.1' and d['user']=='alice' and d['password'] is True" "--port alone"
"$SHIR_BIN" proxy set --port "$pport" --data-dir "$tmp/n2" >/dev/null || fail "set --port back"
out=$("$SHIR_BIN" proxy test "$url" --data-dir "$tmp/n1" --json) || fail "proxy test after partial sets"
json_get "$out" 'd["status"]==200' | grep -q True || fail "the password did not survive partial sets: $out"
# A nil or empty proxy.set body on the admin socket is refused and changes nothing.
python3 - "$tmp/n1/admin.sock" <<'PY' || fail "a nil/empty proxy.set body was not refused"
import socket, struct, sys
for body in (b"\xc0", b"\x80"):
    s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
    msg = bytes([0x95, 0x00, 0x07, 0xcd, 0x27, 0x10, 0xa9]) + b"proxy.set" + body
    s.sendall(struct.pack(">I", len(msg)) + msg)
    reply = s.recv(4096)
    assert reply[4] == 0x94 and reply[5] == 0x02 and reply[6] == 0x07, reply  # an error, our id
    s.close()
PY
show_is n3 "d['mode']=='custom' and d['port']==$pport and d['user']=='alice'" "an empty proxy.set changed the settings"

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

# Issue 12, defect 4: clear --json prints the cleared settings (it printed null), at once, even
# on a follower (read through the barrier), in show's camelCase shape.
out=$("$SHIR_BIN" proxy clear --data-dir "$tmp/n2" --json) || fail "proxy clear"
json_check "$out" "d['mode']=='none' and d['address']=='' and d['port']==0 and d['bypassLocal'] is False" "proxy clear --json"
wait_until 10 bash -c "'$SHIR_BIN' proxy show --data-dir '$tmp/n3' --json | grep -q '\"mode\":\"none\"'" || fail "clear not applied"
show_is n2 "d['mode']=='none' and d['address']=='' and d['port']==0 and d['bypass']=='' and d['bypassLocal'] is False" "clear left fields"

# --address/--port without --mode mean custom; --user '' drops the user and the password.
printf 'pw-2\n' | "$SHIR_BIN" proxy set --address 127.0.0.1 --port "$pport" --user bob --password-file - \
    --data-dir "$tmp/n2" >/dev/null || fail "set without --mode"
show_is n1 "d['mode']=='custom' and d['user']=='bob' and d['password'] is True" "address/port imply custom"
"$SHIR_BIN" proxy set --user '' --data-dir "$tmp/n3" >/dev/null || fail "set --user ''"
show_is n1 "d['mode']=='custom' and d['user']=='' and d['password'] is False and d['port']==$pport" "--user '' keeps a password"
# --mode none drops address, port and credentials it was not given.
"$SHIR_BIN" proxy set --mode none --data-dir "$tmp/n1" >/dev/null || fail "set --mode none"
show_is n3 "d['mode']=='none' and d['address']=='' and d['port']==0" "--mode none kept custom fields"

# The canary: stop the agents (logs flushed, files closed), then search every byte.
stop_all
hits=$(grep -rlaF -- "$canary" "$tmp"/n1 "$tmp"/n2 "$tmp"/n3 "$tmp"/n*.log 2>/dev/null)
[ -z "$hits" ] || fail "the proxy password was found in clear in: $hits"
pass
