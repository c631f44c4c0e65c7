#!/usr/bin/env bash
# Runs with parts through real workers (`scan run-local --parts`, test build faults):
# 1. a worker killed -9 after its first checkpoint, then resumed from its parts, ends with the
#    parts of an uninterrupted run, byte for byte, whose lines are those of a single JSON-lines
#    run (same lines, none twice);
# 2. a worker whose parent never acknowledges anything fences itself (exit 3) long before its
#    run could end, and writes no _SUCCESS; one whose parent acknowledges its reports runs on;
# 3. a worker whose parent dies goes with it;
# 4. a file that crashes the worker is named by its walk index in the cause;
# 5. a results directory that cannot be written fails the run at once, with the message the
#    agent maps.
set -u
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d /tmp/shir-scan-parts.XXXXXX)
caller=
trap 'kill -9 $caller 2>/dev/null; rm -rf "$T"' EXIT

# 300 files in 10 directories, names without digits (so each is a file of its part; numbered
# names are held for resource sets), plus a set of 3 dated files and an empty directory.
python3 - "$T/src" <<'EOF'
import os, sys, itertools
root = sys.argv[1]
letters = "abcdefghij"
names = ["".join(p) for p in itertools.product("klmnopqrstuvwxyz", repeat=2)][:30]
for d in letters:
    os.makedirs(os.path.join(root, "dir-" + d), exist_ok=True)
    for n in names:
        with open(os.path.join(root, "dir-" + d, n + ".csv"), "w") as f:
            f.write("id,email\n%s,%s@example.com\n" % (n, n))
os.makedirs(os.path.join(root, "sales"), exist_ok=True)
for day in ("01", "02", "03"):
    with open(os.path.join(root, "sales", "2024-01-%s.csv" % day), "w") as f:
        f.write("day,amount\n%s,10\n" % day)
os.makedirs(os.path.join(root, "empty"), exist_ok=True)
EOF
common=(--level L2 --host-name runtime-h)

worker_pid() { sed -n 's/.*worker pid \([0-9]*\).*/\1/p' "$1" | head -1; }
# Parts 0..K-1 present without a gap: print K.
contiguous_parts() {
    local k=0
    while [ -e "$(printf '%s/part-%06d.jsonl' "$1" "$k")" ]; do k=$((k + 1)); done
    echo "$k"
}

# The reference: a single JSON-lines file, and an uninterrupted run with parts.
"$SHIR_BIN" scan run-local "$T/src" "${common[@]}" --sink "jsonl:$T/single.jsonl" >/dev/null 2>"$T/err0" ||
    fail "reference run failed: $(cat "$T/err0")"
"$SHIR_BIN" scan run-local "$T/src" "${common[@]}" --parts "$T/full" --part-size 20 >/dev/null 2>"$T/errf" ||
    fail "uninterrupted run with parts failed: $(cat "$T/errf")"
[ -f "$T/full/local/1/_SUCCESS" ] || fail "no _SUCCESS after an uninterrupted run"
# 303 files / 20 = 16 parts of files (the 3 dated ones are held), then the final part 16.
[ "$(contiguous_parts "$T/full/local/1")" -eq 17 ] || fail "expected 17 parts: $(ls "$T/full/local/1")"

# 1. Killed -9 after the first checkpoint, then resumed.
run="$T/res/local/1"
"$SHIR_BIN" scan run-local "$T/src" "${common[@]}" --parts "$T/res" --part-size 20 \
    --test-fault slow >"$T/out1" 2>"$T/err1" &
caller=$!
wait_until 60 test -e "$run/part-000000.jsonl" || fail "no first part: $(cat "$T/err1")"
wpid=$(worker_pid "$T/err1")
[ -n "$wpid" ] || fail "no worker pid"
kill -9 "$wpid"
wait "$caller"
rc=$?
caller=
[ "$rc" -eq 1 ] || fail "killed worker: exit $rc, expected 1"
expect_match "$(cat "$T/err1")" "worker $wpid killed by signal SIGKILL" "kill cause"
[ -e "$run/_SUCCESS" ] && fail "_SUCCESS after a kill"
k=$(contiguous_parts "$run")
[ "$k" -ge 1 ] && [ "$k" -lt 16 ] || fail "expected some parts and not all after the kill: $k"
"$SHIR_BIN" scan run-local "$T/src" "${common[@]}" --parts "$T/res" --part-size 20 \
    --resume-part "$k" >"$T/out1b" 2>"$T/err1b" || fail "resume from part $k failed: $(cat "$T/err1b")"
