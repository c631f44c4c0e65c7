"""The checker: anomalies in one run's recorded history (pure: the history in, a list out).

The history is a list of records, each {"op", "kind", "node", "start", "end", "ok", ...}: writes
carry what they wrote, reads what they saw. Times are one process's monotonic clock; a write
that failed (exit status not 0, or timed out) has an unknown outcome — it may have been applied,
since a forwarded command can commit after its client gave up — so it can explain a value but is
never required.

Registers and their writes:
    port    proxy_port P -> P, proxy_clear -> 0           (read by proxy_show)
    bypass  proxy_bypass B -> B, proxy_clear -> ""        (read by proxy_show)
    delay   settings_delay S -> S * 1000 ms               (read by settings_show)
A proxy_bypass leaves port alone and a proxy_port leaves bypass alone: issue 10's F11 (a set
changes only the fields it names) is part of what is checked.

Rules (each failure is one anomaly):
  register   every value read (and the final value) comes from a write that began before the
             read ended (or the initial value), and no acknowledged write of that register lies
             wholly between that write and the read (reads are linearizable: docs/cli.md)
  keys       the generation of key S read is at least 1 + the acknowledged regenerations of S
             that ended before the read began, and at most 1 + those that began before it ended
  proxy      mode custom exactly when a port is set, and then the address is 127.0.0.1
  members    status lists no node outside the runtime, and lists them all unless it says
             why (a restarted node lists itself alone, Limited, until it hears from a leader)
  answer     a read that exited 0 answered something readable
  refused    a write failed only for want of a leader, a node or a connection (UNAVAILABLE):
             every write sent is valid, so any other refusal is a bug
  converge   after healing, every node shows the same proxy, settings, keys and member list
  exits      no agent exited that the schedule did not kill; every SIGTERM exited 0
  sanitizer  no AddressSanitizer, LeakSanitizer or UBSan report in any log
The last three come from the runner as ready-made anomalies ("extra").

Scan runs (check_runs; `runs` from the runner: the final `scan runs` list taken after every
recorded run ended or a deadline passed, each run's parts as read from the shared sink, and each
scan's expected assets from a `scan run-local` of its tree):
  runs       every run id a `scan run` acknowledged is listed in the end, for the scan it was
             acknowledged for, in a terminal state (succeeded, failed, cancelled); failed only
             with a reason; cancelled when a `scan cancel` of it was acknowledged
  phantom    every other run id seen (in a `scan runs` read, the final list or the sink) is
             explained by a `scan run` of its scan whose outcome is unknown, at most one id each
  active     no `scan runs` answer shows two active runs of one scan
  results    a succeeded run's parts hold exactly the tree's assets, each once (qualified
             names compared with their host normalised), and its _SUCCESS marker exists
  refusals   a `scan run` may be refused BUSY (an active run) and a `scan cancel` because the
             run already ended: neither is a bug
"""
import re

INITIAL = {"port": 0, "bypass": "", "delay": 30000}
# Why a valid write may fail under faults: no leader or quorum, the node asked is down, stopping,
# paused (the CLI's deadline) or catching up, a connection lost mid-call. Every write the campaign sends
# is valid, so any other refusal ("invalid argument", "not registered", a usage error) is a bug.
UNAVAILABLE = ("no leader", "no agent is running", "closed the connection", "could not be reached",
               "timed out", "outcome unknown", "could not confirm", "unavailable", "catching up",
               "no quorum", "shutting down",
               # the agent killed while the CLI was still sending (bench seed 15 netns: EPIPE)
               "cannot send to the agent",
               # a read barrier (settings set reads, patches, puts) whose leader stepped down
               "leadership changed")
# Refusals that are the right answer to a valid scan command sent at the wrong moment.
RACE = {"scan_run": ("already has an active run",), "scan_cancel": ("already ended",)}
TERMINAL = ("succeeded", "failed", "cancelled")
HOST = re.compile(r'file://[^/"]*/')
NEVER = float("-inf")


def _writes(history):
    """register -> [(value, start, end, acked)], the initial value first."""
    regs = {r: [(v, NEVER, NEVER, True)] for r, v in INITIAL.items()}
    for h in history:
        if h["op"] != "write":
            continue
        span = (h["start"], h["end"], h["ok"])
        if h["kind"] == "proxy_port":
            regs["port"].append((h["value"],) + span)
        elif h["kind"] == "proxy_bypass":
            regs["bypass"].append((h["value"],) + span)
        elif h["kind"] == "proxy_clear":
            regs["port"].append((0,) + span)
            regs["bypass"].append(("",) + span)
        elif h["kind"] == "settings_delay":
            regs["delay"].append((h["value"] * 1000,) + span)
    return regs


