#!/usr/bin/env bash
# The main job, for trying shir out on one machine: build, then run what exists.
# (It grows into: start a local multi-node runtime on loopback and scan the bundled sample data.)
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHIR_BENCH=OFF >/dev/null
cmake --build build/demo -j "$(nproc)" >/dev/null
SHIR=build/demo/node/shir
"$SHIR" --version
