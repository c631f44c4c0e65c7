#!/usr/bin/env bash
# A database source through the runtime (issue 13) on a real PostgreSQL with TLS: a definition
# with --tls verify-full and --tls-ca (its content stored in the replicated definition) and a
# replicated credential; the run's node is killed (kill -9) after its first per-table
# checkpoint, ten tables that sort before the checkpoint's key created just before; the run
# succeeds on another node from that checkpoint (resumedFrom > 0), resumed by key; its parts
# hold exactly the assets of a `scan run-local` of the database as it was, none twice; and the
# server's own counters (pg_stat_user_tables.seq_scan, each table's sample is one scan) show
# every table read, and at most one table read twice: the one at the checkpoint. A CA that did
# not sign the server fails the run with a certificate error; the flags are refused for a path.
set -u
. "$(dirname "$0")/lib.sh"
[ "${SHIR_BUILT_WITH_FAULTS:-0}" = 1 ] || { echo "SKIP: needs a build with SHIR_TEST_FAULTS"; exit 77; }
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/dispatch_lib.sh"
. "$(dirname "$0")/db_lib.sh"
export SHIR_TEST_WORKER_FAULT=slow # 20 ms per table: the run is going when the node is killed
P=$(mktemp -d /tmp/shir-dispatch-db.XXXXXX)
chmod 755 "$P"
PG_PID=
trap 'db_cleanup; for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$tmp" "$P"' EXIT
TABLES=200
PW="canary-dispatch-db-$(date +%s%N)"

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
    print(f"CREATE TABLE s.t{i:03d} (id integer PRIMARY KEY, email text, amount numeric(8,2));")
    print(f"INSERT INTO s.t{i:03d} SELECT g, 'user' || g || '@example.com', g * 1.5 "
          f"FROM generate_series(1, 20) g;")
print("ANALYZE;")
print("SET log_statement = 'none';")
print(f"CREATE ROLE reader LOGIN PASSWORD '{pw}';")
print("RESET log_statement;")
print("GRANT USAGE ON SCHEMA s TO reader; GRANT SELECT ON ALL TABLES IN SCHEMA s TO reader;")
PY
pg_sql "$P/pg" "$PGPORT" postgres <"$P/schema.sql" >/dev/null 2>"$P/psql.err" ||
    fail "schema: $(cat "$P/psql.err")"
URL="postgres://localhost:$PGPORT/shop"
# seq_scans: the number of tables of s read N times or more (N = $1).
scanned() {
    echo "SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = 's' AND seq_scan >= $1;" |
        pg_sql "$P/pg" "$PGPORT" shop
}
scanned_is() { [ "$(scanned "$1")" = "$2" ]; }

# The reference: run-local, here, with the same login and TLS.
printf '%s\n' "$PW" >"$P/pw"
"$SHIR_BIN" scan run-local "$URL" --user reader --password-file "$P/pw" --tls verify-full \
    --tls-ca "$P/tls/ca.pem" --level L3 --sink "jsonl:$P/local.jsonl" --data-dir "$P/local" \
    >"$P/local.out" 2>&1 || fail "run-local: $(cat "$P/local.out")"
# Its backend's counters reach the server when it exits: wait for them, then start from zero.
wait_until 30 scanned_is 1 "$TABLES" || fail "run-local's scans not counted: $(scanned 1)"
echo "SELECT pg_stat_reset();" | pg_sql "$P/pg" "$PGPORT" shop >/dev/null || fail "reset"
scanned_is 1 0 || fail "counters not reset: $(scanned 1)"

start n1; start n2; start n3
form n1 rt n2 n3 >/dev/null
expect_view 60 n1 'all(s[x]["status"]=="Online" for x in ("n1","n2","n3"))' "runtime not formed"
printf '%s\n' "$PW" | "$SHIR_BIN" credentials set pg.ro --user reader --password-file - \
    --data-dir "$tmp/n2" --json >/dev/null || fail "credentials set: $(logs)"

# The flags belong to database sources: refused for a path, on create (by the CLI) and on an
# update that would leave a path source with them (by the agent).
expect_exit 2 "$SHIR_BIN" scan create p --source "$P" --sink "jsonl:$tmp/out" --tls disable \
    --data-dir "$tmp/n1"
out=$(scan n1 create db --source "$URL" --level L3 --sink "jsonl:$tmp/out" --credential pg.ro \
    --tls verify-full --tls-ca "$P/tls/ca.pem" --connect-timeout 10 --statement-timeout 5000) ||
    fail "create: $out $(logs)"
ca_bytes=$(stat -c %s "$P/tls/ca.pem")
json_check "$out" "d['tls']=='verify-full' and d['tlsCaBytes']==$ca_bytes and \
d['connectTimeoutS']==10 and d['statementTimeoutMs']==5000 and d['exactCounts'] is False" \
    "scan create's answer"
out=$(scan n3 show db) || fail "show: $out"
json_check "$out" "d['tls']=='verify-full' and d['tlsCaBytes']==$ca_bytes" "show on n3"
out=$(scan n1 update db --source "$P" --statement-timeout 100) && fail "a path took --statement-timeout: $out"
expect_match "$out" 'are for database sources' "update to a path with database flags"
out=$(scan n1 show db) || fail "show: $out"
json_check "$out" "d['source']=='$URL' and d['statementTimeoutMs']==5000" "refused update changed it"

