#!/usr/bin/env bash
# Install a built shir on this machine as a systemd service.
#   bash deploy/install.sh [BUILD_DIR]      (default build/demo, built if missing)
# Installs /usr/local/bin/shir, a `shir` system user, /var/lib/shir (0700) and shir.service; it
# enables the service but does not register the node: run `shir init` on the first node and
# `shir join --key KEY` on the others (docs/operations.md). DESTDIR stages into another root.
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "install: $*" >&2; exit 1; }
build=${1:-build/demo}
root=${DESTDIR:-}
if [ ! -x "$build/node/shir" ]; then
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHIR_BENCH=OFF >/dev/null
    cmake --build "$build" >/dev/null
fi
[ -z "$root" ] && [ "$(id -u)" -ne 0 ] && die "must run as root (or set DESTDIR to stage)"
install -D -m 0755 "$build/node/shir" "$root/usr/local/bin/shir"
install -D -m 0644 deploy/shir.service "$root/etc/systemd/system/shir.service"
install -D -m 0644 docs/operations.md "$root/usr/local/share/doc/shir/operations.md"
install -d -m 0700 "$root/var/lib/shir"
if [ -z "$root" ]; then
    id -u shir >/dev/null 2>&1 || useradd --system --home-dir /var/lib/shir --shell /usr/sbin/nologin shir
    chown shir:shir /var/lib/shir
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        systemctl daemon-reload
        systemctl enable --now shir.service
        echo "install: shir.service enabled and started"
    else
        echo "install: no running systemd here; start the node with: shir agent --data-dir /var/lib/shir"
    fi
fi
echo "install: done ($("$root/usr/local/bin/shir" --version | head -n 1))"
