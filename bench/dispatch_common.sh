# Shared by the dispatcher's benchmarks (sourced): a local runtime and a few polls. Not a test.
here=$(cd "$(dirname "$0")/.." && pwd)
# The system's interpreter when there is one: a version manager's shim (pyenv) costs ~0.6 s of
# CPU per call, and the polls below run outside the nodes' CPU quotas, on the same cores.
if [ -x /usr/bin/python3 ]; then python3() { /usr/bin/python3 "$@"; }; export -f python3; fi
now_ms() { date +%s%3N; }
cluster_up() { # cluster_up DIR N
    SHIR=$SHIR "$here/deploy/local-cluster.sh" start "$2" "$1" >/dev/null
}
cluster_down() { SHIR=$SHIR "$here/deploy/local-cluster.sh" stop "$1" >/dev/null 2>&1 || true; }
# runs_py DIR/NODE PYEXPR: PYEXPR over rs (the runs) printed.
runs_py() {
    "$SHIR" scan runs --data-dir "$1" --json 2>/dev/null |
        python3 -c "import json,sys; rs=json.load(sys.stdin)['runs']; print($2)" 2>/dev/null
}
mk_tree() { # mk_tree DIR FILES: names of letters only, so no resource sets: every file is read
    python3 - "$1" "$2" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
def word(i):
    s = ""
    for _ in range(5):
        s += "bcdghjkmnpqrstvwxz"[i % 18]; i //= 18
    return s
for i in range(n):
    d = os.path.join(root, "dir" + word(i // 500)[:3])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, word(i) + ".csv"), "w") as f:
        f.write("id,email,amount\n%d,user%d@example.com,%d.50\n" % (i, i, i))
PY
}
pctl() { # read ms samples on stdin; print p50 p99
    sort -n | python3 -c '
import sys
v=[int(x) for x in sys.stdin]
q=lambda p: v[min(len(v)-1, int(round(p*(len(v)-1))))]
print("samples %d  p50 %d ms  p99 %d ms  max %d ms" % (len(v), q(0.5), q(0.99), v[-1]))'
}
