#!/usr/bin/env bash
# Delta tables on an SMB share against the same tables on the disk: tables per second of
# `shir scan run-local` at L2 (each table's _delta_log listed, its checkpoint, sidecars and later
# commits read; tests/fixtures/delta's four layouts, copied N/4 times each, default N = 200),
# once as a local path and once as `smb://127.0.0.1:PORT/share` served by a Samba server started
# here (tests/integration/smb_lib.sh; loopback). Prints the best of R runs (default 3) and the
# bytes each run read. Not a test. Usage: bench/bench_smb_delta.sh [SHIR_BIN] [TABLES] [R]
set -uo pipefail
SHIR=$(realpath "${1:-build/eng/node/shir}")
N=${2:-200}
R=${3:-3}
. "$(dirname "$0")/smb_common.sh"

layouts=(sales sales_multipart sales_v2 sales_v2json)
for i in $(seq 0 $((N - 1))); do
    t=${layouts[$((i % 4))]}
    mkdir -p "$T/tree/lake$((i / 4))"
    cp -r "$HERE/../tests/fixtures/delta/$t" "$T/tree/lake$((i / 4))/"
done
smb_share_tree

# best SOURCE: "ms bytes" of the fastest of R runs (each checked to have found N tables, no error).
best() {
    local src=$1 b= i t0 ms out bytes
    for i in $(seq 1 "$R"); do
        t0=$(now_ms)
        out=$(run_local "$src" L2)
        ms=$(( $(now_ms) - t0 ))
        n=$(grep -c '"type":"table".*"tableVersion":3,"liveFiles":3,.*"errors":\[\]' "$T/out.jsonl")
        [ "$n" = "$N" ] || { echo "run failed ($n tables): $out" >&2; exit 1; }
        bytes=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["bytesRead"])' "$out")
        [ -z "$b" ] || [ "$ms" -lt "${b% *}" ] && b="$ms $bytes"
    done
    echo "$b"
}
read -r l lb <<<"$(best "$T/tree")"
read -r s sb <<<"$(best "smb://127.0.0.1:$SMB_PORT/share")"
printf 'smb delta L2, %d tables: local %d ms (%d tables/s, %d bytes read), smb %d ms (%d tables/s, %d bytes read), smb/local %.2f\n' \
    "$N" "$l" $(( N * 1000 / (l > 0 ? l : 1) )) "$lb" "$s" $(( N * 1000 / (s > 0 ? s : 1) )) "$sb" \
    "$(python3 -c "print($s / max($l, 1))")"
smb_stop
