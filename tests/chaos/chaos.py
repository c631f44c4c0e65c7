#!/usr/bin/env python3
"""One chaos run: form a runtime, inject a seeded schedule of faults while clients write and
read, heal, check the history. Exit 0 when no anomaly was found, 1 when one was, 2 when the run
itself could not be carried out (the runtime did not form, a tool is missing).

    chaos.py --shir BIN --seed N [--nodes 3|4] [--netns] [--faults K] [--workdir DIR]
             [--result FILE] [--keep]
    chaos.py --recheck WORKDIR/history.json     (judge a kept history again, e.g. after a fix
                                                 to the checker)

The summary line (parsed by bench/chaos.sh):
    chaos seed=N mode=loopback|netns faults=F writes=W (acked A) reads=R anomalies=X
Everything else goes to stderr and, with the history, to WORKDIR (kept when an anomaly was found
or with --keep). See docs/operations.md, "Fault campaign".
"""
import argparse
import json
import os
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
                              d.get("extra", []))
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
    anomalies, done, clients, kept = [], [], None, {}
    try:
        rt.setup()
        for n in sched["nodes"]:
            rt.start(n)
        rt.form("chaos-%d" % a.seed)
        extra = converge(rt)
        if extra:
            raise RuntimeError("the runtime did not form: " + extra[0])
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
        final = final_reads(rt)
        for n in sorted(rt.agents):
            rt.stop(n)
        extra += rt.unexpected + sanitizer_reports(rt)
        anomalies = checker.check(clients.history, final, sched["nodes"], extra)
        kept = {"final": final, "extra": extra}
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
               "reads": len(hist) - len(writes), "anomalies": anomalies}
    with open(os.path.join(workdir, "history.json"), "w") as f:
        # Everything checker.check takes: a history can be judged again by a newer checker.
        json.dump(dict(kept, schedule=sched, history=hist, summary=summary), f, indent=1)
    if a.result:
        with open(a.result, "w") as f:
            json.dump(summary, f)
    for x in anomalies:
        print("ANOMALY seed=%d: %s" % (a.seed, x))
    print("chaos seed=%d mode=%s faults=%d writes=%d (acked %d) reads=%d anomalies=%d"
          % (a.seed, summary["mode"], summary["faults"], summary["writes"], summary["acked"],
             summary["reads"], len(anomalies)))
    if anomalies or a.keep:
        print("chaos: history and logs kept in %s" % workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if anomalies else 0


if __name__ == "__main__":
    sys.exit(main())
