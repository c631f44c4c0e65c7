#!/usr/bin/env bash
# End-to-end L3 small files/s: `shir scan run-local --level L3 --sink jsonl:...` on N small CSV
# files (20 rows each, with e-mail and card columns so classification has work to do), distinct
# names so there are no resource sets. Prints the worker's scan rate and the wall-clock rate
# (process start, worker spawn and the JSON-lines fsync included).
# Usage: bench/bench_e2e.sh [SHIR_BIN] [FILES]   (defaults: build/eng/node/shir, 5000)
set -euo pipefail
SHIR=${1:-build/eng/node/shir}
N=${2:-5000}
T=$(mktemp -d /tmp/shir-bench-e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
python3 - "$T/src" "$N" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
def card():
    d = [4] + [rng.randrange(10) for _ in range(14)]
    s = sum((x * 2 - 9 if x * 2 > 9 else x * 2) if i % 2 == 0 else x for i, x in enumerate(reversed(d)))
    return "".join(map(str, d)) + str((10 - s % 10) % 10)
words = ["alpha", "bravo", "charlie", "delta", "echo", "fox", "golf", "hotel"]
for i in range(n):
    d = os.path.join(root, words[i % 8], words[(i // 8) % 8])
    os.makedirs(d, exist_ok=True)
    name = "".join(rng.choice(words) for _ in range(2)) + "_" + words[i % 7] + ".csv"
    with open(os.path.join(d, f"{name[:-4]}_{chr(97 + i % 26)}{chr(97 + (i // 26) % 26)}{chr(97 + (i // 676) % 26)}.csv"), "w") as f:
        f.write("id,email,card,amount\n")
        for r in range(20):
            f.write(f"{r},user{rng.randrange(10**6)}@example.com,{card()},{rng.randrange(10**4)}.{rng.randrange(100):02d}\n")
PY
t0=$(date +%s%N)
json=$("$SHIR" scan run-local "$T/src" --level L3 --no-directories --json --sink "jsonl:$T/out.jsonl" 2>/dev/null)
t1=$(date +%s%N)
python3 - "$json" "$(( (t1 - t0) / 1000000 ))" <<'PY'
import json, sys
s, wall = json.loads(sys.argv[1]), int(sys.argv[2])
files, ms = s["filesSeen"], max(s["durationMs"], 1)
print(f"bench_e2e: L3 end to end, {files} small CSV files ({s['bytesRead']} bytes read), "
      f"{s['assets']} assets, {s['classifiedColumns']} classified columns, {s['resourceSets']} resource sets")
print(f"  worker scan     {files / ms * 1000:10.0f} files/s  ({ms} ms)")
print(f"  wall clock      {files / max(wall, 1) * 1000:10.0f} files/s  ({wall} ms, spawn + fsync included)")
PY
