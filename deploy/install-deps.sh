#!/usr/bin/env bash
# Install every build, test and benchmark dependency of shir from Debian packages.
#
# Idempotent: safe to run again. Needs root on Debian 12 (bookworm). The Raft library must be
# cowsql/raft 0.22.x, which bookworm ships only in its backports suite; we enable that suite by
# deriving it from the machine's own Debian source entry (same mirror, same keyring), so no
# registry address is written anywhere in this repository.
set -euo pipefail

die() { echo "install-deps: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || [ "${1:-}" = "--derive-only" ] || die "must run as root (it calls apt-get)"
[ -r /etc/os-release ] || die "no /etc/os-release: unsupported system"
. /etc/os-release
[ "${ID:-}" = debian ] && [ "${VERSION_CODENAME:-}" = bookworm ] ||
    die "unsupported system '${PRETTY_NAME:-unknown}': shir's installer supports Debian 12 (bookworm) only"

APT_DIR=${SHIR_APT_DIR:-/etc/apt}   # overridable only so tests can derive from a fake tree
BACKPORTS_FILE=$APT_DIR/sources.list.d/shir-bookworm-backports.sources

# Print the URI of the entry that serves the plain "bookworm" suite, from deb822 (*.sources) or
# one-line (*.list) files.
debian_uri() {
    local f
    for f in "$APT_DIR"/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'BEGIN { RS = ""; FS = "\n" }
             { uris = ""; suites = ""; types = ""
               for (i = 1; i <= NF; i++) {
                 if ($i ~ /^URIs:/)   { uris = $i; sub(/^URIs:[ \t]*/, "", uris) }
                 if ($i ~ /^Suites:/) { suites = $i " " }
                 if ($i ~ /^Types:/)  { types = $i " " }
               }
               if (types ~ /[ \t]deb[ \t]/ && suites ~ /[ \t]bookworm[ \t]/ && uris != "") {
                 split(uris, u, " "); print u[1]; exit } }' "$f"
    done
    for f in "$APT_DIR"/sources.list "$APT_DIR"/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
             if ($(i+1) == "bookworm") { print $i; exit } }' "$f"
    done
}

# Write the backports entry unless the machine already has one.
enable_backports() {
    if grep -rqsE '^[^#]*bookworm-backports' "$APT_DIR"/sources.list "$APT_DIR"/sources.list.d/; then
        return 0
    fi
    local uri keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    uri=$(debian_uri | head -n 1)
    [ -n "$uri" ] || die "cannot find the machine's Debian 'bookworm' source entry to derive bookworm-backports from"
    {
        echo "# Written by shir's deploy/install-deps.sh, derived from this machine's bookworm entry."
        echo "Types: deb"
        echo "URIs: $uri"
        echo "Suites: bookworm-backports"
        echo "Components: main"
        [ -f "$keyring" ] && echo "Signed-By: $keyring"
    } > "$BACKPORTS_FILE"
    echo "install-deps: enabled bookworm-backports from the existing Debian entry"
}

if [ "${1:-}" = "--derive-only" ]; then
    # For tests (into $SHIR_APT_DIR) and deploy/install.sh: enable the suite, touch nothing else.
    enable_backports
    exit 0
fi
enable_backports

export DEBIAN_FRONTEND=noninteractive
apt-get update -q || die "apt-get update failed"

PKGS=(
    build-essential cmake pkg-config ninja-build git ca-certificates
    clang llvm libclang-rt-14-dev clang-format
    libuv1-dev libmsgpack-dev libssl-dev openssl libcurl4-openssl-dev
    libvectorscan-dev libcmocka-dev zlib1g-dev libjansson-dev
    libsnappy-dev libzstd-dev liblz4-dev libbrotli-dev libarchive-dev libexpat1-dev
    libmicrohttpd-dev
    libinih-dev libsystemd-dev
    python3 iproute2 procps curl
    systemd    # systemd-analyze, for the unit's offline security score (agent_systemd)
    tinyproxy nftables
    chromium chromium-driver
    libpq-dev libmariadb-dev libsqlite3-dev sqlite3
    postgresql mariadb-server
    libsmbclient-dev samba  # SMB sources (dlopen'd on first use); smbd only for tests (smb_lib.sh)
)
apt-get install -y -q --no-install-recommends "${PKGS[@]}" || die "apt-get install failed"
apt-get install -y -q --no-install-recommends -t bookworm-backports libraft-dev ||
    die "could not install libraft-dev from bookworm-backports"

# The service started by the tinyproxy package is not ours: tests start their own on loopback.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now tinyproxy >/dev/null 2>&1 || true; fi
pkill -x tinyproxy 2>/dev/null || true
# Likewise the database servers: tests and benchmarks run their own (initdb / mariadb-install-db
# into a temporary directory, loopback port, unprivileged user); the system instances stay off.
if command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now postgresql mariadb smbd nmbd samba-ad-dc >/dev/null 2>&1 || true
fi

ver=$(pkg-config --modversion raft 2>/dev/null || true)
case "$ver" in
    0.2[2-9]*|0.[3-9]*|[1-9]*) ;;
    *) die "raft $ver is installed; shir needs cowsql/raft >= 0.22 (0.15 crashes on shutdown with in-flight writes)" ;;
esac
echo "install-deps: ok (raft $ver)"