# The run, its node killed after the first checkpoint.
# The files tell at once (a poll of `scan runs` can take seconds on a loaded machine): part 1
# exists only once its table was read, which a worker starts only after checkpoint 0 committed.
id=$(json_get "$(scan n2 run db)" 'd["run"]') || fail "run"
wait_until 60 test -f "$tmp/out/db/$id/part-000001.jsonl" || fail "no second part $(logs)"
victim=$(grep -l "run $id of scan db: attempt 1 started" "$tmp"/n[123].log | head -n 1)
victim=$(basename "$victim" .log)
# The catalog changes before the resume: ten tables that sort before every checkpoint's key
# (s.a000-s.a009 < s.t000). A resume by index would start ten tables early in the new catalog
# and lose the last ten; by key it starts at the same table, and the new tables, before the
# key, are not part of this run's remainder (parts == run-local's assets below).
for i in 0 1 2 3 4 5 6 7 8 9; do
    echo "CREATE TABLE s.a00$i (id integer); INSERT INTO s.a00$i VALUES (1);" # no index: its build is a seq_scan
done | pg_sql "$P/pg" "$PGPORT" shop >/dev/null 2>"$P/psql.err" || fail "new tables: $(cat "$P/psql.err")"
echo "GRANT SELECT ON ALL TABLES IN SCHEMA s TO reader;" | pg_sql "$P/pg" "$PGPORT" shop >/dev/null ||
    fail "grant"
crash "$victim"
other=n1; [ "$victim" = n1 ] && other=n2
expect_run 180 "$other" "$id" 'r["state"]=="succeeded"' "run $id did not finish after losing $victim"
# The attempt that finished resumed from a checkpoint. Its worker logs where it started (a part
# is a table at L3, so the part is the first table it read); the run's record says the same
# in resumedFrom, when the attempt's start report was committed (it is not retried: a start
# proposed while the killed node's leadership is being replaced can be lost, and then the
# attempt shows started null and resumedFrom null although it resumed).
attempts=$(run_get "$other" "$id" 'json.dumps(r["attempts"])')
printf '%s' "$attempts" | python3 -c "
import json,sys
a=json.load(sys.stdin)
sys.exit(0 if len(a)>=2 and a[0]['outcome']=='node-lost' and a[-1]['node']!='$victim' else 1)" ||
    fail "attempts: $attempts"
last=$(printf '%s' "$attempts" | python3 -c "import json,sys; print(json.load(sys.stdin)[-1]['attempt'])")
from=$(grep -ho "run $id attempt $last: resuming at part [0-9]*" "$tmp"/n[123].log | head -n 1 |
    sed 's/.* //')
[ -n "$from" ] && [ "$from" -gt 0 ] || fail "attempt $last did not resume from a checkpoint: $attempts"
[ "$from" -lt "$TABLES" ] || fail "resumed after the last table ($from): the kill came too late"
printf '%s' "$attempts" | python3 -c "
import json,sys
r=json.load(sys.stdin)[-1]['resumedFrom']
sys.exit(0 if r is None or r['files']==$from else 1)" || fail "resumedFrom is not table $from: $attempts"
[ -f "$tmp/out/db/$id/_SUCCESS" ] || fail "no _SUCCESS"
ls "$tmp/out/db/$id" | grep -q '^\.tmp-' && fail "temporary files left"
LC_ALL=C sort "$tmp"/out/db/"$id"/part-*.jsonl >"$P/parts.sorted"
LC_ALL=C sort "$P/local.jsonl" >"$P/local.sorted"
[ "$(uniq -d "$P/parts.sorted" | wc -l)" = 0 ] || fail "duplicate assets in the parts"
cmp -s "$P/parts.sorted" "$P/local.sorted" ||
    fail "parts differ from run-local: $(diff "$P/parts.sorted" "$P/local.sorted" | head -5)"
head -n 1 "$tmp/out/db/$id/part-000000.jsonl" | grep -q '"type":"schema"' ||
    fail "part 0 does not start with the schema"

# Every table read; at most one twice, and only the one at the checkpoint the run resumed from.
wait_until 30 scanned_is 1 "$TABLES" || fail "tables read: $(scanned 1) of $TABLES"
twice=$(echo "SELECT string_agg(relname, ',') FROM pg_stat_user_tables WHERE schemaname = 's' AND seq_scan >= 2;" |
    pg_sql "$P/pg" "$PGPORT" shop)
at=$(printf 't%03d' "$from")
[ -z "$twice" ] || [ "$twice" = "$at" ] ||
    fail "tables read twice: '$twice' (the resumed attempt started at table $from, $at)"

# A CA that did not sign the server's certificate: the run fails, saying so.
scan "$other" create bad --source "$URL" --level L1 --sink "jsonl:$tmp/out" --credential pg.ro \
    --tls-ca "$P/tls/other-ca.pem" --max-attempts 1 >/dev/null || fail "create bad"
id2=$(json_get "$(scan "$other" run bad)" 'd["run"]') || fail "run bad"
expect_run 60 "$other" "$id2" 'r["state"]=="failed" and "certificate" in (r["error"] or "")' \
    "a run against a server signed by another CA"
grep -rl "$PW" "$tmp" "$P/pg/server.log" 2>/dev/null | grep -v "$P/pw" && fail "the password is in a file"
pg_stop
pass