[ -f "$run/_SUCCESS" ] || fail "no _SUCCESS after the resume"
ls -A "$run" | grep -q '^\.tmp-' && fail "temporary files left: $(ls -A "$run")"
for f in "$T/full/local/1"/part-*.jsonl; do
    cmp -s "$f" "$run/$(basename "$f")" || fail "$(basename "$f") differs from the uninterrupted run's"
done
[ "$(ls "$run" | grep -c '^part-')" -eq 17 ] || fail "parts after the resume: $(ls "$run")"
cat "$run"/part-*.jsonl | LC_ALL=C sort >"$T/parts.sorted"
LC_ALL=C sort "$T/single.jsonl" >"$T/single.sorted"
cmp -s "$T/parts.sorted" "$T/single.sorted" ||
    fail "parts differ from run-local's JSON lines: $(diff "$T/parts.sorted" "$T/single.sorted" | head -5)"
[ "$(LC_ALL=C sort -u "$T/parts.sorted" | wc -l)" -eq "$(wc -l <"$T/parts.sorted")" ] ||
    fail "a line appears twice"
[ "$(wc -l <"$T/parts.sorted")" -eq 314 ] || fail "expected 314 lines (300 files, a set, 13 directories)"

# 2. Self-fence: run-local never acknowledges; the slow run needs ~6 s, the fence is 1 s.
"$SHIR_BIN" scan run-local "$T/src" "${common[@]}" --parts "$T/fence" --part-size 20 \
    --test-fault slow --test-fence-ms 1000 >"$T/out2" 2>"$T/err2"
rc=$?
[ "$rc" -eq 1 ] || fail "fenced run: exit $rc, expected 1"
expect_match "$(cat "$T/err2")" "scan failed: self-fenced: no report acknowledged for 1000 ms" "fence cause"
[ -e "$T/fence/local/1/_SUCCESS" ] && fail "a fenced worker finished its run"
[ "$(contiguous_parts "$T/fence/local/1")" -lt 16 ] || fail "a fenced worker wrote every part"

# 2b. The same with a parent that acknowledges every report (node_worker_send): the run
#     (~6 s) outlives its fence (2 s) three times over, and finishes.
"$SHIR_BIN" scan run-local "$T/src" "${common[@]}" --parts "$T/acked" --part-size 20 \
    --test-fault slow --test-fence-ms 2000 --test-ack on >"$T/out2b" 2>"$T/err2b" ||
    fail "an acknowledged run failed: $(cat "$T/err2b")"
[ -f "$T/acked/local/1/_SUCCESS" ] || fail "no _SUCCESS after an acknowledged run"

# 3. The parent dies: the worker goes too (its job pipe closes; PR_SET_PDEATHSIG).
"$SHIR_BIN" scan run-local "$T/src" "${common[@]}" --parts "$T/orphan" --test-fault slow \
    >"$T/out3" 2>"$T/err3" &
caller=$!
wait_until 20 grep -q 'worker pid [0-9]' "$T/err3" || fail "no worker pid (3)"
wpid=$(worker_pid "$T/err3")
kill -0 "$wpid" || fail "worker $wpid not running"
kill -9 "$caller"
wait "$caller" 2>/dev/null
caller=
wait_until 20 sh -c "! kill -0 $wpid 2>/dev/null" || fail "worker $wpid outlived its parent"

# 4. A file that crashes the worker (test fault crash-named) is named by its walk index (in one
#    directory, the walk order is sort(1)'s bytewise order of the paths).
mkdir -p "$T/crash" && cp -r "$T/src/dir-a" "$T/crash/" && echo 'x' >"$T/crash/dir-a/shir-test-crash.csv"
want=$(cd "$T/crash" && find . -type f | LC_ALL=C sort | grep -n 'shir-test-crash' | cut -d: -f1)
"$SHIR_BIN" scan run-local "$T/crash" --level L2 --parts "$T/crashout" --test-fault crash-named \
    >"$T/out4" 2>"$T/err4"
rc=$?
[ "$rc" -eq 1 ] || fail "crash-named: exit $rc, expected 1"
expect_match "$(cat "$T/err4")" "killed by signal SIGABRT \\(6\\) reading file #$((want - 1)) of the walk" \
    "crash index"

# 5. DIR is a regular file: the run fails at once, before walking.
: >"$T/not-a-dir"
"$SHIR_BIN" scan run-local "$T/src" --parts "$T/not-a-dir" --json >"$T/out5" 2>"$T/err5"
rc=$?
[ "$rc" -eq 1 ] || fail "unwritable results: exit $rc, expected 1"
expect_match "$(cat "$T/err5")" "scan failed: cannot write the results to $T/not-a-dir/local/1: " "results cause"
[ "$(json_get "$(cat "$T/out5")" 'd["filesSeen"]')" -eq 0 ] || fail "files walked before the results failed"
pass
