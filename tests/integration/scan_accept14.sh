#!/usr/bin/env bash
# Black-box acceptance of issue 14 through the CLI, as an outside tester would run it: a tree of
# files written by real tools (Python's csv and zipfile here; exceljs, pptxgenjs, docx,
# apache-arrow, DuckDB, parquet-wasm and avsc in tests/fixtures/accept14, see its generate.sh)
# with names and layouts of their own, scanned by `shir scan run-local` at L2 and L3; every
# contract point is checked in the JSON lines (scan_accept14.py).
set -u
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d /tmp/shir-accept14.XXXXXX)
trap 'rm -rf "$T"' EXIT
fixtures="$SHIR_SOURCE_DIR/tests/fixtures/accept14"
python3 "$(dirname "$0")/scan_accept14.py" tree "$T/tree" "$fixtures" ||
    fail "cannot write the tree"
for level in L2 L3; do
    json=$("$SHIR_BIN" scan run-local "$T/tree" --level $level --exclude expect.json --json \
        --no-directories --sink "jsonl:$T/$level.jsonl" 2>"$T/err") ||
        fail "run-local $level exited $?: $(cat "$T/err")"
    expect_match "$json" '"status":"ok"' "run-local $level"
    python3 "$(dirname "$0")/scan_accept14.py" check $level "$T/$level.jsonl" "$T/tree" ||
        fail "$level: a contract point does not hold (summary: $json)"
done
pass
