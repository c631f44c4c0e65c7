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
HOOK (scan runs): when the dispatcher exists, check here that every run ends in exactly one
terminal state with its results recorded exactly once.
"""

INITIAL = {"port": 0, "bypass": "", "delay": 30000}
# Why a valid write may fail under faults: no leader or quorum, the node asked is down, stopping,
# paused (the CLI's deadline) or catching up, a connection lost mid-call. Every write the campaign sends
# is valid, so any other refusal ("invalid argument", "not registered", a usage error) is a bug.
UNAVAILABLE = ("no leader", "no agent is running", "closed the connection", "could not be reached",
               "timed out", "outcome unknown", "could not confirm", "unavailable", "catching up",
               "no quorum", "shutting down")
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


def check(history, final, members, extra=()):
    """Anomalies (strings). history: the run's records; final: the reads taken on every node
    after healing (records like the others); members: the runtime's node names; extra: the
    runner's own findings (convergence, exits, sanitizer)."""
    anomalies = list(extra)
    regs = _writes(history)
    for reg, value, start, end, where in _observations(history, final):
        why = _explained(regs[reg], value, start, end)
        if why:
            anomalies.append("%s: %s (%s)" % (reg, why, where))
    anomalies += _key_generations(history, final)
    for h in history:
        if h["op"] == "write" and not h["ok"] and \
                not any(u in h.get("error", "") for u in UNAVAILABLE):
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
    return anomalies
