#!/usr/bin/env bash
# `shir scan run-local postgres://…` against a real PostgreSQL started here (initdb, loopback,
# TLS with our own CA): every common column type checked against information_schema, keys,
# estimates, TABLESAMPLE on a large table, classification on labelled columns and hard
# negatives, a SELECT-only role that suffices and a server log showing only reads, a statement
# timeout that costs one table and not the run, refused certificates and a wrong password, and
# the password in no output.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/db_lib.sh"
T=$(mktemp -d /tmp/shir-scan-pg.XXXXXX)
chmod 755 "$T"
PG_PID=
trap 'db_cleanup; rm -rf "$T"' EXIT
PORT=$(free_port)
PW='canary-Pg-7f3e9b21'

mkdir -p "$T/pg" "$T/tls"
make_tls_certs "$T/tls" localhost
cp "$T/tls/server.pem" "$T/tls/server.key" "$T/pg/"
[ "$(id -u)" -eq 0 ] && chown postgres "$T/pg/server.pem" "$T/pg/server.key"
pg_start "$T/pg" "$PORT" -c ssl=on -c "ssl_cert_file=$T/pg/server.pem" \
    -c "ssl_key_file=$T/pg/server.key"

python3 - "$PW" >"$T/schema.sql" <<'PY' || fail "generate schema"
import random, sys
pw = sys.argv[1]
rnd = random.Random(13)
def luhn(d):
    s = 0
    for i, c in enumerate(reversed(d)):
        n = int(c)
        if i % 2 == 1:
            n *= 2
            n -= 9 if n > 9 else 0
        s += n
    return s % 10 == 0
def with_check(body):
    return next(body + c for c in "0123456789" if luhn(body + c))
print("""
CREATE DATABASE shop;
\\c shop
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE SCHEMA sales;
CREATE SCHEMA hr;
CREATE TABLE sales.types (
  id bigint PRIMARY KEY, qty integer NOT NULL, small smallint, price numeric(12,2),
  ratio double precision, r real, name varchar(40), code char(3), notes text, blob bytea,
  born date, at_time time, at_timetz timetz, ts timestamp, tstz timestamptz, flag boolean,
  doc json, docb jsonb, uid uuid, tags text[], nums integer[], feeling mood, span interval);
INSERT INTO sales.types VALUES (1, 2, 3, 4.50, 1.5, 2.5, 'n', 'abc', 't', '\\x00ff',
  '2020-01-02', '10:00', '10:00+02', '2020-01-02 10:00', '2020-01-02 10:00+00', true,
  '{"a":1}', '{"b":2}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{x,y}', '{1,2}', 'happy',
  '1 day');
CREATE TABLE sales.customers (
  id integer PRIMARY KEY, email text NOT NULL, card varchar(19), ssn text,
  amount numeric(10,2), version text, order_ref bigint);
CREATE TABLE sales.orders (
  id integer, line integer, customer_id integer REFERENCES sales.customers(id),
  placed timestamptz, PRIMARY KEY (id, line));
CREATE VIEW sales.customer_emails AS SELECT id, email FROM sales.customers;
CREATE MATERIALIZED VIEW sales.totals AS SELECT customer_id, count(*) AS n FROM sales.orders GROUP BY 1;
CREATE TABLE hr.events (id integer PRIMARY KEY, kind text);
INSERT INTO hr.events SELECT g, 'k' || (g % 7) FROM generate_series(1, 50000) g;
CREATE TABLE hr.salaries (id integer PRIMARY KEY, salary numeric);
CREATE VIEW hr.slow AS SELECT pg_sleep(5)::text AS s;
CREATE SCHEMA zz;
""")
# 8 tables above and 57 here: the walk describes 64 tables per statement, and the 65th, alone
# in its batch, one at a time.
for i in range(57):
    print(f"CREATE TABLE zz.t{i:02d} (id integer PRIMARY KEY, v text);")
print("COPY sales.customers FROM stdin;")
for i in range(1, 201):
    body = "4" + "".join(str(rnd.randrange(10)) for _ in range(14))
    card = with_check(body)
    area = 100 + i % 500
    ssn = "%03d-%02d-%04d" % (area, 1 + i % 98, 1000 + i)
    print(f"{i}\tuser{i}@example.com\t{card}\t{ssn}\t{i * 3.25:.2f}\t1.{i % 9}.{i % 4}\t{100000 + i}")
