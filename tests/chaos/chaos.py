#!/usr/bin/env python3
"""One chaos run: form a runtime, inject a seeded schedule of faults while clients write and
read, heal, check the history. Exit 0 when no anomaly was found, 1 when one was, 2 when the run
itself could not be carried out (the runtime did not form, a tool is missing).

    chaos.py --shir BIN --seed N [--nodes 3|4] [--netns] [--faults K] [--workdir DIR]
             [--result FILE] [--keep]
    chaos.py --recheck WORKDIR/history.json     (judge a kept history again, e.g. after a fix
                                                 to the checker)

The summary line (parsed by bench/chaos.sh):
    chaos seed=N mode=loopback|netns faults=F writes=W (acked A) reads=R runs=S (succeeded K)
          anomalies=X
(S: scan runs the CLI acknowledged; K: runs that ended succeeded)
Everything else goes to stderr and, with the history, to WORKDIR (kept when an anomaly was found
or with --keep). See docs/operations.md, "Fault campaign".
"""
import argparse
import glob
import json
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checker  # noqa: E402
import ops  # noqa: E402
import schedule  # noqa: E402
from runtime import Runtime  # noqa: E402

CONVERGE_S = 90
RUNS_END_S = 180  # after healing: every recorded scan run ends within this (trees of <= 400 files)
SANITIZER = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:")


def note(msg):
    print("chaos %.1f: %s" % (time.monotonic() - T0, msg), file=sys.stderr, flush=True)


T0 = time.monotonic()


class Clients:
    """Two threads: one works through the writes, one through the reads, until told to stop."""

    def __init__(self, rt, sched):
        self.rt, self.sched = rt, sched
        self.history, self.lock = [], threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._loop, args=(sched["writes"], ops.run_write)),
                        threading.Thread(target=self._loop, args=(sched["reads"], ops.run_read))]

    def _loop(self, items, fn):
        for it in items:
            if self.stopping.is_set():
                return
            if it["kind"] == "scan_cancel":  # the newest run acknowledged so far, if any
                with self.lock:
                    ids = [h["run"] for h in self.history if h.get("run") is not None]
                if not ids:
                    continue
                it = dict(it, value=ids[-1])
            rec = fn(self.rt, it)
            with self.lock:
                self.history.append(rec)
            self.stopping.wait(it["pause_s"])

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join()


def resolve(rt, name):
    if name != "leader":
        return name
    return rt.leader() or sorted(rt.agents)[0]


def inject(rt, f):
    """Apply fault f, hold it, heal it. Returns a line describing what was done."""
    names = sorted(rt.agents)
    x = resolve(rt, f["target"])
    k = f["kind"]
    if k == "kill":
        rt.kill9(x)
        time.sleep(f["hold_s"])  # the fault's hold: how long the node stays down
        rt.start(x)
        return "kill -9 %s, restarted after %.1f s" % (x, f["hold_s"])
    if k == "pause":
        rt.pause(x)
        time.sleep(f["hold_s"])
        rt.resume(x)
        return "SIGSTOP %s for %.1f s" % (x, f["hold_s"])
    if k == "restart":
        rt.stop(x)
        rt.start(x)
        return "restart %s (SIGTERM, start)" % x
    if k == "double":
        y = f["second"] if f["second"] != x else names[(names.index(x) + 1) % len(names)]
        rt.kill9(x)
        rt.pause(y)
        time.sleep(f["hold_s"])
        rt.resume(y)
        rt.start(x)
        return "kill -9 %s and SIGSTOP %s for %.1f s" % (x, y, f["hold_s"])
    if k == "cut":
        y = f["second"] if f["second"] != x else names[(names.index(x) + 1) % len(names)]
        rt.cut(x, y)
        time.sleep(f["hold_s"])
        rt.mend(x, y)
        return "link %s-%s cut for %.1f s" % (x, y, f["hold_s"])
    if k == "isolate":
        for a, b in rt.links_of(x):
            rt.cut(a, b)
        time.sleep(f["hold_s"])
        for a, b in rt.links_of(x):
            rt.mend(a, b)
        return "%s isolated for %.1f s" % (x, f["hold_s"])
    if k == "loss":
        rt.loss(x, f["pct"])
        time.sleep(f["hold_s"])
        rt.unloss(x)
        return "%d%% packet loss on %s for %.1f s" % (f["pct"], x, f["hold_s"])
    raise ValueError(k)


def heal(rt):
    for n, a in rt.agents.items():
        if a.paused:
            rt.resume(n)
    for d in list(rt.down):
        rt.mend(*sorted(d))
    if rt.netns:
        for n in rt.agents:
            rt.unloss(n)


def snapshot_of(rt, n):
    """What must be identical on every node once healed, or None while a read fails."""
    s = rt.status(n)
    reads = {}
    for kind in ("proxy_show", "settings_show", "keys_show"):
        rec = ops.run_read(rt, {"kind": kind, "node": n})
        if not rec["ok"]:
            return None
        reads[kind] = rec["value"]
    if not s:
        return None
    reads["members"] = sorted((m["name"], m["role"]) for m in s["nodes"])
    reads["all_online"] = all(m["status"] == "Online" for m in s["nodes"]) and s["leader"] is not None
    return reads


