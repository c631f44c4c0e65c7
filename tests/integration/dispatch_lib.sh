# Helpers for the dispatcher's tests (source after lib.sh and cluster_lib.sh).

# scan NODE ARGS...: `shir scan ARGS --json` on NODE's agent.
scan() { local n=$1; shift; "$SHIR_BIN" scan "$@" --data-dir "$tmp/$n" --json; }

# runs NODE: every run as JSON ({"runs": [...]}).
runs() { scan "$1" runs; }

# run_holds NODE RUN PYEXPR: run RUN (as r) satisfies PYEXPR on NODE's replica.
run_holds() {
    runs "$1" | python3 -c "
import json,sys
rs=[x for x in json.load(sys.stdin)['runs'] if x['id']==$2]
if not rs: sys.exit(1)
r=rs[0]
sys.exit(0 if ($3) else 1)" 2>/dev/null
}
# expect_run SECONDS NODE RUN PYEXPR WHAT
expect_run() {
    wait_until "$1" run_holds "$2" "$3" "$4" ||
        fail "$5 (run $3 on $2: $(runs "$2" | python3 -c "import json,sys; print([x for x in json.load(sys.stdin)['runs'] if x['id']==$3])")) $(logs)"
}
# run_get NODE RUN PYEXPR: print PYEXPR over the run r.
run_get() {
    runs "$1" | python3 -c "
import json,sys
r=[x for x in json.load(sys.stdin)['runs'] if x['id']==$2][0]; print($3)"
}

# mk_tree DIR FILES: FILES small CSV files in directories of 500 ("x" and "x-y", whose order
# differs between a path compare and a component compare). Names are letters only, none of them
# a-f (a word of hex letters may be a hash and is held until the walk ends: scan/resset.c), so no
# two form a resource set and none is held: every file is an asset of its own, in its part.
mk_tree() {
    python3 - "$1" "$2" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
def word(i):
    s = ""
    for _ in range(5):
        s += "ghjklmnpqrstuvwxyz"[i % 18]; i //= 18
    return s
for i in range(n):
    d = os.path.join(root, "dir" + word(i // 500)[:2], "x-y" if i % 3 == 0 else "x")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, word(i) + ".csv"), "w") as f:
        f.write("id,email,amount\n%d,user%d@example.com,%d.50\n" % (i, i, i))
PY
}

# lines FILE...: the asset lines, the host part of qualified names replaced (a runtime run names
# the runtime, run-local the machine), sorted.
lines() { cat "$@" | sed -E 's|"file://[^/]*/|"file://H/|' | LC_ALL=C sort; }