print("\\.")
print("INSERT INTO sales.orders SELECT g, 1, 1 + g % 200, now() FROM generate_series(1, 500) g;")
print("REFRESH MATERIALIZED VIEW sales.totals;")
print("ANALYZE;")
# The reader: may log in and read, nothing else; hr.salaries is not granted to it.
print("SET log_statement = 'none';")  # the test's own statement with the password
print(f"CREATE ROLE reader LOGIN PASSWORD '{pw}';")
print("RESET log_statement;")
print("GRANT USAGE ON SCHEMA sales, hr TO reader;")
print("GRANT SELECT ON ALL TABLES IN SCHEMA sales TO reader;")
print("GRANT SELECT ON hr.events, hr.slow TO reader;")
print("GRANT USAGE ON SCHEMA zz TO reader; GRANT SELECT ON ALL TABLES IN SCHEMA zz TO reader;")
PY
pg_sql "$T/pg" "$PORT" postgres <"$T/schema.sql" >/dev/null 2>"$T/psql.err" ||
    fail "schema: $(cat "$T/psql.err")"
printf '%s\n' "$PW" >"$T/pw"

URL="postgres://localhost:$PORT/shop"
run() { "$SHIR_BIN" scan run-local "$@" --json 2>>"$T/stderr"; }

# L3, TLS verified against our CA and the name "localhost", a 2 s statement timeout.
out=$(run "$URL" --user reader --password-file "$T/pw" --tls-ca "$T/tls/ca.pem" --level L3 \
    --statement-timeout 2000 --sink "jsonl:$T/l3.jsonl") ||
    fail "L3 run exited $?: $out $(cat "$T/stderr")"
expect_match "$out" '"status":"ok"' "status"

# What information_schema says of sales.types, for the checks below.
pg_sql "$T/pg" "$PORT" shop >"$T/is.txt" <<'SQL' || fail "information_schema"
SELECT column_name, data_type, is_nullable, coalesce(numeric_precision::text, ''),
       coalesce(numeric_scale::text, ''), coalesce(character_maximum_length::text, '')
FROM information_schema.columns WHERE table_schema = 'sales' AND table_name = 'types'
ORDER BY ordinal_position;
SQL

python3 - "$T/l3.jsonl" "$PORT" "$T/is.txt" <<'PY' || fail "L3 assets"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
port = sys.argv[2]
base = f"postgresql://localhost:{port}/shop"
zz = [r for r in rows if r["qualifiedName"].startswith(base + "/zz/")]
assert [r["qualifiedName"] for r in zz] == [f"{base}/zz/t{i:02d}" for i in range(57)], zz
for r in zz:  # batched and single describes alike
    assert [(c["name"], c["typeDetail"], c.get("primaryKey")) for c in r["columns"]] == [
        ("id", "integer", 1), ("v", "text", None)], r
    assert r["errors"] == [], r
rows = [r for r in rows if r not in zz and r["qualifiedName"] != base + "/zz"]
by = {r["qualifiedName"]: r for r in rows}
names = [r["qualifiedName"] for r in rows]
# Schemas first, then tables in (schema, name) order; nothing of pg_catalog.
assert names[:3] == [base + "/hr", base + "/public", base + "/sales"], names
assert names[3:] == sorted(names[3:]), names
for r in rows[:3]:
    assert r["type"] == "schema", r
assert not any("pg_catalog" in n or "information_schema" in n for n in names), names
want = {"/hr/events": "table", "/hr/salaries": "table", "/hr/slow": "view",
        "/sales/customer_emails": "view", "/sales/customers": "table", "/sales/orders": "table",
        "/sales/totals": "view", "/sales/types": "table"}
assert sorted(names[3:]) == sorted(base + k for k in want), names
for k, v in want.items():
    assert by[base + k]["type"] == v, (k, by[base + k]["type"])