def _explained(writes, value, obs_start, obs_end):
    """None when some write explains reading `value` over [obs_start, obs_end], else why not."""
    cands = [w for w in writes if w[0] == value and w[1] < obs_end]
    if not cands:
        return "value %r was never written (before the read ended)" % (value,)
    acked = [w for w in writes if w[3]]
    for c in cands:
        if not any(a[1] > c[2] and a[2] < obs_start for a in acked):
            return None
    return "value %r is stale: an acknowledged write of another value ended after it and " \
           "before the read began" % (value,)


def _observations(history, final):
    """(register, value, start, end, where) for every proxy/settings value seen."""
    for h in history + final:
        if h["op"] != "read" or not h["ok"]:
            continue
        where = "%s on %s at %.3f" % (h["kind"], h["node"], h["start"])
        if h["kind"] == "proxy_show":
            yield "port", h["value"]["port"], h["start"], h["end"], where
            yield "bypass", h["value"]["bypass"], h["start"], h["end"], where
        elif h["kind"] == "settings_show":
            yield "delay", h["value"]["standbyPromotionDelayMs"], h["start"], h["end"], where


def _key_generations(history, final):
    regens = [h for h in history if h["op"] == "write" and h["kind"] == "keys_regen"]
    out = []
    for h in history + final:
        if h["op"] != "read" or h["kind"] != "keys_show" or not h["ok"]:
            continue
        for slot in (1, 2):
            g = h["value"]["generation%d" % slot]
            lo = 1 + sum(1 for w in regens
                         if w["value"] == slot and w["ok"] and w["end"] < h["start"])
            hi = 1 + sum(1 for w in regens if w["value"] == slot and w["start"] < h["end"])
            if not lo <= g <= hi:
                out.append("keys: key%d generation %d read by keys_show on %s at %.3f, expected "
                           "%d..%d" % (slot, g, h["node"], h["start"], lo, hi))
    return out


def normalise(line):
    """An asset line with the host of its qualified name replaced, so runs compare whatever
    host name the node that ran them (or run-local) used."""
    return HOST.sub("file://HOST/", line.strip())


