#!/usr/bin/env bash
# SMB walk against a local walk of the same tree: files per second of `shir scan run-local` on a
# tree of N small CSV files (default 20,000, in directories of 500, each file an asset), once as a local path and once
# as `smb://127.0.0.1:PORT/share` served by a Samba server started here from Debian's package
# (tests/integration/smb_lib.sh; loopback, signing as the server defaults), at L1 (names and
# attributes: one listing per directory) and L2 (plus each file opened and its head read: round
# trips per file). Prints one line per (source, level) with the best of R runs (default 3).
# Not a test. Usage: bench/bench_smb_walk.sh [SHIR_BIN] [FILES] [R]
set -uo pipefail
SHIR=$(realpath "${1:-build/eng/node/shir}")
N=${2:-20000}
R=${3:-3}
. "$(dirname "$0")/smb_common.sh"

python3 - "$T/tree" "$N" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
def word(i):  # letters only: no name is a partition token, every file is an asset of its own
    s = ""
    for _ in range(5):
        s += "bcdghjkmnpqrstvwxz"[i % 18]; i //= 18
    return s
for i in range(n):
    d = os.path.join(root, "dir" + word(i // 500)[:2])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, word(i) + ".csv"), "w") as f:
        f.write("id,email,amount\n%d,user%d@example.com,%d.50\n" % (i, i, i))
PY
smb_share_tree

# best SOURCE LEVEL: the fastest of R runs in ms (each run checked to have seen every file).
best() {
    local src=$1 level=$2 b= i t0 ms out
    for i in $(seq 1 "$R"); do
        t0=$(now_ms)
        out=$(run_local "$src" "$level")
        ms=$(( $(now_ms) - t0 ))
        case "$out" in *"\"filesSeen\":$N,"*) ;; *) echo "run failed: $out" >&2; exit 1;; esac
        [ -z "$b" ] || [ "$ms" -lt "$b" ] && b=$ms
    done
    echo "$b"
}
for level in L1 L2; do
    l=$(best "$T/tree" "$level")
    s=$(best "smb://127.0.0.1:$SMB_PORT/share" "$level")
    printf 'smb walk %s, %d files: local %d ms (%d files/s), smb %d ms (%d files/s), smb/local %.2f\n' \
        "$level" "$N" "$l" $(( N * 1000 / (l > 0 ? l : 1) )) "$s" $(( N * 1000 / (s > 0 ? s : 1) )) \
        "$(python3 -c "print($s / max($l, 1))")"
done
smb_stop
