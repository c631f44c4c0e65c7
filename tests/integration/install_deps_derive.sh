#!/usr/bin/env bash
# deploy/install-deps.sh derives bookworm-backports from the machine's own Debian entry, in both
# source formats, leaves a machine that already has it alone, and fails clearly without one.
set -u
. "$(dirname "$0")/lib.sh"
script="$SHIR_SOURCE_DIR/deploy/install-deps.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# deb822 format, with a security entry listed first that must not be picked.
mkdir -p "$tmp/a/sources.list.d"
cat > "$tmp/a/sources.list.d/debian.sources" <<'S'
Types: deb
URIs: http://mirror.invalid/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: http://mirror.invalid/debian
Suites: bookworm bookworm-updates
Components: main
S
SHIR_APT_DIR="$tmp/a" bash "$script" --derive-only >/dev/null || fail "deb822 derivation failed"
out=$(cat "$tmp/a/sources.list.d/shir-bookworm-backports.sources")
expect_match "$out" '^URIs: http://mirror.invalid/debian$' "deb822 URI"
expect_match "$out" '^Suites: bookworm-backports$' "suite"

# One-line format with options.
mkdir -p "$tmp/b/sources.list.d"
echo 'deb [arch=amd64 signed-by=/k.gpg] http://mirror.invalid/deb bookworm main' > "$tmp/b/sources.list"
SHIR_APT_DIR="$tmp/b" bash "$script" --derive-only >/dev/null || fail "one-line derivation failed"
expect_match "$(cat "$tmp/b/sources.list.d/shir-bookworm-backports.sources")" \
    '^URIs: http://mirror.invalid/deb$' "one-line URI"

# Already enabled: nothing written.
mkdir -p "$tmp/c/sources.list.d"
echo 'deb http://mirror.invalid/deb bookworm-backports main' > "$tmp/c/sources.list"
SHIR_APT_DIR="$tmp/c" bash "$script" --derive-only >/dev/null || fail "already-enabled case failed"
[ ! -e "$tmp/c/sources.list.d/shir-bookworm-backports.sources" ] || fail "wrote a second entry"

# No Debian entry: a clear error.
mkdir -p "$tmp/d/sources.list.d"
err=$(SHIR_APT_DIR="$tmp/d" bash "$script" --derive-only 2>&1) && fail "succeeded without an entry"
expect_match "$err" "cannot find the machine's Debian 'bookworm' source entry" "error message"
pass