def converge(rt):
    """Wait until every node shows the same state with everyone Online; anomalies if not."""
    deadline = time.monotonic() + CONVERGE_S
    last = {}
    while time.monotonic() < deadline:
        last = {n: snapshot_of(rt, n) for n in sorted(rt.agents)}
        vals = list(last.values())
        if all(v is not None and v["all_online"] for v in vals) and \
                all(v == vals[0] for v in vals):
            return []
        time.sleep(0.5)  # poll interval inside the deadline
    return ["converge: nodes differ or are not all Online %d s after healing: %s"
            % (CONVERGE_S, json.dumps(last, sort_keys=True))]


LETTERS = "abcdefghijklmnopqrstuvwxyz"


def make_tree(root, files, tree_seed):
    """A tree of `files` small files in a few directories, from tree_seed alone. Names are
    letters only, so no two files fold into one resource set: every file is its own asset."""
    rng = random.Random(tree_seed)
    dirs = [root] + [os.path.join(root, "".join(rng.choice(LETTERS) for _ in range(6)))
                     for _ in range(4)]
    for d in dirs:
        os.makedirs(d, exist_ok=True)
    made = set()
    while len(made) < files:
        p = os.path.join(rng.choice(dirs), "".join(rng.choice(LETTERS) for _ in range(10)) + ".txt")
        if p in made:
            continue
        made.add(p)
        with open(p, "w") as f:
            f.write("".join(rng.choice(LETTERS + " \n") for _ in range(rng.randint(10, 400))))


def read_lines(paths):
    out = []
    for p in paths:
        with open(p, errors="replace") as f:
            out += [checker.normalise(x) for x in f if x.strip()]
    return out


def prepare_scans(rt, sched, workdir):
    """Before the faults: each scan's tree, its expected assets (run-local of the same tree)
    and its definition, all sinking into one jsonl directory every node shares. Returns
    {"sink": DIR, "expected": {SCAN: [normalised line]}}."""
    sink = os.path.join(workdir, "sink")
    expected = {}
    first = sorted(rt.agents)[0]
    # Enough finished runs kept per scan that no acknowledged run drops out of `scan runs`.
    rc, _, err = rt.cli(first, ["settings", "set", "--run-history", "500"], timeout=60)
    if rc != 0:
        raise RuntimeError("settings set --run-history: " + err.strip())
    for sc in sched["scans"]:
        tree = os.path.join(workdir, "trees", sc["name"])
        make_tree(tree, sc["files"], sc["tree_seed"])
        ref = os.path.join(workdir, "expected-%s.jsonl" % sc["name"])
        rc, _, err = rt.cli(first, ["scan", "run-local", tree, "--sink", "jsonl:" + ref,
                                    "--json"], timeout=120)
        if rc != 0:
            raise RuntimeError("scan run-local %s: %s" % (tree, err.strip()))
        expected[sc["name"]] = sorted(read_lines([ref]))
        rc, _, err = rt.cli(first, ["scan", "create", sc["name"], "--source", tree, "--sink",
                                    "jsonl:" + sink, "--timeout", "10m", "--json"], timeout=60)
        if rc != 0:
            raise RuntimeError("scan create %s: %s" % (sc["name"], err.strip()))
    return {"sink": sink, "expected": expected}


def runs_end(rt, history):
    """After healing: wait until every run is terminal (those acknowledged included), then
    the final list. ([RUN], anomalies): an anomaly when a node never answered."""
    acked = {h["run"] for h in history if h.get("run") is not None}
    deadline = time.monotonic() + RUNS_END_S
    last = None
    while time.monotonic() < deadline:
        for n in sorted(rt.agents):
            rec = ops.run_read(rt, {"kind": "scan_runs", "node": n})
            if rec["ok"]:
                last = rec["value"]
                break
        if last is not None and acked <= {r["id"] for r in last} and \
                all(r["state"] in checker.TERMINAL for r in last):
            return last, []
        time.sleep(0.5)  # poll interval inside the deadline
    if last is None:
        return [], ["runs: no node answered scan runs within %d s of healing" % RUNS_END_S]
    return last, []  # the checker says which runs did not end


def collect_parts(sink):
    """{ID: {"scan", "success", "lines"}} for every run directory in the sink."""
    out = {}
    for d in sorted(glob.glob(os.path.join(sink, "*", "*"))):
        scan, rid = os.path.basename(os.path.dirname(d)), os.path.basename(d)
        if not rid.isdigit() or not os.path.isdir(d):
            continue
        out[int(rid)] = {"scan": scan, "success": os.path.exists(os.path.join(d, "_SUCCESS")),
                         "lines": sorted(read_lines(sorted(glob.glob(os.path.join(d, "part-*.jsonl")))))}
    return out


def final_reads(rt):
    out = []
    for n in sorted(rt.agents):
        for kind in ("proxy_show", "settings_show", "keys_show", "status"):
            out.append(ops.run_read(rt, {"kind": kind, "node": n}))
    return out


