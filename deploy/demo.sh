#!/usr/bin/env bash
# The main job, for trying shir out on one machine: build, start a 3-node runtime on loopback
# (init on one node, join with its key on the others), show its status, then scan the bundled
# sample data. Scans are not yet dispatched through the runtime (see docs/status.md): this one
# runs in a worker process of this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHIR_BENCH=OFF >/dev/null
cmake --build build/demo -j "$(nproc)" >/dev/null
SHIR=build/demo/node/shir
"$SHIR" --version

cluster=$(mktemp -d /tmp/shir-demo-cluster.XXXXXX)
trap 'SHIR=$SHIR deploy/local-cluster.sh stop "$cluster"' EXIT
echo
echo "== a 3-node runtime on loopback (deploy/local-cluster.sh start 3 $cluster)"
SHIR=$SHIR deploy/local-cluster.sh start 3 "$cluster"
"$SHIR" status --data-dir "$cluster/n2"

# Scan the bundled sample data (sample-data/, regenerate with sample-data/generate.py) at L3:
# metadata, schema and classification, one JSON object per asset.
out=$(mktemp -d /tmp/shir-demo.XXXXXX)
echo
echo "== shir scan run-local sample-data --level L3 --exclude generate.py --sink jsonl:$out/assets.jsonl"
"$SHIR" scan run-local sample-data --level L3 --exclude generate.py --sink "jsonl:$out/assets.jsonl" 2>/dev/null
echo
echo "== a few assets (of $(wc -l <"$out/assets.jsonl")) from $out/assets.jsonl"
python3 - "$out/assets.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
shown = 0
for r in rows:
    if r["type"] == "directory" or shown >= 7:
        continue
    if not (r["columns"] or r["classifications"] or r["type"] == "resource_set"):
        continue
    shown += 1
    print(f"{r['qualifiedName']}\n  type={r['type']} format={r['format']} size={r['size']}"
          + (f" rows={r['rowCount']}" if "rowCount" in r else "")
          + (f" partitions={r['partitionCount']}" if "partitionCount" in r else ""))
    for c in r["columns"][:8]:
        cls = ",".join(c["classifications"])
        print(f"    {c['name']:<16} {c['type']:<10} {cls}")
    if r["classifications"]:
        print(f"  classifications: {', '.join(r['classifications'])}")
PY
