#!/usr/bin/env bash
# Worker crash isolation: a worker that aborts or is killed is a failed scan with its cause
# (signal name), exit 1; the caller itself never crashes.
set -u
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d /tmp/shir-scan-crash.XXXXXX)
trap 'kill -9 $caller 2>/dev/null; rm -rf "$T"' EXIT
caller=
mkdir -p "$T/src" && echo 'a,b' > "$T/src/x.csv"

# 1. The worker aborts (test-only job flag).
"$SHIR_BIN" scan run-local "$T/src" --test-fault abort >"$T/out1" 2>"$T/err1"
rc=$?
[ "$rc" -eq 1 ] || fail "abort: exit $rc, expected 1 (stderr: $(cat "$T/err1"))"
expect_match "$(cat "$T/err1")" 'scan failed: worker [0-9]+ killed by signal SIGABRT' "abort cause"
expect_match "$(cat "$T/out1")" '^status +failed' "abort summary"

# 2. The worker hangs; we SIGKILL the pid it reports, as an operator or the agent would.
"$SHIR_BIN" scan run-local "$T/src" --test-fault hang --json >"$T/out2" 2>"$T/err2" &
caller=$!
wait_until 20 grep -q 'worker pid [0-9]' "$T/err2" || fail "no worker pid on stderr"
wpid=$(sed -n 's/.*worker pid \([0-9]*\).*/\1/p' "$T/err2" | head -1)
kill -0 "$wpid" || fail "worker $wpid is not running"
# Workers are batch work: every thread of one runs 10 nicer than its parent (field 19 of stat).
me_nice=$(awk '{print $19}' /proc/$$/stat)
for t in /proc/"$wpid"/task/*; do
    n=$(sed 's/.*) //' "$t/stat" | awk '{print $17}')
    [ "$n" -eq $(( me_nice + 10 > 19 ? 19 : me_nice + 10 )) ] || fail "worker thread $t runs at nice $n, ours is $me_nice"
done
kill -9 "$wpid"
wait "$caller"
rc=$?
caller=
[ "$rc" -eq 1 ] || fail "kill: exit $rc, expected 1 (a caller crash would be >128)"
expect_match "$(cat "$T/err2")" "worker $wpid killed by signal SIGKILL \\(9\\)" "kill cause"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"]=="failed" and "SIGKILL" in d["message"], d' "$T/out2" ||
    fail "JSON summary of a killed worker: $(cat "$T/out2")"

# 3. The proxy password travels only over the pipe: not in the worker's argv or environment.
pw='Hush-hush-pw-4711'
printf '%s\n' "$pw" > "$T/pw"
"$SHIR_BIN" scan run-local "$T/src" --test-fault hang --sink atlas:http://127.0.0.1:9 \
    --outbox "$T/ob" --proxy-mode custom --proxy-address 127.0.0.1 --proxy-port 9 \
    --proxy-user u --proxy-password-file "$T/pw" >"$T/out3" 2>"$T/err3" &
caller=$!
wait_until 20 grep -q 'worker pid [0-9]' "$T/err3" || fail "no worker pid (3)"
wpid=$(sed -n 's/.*worker pid \([0-9]*\).*/\1/p' "$T/err3" | head -1)
for f in cmdline environ; do
    tr '\0' '\n' < "/proc/$wpid/$f" | grep -q "$pw" && fail "password in the worker's $f"
    tr '\0' '\n' < "/proc/$caller/$f" | grep -q "$pw" && fail "password in the caller's $f"
done
kill -9 "$wpid"
wait "$caller"
caller=
grep -q "$pw" "$T/out3" "$T/err3" && fail "password in the output"

# 4. A normal run after all that still works.
"$SHIR_BIN" scan run-local "$T/src" >/dev/null 2>&1 || fail "a clean run failed"
pass
