#!/usr/bin/env bash
# The bundled sample data scanned at L3 by a real `shir scan run-local`: every format is read,
# the partitioned folders are resource sets, and the planted fake sensitive values are found.
set -u
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d /tmp/shir-scan-sd.XXXXXX)
trap 'rm -rf "$T"' EXIT
SD="$SHIR_SOURCE_DIR/sample-data"

json=$("$SHIR_BIN" scan run-local "$SD" --level L3 --exclude generate.py --json \
    --sink "jsonl:$T/a.jsonl" 2>"$T/err") || fail "run-local exited $?: $(cat "$T/err")"
python3 - "$json" "$T/a.jsonl" "$SD" <<'PY' || fail "sample-data assets (summary: $json)"
import json, sys
s = json.loads(sys.argv[1])
assert s["status"] == "ok" and s["filesSeen"] == 26 and s["errors"] == 0, s
assert s["resourceSets"] == 2 and s["classifiedColumns"] >= 5, s
rows = [json.loads(l) for l in open(sys.argv[2])]
by = {r["qualifiedName"].split(sys.argv[3], 1)[1]: r for r in rows}
def classes(r):
    return {c["name"]: c["classifications"] for c in r["columns"]}
c = by["/crm/customers.csv"]
assert c["format"] == "csv" and c["rowCount"] == 400, c
cc = classes(c)
assert "EMAIL_ADDRESS" in cc["email"] and "US_SSN" in cc["ssn"], cc
assert "CREDIT_CARD_NUMBER" in cc["card_number"], cc
assert cc["country"] == [] and cc["id"] == [], cc
e = by["/web/events.jsonl"]
assert e["format"] == "jsonl" and "EMAIL_ADDRESS" in classes(e)["user.email"], e
p = by["/warehouse/accounts.parquet"]
assert p["format"] == "parquet" and p["rowCount"] == 250 and len(p["columns"]) == 13, p
a = by["/warehouse/customers.avro"]
assert a["format"] == "avro" and a["columns"], a
sales = by["/sales/year={N}/month={N}/part-{N}.csv"]
assert sales["type"] == "resource_set" and sales["partitionCount"] == 12, sales
assert [x["name"] for x in sales["columns"]][:2] == ["order_id", "sku"], sales
logs = by["/logs/{Date}.log"]
assert logs["type"] == "resource_set" and logs["partitionCount"] == 9, logs
t = by["/support/ticket-4471.txt"]
for k in ("CREDIT_CARD_NUMBER", "US_SSN", "EMAIL_ADDRESS", "AWS_ACCESS_KEY_ID"):
    assert k in t["classifications"], t
assert t["classificationCounts"]["CREDIT_CARD_NUMBER"] == 2, t  # not the Luhn-invalid decoy
PY

# User rules reach the classifier through the job: SKU codes in the sales resource set.
printf '[rule SKU_CODE]\nregex = SKU-[0-9]{4}\nhints = sku\n' > "$T/rules"
"$SHIR_BIN" scan run-local "$SD/sales" --level L3 --rules "$T/rules" --no-directories \
    --sink "jsonl:$T/r.jsonl" >/dev/null 2>"$T/err" || fail "--rules run exited $?: $(cat "$T/err")"
python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])][0]
assert r["type"] == "resource_set", r
sku = [c for c in r["columns"] if c["name"] == "sku"][0]
assert sku["classifications"] == ["SKU_CODE"], sku
' "$T/r.jsonl" || fail "user rule not applied: $(cat "$T/r.jsonl")"
# A bad rules file fails the scan with the rule file's line, exit 1.
printf '[rule X]\nregexp = a\n' > "$T/bad"
err=$("$SHIR_BIN" scan run-local "$SD" --level L3 --rules "$T/bad" 2>&1 >/dev/null); rc=$?
[ "$rc" -eq 1 ] || fail "bad rules exited $rc"
expect_match "$err" "rules:2: unknown key 'regexp'" "bad rules message"
pass
