#!/usr/bin/env bash
# Install shir on this machine from its Debian package.
#   bash deploy/install.sh [PACKAGE.deb | BUILD_DIR]
# With a .deb (built elsewhere with `cpack -G DEB`), it needs no compiler: it enables
# bookworm-backports (for libraft0 >= 0.22, derived from this machine's own Debian entry by
# deploy/install-deps.sh --derive-only), installs libraft0 from there and the package with apt,
# which pulls the other runtime libraries. With a build directory (default build/package) it
# configures and builds there first (needs deploy/install-deps.sh's build dependencies).
# The package creates the `shir` user, /etc/shir/shir.conf and /var/lib/shir (0700) and enables
# shir.service; set `advertise` in /etc/shir/shir.conf, then follow docs/operations.md.
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "install: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root (it calls apt-get)"

arg=${1:-build/package}
case "$arg" in
    *.deb)
        [ -f "$arg" ] || die "no such package: $arg"
        deb=$(readlink -f "$arg")
        ;;
    *)
        build=$arg
        cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHIR_BENCH=OFF >/dev/null ||
            die "configure failed (run deploy/install-deps.sh first)"
        cmake --build "$build" --target shir >/dev/null || die "build failed"
        (cd "$build" && cpack -G DEB >/dev/null) || die "cpack failed"
        deb=$(ls -t "$build"/shir_*.deb | head -n 1)
        ;;
esac

bash deploy/install-deps.sh --derive-only
export DEBIAN_FRONTEND=noninteractive
apt-get update -q || die "apt-get update failed"
apt-get install -y -q --no-install-recommends -t bookworm-backports libraft0 ||
    die "could not install libraft0 from bookworm-backports"
apt-get install -y -q --no-install-recommends "$deb" || die "apt-get install $deb failed"
echo "install: done ($(/usr/bin/shir --version | head -n 1)); next: docs/operations.md"