def check_runs(history, runs):
    """The scan-run rules (module docstring). runs: {"final": [RUN], "parts": {ID: {"success":
    bool, "lines": [normalised line]}}, "expected": {SCAN: [normalised line]}}; RUN is
    ops.run_summary's dict. IDs may be strings (JSON keys)."""
    out = []
    final = {r["id"]: r for r in runs.get("final", [])}
    parts = {int(k): v for k, v in runs.get("parts", {}).items()}
    expected = runs.get("expected", {})
    sruns = [h for h in history if h["op"] == "write" and h["kind"] == "scan_run"]
    acked = {h["run"]: h for h in sruns if h["ok"] and "run" in h}
    cancelled = {h["value"] for h in history
                 if h["op"] == "write" and h["kind"] == "scan_cancel" and h["ok"]}
    for rid, h in sorted(acked.items()):
        r = final.get(rid)
        if r is None:
            out.append("runs: run %d (scan %s, acknowledged on %s at %.3f) is not listed in the "
                       "end" % (rid, h["value"], h["node"], h["start"]))
            continue
        if r["scan"] != h["value"]:
            out.append("runs: run %d was acknowledged for scan %s but is listed for %s"
                       % (rid, h["value"], r["scan"]))
        if r["state"] not in TERMINAL:
            out.append("runs: run %d of %s is still %s in the end (node %s, attempt %s)"
                       % (rid, r["scan"], r["state"], r.get("node"), r.get("attempt")))
        elif r["state"] == "failed" and not r.get("error"):
            out.append("runs: run %d of %s failed without a reason" % (rid, r["scan"]))
        if rid in cancelled and r["state"] != "cancelled":
            out.append("runs: run %d's cancel was acknowledged but it ended %s"
                       % (rid, r["state"]))
    # Every id seen anywhere, with the scan it was seen for.
    seen = {}
    for h in history:
        if h["op"] == "read" and h["kind"] == "scan_runs" and h["ok"]:
            for r in h["value"]:
                seen.setdefault(r["id"], r["scan"])
            active = {}
            for r in h["value"]:
                if r["state"] not in TERMINAL:
                    active.setdefault(r["scan"], []).append(r["id"])
            for scan, ids in sorted(active.items()):
                if len(ids) > 1:
                    out.append("active: scan runs on %s at %.3f shows runs %s of %s active at "
                               "once" % (h["node"], h["start"], sorted(ids), scan))
    for rid, r in final.items():
        seen.setdefault(rid, r["scan"])
    for rid, p in parts.items():
        seen.setdefault(rid, p.get("scan"))
    unknown = {}
    for h in sruns:
        if not h["ok"] and not any(x in h.get("error", "") for x in RACE["scan_run"]):
            unknown[h["value"]] = unknown.get(h["value"], 0) + 1
    extra = {}
    for rid, scan in seen.items():
        if rid not in acked:
            extra.setdefault(scan, []).append(rid)
    for scan, ids in sorted(extra.items(), key=lambda x: str(x[0])):
        if len(ids) > unknown.get(scan, 0):
            out.append("phantom: runs %s of scan %s, but only %d scan run(s) of it had an "
                       "unknown outcome" % (sorted(ids), scan, unknown.get(scan, 0)))
    for rid, r in sorted(final.items()):
        if r["state"] != "succeeded":
            continue
        p = parts.get(rid)
        want = sorted(expected.get(r["scan"], []))
        if p is None:
            out.append("results: succeeded run %d of %s has no parts" % (rid, r["scan"]))
            continue
        if not p.get("success"):
            out.append("results: succeeded run %d of %s has no _SUCCESS" % (rid, r["scan"]))
        got = sorted(p.get("lines", []))
        if got != want:
            dup = len(got) - len(set(got))
            missing = len(set(want) - set(got))
            unexpected = len(set(got) - set(want))
            out.append("results: run %d of %s: %d lines, expected %d (%d missing, %d "
                       "duplicated, %d not in the tree)%s"
                       % (rid, r["scan"], len(got), len(want), missing, dup, unexpected,
                          ": first missing %s" % sorted(set(want) - set(got))[0][:160]
                          if missing else ""))
    return out


def check(history, final, members, extra=(), runs=None):
    """Anomalies (strings). history: the run's records; final: the reads taken on every node
    after healing (records like the others); members: the runtime's node names; extra: the
    runner's own findings (convergence, exits, sanitizer); runs: check_runs' runs (None: no
    scan runs were recorded)."""
    anomalies = list(extra)
    regs = _writes(history)
    for reg, value, start, end, where in _observations(history, final):
        why = _explained(regs[reg], value, start, end)
        if why:
            anomalies.append("%s: %s (%s)" % (reg, why, where))
    anomalies += _key_generations(history, final)
    for h in history:
        if h["op"] == "write" and not h["ok"] and \
                not any(u in h.get("error", "") for u in UNAVAILABLE + RACE.get(h["kind"], ())):
            anomalies.append("refused: %s %r on %s at %.3f: %s"
                             % (h["kind"], h["value"], h["node"], h["start"], h.get("error")))
    for h in history + final:
        if h.get("malformed"):
            anomalies.append("answer: %s on %s exited 0 with %s" % (h["kind"], h["node"], h["error"]))
        if h["op"] != "read" or not h["ok"]:
            continue
        if h["kind"] == "proxy_show":
            p = h["value"]
            custom = p["port"] != 0
            if (p["mode"] == "custom") != custom or (custom and p["address"] != "127.0.0.1") \
                    or (not custom and p["address"] != ""):
                anomalies.append("proxy: inconsistent settings %r read on %s" % (p, h["node"]))
        elif h["kind"] == "status":
            seen = sorted(n["name"] for n in h["value"]["nodes"])
            me = [n for n in h["value"]["nodes"] if n["name"] == h["node"]]
            if not set(seen) <= set(members):
                anomalies.append("members: status on %s lists %s, the runtime has %s"
                                 % (h["node"], seen, sorted(members)))
            elif seen != sorted(members) and (not me or me[0]["status"] == "Online"):
                # A node that restarted knows the members once it hears from a leader (its
                # replica is applied from the commit index it learns): until then it lists
                # itself alone, Limited, "catching up" — never Online with members missing.
                anomalies.append("members: status on %s lists %s without saying it is "
                                 "catching up" % (h["node"], seen))
    if runs is not None:
        anomalies += check_runs(history, runs)
    return anomalies
