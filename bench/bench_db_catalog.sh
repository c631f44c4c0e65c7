#!/usr/bin/env bash
# PostgreSQL catalog walk: tables per second on a database of N tables (default 10,000; 6
# columns each, one a primary key, every tenth with a foreign key), through
# `shir scan run-local postgres://…` at L1 (names and estimates: one catalog query), L2 (plus
# columns, types and keys: one prepared statement per 64 tables) and L3 (plus a 128-row sample and
# classification per table; every table holds 20 rows with an e-mail column). The server is
# started here from Debian's packages (tests/integration/db_lib.sh), on loopback, plain TCP.
# Usage: bench/bench_db_catalog.sh [SHIR_BIN] [TABLES]   (defaults: build/eng/node/shir, 10000)
set -uo pipefail
SHIR=$(realpath "${1:-build/eng/node/shir}")
N=${2:-10000}
HERE=$(cd "$(dirname "$0")" && pwd)
SHIR_BIN=$SHIR
. "$HERE/../tests/integration/lib.sh"
. "$HERE/../tests/integration/db_lib.sh"
T=$(mktemp -d /tmp/shir-bench-db.XXXXXX)
chmod 755 "$T"
PG_PID=
trap 'db_cleanup; rm -rf "$T"' EXIT
PORT=$(free_port)
pg_start "$T/pg" "$PORT" -c log_statement=none -c max_locks_per_transaction=256

python3 - "$N" >"$T/schema.sql" <<'PY'
import sys
n = int(sys.argv[1])
print("CREATE DATABASE bench;\n\\c bench\nBEGIN;\nCREATE SCHEMA s;")
print("CREATE TABLE s.parent (id integer PRIMARY KEY);")
print("INSERT INTO s.parent SELECT generate_series(1, 20);")
for i in range(n - 1):
    fk = " REFERENCES s.parent(id)" if i % 10 == 0 else ""
    print(f"CREATE TABLE s.t{i:05d} (id integer PRIMARY KEY, email text, amount numeric(10,2), "
          f"created timestamptz, parent_id integer{fk}, note varchar(40));")
    print(f"INSERT INTO s.t{i:05d} SELECT g, 'u' || g || '@example.com', g * 1.5, now(), "
          f"1 + g % 20, 'n' FROM generate_series(1, 20) g;")
    if i % 500 == 499:
        print("COMMIT; BEGIN;")
print("COMMIT;\nANALYZE;")
print("CREATE ROLE reader LOGIN PASSWORD 'bench';")
print("GRANT USAGE ON SCHEMA s TO reader; GRANT SELECT ON ALL TABLES IN SCHEMA s TO reader;")
PY
t0=$(date +%s)
pg_sql "$T/pg" "$PORT" postgres <"$T/schema.sql" >/dev/null 2>"$T/psql.err" ||
    { echo "bench_db_catalog: schema failed: $(tail -n 3 "$T/psql.err")" >&2; exit 1; }
echo "bench_db_catalog: $N tables created in $(( $(date +%s) - t0 )) s"
printf 'bench\n' >"$T/pw"

for level in L1 L2 L3; do
    json=$("$SHIR" scan run-local "postgres://127.0.0.1:$PORT/bench" --user reader \
        --password-file "$T/pw" --tls disable --level "$level" --json \
        --sink "jsonl:$T/$level.jsonl" 2>"$T/err") ||
        { echo "bench_db_catalog: $level failed: $json $(cat "$T/err")" >&2; exit 1; }
    python3 - "$json" "$level" "$T/$level.jsonl" <<'PY'
import json, sys
s, level = json.loads(sys.argv[1]), sys.argv[2]
tables = sum(1 for l in open(sys.argv[3]) if json.loads(l)["type"] in ("table", "view"))
ms = max(s["durationMs"], 1)
print(f"  {level}  {tables:6d} tables  {tables / ms * 1000:9.0f} tables/s  ({ms} ms, "
      f"{s['classifiedColumns']} classified columns, {s['errors']} errors)")
PY
done
pg_stop
