# Shared helpers for shell integration tests. Every wait has a deadline; nothing sleeps and hopes.
: "${SHIR_BIN:?SHIR_BIN must name the shir binary}"
TEST_NAME=$(basename "$0" .sh)

fail() { echo "FAIL [$TEST_NAME]: $*" >&2; exit 1; }
pass() { echo "PASS [$TEST_NAME]"; exit 0; }

# expect_match TEXT REGEX WHAT
expect_match() { printf '%s\n' "$1" | grep -Eq -- "$2" || fail "$3: '$2' not in: $1"; }

# expect_exit CODE CMD...
expect_exit() {
    local want=$1; shift
    "$@" >/dev/null 2>&1
    local got=$?
    [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want"
}

# wait_until SECONDS CMD...: run CMD until it succeeds or the deadline passes. The pause between
# tries is a poll interval, not a guess at how long something takes.
wait_until() {
    local deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 )); shift
    until "$@" >/dev/null 2>&1; do
        [ $(( $(date +%s%N) / 1000000 )) -lt "$deadline" ] || return 1
        sleep 0.05  # poll interval inside a deadline loop
    done
}

# python3 below and in every script is the real interpreter that ctest puts first on PATH (a
# link in the build tree, chosen once by tests/CMakeLists.txt), not a version manager's shim:
# these helpers run hundreds of times per test.

# free_port: print a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# json_get JSON PYEXPR: evaluate PYEXPR with d = the parsed JSON and print the result.
json_get() { printf '%s' "$1" | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"; }
# json_check JSON PYEXPR WHAT: fail with WHAT unless JSON parses and PYEXPR (over d) holds.
json_check() {
    printf '%s' "$1" | python3 -c "import json,re,sys; d=json.load(sys.stdin); sys.exit(0 if ($2) else 1)" ||
        fail "$3: '$2' does not hold for: $1"
}
