#!/usr/bin/env bash
# Fuzz every libFuzzer target (or the ones named) for N minutes each.
#
#   tests/fuzz/run-fuzz.sh [-m MINUTES | -s SECONDS] [-j JOBS] [TARGET...]
#   e.g. tests/fuzz/run-fuzz.sh -m 2 fuzz_frame fuzz_msg        (no TARGET: every target)
#
# Builds a separate tree (build/fuzz, or $SHIR_FUZZ_BUILD) with clang, -DSHIR_FUZZ=ON and
# CMAKE_C_FLAGS=-fsanitize=fuzzer-no-link,address,undefined, so the libraries are instrumented
# too. Each target starts from its committed seed corpus (the directory its fuzz_replay_<name>
# test replays) copied into a scratch corpus under the build tree, so the committed seeds stay
# small; crashes, leaks and timeouts land in <build>/fuzz-artifacts/<target>/. To keep a crasher
# as a regression test, fix the bug and copy the file into the target's committed corpus.
# Exits non-zero if any target found a crash.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=120
jobs=1
while getopts "m:s:j:h" opt; do
    case $opt in
    m) seconds=$((OPTARG * 60)) ;;
    s) seconds=$OPTARG ;;
    j) jobs=$OPTARG ;;
    *) sed -n '2,14p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ "$seconds" -ge 1 ] 2>/dev/null || { echo "run-fuzz: the time must be at least 1 second" >&2; exit 2; }

build=${SHIR_FUZZ_BUILD:-build/fuzz}
command -v clang >/dev/null || { echo "run-fuzz: clang is needed (apt-get install clang)" >&2; exit 1; }
if [ ! -f "$build/build.ninja" ]; then
    CC=clang cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHIR_FUZZ=ON \
        -DSHIR_BENCH=OFF -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" >/dev/null
fi

# Target name -> committed corpus, read from the replay tests CMake registered.
mapfile -t table < <(find "$build" -name CTestTestfile.cmake -exec grep -h '^add_test(\[=\[fuzz_replay_' {} + |
    sed -E 's/^add_test\(\[=\[fuzz_replay_([^]]*)\]=\] "[^"]*" "([^"]*)".*/\1 \2/')
[ ${#table[@]} -gt 0 ] || { echo "run-fuzz: no fuzz targets registered" >&2; exit 1; }

want=("$@")
selected=()
for row in "${table[@]}"; do
    name=${row%% *}
    if [ ${#want[@]} -eq 0 ] || printf '%s\n' "${want[@]}" | grep -qx "$name"; then
        selected+=("$row")
    fi
done
[ ${#selected[@]} -gt 0 ] || { echo "run-fuzz: none of '${want[*]}' is a fuzz target" >&2; exit 1; }

ninja -C "$build" $(for row in "${selected[@]}"; do echo "${row%% *}_fuzzer"; done) >/dev/null

status=0
for row in "${selected[@]}"; do
    name=${row%% *}
    seeds=${row#* }
    work="$(realpath -m "$build/fuzz-corpus/$name")"
    art="$(realpath -m "$build/fuzz-artifacts/$name")"
    mkdir -p "$work" "$art"
    cp -n "$seeds"/* "$work"/ 2>/dev/null || true
    # Absolute: the fuzzer runs from its artifacts directory.
    bin=$(realpath "$(find "$build" -name "${name}_fuzzer" -type f -perm -u+x | head -1)")
    echo "== $name: ${seconds}s, corpus $work (seeds $seeds)"
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    par=()
    # -jobs makes libFuzzer fork workers that log to ./fuzz-N.log: only when asked, and in $art.
    [ "$jobs" -gt 1 ] && par=(-jobs="$jobs" -workers="$jobs")
    if ! (cd "$art" && "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=256 \
        -timeout=10 -print_final_stats=1 "${par[@]}" -artifact_prefix="$art/" "$work") \
        >"$build/fuzz-$name.log" 2>&1; then
        echo "   FAILED: see $build/fuzz-$name.log and $art/"
        status=1
    fi
    # A log without these lines (a fuzzer that did not start) must not end the loop (set -e).
    { grep -E "stat::number_of_executed_units|stat::peak_rss_mb|ERROR:" "$build/fuzz-$name.log" ||
        true; } | sed 's/^/   /' | head -5
    echo "   corpus: $(ls "$work" | wc -l) inputs; artifacts: $(ls "$art" | wc -l)"
done
exit $status