def sanitizer_reports(rt):
    out = []
    for n in sorted(rt.agents):
        try:
            with open(rt.log(n), errors="replace") as f:
                for line in f:
                    if SANITIZER.search(line):
                        out.append("sanitizer: %s.log: %s" % (n, line.strip()[:200]))
                        break
        except OSError:
            pass
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shir")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--recheck", metavar="HISTORY_JSON",
                    help="judge a recorded history again (no runtime) and print its anomalies")
    ap.add_argument("--nodes", type=int, default=3, choices=(3, 4))
    ap.add_argument("--netns", action="store_true")
    ap.add_argument("--faults", type=int, default=10)
    ap.add_argument("--workdir")
    ap.add_argument("--result")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if a.recheck:
        with open(a.recheck) as f:
            d = json.load(f)
        found = checker.check(d["history"], d.get("final", []), d["schedule"]["nodes"],
                              d.get("extra", []), d.get("runs"))
        for x in found:
            print("ANOMALY seed=%d: %s" % (d["schedule"]["seed"], x))
        print("recheck seed=%d anomalies=%d" % (d["schedule"]["seed"], len(found)))
        return 1 if found else 0
    if a.shir is None or a.seed is None:
        ap.error("--shir and --seed are needed for a run")
    if a.netns and os.geteuid() != 0:
        print("chaos: --netns needs root (ip netns, nft)", file=sys.stderr)
        return 2
    for tool in (["ip"] + (["nft"] if a.netns else [])):
        if not shutil.which(tool):
            print("chaos: %s is missing: deploy/install-deps.sh installs it" % tool, file=sys.stderr)
            return 2
    sched = schedule.make(a.seed, nodes=a.nodes, netns=a.netns, faults=a.faults)
    workdir = a.workdir or tempfile.mkdtemp(prefix="shir-chaos-%d-" % a.seed)
    os.makedirs(workdir, exist_ok=True)
    rt = Runtime(a.shir, workdir, sched["nodes"], a.netns, note)
    anomalies, done, clients, kept, runs = [], [], None, {}, None
    try:
        rt.setup()
        for n in sched["nodes"]:
            rt.start(n)
        rt.form("chaos-%d" % a.seed)
        extra = converge(rt)
        if extra:
            raise RuntimeError("the runtime did not form: " + extra[0])
        scans = prepare_scans(rt, sched, workdir)
        note("formed %d nodes (%s); %d faults follow" % (a.nodes, "netns" if a.netns else "loopback",
                                                         len(sched["faults"])))
        clients = Clients(rt, sched)
        clients.start()
        for f in sched["faults"]:
            done.append(inject(rt, f))
            note("fault %d: %s" % (f["i"], done[-1]))
            time.sleep(f["gap_s"])  # the schedule's pause between faults
            rt.reap_unexpected()
        clients.stop()
        heal(rt)
        rt.reap_unexpected()
        extra = converge(rt)
        final_runs, more = runs_end(rt, clients.history)
        extra += more
        runs = {"final": final_runs, "parts": collect_parts(scans["sink"]),
                "expected": scans["expected"]}
        final = final_reads(rt)
        for n in sorted(rt.agents):
            rt.stop(n)
        extra += rt.unexpected + sanitizer_reports(rt)
        anomalies = checker.check(clients.history, final, sched["nodes"], extra, runs)
        kept = {"final": final, "extra": extra, "runs": runs}
    except Exception as e:  # the run could not be carried out: say so, keep the evidence
        if clients:
            clients.stop()
        note("run failed: %s" % e)
        rt.teardown()
        print("chaos seed=%d: the run could not be carried out (%s); logs in %s"
              % (a.seed, e, workdir))
        return 2
    rt.teardown()
    hist = clients.history
    writes = [h for h in hist if h["op"] == "write"]
    summary = {"seed": a.seed, "mode": "netns" if a.netns else "loopback", "faults": len(done),
               "fault_log": done, "writes": len(writes), "acked": sum(h["ok"] for h in writes),
               "reads": len(hist) - len(writes), "anomalies": anomalies,
               "runs": sum(1 for h in hist if h.get("run") is not None),
               "succeeded": sum(1 for r in runs["final"] if r["state"] == "succeeded")}
    with open(os.path.join(workdir, "history.json"), "w") as f:
        # Everything checker.check takes: a history can be judged again by a newer checker.
        json.dump(dict(kept, schedule=sched, history=hist, summary=summary), f, indent=1)
    if a.result:
        with open(a.result, "w") as f:
            json.dump(summary, f)
    for x in anomalies:
        print("ANOMALY seed=%d: %s" % (a.seed, x))
    print("chaos seed=%d mode=%s faults=%d writes=%d (acked %d) reads=%d runs=%d (succeeded %d) "
          "anomalies=%d"
          % (a.seed, summary["mode"], summary["faults"], summary["writes"], summary["acked"],
             summary["reads"], summary["runs"], summary["succeeded"], len(anomalies)))
    if anomalies or a.keep:
        print("chaos: history and logs kept in %s" % workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if anomalies else 0


if __name__ == "__main__":
    sys.exit(main())
