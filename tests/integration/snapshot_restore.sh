#!/usr/bin/env bash
# Backup and restore end to end. A 2-node runtime with a proxy password and a changed setting is
# saved (on a follower: a read barrier through the leader), then lost; the snapshot is restored
# onto a fresh node with the data secret: it becomes the only member of the same runtime (same
# id and name, the proxy and settings as saved, the password still sealed), and the key issued
# before the loss still joins a new node to it (same CA, same key generation). A wrong data
# secret, a damaged file and a registered node are refused and leave nothing behind; the file
# is 0600 and holds neither the password nor the data secret.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
canary="canary-snap-$(date +%s%N)-pw"

for n in n1 n2; do start $n; done
key=$(form n1 snaprt n2)
expect_view 30 n2 's["n1"]["status"]=="Online" and s["n2"]["status"]=="Online"' "both online"
rid=$(json_get "$(st n1)" 'd["runtime"]["id"]')
printf '%s\n' "$canary" | "$SHIR_BIN" proxy set --mode custom --address 127.0.0.1 --port 3128 \
    --user snapuser --password-file - --data-dir "$tmp/n1" >/dev/null || fail "proxy set: $(logs)"
"$SHIR_BIN" settings set --max-nodes 6 --data-dir "$tmp/n1" >/dev/null || fail "settings set: $(logs)"

# ---- save (on the follower) ------------------------------------------------------------------
expect_exit 2 "$SHIR_BIN" snapshot save --data-dir "$tmp/n2"
expect_exit 2 "$SHIR_BIN" snapshot restore "$tmp/x" --data-dir "$tmp/n2"
out=$("$SHIR_BIN" snapshot save "$tmp/backup.snap" --data-dir "$tmp/n2" --json) || fail "snapshot save: $(logs)"
json_get "$out" "d['output']=='$tmp/backup.snap' and d['bytes']==$(stat -c %s "$tmp/backup.snap")" | grep -q True ||
    fail "snapshot save --json: $out"
[ "$(stat -c %a "$tmp/backup.snap")" = 600 ] || fail "backup mode $(stat -c %a "$tmp/backup.snap")"
expect_exit 1 "$SHIR_BIN" snapshot save "$tmp/backup.snap" --data-dir "$tmp/n2"
cp "$tmp/n1/identity/data.secret" "$tmp/data.secret"
python3 - "$tmp/backup.snap" "$canary" "$tmp/data.secret" <<'EOF' || fail "a secret is in the backup in clear"
import sys
b = open(sys.argv[1], "rb").read()
for s in (sys.argv[2].encode(), open(sys.argv[3], "rb").read()):
    if s in b:
        sys.exit(1)
if b"snapuser" not in b:  # the search can see: what is not secret is there
    sys.exit("the proxy user is not in the backup")
EOF

# ---- the runtime is lost ---------------------------------------------------------------------
stop n1
stop n2

# ---- refusals leave a fresh node fresh -------------------------------------------------------
start n3
head -c 32 /dev/urandom >"$tmp/wrong.secret"
out=$("$SHIR_BIN" snapshot restore "$tmp/backup.snap" --data-secret-file "$tmp/wrong.secret" --data-dir "$tmp/n3" 2>&1) &&
    fail "a wrong data secret was accepted"
expect_match "$out" "does not open the backup" "wrong secret message"
head -c 16 /dev/urandom >"$tmp/short.secret"
expect_exit 1 "$SHIR_BIN" snapshot restore "$tmp/backup.snap" --data-secret-file "$tmp/short.secret" --data-dir "$tmp/n3"
python3 -c "
import sys; b=bytearray(open(sys.argv[1],'rb').read()); b[len(b)//2]^=1; open(sys.argv[2],'wb').write(b)" \
    "$tmp/backup.snap" "$tmp/damaged.snap"
expect_exit 1 "$SHIR_BIN" snapshot restore "$tmp/damaged.snap" --data-secret-file "$tmp/data.secret" --data-dir "$tmp/n3"
head -c 100 "$tmp/backup.snap" >"$tmp/short.snap"
expect_exit 1 "$SHIR_BIN" snapshot restore "$tmp/short.snap" --data-secret-file "$tmp/data.secret" --data-dir "$tmp/n3"
sees n3 's["n3"]["status"]=="NeedRegistration"' || fail "a refused restore left n3 registered: $(st n3)"
[ -e "$tmp/n3/identity/node.id" ] && fail "a refused restore left an identity behind"

# ---- restore --------------------------------------------------------------------------------
"$SHIR_BIN" snapshot restore "$tmp/backup.snap" --data-secret-file "$tmp/data.secret" --data-dir "$tmp/n3" >/dev/null ||
    fail "snapshot restore: $(logs)"
expect_view 20 n3 "d['runtime']['name']=='snaprt' and d['runtime']['id']=='$rid' and set(s)=={'n3'} and s['n3']['role']=='voter' and s['n3']['status']=='Online' and d['leader']=='n3'" \
    "the restored runtime"
px=$("$SHIR_BIN" proxy show --data-dir "$tmp/n3" --json) || fail "proxy show: $(logs)"
json_get "$px" 'd["user"]=="snapuser" and d["password"] is True and d["port"]==3128' | grep -q True || fail "restored proxy: $px"
se=$("$SHIR_BIN" settings show --data-dir "$tmp/n3" --json) || fail "settings show"
json_get "$se" 'd["maxNodes"]==6' | grep -q True || fail "restored settings: $se"
# The sealed keys open with the data secret the node now holds.
"$SHIR_BIN" keys show --data-dir "$tmp/n3" --json >/dev/null || fail "keys show on the restored node: $(logs)"
expect_exit 1 "$SHIR_BIN" snapshot restore "$tmp/backup.snap" --data-secret-file "$tmp/data.secret" --data-dir "$tmp/n3"

# ---- the key from before the loss joins a new node (its addresses are gone: --peer) ----------
start n4
printf '%s\n' "$key" | "$SHIR_BIN" join --key-file - --peer "127.0.0.1:${PORT[n3]}" --data-dir "$tmp/n4" >/dev/null ||
    fail "join with the old key: $(logs)"
expect_view 30 n4 "set(s)=={'n3','n4'} and all(n['status']=='Online' for n in s.values()) and d['runtime']['id']=='$rid'" \
    "n4 in the restored runtime"

# ---- a restart keeps it all -----------------------------------------------------------------
stop n3
start n3
expect_view 30 n3 "set(s)=={'n3','n4'} and d['leader'] is not None and d['runtime']['name']=='snaprt'" "after a restart"
pass
