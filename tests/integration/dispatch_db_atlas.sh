#!/usr/bin/env bash
# A database run to Atlas through the runtime (issue 13): PostgreSQL over verified TLS with a
# replicated credential, L3 (a part per table), to the Atlas stand-in, which validates what it
# receives as Apache Atlas 2.x does (type names, mandatory attributes, references:
# scan_atlas_server.py). The stand-in holds the request of part 3 (its sender's checkpoints of
# parts 0-2 are then committed: a worker reads the next table only after that), the node running
# the run is killed (kill -9), the held request is let go unrecorded, and the run succeeds on
# another node from the checkpoint. Then: no request was refused; the qualifiedNames the server
# stored equal those a `scan run-local` of the same database sent to a second stand-in; every
# table and view has its rdbms_column entities (linked to it), its schema (rdbms_db) and that
# schema's server (rdbms_instance) as run-local's do, with the same classifications; only the
# table of the resumed part may have been sent twice.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/dispatch_lib.sh"
. "$(dirname "$0")/db_lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY all_proxy ALL_PROXY
P=$(mktemp -d /tmp/shir-dispatch-db-atlas.XXXXXX)
chmod 755 "$P"
PG_PID=
trap 'db_cleanup; for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$tmp" "$P"' EXIT
TABLES=6 # and one view: 7 parts of one table each at L3
PW="canary-dispatch-db-atlas-$(date +%s%N)"

# The two Atlas stand-ins start (python3 takes seconds on a loaded machine), and the runtime forms,
# in the background while the database server and the reference run are made.
mkdir -p "$P/atlas-local" "$P/atlas"
for d in "$P/atlas-local" "$P/atlas"; do
    python3 "$(dirname "$0")/scan_atlas_server.py" "$d" >>"$P/atlas.log" 2>&1 & pids+=($!)
done
echo 3 >"$P/atlas/hold-after" # the runtime's run: parts 0-2 accepted, part 3's request held
# url_of DIR: the stand-in's URL, once it listens.
url_of() {
    wait_until 30 test -s "$1/port" || fail "atlas stand-in did not start: $(cat "$P/atlas.log")"
    echo "http://127.0.0.1:$(cat "$1/port")"
}
start n1; start n2; start n3
form n1 rt n2 n3 >/dev/null
mkdir -p "$P/pg" "$P/tls"
make_tls_certs "$P/tls" localhost
cp "$P/tls/server.pem" "$P/tls/server.key" "$P/pg/"
[ "$(id -u)" -eq 0 ] && chown postgres "$P/pg/server.pem" "$P/pg/server.key"
PGPORT=$(free_port)
pg_start "$P/pg" "$PGPORT" -c ssl=on -c "ssl_cert_file=$P/pg/server.pem" \
    -c "ssl_key_file=$P/pg/server.key"
python3 - "$PW" "$TABLES" >"$P/schema.sql" <<'PY' || fail "generate schema"
import sys
pw, n = sys.argv[1], int(sys.argv[2])
print("CREATE DATABASE shop;\n\\c shop\nCREATE SCHEMA s;")
for i in range(n):
    print(f"CREATE TABLE s.t{i:03d} (id integer PRIMARY KEY, email text, "
          f"amount numeric(8,2), code varchar(12) NOT NULL);")
    print(f"INSERT INTO s.t{i:03d} SELECT g, 'user' || g || '@example.com', g * 1.5, 'c' || g "
          f"FROM generate_series(1, 20) g;")
print("CREATE VIEW s.v0 AS SELECT id, email FROM s.t000;")
print("ANALYZE;")
print("SET log_statement = 'none';")
print(f"CREATE ROLE reader LOGIN PASSWORD '{pw}';")
print("RESET log_statement;")
print("GRANT USAGE ON SCHEMA s TO reader; GRANT SELECT ON ALL TABLES IN SCHEMA s TO reader;")
PY
pg_sql "$P/pg" "$PGPORT" postgres <"$P/schema.sql" >/dev/null 2>"$P/psql.err" ||
    fail "schema: $(cat "$P/psql.err")"
URL="postgres://localhost:$PGPORT/shop"

rejected() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['rejected'])" "$1/entities.json"; }

# The reference: run-local, here, with the same login and TLS, to a stand-in of its own.
url=$(url_of "$P/atlas-local") || exit 1
printf '%s\n' "$PW" >"$P/pw"
"$SHIR_BIN" scan run-local "$URL" --user reader --password-file "$P/pw" --tls verify-full \
    --tls-ca "$P/tls/ca.pem" --level L3 --sink "atlas:$url" --data-dir "$P/local" \
    >"$P/local.out" 2>&1 || fail "run-local: $(cat "$P/local.out") $(cat "$P"/atlas-local/rejected-*.why 2>/dev/null)"
