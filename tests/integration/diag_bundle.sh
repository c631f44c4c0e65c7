#!/usr/bin/env bash
# `shir diag --output FILE` on a 2-node runtime: a tar.gz (read back with Python's tarfile) with
# versions, host facts, status, settings, proxy settings, metrics and recent logs; mode 0600; an
# existing file refused. A canary proxy password, the registration keys and the data secret are
# searched for byte for byte in every member of the bundle and must not be found, while the
# proxy's user name (planted beside the password) must be: the search can see what it looks
# for. Without an agent, diag still writes the host facts and warns.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
check="$SHIR_SOURCE_DIR/tests/integration/prom_check.py"
canary="canary-diag-$(date +%s%N)-pw"
user="diaguser$(date +%s%N)"

for n in n1 n2; do start $n; done
key=$(form n1 diagrt n2)
expect_view 30 n1 's["n1"]["status"]=="Online" and s["n2"]["status"]=="Online"' "both online"
printf '%s\n' "$canary" | "$SHIR_BIN" proxy set --mode custom --address 127.0.0.1 --port 3128 \
    --user "$user" --password-file - --data-dir "$tmp/n2" >/dev/null || fail "proxy set: $(logs)"
key2=$(json_get "$("$SHIR_BIN" keys show --data-dir "$tmp/n1" --json)" 'd["key2"]') || fail "keys show"

expect_exit 2 "$SHIR_BIN" diag --data-dir "$tmp/n1"
out=$("$SHIR_BIN" diag --output "$tmp/b1.tgz" --data-dir "$tmp/n1" --json) || fail "diag: $(logs)"
json_get "$out" 'd["agent"] is True and d["files"] >= 9' | grep -q True || fail "diag --json: $out"
[ "$(stat -c %a "$tmp/b1.tgz")" = 600 ] || fail "bundle mode $(stat -c %a "$tmp/b1.tgz")"
expect_exit 1 "$SHIR_BIN" diag --output "$tmp/b1.tgz" --data-dir "$tmp/n1"
ln -s "$tmp/elsewhere" "$tmp/link.tgz"
expect_exit 1 "$SHIR_BIN" diag --output "$tmp/link.tgz" --data-dir "$tmp/n1"
[ -e "$tmp/elsewhere" ] && fail "diag wrote through a symbolic link"

# Every member, the secrets searched for in each and in the whole decompressed stream.
python3 - "$tmp/b1.tgz" "$tmp/n1" "$canary" "$key" "$key2" "$user" "$check" <<'EOF' || fail "bundle content (above) $(logs)"
import gzip, json, os, subprocess, sys, tarfile
path, data_dir, canary, key1, key2, user, check = sys.argv[1:8]
raw = gzip.open(path).read()
t = tarfile.open(path, "r:gz")
files = {os.path.basename(m.name): t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
tops = {m.name.split("/")[0] for m in t.getmembers()}
def die(msg): sys.exit("bundle: " + msg)
if len(tops) != 1 or not tops.pop().startswith("shir-diag-"):
    die("entries are not in one shir-diag-* directory")
for want in ("README.txt", "version.txt", "host.txt", "data-dir.txt", "status.json",
             "settings.json", "proxy.json", "metrics.txt", "logs.txt"):
    if want not in files:
        die("%s missing (has %s)" % (want, sorted(files)))
st = json.loads(files["status.json"])
if st["runtime"]["name"] != "diagrt" or {n["name"] for n in st["nodes"]} != {"n1", "n2"}:
    die("status.json: %r" % st)
px = json.loads(files["proxy.json"])
if px["user"] != user or px["password"] is not True:
    die("proxy.json: %r" % px)
if "maxNodes" not in json.loads(files["settings.json"]):
    die("settings.json")
if b"agent started" not in files["logs.txt"] or len(files["logs.txt"].splitlines()) < 5:
    die("logs.txt: %r" % files["logs.txt"][:300])
if b"cpus online" not in files["host.txt"] or b"memory:" not in files["host.txt"]:
    die("host.txt: %r" % files["host.txt"])
if b"shir " not in files["version.txt"] or b"raft" not in files["version.txt"]:
    die("version.txt")
if b"identity" not in files["data-dir.txt"]:
    die("data-dir.txt does not list identity/")
r = subprocess.run([sys.executable, check], input=files["metrics.txt"], capture_output=True)
if r.returncode != 0:
    die("metrics.txt is not valid exposition: %s" % r.stderr.decode())
# The search sees what it looks for: the user name set beside the password is in there.
if user.encode() not in raw:
    die("the proxy user is not in the bundle: the search below would prove nothing")
secrets = {"the proxy password": canary.encode(), "key1": key1.encode(), "key2": key2.encode(),
           "key1's secret part": key1.encode()[6:],
           "the data secret": open(os.path.join(data_dir, "identity", "data.secret"), "rb").read()}
for pem in ("node.key", "ca.key"):
    p = os.path.join(data_dir, "identity", pem)
    if os.path.exists(p):
        body = open(p, "rb").read().splitlines()
        secrets[pem] = b"".join(body[1:2])  # the first line of base64 is enough to find it
for what, s in secrets.items():
    if len(s) < 8:
        die("%s is too short to search for" % what)
    if s in raw or any(s in b for b in files.values()):
        die("%s is in the bundle" % what)
EOF

# Without an agent: host facts only, a warning, exit 0.
mkdir -m 700 "$tmp/idle"
"$SHIR_BIN" diag --output "$tmp/b2.tgz" --data-dir "$tmp/idle" 2>"$tmp/b2.err" >/dev/null || fail "diag without an agent failed"
grep -q "no agent answered" "$tmp/b2.err" || fail "no warning without an agent: $(cat "$tmp/b2.err")"
python3 -c "
import tarfile,sys,os; t=tarfile.open(sys.argv[1]); n={os.path.basename(m.name) for m in t.getmembers()}
sys.exit(0 if {'host.txt','version.txt','status.json'} <= n and 'logs.txt' not in n else 1)" "$tmp/b2.tgz" ||
    fail "bundle without an agent"
pass
