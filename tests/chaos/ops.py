"""Client operations: one CLI call each, recorded with its start and end on the runner's
monotonic clock (doing; what they mean is checker.py's business)."""
import base64
import json
import struct
import time

CLI_TIMEOUT_S = 30  # above the CLI's own 10 s deadlines: a timeout here is a hung CLI


def key_generation(token):
    """The generation in a registration key (cluster/key.h: version 1, runtime id 16, slot 1,
    generation 4 big-endian, ...), sent in clear by every joiner."""
    raw = base64.urlsafe_b64decode(token.strip()[len("SHIR1-"):] + "==")
    return struct.unpack(">I", raw[18:22])[0]


def _write_args(w):
    k, v = w["kind"], w.get("value")
    if k == "proxy_port":
        return ["proxy", "set", "--address", "127.0.0.1", "--port", str(v)]
    if k == "proxy_bypass":
        return ["proxy", "set", "--bypass", v]
    if k == "proxy_clear":
        return ["proxy", "clear"]
    if k == "settings_delay":
        return ["settings", "set", "--standby-promotion-delay", str(v)]
    if k == "keys_regen":
        return ["keys", "regenerate", "key%d" % v]
    if k == "scan_run":
        return ["scan", "run", v, "--json"]
    if k == "scan_cancel":
        return ["scan", "cancel", str(v), "--json"]
    raise ValueError("unknown write " + k)


def _json_error(out):
    """The message of a --json failure's {"error": {...}} on stdout, or ""."""
    try:
        e = json.loads(out)["error"]
        return "%s: %s" % (e.get("code"), e.get("message"))
    except (ValueError, KeyError, TypeError):
        return ""


def run_write(rt, w):
    t0 = time.monotonic()
    rc, out, err = rt.cli(w["node"], _write_args(w), timeout=CLI_TIMEOUT_S)
    rec = {"op": "write", "kind": w["kind"], "node": w["node"], "value": w.get("value"),
           "start": t0, "end": time.monotonic(), "ok": rc == 0}
    if rc != 0:
        rec["error"] = "exit %d: %s %s" % (rc, err.strip()[-200:], _json_error(out)[-200:])
        return rec
    if w["kind"] == "scan_run":  # the run id the CLI acknowledged: the checker follows it
        try:
            a = json.loads(out)
            rec["run"], rec["scan"] = int(a["run"]), a["scan"]
        except (ValueError, KeyError, TypeError) as e:
            rec["error"] = "unreadable answer (%s): %r" % (e, out[:200])
            rec["malformed"] = True
    return rec


_READ_ARGS = {"status": ["status", "--json"], "proxy_show": ["proxy", "show", "--json"],
              "settings_show": ["settings", "show", "--json"], "keys_show": ["keys", "show", "--json"],
              "scan_runs": ["scan", "runs", "--json"]}


def run_summary(r):
    """What the checker needs of one RUN of `scan runs --json`."""
    return {"id": int(r["id"]), "scan": r["scan"], "state": r["state"], "error": r.get("error"),
            "node": r.get("node"), "attempt": r.get("attempt")}


def run_read(rt, r):
    t0 = time.monotonic()
    rc, out, err = rt.cli(r["node"], _READ_ARGS[r["kind"]], timeout=CLI_TIMEOUT_S)
    rec = {"op": "read", "kind": r["kind"], "node": r["node"], "start": t0,
           "end": time.monotonic(), "ok": False}
    if rc != 0:
        rec["error"] = "exit %d: %s" % (rc, err.strip()[-200:])
        return rec
    try:
        v = json.loads(out)
        if r["kind"] == "keys_show":  # only the generations: keys are secrets, never recorded
            v = {"generation1": key_generation(v["key1"]),
                 "generation2": key_generation(v["key2"])}
        elif r["kind"] == "status":
            v = {"leader": v.get("leader"),
                 "nodes": [{"name": n["name"], "role": n["role"], "status": n["status"],
                            "why": n.get("why")}
                           for n in v.get("nodes", [])]}
        elif r["kind"] == "scan_runs":
            v = [run_summary(x) for x in v["runs"]]
        rec["value"], rec["ok"] = v, True
    except (ValueError, KeyError) as e:
        rec["error"] = "unreadable answer (%s): %r" % (e, out[:200])
        rec["malformed"] = True  # exit 0 with an answer we cannot read: an anomaly
    return rec
