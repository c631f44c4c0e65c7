#!/usr/bin/env bash
# `shir scan run-local sqlite:///…` through the worker on a fixture database built here with the
# sqlite3 tool: declared types as SQLite's own table_info reports them, keys, the ANALYZE
# estimate, classification with hard negatives, and the file left exactly as it was (read-only
# and immutable: no journal, no WAL, no lock; the scan works on a file and directory nobody may
# write).
set -u
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d /tmp/shir-scan-sq.XXXXXX)
trap 'chmod -R u+w "$T"; rm -rf "$T"' EXIT
command -v sqlite3 >/dev/null || fail "sqlite3 not found (deploy/install-deps.sh)"
mkdir "$T/db"
DB="$T/db/my shop.db"

python3 - >"$T/fixture.sql" <<'PY'
import random
rnd = random.Random(7)
def luhn_ok(d):
    s = 0
    for i, c in enumerate(reversed(d)):
        n = int(c) * (2 if i % 2 else 1)
        s += n - 9 if n > 9 else n
    return s % 10 == 0
print("""PRAGMA journal_mode = WAL;
CREATE TABLE types (id INTEGER PRIMARY KEY, qty INT NOT NULL, price DECIMAL(12,2), ratio REAL,
  name VARCHAR(40), notes TEXT, photo BLOB, born DATE, ts DATETIME, flag BOOLEAN, doc JSON,
  untyped);
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, card TEXT, amount NUMERIC,
  version TEXT);
CREATE TABLE orders (id INTEGER, line INTEGER, customer_id INTEGER REFERENCES customers(id),
  PRIMARY KEY (id, line));
CREATE VIEW emails AS SELECT email FROM customers;
BEGIN;""")
for i in range(1, 151):
    body = "5" + str(1 + i % 5) + "".join(str(rnd.randrange(10)) for _ in range(13))
    card = next(body + c for c in "0123456789" if luhn_ok(body + c))
    print(f"INSERT INTO customers VALUES ({i}, 'p{i}@example.org', '{card}', {i * 2.5}, "
          f"'2.{i % 7}.{i % 3}');")
print("COMMIT; ANALYZE; PRAGMA journal_mode = DELETE;")
PY
sqlite3 "$DB" <"$T/fixture.sql" >/dev/null || fail "fixture"
chmod 444 "$DB"
chmod 555 "$T/db"
before=$(sha256sum "$DB" | cut -d' ' -f1)

URL="sqlite://$(printf '%s' "$DB" | sed 's/ /%20/g')"
out=$("$SHIR_BIN" scan run-local "$URL" --level L3 --json --sink "jsonl:$T/out.jsonl" \
    2>"$T/err") || fail "run exited $?: $out $(cat "$T/err")"
expect_match "$out" '"status":"ok"' "status"
expect_match "$out" '"assets":5' "a schema, three tables and a view"

python3 - "$T/out.jsonl" "$DB" <<'PY' || fail "assets"
import json, socket, sys, urllib.parse
rows = [json.loads(l) for l in open(sys.argv[1])]
base = "sqlite://" + socket.gethostname() + sys.argv[2].replace(" ", "%20") + "/main"
by = {r["qualifiedName"]: r for r in rows}
assert [r["qualifiedName"] for r in rows] == [base] + [
    base + "/" + t for t in ("customers", "emails", "orders", "types")], list(by)
t = {c["name"]: c for c in by[base + "/types"]["columns"]}
want = {"id": ("INTEGER", "integer"), "qty": ("INT", "integer"),
        "price": ("DECIMAL(12,2)", "decimal"), "ratio": ("REAL", "decimal"),
        "name": ("VARCHAR(40)", "string"), "notes": ("TEXT", "string"),
        "photo": ("BLOB", "binary"), "born": ("DATE", "date"), "ts": ("DATETIME", "timestamp"),
        "flag": ("BOOLEAN", "boolean"), "doc": ("JSON", "struct")}
for k, (detail, ours) in want.items():
    assert t[k]["typeDetail"] == detail and t[k]["type"] == ours, t[k]
assert "typeDetail" not in t["untyped"] and t["untyped"]["type"] == "unknown", t["untyped"]
assert t["qty"]["nullable"] is False and t["id"]["primaryKey"] == 1
o = {c["name"]: c for c in by[base + "/orders"]["columns"]}
assert o["line"]["primaryKey"] == 2 and o["customer_id"]["references"] == base + "/customers#id"
c = by[base + "/customers"]
assert c["rowCount"] == 150 and c["rowCountEstimated"] is True, c
cl = {x["name"]: x["classifications"] for x in c["columns"]}
assert cl["email"] == ["EMAIL_ADDRESS"] and "CREDIT_CARD_NUMBER" in cl["card"], cl
assert cl["id"] == [] and cl["amount"] == [] and cl["version"] == [], cl
assert by[base + "/emails"]["type"] == "view"
PY

after=$(sha256sum "$DB" | cut -d' ' -f1)
[ "$before" = "$after" ] || fail "the database file changed"
[ "$(ls "$T/db")" = "my shop.db" ] || fail "files appeared next to the database: $(ls "$T/db")"

# A path that is not a database, and one that does not exist, fail the run with the reason.
echo "just text, no database here at all, padded past the header size of a SQLite file....." \
    >"$T/text.db"
out=$("$SHIR_BIN" scan run-local "sqlite://$T/text.db" --level L2 2>"$T/err") &&
    fail "a text file scanned as a database"
expect_match "$(cat "$T/err")" 'not a database' "not a database reported"
expect_exit 1 "$SHIR_BIN" scan run-local "sqlite://$T/missing.db"
expect_exit 1 "$SHIR_BIN" scan run-local "sqlite://relative.db"
expect_exit 2 "$SHIR_BIN" scan run-local "sqlite://$T/missing.db" --include '*.csv'
expect_exit 2 "$SHIR_BIN" scan run-local "$T" --exact-counts
# Parts (a runtime run's layout): a table per part at L3, the schema first in part 0; in order
# they are the single file's lines. Resumed at part 2, only parts 2 and 3 are written, the same.
"$SHIR_BIN" scan run-local "$URL" --level L3 --parts "$T/parts" >/dev/null 2>"$T/err" ||
    fail "a run with parts: $(cat "$T/err")"
[ -f "$T/parts/local/1/_SUCCESS" ] || fail "no _SUCCESS"
[ "$(ls "$T/parts/local/1" | grep -c '^part-')" = 4 ] || fail "parts: $(ls "$T/parts/local/1")"
cat "$T"/parts/local/1/part-*.jsonl | cmp -s - "$T/out.jsonl" ||
    fail "the parts are not the single file's lines"
"$SHIR_BIN" scan run-local "$URL" --level L3 --parts "$T/res" --resume-part 2 >/dev/null \
    2>"$T/err" || fail "a resumed run: $(cat "$T/err")"
[ "$(ls "$T/res/local/1" | tr '\n' ' ')" = "_SUCCESS part-000002.jsonl part-000003.jsonl " ] ||
    fail "a run resumed at part 2 wrote: $(ls "$T/res/local/1")"
for k in 2 3; do
    cmp -s "$T/res/local/1/part-00000$k.jsonl" "$T/parts/local/1/part-00000$k.jsonl" ||
        fail "resumed part $k differs"
done
[ "$(sha256sum "$DB" | cut -d' ' -f1)" = "$before" ] || fail "the database file changed"
pass
