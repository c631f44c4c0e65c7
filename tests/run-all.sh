#!/usr/bin/env bash
# The whole test suite, as CI runs it: build with warnings as errors and the test-only faults
# (SHIR_TEST_FAULTS, which the crash-isolation test needs), run every test plainly, then
# build again with AddressSanitizer + UndefinedBehaviorSanitizer and run the unit, integration
# and fuzz-replay tests under it. Ends with ctest's summary; exits non-zero if anything failed.
# The fault campaign (label `chaos`) runs in the sanitizer pass only: its two seeds are the same
# schedules in both builds, and only there does a sanitizer report also fail them. ctest starts
# the long tests first (their COST, tests/costs.cmake).
set -uo pipefail
cd "$(dirname "$0")/.."

JOBS=$(nproc 2>/dev/null || echo 2)
status=0

configure_and_build() {
    local dir=$1; shift
    cmake -S . -B "$dir" -G Ninja -DSHIR_WERROR=ON "$@" >"$dir.configure.log" 2>&1 ||
        { cat "$dir.configure.log"; echo "configure of $dir failed" >&2; return 1; }
    cmake --build "$dir" -j "$JOBS" || { echo "build of $dir failed" >&2; return 1; }
}

mkdir -p build
echo "== plain build (warnings are errors)"
configure_and_build build/ci -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHIR_TEST_FAULTS=ON || exit 1
echo "== sanitizer build (ASan+UBSan)"
configure_and_build build/asan -DCMAKE_BUILD_TYPE=Debug -DSHIR_SANITIZE=ON -DSHIR_BENCH=OFF \
    -DSHIR_TEST_FAULTS=ON || exit 1

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "== tests, plain build"
# --repeat until-pass:2: a test that fails and then passes is still printed as a failure above
# the summary (so it is seen and fixed), but a one-off scheduling hiccup on a loaded shared
# machine does not block the merge; a test that fails twice fails the run.
(cd build/ci && ctest --output-on-failure -j "$JOBS" --timeout 600 --repeat until-pass:2 \
    -LE '^chaos$') || status=1
echo "== tests under ASan+UBSan (unit, integration, fuzz replay)"
(cd build/asan && ctest --output-on-failure -j "$JOBS" --timeout 900 -L 'unit|integration|fuzz' \
    --repeat until-pass:2) || status=1
exit $status
