"""The schedule of one chaos run, from its seed alone (pure: no clock, no processes).

A seed fixes the sequence of faults (kind, target, how long it is held, the pause after it) and
the sequence of client operations (kind, the node asked, the value written); it does not fix how
they interleave, which depends on the machine. make() returns plain dicts, so a schedule can be
printed, stored next to the run's history and replayed.
"""
import random

# Faults: name -> (weight on loopback, weight in network namespaces). Loopback agents share one
# network stack, so link cuts and packet loss need namespaces.
FAULTS = {
    "kill": (4, 3),       # kill -9, restarted after the hold
    "pause": (3, 2),      # SIGSTOP for the hold, then SIGCONT
    "restart": (2, 1),    # SIGTERM (must exit 0), started again at once
    "double": (1, 1),     # kill one node and pause another: quorum lost for the hold
    "cut": (0, 3),        # one link down (both directions), mended after the hold
    "isolate": (0, 2),    # every link of one node down (a pulled cable)
    "loss": (0, 3),       # nftables numgen random drop of PCT% of one host's packets, in and out
}

# Client writes: kind -> weight. Values are unique per run (an index), so the checker can tell
# which write a value it reads came from.
WRITES = {
    "proxy_port": 3,      # proxy set --address 127.0.0.1 --port P  (custom implied)
    "proxy_bypass": 3,    # proxy set --bypass B                    (only the bypass list)
    "proxy_clear": 1,     # proxy clear
    "settings_delay": 3,  # settings set --standby-promotion-delay S
    "keys_regen": 2,      # keys regenerate key1|key2
    "scan_run": 3,        # scan run NAME: one of the scans made before the faults (BUSY is fine)
    "scan_cancel": 2,     # scan cancel RUN: the newest run acknowledged so far (resolved at run time)
}
READS = {"status": 2, "proxy_show": 3, "settings_show": 2, "keys_show": 2, "scan_runs": 2}
SCANS = 3               # scans created before the faults, each of its own generated tree


def _pick(rng, table):
    names = sorted(table)
    return rng.choices(names, weights=[table[n] for n in names])[0]


def make(seed, nodes=3, netns=False, faults=10, writes=400, reads=400):
    rng = random.Random(seed)
    names = [chr(ord("a") + i) for i in range(nodes)]
    col = 1 if netns else 0
    ftable = {k: w[col] for k, w in FAULTS.items() if w[col] > 0}
    out = {"seed": seed, "nodes": names, "netns": netns, "faults": [], "writes": [], "reads": [],
           # Trees of a few hundred files (chaos.py makes them from "tree_seed"): small enough
           # that a run ends within the schedule, so runs, BUSY refusals and cancels all happen.
           "scans": [{"name": "t%d" % i, "files": rng.randint(200, 400),
                      "tree_seed": rng.randrange(1 << 30)} for i in range(SCANS)]}
    for i in range(faults):
        kind = _pick(rng, ftable)
        # A third of the faults hit whoever leads at that moment (resolved at run time).
        first = "leader" if rng.random() < 0.33 else rng.choice(names)
        f = {"i": i, "kind": kind, "target": first, "hold_s": round(rng.uniform(1.0, 4.0), 2),
             "gap_s": round(rng.uniform(1.0, 3.0), 2)}
        if kind == "double":
            f["second"] = rng.choice(names)  # another node than the first, chosen at run time
        if kind == "cut":
            f["second"] = rng.choice(names)
        if kind == "loss":
            f["pct"] = rng.choice([10, 20, 30, 50])
        out["faults"].append(f)
    for i in range(writes):
        kind = _pick(rng, WRITES)
        w = {"i": i, "kind": kind, "node": rng.choice(names),
             "pause_s": round(rng.uniform(0.0, 0.15), 3)}
        if kind == "proxy_port":
            w["value"] = 20000 + i
        elif kind == "proxy_bypass":
            w["value"] = "s%d-w%d.invalid" % (seed, i)
        elif kind == "settings_delay":
            w["value"] = 40 + i  # seconds: above the 30 s default, so no standby churn
        elif kind == "keys_regen":
            w["value"] = rng.choice([1, 2])
        elif kind == "scan_run":
            w["value"] = rng.choice(out["scans"])["name"]
            # No pause after a run: a run of 200-400 files ends in about a second, so only a
            # write sent at once meets it active (a BUSY refusal, a cancel that stops it).
            w["pause_s"] = 0.0
        out["writes"].append(w)
    for i in range(reads):
        out["reads"].append({"i": i, "kind": _pick(rng, READS), "node": rng.choice(names),
                             "pause_s": round(rng.uniform(0.0, 0.15), 3)})
    return out
