#!/usr/bin/env bash
# `shir scan run-local mysql://…` against a real MariaDB started here (mariadb-install-db,
# loopback, TLS with our own CA): every common column type checked against information_schema,
# keys, estimates, classification on labelled columns and hard negatives, an account with
# SELECT only that suffices (and does not see a table it may not read) and a general log showing
# only reads, a statement timeout that costs one asset, refused certificates and password, and
# the password in no output. libmariadb speaks the same protocol to MySQL.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/db_lib.sh"
T=$(mktemp -d /tmp/shir-scan-my.XXXXXX)
chmod 755 "$T"
MY_PID=
trap 'db_cleanup; rm -rf "$T"' EXIT
PORT=$(free_port)
PW='canary-My-0c41d7aa'

mkdir -p "$T/my" "$T/tls"
make_tls_certs "$T/tls" localhost
cp "$T/tls/server.pem" "$T/tls/server.key" "$T/tls/ca.pem" "$T/my/"
[ "$(id -u)" -eq 0 ] && chown mysql "$T/my/server.pem" "$T/my/server.key" "$T/my/ca.pem"
my_start "$T/my" "$PORT" --ssl-cert="$T/my/server.pem" --ssl-key="$T/my/server.key" \
    --ssl-ca="$T/my/ca.pem"

python3 - "$PW" >"$T/schema.sql" <<'PY' || fail "generate schema"
import random, sys
pw = sys.argv[1]
rnd = random.Random(13)
def luhn_ok(d):
    s = 0
    for i, c in enumerate(reversed(d)):
        n = int(c) * (2 if i % 2 else 1)
        s += n - 9 if n > 9 else n
    return s % 10 == 0
def card():
    body = "4" + "".join(str(rnd.randrange(10)) for _ in range(14))
    return next(body + c for c in "0123456789" if luhn_ok(body + c))
print("""
CREATE DATABASE shop;
USE shop;
CREATE TABLE types (
  id bigint PRIMARY KEY, qty int NOT NULL, small smallint, tiny tinyint, price decimal(12,2),
  ratio double, r float, name varchar(40), code char(3), notes text, photo blob,
  bin varbinary(16), born date, at_time time, dt datetime, ts timestamp NULL, flag boolean,
  doc json, uid uuid, feeling enum('happy','sad'), yr year);
CREATE TABLE customers (
  id int PRIMARY KEY, email varchar(100) NOT NULL, card varchar(19), ssn varchar(11),
  amount decimal(10,2), version varchar(10), order_ref bigint);
CREATE TABLE orders (
  id int, line int, customer_id int, placed datetime, PRIMARY KEY (id, line),
  FOREIGN KEY (customer_id) REFERENCES customers(id));
CREATE TABLE salaries (id int PRIMARY KEY, salary decimal(10,2));
CREATE VIEW customer_emails AS SELECT id, email FROM customers;
CREATE VIEW slow AS SELECT SLEEP(5) AS s;
""")
rows = []
for i in range(1, 201):
    area = 100 + i % 500
    ssn = "%03d-%02d-%04d" % (area, 1 + i % 98, 1000 + i)
    rows.append(f"({i}, 'user{i}@example.com', '{card()}', '{ssn}', {i * 3.25:.2f}, "
                f"'1.{i % 9}.{i % 4}', {100000 + i})")
print("INSERT INTO customers VALUES " + ",\n".join(rows) + ";")
print("INSERT INTO orders SELECT seq, 1, 1 + seq % 200, now() FROM seq_1_to_500;")
print("ANALYZE TABLE customers, orders, types, salaries;")
# The reader: SELECT on every table but salaries, nothing else.
print(f"CREATE USER 'reader'@'%' IDENTIFIED BY '{pw}';")
for t in ("types", "customers", "orders", "customer_emails", "slow"):
    print(f"GRANT SELECT ON shop.{t} TO 'reader'@'%';")
PY
# The test's own statements (with the password) go to the general log only after this.
{ echo "SET GLOBAL general_log = 0;"; cat "$T/schema.sql"; echo "SET GLOBAL general_log = 1;"; } |
    my_sql "$T/my" >/dev/null 2>"$T/sql.err" || fail "schema: $(cat "$T/sql.err")"
printf '%s\n' "$PW" >"$T/pw"

URL="mysql://localhost:$PORT/shop"
run() { "$SHIR_BIN" scan run-local "$@" --json 2>>"$T/stderr"; }

out=$(run "$URL" --user reader --password-file "$T/pw" --tls-ca "$T/tls/ca.pem" --level L3 \
    --statement-timeout 2000 --sink "jsonl:$T/l3.jsonl") ||
    fail "L3 run exited $?: $out $(cat "$T/stderr")"
expect_match "$out" '"status":"ok"' "status"

echo "SELECT COLUMN_NAME, DATA_TYPE, IS_NULLABLE FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'types' ORDER BY ORDINAL_POSITION;" |
    my_sql "$T/my" >"$T/is.txt" || fail "information_schema"

python3 - "$T/l3.jsonl" "$PORT" "$T/is.txt" <<'PY' || fail "L3 assets"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
port = sys.argv[2]
base = f"mysql://localhost:{port}/shop"
by = {r["qualifiedName"]: r for r in rows}
names = [r["qualifiedName"] for r in rows]
# The database is the one schema; tables in name order, no schema part in their names.
assert names[0] == base and rows[0]["type"] == "schema", names
# salaries is not there: MySQL's information_schema shows an account only what it holds some
# privilege on (docs/sources.md).
want = {"customer_emails": "view", "customers": "table", "orders": "table", "slow": "view",
        "types": "table"}