[ "$(rejected "$P/atlas-local")" = 0 ] || fail "run-local's requests refused: $(cat "$P"/atlas-local/rejected-*.why)"

expect_view 60 n1 'all(s[x]["status"]=="Online" for x in ("n1","n2","n3"))' "runtime not formed"
printf '%s\n' "$PW" | "$SHIR_BIN" credentials set pg.ro --user reader --password-file - \
    --data-dir "$tmp/n2" --json >/dev/null || fail "credentials set: $(logs)"
url=$(url_of "$P/atlas") || exit 1
out=$(scan n1 create db --source "$URL" --level L3 --sink "atlas:$url" --credential pg.ro \
    --tls verify-full --tls-ca "$P/tls/ca.pem") || fail "create: $out $(logs)"
id=$(json_get "$(scan n2 run db)" 'd["run"]') || fail "run"
wait_until 60 test -e "$P/atlas/held-0" ||
    fail "part 3 never came: $(cat "$P"/atlas/rejected-*.why 2>/dev/null) $(logs)"
victim=$(grep -l "run $id of scan db: attempt 1 started" "$tmp"/n[123].log | head -n 1)
victim=$(basename "$victim" .log)
crash "$victim"
rm "$P/atlas/hold-after"
other=n1; [ "$victim" = n1 ] && other=n2
expect_run 120 "$other" "$id" 'r["state"]=="succeeded"' "run $id did not finish after losing $victim"
attempts=$(run_get "$other" "$id" 'json.dumps(r["attempts"])')
printf '%s' "$attempts" | python3 -c "
import json,sys
a=json.load(sys.stdin)
sys.exit(0 if len(a)>=2 and a[0]['outcome']=='node-lost' and a[-1]['node']!='$victim' else 1)" ||
    fail "attempts: $attempts"
last=$(printf '%s' "$attempts" | python3 -c "import json,sys; print(json.load(sys.stdin)[-1]['attempt'])")
from=$(grep -ho "run $id attempt $last: resuming at part [0-9]*" "$tmp"/n[123].log | head -n 1 |
    sed 's/.* //')
[ "$from" = 3 ] || fail "attempt $last did not resume at part 3 (got '$from'): $attempts"

python3 - "$P/atlas/entities.json" "$P/atlas-local/entities.json" "$URL" <<'PY' ||
import json, sys
got, want = (json.load(open(p)) for p in sys.argv[1:3])
assert got["rejected"] == 0, "refused requests"
names = lambda s: {q for per in s["entities"].values() for q in per}
assert names(got) == names(want), ("differ", sorted(names(got) ^ names(want))[:5])
ents, links = got["entities"], got["links"]
port = sys.argv[3].split(":")[2].split("/")[0]
inst = "postgresql://localhost:%s" % port
schema = inst + "/shop/s"
assert set(ents["rdbms_instance"]) == {inst}, ents["rdbms_instance"]
assert set(ents["rdbms_db"]) == {schema, inst + "/shop/public"}, ents["rdbms_db"]
assert all(links[d]["instance"] == inst for d in ents["rdbms_db"])
tables = sorted(ents["rdbms_table"])
assert tables == [schema + "/t%03d" % i for i in range(6)] + [schema + "/v0"], tables
for t in tables:
    assert links[t]["db"] == schema, (t, links[t])
    cols = sorted(c for c in ents["rdbms_column"] if links[c]["table"] == t)
    want_cols = ["amount", "code", "email", "id"] if "/t0" in t else ["email", "id"]
    assert cols == sorted(t + "#" + c for c in want_cols), (t, cols)
    assert cols == sorted(c for c in want["entities"]["rdbms_column"]
                          if want["links"][c]["table"] == t), (t, "differs from run-local")
assert got["classifications"] == want["classifications"], "classifications differ"
assert any(got["classifications"][t + "#email"] for t in tables), "no e-mail column classified"
again = {q for per in ents.values() for q, c in per.items() if c > 1}
resumed = schema + "/t003"
assert again <= {resumed} | {resumed + "#" + c for c in ("id", "email", "amount", "code")}, \
    ("sent twice outside the resumed part", sorted(again))
PY
    fail "what Atlas holds after the run"
grep -rl "$PW" "$tmp" "$P/atlas" "$P/atlas-local" 2>/dev/null && fail "the password is in a file"
pg_stop
pass