# Every common type, checked against information_schema and against what we report.
expect = [  # column, information_schema data_type, our typeDetail, our type
    ("id", "bigint", "bigint", "integer"), ("qty", "integer", "integer", "integer"),
    ("small", "smallint", "smallint", "integer"), ("price", "numeric", "numeric(12,2)", "decimal"),
    ("ratio", "double precision", "double precision", "decimal"), ("r", "real", "real", "decimal"),
    ("name", "character varying", "character varying(40)", "string"),
    ("code", "character", "character(3)", "string"), ("notes", "text", "text", "string"),
    ("blob", "bytea", "bytea", "binary"), ("born", "date", "date", "date"),
    ("at_time", "time without time zone", "time without time zone", "time"),
    ("at_timetz", "time with time zone", "time with time zone", "time"),
    ("ts", "timestamp without time zone", "timestamp without time zone", "timestamp"),
    ("tstz", "timestamp with time zone", "timestamp with time zone", "timestamp"),
    ("flag", "boolean", "boolean", "boolean"), ("doc", "json", "json", "struct"),
    ("docb", "jsonb", "jsonb", "struct"), ("uid", "uuid", "uuid", "string"),
    ("tags", "ARRAY", "text[]", "array"), ("nums", "ARRAY", "integer[]", "array"),
    ("feeling", "USER-DEFINED", "mood", "string"), ("span", "interval", "interval", "string"),
]
info = [l.rstrip("\n").split("|") for l in open(sys.argv[3]) if l.strip()]
cols = by[base + "/sales/types"]["columns"]
assert len(info) == len(expect) == len(cols), (len(info), len(cols))
for (name, is_type, detail, ours), i, c in zip(expect, info, cols):
    assert i[0] == name and i[1] == is_type, (name, i)
    assert c["name"] == name and c["typeDetail"] == detail and c["type"] == ours, (name, c)
    assert c["nullable"] == (i[2] == "YES"), (name, c, i)
    if detail.startswith("numeric("):
        assert detail == f"numeric({i[3]},{i[4]})", (detail, i)
    if detail.startswith("character"):
        assert detail.endswith(f"({i[5]})"), (detail, i)
assert cols[0].get("primaryKey") == 1 and cols[0]["nullable"] is False, cols[0]

# Keys: a composite primary key and a foreign key by qualified name.
oc = {c["name"]: c for c in by[base + "/sales/orders"]["columns"]}
assert oc["id"]["primaryKey"] == 1 and oc["line"]["primaryKey"] == 2, oc
assert oc["customer_id"]["references"] == base + "/sales/customers#id", oc
assert "primaryKey" not in oc["placed"], oc

# Estimates from the catalog (ANALYZE ran): about right, and marked as estimates.
ev = by[base + "/hr/events"]
assert ev["rowCountEstimated"] is True and 40000 <= ev["rowCount"] <= 60000, ev
assert by[base + "/sales/customers"]["rowCount"] == 200

# Classification: labelled columns, and hard negatives (ids, amounts, versions, references).
cc = {c["name"]: c["classifications"] for c in by[base + "/sales/customers"]["columns"]}
assert cc["email"] == ["EMAIL_ADDRESS"], cc
assert "CREDIT_CARD_NUMBER" in cc["card"], cc
assert "US_SSN" in cc["ssn"], cc
for neg in ("id", "amount", "version", "order_ref"):
    assert cc[neg] == [], (neg, cc)
assert by[base + "/sales/customer_emails"]["columns"][1]["classifications"] == ["EMAIL_ADDRESS"]
assert "EMAIL_ADDRESS" in by[base + "/sales/customers"]["classifications"]

# A table the role may not read and a statement that times out: one error each, run goes on.
sal = by[base + "/hr/salaries"]
assert len(sal["errors"]) == 1 and "permission denied" in sal["errors"][0], sal
assert [c["name"] for c in sal["columns"]] == ["id", "salary"], sal  # the catalog still shows it
slow = by[base + "/hr/slow"]
assert len(slow["errors"]) == 1 and "statement timeout" in slow["errors"][0], slow
for r in rows:
    if r["qualifiedName"] not in (base + "/hr/salaries", base + "/hr/slow"):
        assert r["errors"] == [], r
PY
expect_match "$out" '"errors":2' "two per-table errors counted"

# The large table was sampled with TABLESAMPLE; every statement of ours was a read.
grep -q '^shir|.*TABLESAMPLE SYSTEM' "$T/pg/server.log" || fail "no TABLESAMPLE in the server log"
bad=$(grep '^shir|LOG:  \(statement\|execute\)' "$T/pg/server.log" |
    grep -Ev '(statement|execute [^:]+): SELECT ' | head -n 3)