assert names[1:] == [base + "/" + k for k in sorted(want)], names
for k, v in want.items():
    assert by[base + "/" + k]["type"] == v, k

expect = [  # column, information_schema DATA_TYPE, our typeDetail, our type
    ("id", "bigint", "bigint(20)", "integer"), ("qty", "int", "int(11)", "integer"),
    ("small", "smallint", "smallint(6)", "integer"), ("tiny", "tinyint", "tinyint(4)", "integer"),
    ("price", "decimal", "decimal(12,2)", "decimal"), ("ratio", "double", "double", "decimal"),
    ("r", "float", "float", "decimal"), ("name", "varchar", "varchar(40)", "string"),
    ("code", "char", "char(3)", "string"), ("notes", "text", "text", "string"),
    ("photo", "blob", "blob", "binary"), ("bin", "varbinary", "varbinary(16)", "binary"),
    ("born", "date", "date", "date"), ("at_time", "time", "time", "time"),
    ("dt", "datetime", "datetime", "timestamp"), ("ts", "timestamp", "timestamp", "timestamp"),
    ("flag", "tinyint", "tinyint(1)", "boolean"),
    ("doc", "longtext", "longtext", "string"),  # MariaDB's json is longtext with a check
    ("uid", "uuid", "uuid", "string"),
    ("feeling", "enum", "enum('happy','sad')", "string"), ("yr", "year", "year(4)", "integer"),
]
info = [l.rstrip("\n").split("\t") for l in open(sys.argv[3]) if l.strip()]
cols = by[base + "/types"]["columns"]
assert len(info) == len(expect) == len(cols), (len(info), len(cols))
for (name, is_type, detail, ours), i, c in zip(expect, info, cols):
    assert i[0] == name and i[1] == is_type, (name, i)
    assert c["name"] == name and c["typeDetail"] == detail and c["type"] == ours, (name, c)
    assert c["nullable"] == (i[2] == "YES"), (name, c, i)
assert cols[0]["primaryKey"] == 1 and cols[0]["nullable"] is False

oc = {c["name"]: c for c in by[base + "/orders"]["columns"]}
assert oc["id"]["primaryKey"] == 1 and oc["line"]["primaryKey"] == 2, oc
assert oc["customer_id"]["references"] == base + "/customers#id", oc

cu = by[base + "/customers"]
assert cu["rowCountEstimated"] is True and 150 <= cu["rowCount"] <= 250, cu
cc = {c["name"]: c["classifications"] for c in cu["columns"]}
assert cc["email"] == ["EMAIL_ADDRESS"], cc
assert "CREDIT_CARD_NUMBER" in cc["card"], cc
assert "US_SSN" in cc["ssn"], cc
for neg in ("id", "amount", "version", "order_ref"):
    assert cc[neg] == [], (neg, cc)

slow = by[base + "/slow"]
assert len(slow["errors"]) == 1 and "max_statement_time" in slow["errors"][0], slow
for r in rows:
    if r["qualifiedName"] != base + "/slow":
        assert r["errors"] == [], r
PY
expect_match "$out" '"errors":1' "one per-table error counted"

# Every statement of the reader's sessions was a read (or the session's own settings).
python3 - "$T/my/general.log" <<'PY' || fail "general log"
import re, sys
ours, seen = set(), 0
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r"\s(\d+) (Connect|Query|Quit|Init DB)\t?(.*)", line)
    if not m:
        continue
    cid, kind, text = m.groups()
    if kind == "Connect" and text.startswith("reader@"):
        ours.add(cid)
    elif kind == "Query" and cid in ours:
        seen += 1
        assert re.match(r"(SELECT |SET SESSION (TRANSACTION READ ONLY|max_statement_time))",
                        text), text
assert ours and seen > 10, (ours, seen)
PY

# Certificates and password.
out=$(run "$URL" --user reader --password-file "$T/pw" --tls-ca "$T/tls/other-ca.pem" \
    --sink "jsonl:$T/x1.jsonl") && fail "a certificate from another CA was accepted"
expect_match "$(tail -n 1 "$T/stderr")" 'TLS/SSL error: self-signed certificate' "untrusted CA"
out=$(run "mysql://127.0.0.1:$PORT/shop" --user reader --password-file "$T/pw" \
    --tls-ca "$T/tls/ca.pem" --sink "jsonl:$T/x2.jsonl") && fail "a wrong host name was accepted"
expect_match "$(tail -n 1 "$T/stderr")" 'TLS/SSL error: Validation of SSL server certificate' \
    "name mismatch"
printf 'wrong\n' >"$T/badpw"
out=$(run "$URL" --user reader --password-file "$T/badpw" --tls-ca "$T/tls/ca.pem" \
    --sink "jsonl:$T/x3.jsonl") && fail "a wrong password was accepted"
expect_match "$(tail -n 1 "$T/stderr")" 'Access denied' "wrong password reported"
[ ! -s "$T/x3.jsonl" ] || fail "a failed connection wrote assets"

# L2 without TLS (the server allows both): columns, no samples.
out=$(run "$URL" --user reader --password-file - --tls disable --level L2 \
    --sink "jsonl:$T/l2.jsonl" <"$T/pw") || fail "L2 run exited $?: $out"
python3 - "$T/l2.jsonl" <<'PY' || fail "L2 assets"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 6, len(rows)
assert all(c["classifications"] == [] for r in rows for c in r["columns"]), rows
assert any(r["columns"] for r in rows)
PY

if grep -rqF -- "$PW" "$T/stderr" "$T"/*.jsonl "$T/my/general.log" "$T/my/error.log"; then
    fail "the password leaked"
fi
my_stop
pass
