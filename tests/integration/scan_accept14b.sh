#!/usr/bin/env bash
# Black-box acceptance of this round's scan-engine promises, from docs/scanning.md alone: `.txt`
# exports read as tables at L2+ (Python's csv, the sqlite3 CLI, psql -A and MariaDB's INTO
# OUTFILE / mysqldump --tab against real servers started here) and prose as text; the `time` type in CSV/TSV/JSONL, XLSX and declared
# Parquet/Arrow/Avro times; quotes first seen past the 64-line sniffing window; short hex hashes of
# any draw in one resource set. `shir scan run-local` at L1, L2 and L3; every point checked in the
# JSON lines (scan_accept14b.py).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/db_lib.sh"
T=$(mktemp -d /tmp/shir-accept14b.XXXXXX)
chmod 755 "$T"
PG_PID=
MY_PID=
trap 'db_cleanup; rm -rf "$T"' EXIT
command -v sqlite3 >/dev/null || fail "sqlite3 not found (deploy/install-deps.sh)"
python3 "$(dirname "$0")/scan_accept14b.py" tree "$T/tree" "$SHIR_SOURCE_DIR" ||
    fail "cannot write the tree"
txt="$T/tree/txt"

# sqlite3's list mode (`|`, nothing quoted) and tabs mode, as a user exports a query.
rows="WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
SELECT i AS id, CASE i % 3 WHEN 0 THEN 'Lee, Ann' WHEN 1 THEN 'Bo Chen' ELSE 'O''Neil; Cy' END
  AS customer, printf('%.2f', i * 7.31 + 0.5) AS amount, date('2024-01-01', '+' || i || ' days')
  AS ordered FROM n;"
sqlite3 -header -list :memory: "$rows" >"$txt/sqlite_list.txt" || fail "sqlite3 list"
sqlite3 -header -tabs :memory: "$rows" >"$txt/sqlite_tabs.txt" || fail "sqlite3 tabs"

# psql -A (unaligned, `|`, a "(30 rows)" footer) and -At (tuples only) from a real server.
PORT=$(free_port)
pg_start "$T/pg" "$PORT"
pg_sql "$T/pg" "$PORT" postgres <<'SQL' || fail "create tables"
CREATE TABLE orders AS SELECT i AS id,
  (ARRAY['Lee, Ann', 'Bo Chen', 'O''Neil; Cy'])[i % 3 + 1] AS customer,
  (i * 7.31 + 0.5)::numeric(10, 2) AS amount, DATE '2024-01-01' + i AS ordered
  FROM generate_series(1, 30) i;
CREATE TABLE shifts AS SELECT i AS id, TIME '08:30' + i * INTERVAL '7 minutes' AS opens,
  (TIME '12:00:00.125' + i * INTERVAL '1 second')::time(3) AS closes,
  i * INTERVAL '90 minutes' AS span, TIMETZ '08:30:00+02' AS zoned
  FROM generate_series(1, 30) i;
SQL
psql_a() {
    as_user postgres "$PG_BIN/psql" -X -h "$T/pg/sock" -p "$PORT" -U admin -d postgres "$@"
}
psql_a -A -c 'SELECT * FROM orders ORDER BY id' >"$txt/psql_unaligned.txt" || fail "psql -A"
psql_a -At -c 'SELECT * FROM orders ORDER BY id' >"$txt/psql_tuples.txt" || fail "psql -At"
psql_a -A -c 'SELECT * FROM shifts ORDER BY id' >"$T/tree/times/pg_times.txt" ||
    fail "psql -A shifts"
pg_stop

# MariaDB's `SELECT ... INTO OUTFILE` and `mysqldump --tab` (tab, backslash escapes, no header,
# `.txt` as mysqldump names it), into a directory the server may write to (secure_file_priv).
MY_PORT=$(free_port)
mkdir -p "$T/my" "$T/out"
[ "$(id -u)" -eq 0 ] && chown mysql "$T/out"
my_start "$T/my" "$MY_PORT" --secure-file-priv="$T/out"
my_sql "$T/my" <<SQL || fail "mariadb tables"
CREATE DATABASE shop;
USE shop;
CREATE TABLE orders (id INT PRIMARY KEY, customer VARCHAR(40), amount DECIMAL(10, 2),
  ordered DATE);
INSERT INTO orders SELECT seq, CASE WHEN seq = 7 THEN CONCAT('Line', CHAR(10), 'break')
  ELSE ELT(seq % 4 + 1, 'Lee, Ann', 'Bo Chen', 'O''Neil; Cy', CONCAT('Tab', CHAR(9), 'in')) END,
  seq * 7.31 + 0.5, DATE '2024-01-01' + INTERVAL seq DAY FROM seq_1_to_30;
CREATE TABLE shifts (id INT PRIMARY KEY, opens TIME, span TIME);
INSERT INTO shifts SELECT seq, SEC_TO_TIME(30600 + seq * 420), SEC_TO_TIME(seq * 5400)
  FROM seq_1_to_30;
SELECT * FROM orders ORDER BY id INTO OUTFILE '$T/out/outfile_orders.txt';
SELECT * FROM shifts ORDER BY id INTO OUTFILE '$T/out/outfile_shifts.txt';
SQL
as_user mysql mysqldump --no-defaults --socket="$T/my/my.sock" -u"$MY_USER" --tab="$T/out" \
    shop orders >/dev/null || fail "mysqldump --tab"
my_stop
cp "$T/out/outfile_orders.txt" "$txt/mariadb_outfile.txt"
cp "$T/out/orders.txt" "$txt/mysqldump_tab.txt"
cp "$T/out/outfile_shifts.txt" "$T/tree/times/mariadb_times.txt"

bad=
for level in L1 L2 L3; do
    json=$("$SHIR_BIN" scan run-local "$T/tree" --level $level --exclude late_rows.json --json \
        --no-directories --sink "jsonl:$T/$level.jsonl" 2>"$T/err") ||
        fail "run-local $level exited $?: $(cat "$T/err")"
    expect_match "$json" '"status":"ok"' "run-local $level"
    python3 "$(dirname "$0")/scan_accept14b.py" check $level "$T/$level.jsonl" "$T/tree" ||
        bad="$bad $level"
done
[ -z "$bad" ] || fail "a contract point does not hold at$bad"
pass