[ -z "$bad" ] || fail "statements other than SELECT: $bad"
grep -q "^shir|" "$T/pg/server.log" || fail "no statements of ours in the server log"

# L1: names and estimates only, no column read.
out=$(run "$URL" --user reader --password-file - --tls-ca "$T/tls/ca.pem" \
    --sink "jsonl:$T/l1.jsonl" <"$T/pw") || fail "L1 run exited $?: $out"
python3 - "$T/l1.jsonl" <<'PY' || fail "L1 assets"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 11 + 1 + 57, len(rows)
assert all(r["columns"] == [] for r in rows), rows
PY

# Exact counts when asked, in place of the estimates.
out=$(run "$URL" --user reader --password-file "$T/pw" --tls-ca "$T/tls/ca.pem" --exact-counts \
    --sink "jsonl:$T/exact.jsonl") || fail "exact-count run exited $?: $out"
python3 - "$T/exact.jsonl" "$PORT" <<'PY' || fail "exact counts"
import json, sys
by = {json.loads(l)["qualifiedName"]: json.loads(l) for l in open(sys.argv[1])}
base = f"postgresql://localhost:{sys.argv[2]}/shop"
ev = by[base + "/hr/events"]
assert ev["rowCount"] == 50000 and "rowCountEstimated" not in ev, ev
assert by[base + "/sales/orders"]["rowCount"] == 500
sal = by[base + "/hr/salaries"]  # not readable: the estimate stays, with the reason
assert "permission denied" in sal["errors"][0] and sal.get("rowCountEstimated") is not False, sal
PY

# Certificates: another CA, and a name the certificate does not carry, are refused; so is a
# wrong password. Each fails the run with a reason and writes nothing.
out=$(run "$URL" --user reader --password-file "$T/pw" --tls-ca "$T/tls/other-ca.pem" \
    --sink "jsonl:$T/x1.jsonl") && fail "a certificate from another CA was accepted"
expect_match "$(cat "$T/stderr")" 'certificate verify failed' "untrusted CA reported"
out=$(run "postgres://127.0.0.1:$PORT/shop" --user reader --password-file "$T/pw" \
    --tls-ca "$T/tls/ca.pem" --sink "jsonl:$T/x2.jsonl") && fail "a wrong host name was accepted"
expect_match "$(cat "$T/stderr")" 'does not match host name' "name mismatch reported"
# `require` encrypts without checking: the same untrusted server is then accepted.
out=$(run "postgres://127.0.0.1:$PORT/shop" --user reader --password-file "$T/pw" --tls require \
    --sink "jsonl:$T/req.jsonl") || fail "--tls require refused the server: $out"
printf 'wrong\n' >"$T/badpw"
out=$(run "$URL" --user reader --password-file "$T/badpw" --tls-ca "$T/tls/ca.pem" \
    --sink "jsonl:$T/x3.jsonl") && fail "a wrong password was accepted"
expect_match "$(cat "$T/stderr")" 'password authentication failed' "wrong password reported"
[ ! -s "$T/x3.jsonl" ] || fail "a failed connection wrote assets"

# Usage: no credentials or options in the URL (and a password put there is not echoed),
# credentials only for databases.
"$SHIR_BIN" scan run-local "postgres://reader:$PW@localhost:$PORT/shop" >/dev/null 2>>"$T/stderr"
[ $? -eq 1 ] || fail "a URL with a password was not refused"
expect_match "$(tail -n 1 "$T/stderr")" 'no user, password' "URL with credentials refused"
expect_exit 1 "$SHIR_BIN" scan run-local "postgres://localhost:$PORT/shop?sslmode=disable"
expect_exit 2 "$SHIR_BIN" scan run-local "$T" --user reader

# The canary: the password is in no output, log or result.
if grep -rqF -- "$PW" "$T/stderr" "$T"/*.jsonl "$T/pg/server.log" 2>/dev/null; then
    fail "the password leaked"
fi
printf '%s' "$out" | grep -qF -- "$PW" && fail "the password is in the summary"

pg_stop
pass
