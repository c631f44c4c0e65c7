#!/usr/bin/env bash
# The fault campaign in CI: two fixed seeds of tests/chaos/chaos.py against the build's agent,
# 8 faults each while clients write, read and run scans — seed 1 on loopback (kill -9, SIGSTOP, restarts,
# quorum loss), seed 2 in network namespaces (those plus link cuts, isolation and packet loss)
# when run as root, else on loopback too. Fails on any anomaly (the checker's list is printed),
# or when a run could not be carried out. Then the checker's own test, which shows it finds the
# anomalies it is meant to find. `bench/chaos.sh N` runs N seeds.
set -u
. "$SHIR_SOURCE_DIR/tests/integration/lib.sh"
here="$SHIR_SOURCE_DIR/tests/chaos"
command -v python3 >/dev/null || fail "python3 is missing: deploy/install-deps.sh installs it"
python3 "$here/test_checker.py" >/dev/null 2>&1 || fail "the checker's self-test failed: $(python3 "$here/test_checker.py" 2>&1 | tail -20)"

netns=()
if [ "$(id -u)" = 0 ] && command -v nft >/dev/null; then
    netns=(--netns)
else
    echo "chaos_ci: seed 2 on loopback (network namespaces need root and nftables)"
fi
run_seed() { # SEED [chaos.py flags]
    local seed=$1 out rc; shift
    out=$(python3 "$here/chaos.py" --shir "$SHIR_BIN" --seed "$seed" --faults 8 "$@" 2>"$TMPDIR_CHAOS/seed$seed.err")
    rc=$?
    printf '%s\n' "$out"
    [ "$rc" -eq 0 ] || fail "chaos seed $seed exited $rc: $out
$(tail -30 "$TMPDIR_CHAOS/seed$seed.err")"
    # Faults were injected and writes acknowledged: a campaign that did nothing proves nothing.
    expect_match "$out" "^chaos seed=$seed .*faults=8 writes=[0-9]+ \(acked [1-9][0-9]*\) reads=[1-9][0-9]* runs=[1-9][0-9]* \(succeeded [1-9][0-9]*\) anomalies=0$" "seed $seed summary"
}
TMPDIR_CHAOS=$(mktemp -d); trap 'rm -rf "$TMPDIR_CHAOS"' EXIT
run_seed 1
run_seed 2 "${netns[@]}"
echo "PASS [$TEST_NAME]"
