#!/usr/bin/env bash
# The main job, for trying shir out on one machine: build, start a 3-node runtime on loopback
# (init on one node, join with its key on the others), show its status, then scan the bundled
# sample data through the runtime: a replicated scan definition, a run the leader places on the
# least-loaded node, its results as numbered parts, and which node ran it.
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

# Scan the bundled sample data (sample-data/, regenerate with sample-data/generate.py) at L3
# (metadata, schema and classification) through the runtime: any node takes the commands.
out=$(mktemp -d /tmp/shir-demo.XXXXXX)
echo
echo "== shir scan create sample --source $PWD/sample-data --level L3 --exclude generate.py --sink jsonl:$out"
"$SHIR" scan create sample --source "$PWD/sample-data" --level L3 --exclude generate.py \
    --sink "jsonl:$out" --data-dir "$cluster/n2"
echo
echo "== shir scan run sample --wait (placed by the leader on the least-loaded node)"
"$SHIR" scan run sample --wait --data-dir "$cluster/n3"
echo
echo "== shir scan runs sample"
"$SHIR" scan runs sample --data-dir "$cluster/n1"
run=$("$SHIR" scan runs sample --json --data-dir "$cluster/n1" |
      python3 -c 'import json,sys; r=json.load(sys.stdin)["runs"][0]; print(r["id"]); print(r["node"], file=sys.stderr)' 2>"$out/node")
echo
echo "== run $run ran on $(cat "$out/node"); its results: $out/sample/$run/"
ls "$out/sample/$run"
echo
echo "== a few assets (of $(cat "$out/sample/$run"/part-*.jsonl | wc -l))"
python3 - "$out/sample/$run" <<'PY'
import glob, json, os, sys
rows = [json.loads(l) for f in sorted(glob.glob(os.path.join(sys.argv[1], "part-*.jsonl")))
        for l in open(f)]
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
