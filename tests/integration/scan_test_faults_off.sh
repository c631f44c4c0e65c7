#!/usr/bin/env bash
# A `shir` built without SHIR_TEST_FAULTS (a plain configure, what is installed) has no test-only
# faults: `--test-fault` is an unknown flag (exit 2), and a worker handed a job whose fault field
# asks it to abort scans normally (the job codec still carries the field).
set -u
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d /tmp/shir-scan-nofault.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/src" && echo 'a,b' > "$T/src/x.csv"

"$SHIR_BIN" scan run-local "$T/src" --test-fault abort >"$T/out1" 2>"$T/err1"
rc=$?
[ "$rc" -eq 2 ] || fail "--test-fault: exit $rc, expected 2 (stderr: $(cat "$T/err1"))"
expect_match "$(cat "$T/err1")" "unknown flag '--test-fault'" "usage error"

# One job frame (u32 big-endian length + msgpack map, scan/scan.h): absent fields keep their
# defaults. fault 1 is SCAN_FAULT_ABORT.
python3 - "$T/src" "$T/o.jsonl" > "$T/job" <<'PY'
import struct, sys
def s(v):
    b = v.encode()
    return (bytes([0xa0 | len(b)]) if len(b) < 32 else bytes([0xd9, len(b)])) + b
fields = [("t", s("job")), ("source", s(sys.argv[1])), ("sink", b"\x01"),
          ("sink_target", s(sys.argv[2])), ("fault", b"\x01")]
body = bytes([0x80 | len(fields)]) + b"".join(s(k) + v for k, v in fields)
sys.stdout.buffer.write(struct.pack(">I", len(body)) + body)
PY
"$SHIR_BIN" worker --out-fd 3 <"$T/job" 3>"$T/frames" 2>"$T/err2"
rc=$?
[ "$rc" -eq 0 ] || fail "worker with fault=abort: exit $rc, expected 0 (stderr: $(cat "$T/err2"))"
grep -q '"path":"'"$T"'/src/x.csv"' "$T/o.jsonl" || fail "the worker did not scan: $(cat "$T/o.jsonl")"
pass
