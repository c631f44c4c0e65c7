#!/usr/bin/env python3
"""Watch a runtime run to Atlas and check each checkpoint against what the Atlas stand-in holds.

Usage: dispatch_atlas_watch.py SHIR TMP RUN REF.jsonl PART_SIZE SERVER_DIR OUT.json

Polls `shir scan runs --json` on whichever of TMP/n1..n3 answers (the node running the scan may
be killed meanwhile) until the run ends or 300 s pass. Each time it sees a checkpoint part it had
not seen, it reads SERVER_DIR/entities.json (rewritten by scan_atlas_server.py before it answers
a request) and records which files of parts 0..part the server did not have yet: the files of
part k are the k-th PART_SIZE file assets of REF.jsonl, an uninterrupted run-local of the same
tree (its file lines are in walk order). Writes {"observations": [...], "state": ...} to OUT.
"""
import json
import subprocess
import sys
import time

shir, tmp, run, ref, part_size, server, out = sys.argv[1:8]
run, part_size = int(run), int(part_size)
files = [json.loads(l)["qualifiedName"] for l in open(ref) if json.loads(l)["type"] == "file"]


def runs():
    for n in ("n1", "n2", "n3"):
        try:
            p = subprocess.run([shir, "scan", "runs", "--data-dir", "%s/%s" % (tmp, n), "--json"],
                               capture_output=True, timeout=5)
        except subprocess.TimeoutExpired:
            continue
        if p.returncode == 0:
            return json.loads(p.stdout)["runs"]
    return None


def received():
    try:
        return json.load(open(server + "/entities.json"))["fsPaths"]
    except FileNotFoundError:
        return {}


seen, obs, state = set(), [], None
deadline = time.time() + 300
while time.time() < deadline:
    rs = runs()
    r = [x for x in rs or [] if x["id"] == run]
    if r:
        r = r[0]
        cp = r["checkpoint"]
        if cp is not None and cp["part"] not in seen:
            seen.add(cp["part"])
            got = received()
            want = files[: min(len(files), (cp["part"] + 1) * part_size)]
            missing = [q for q in want if q not in got]
            obs.append({"part": cp["part"], "files": cp["files"], "attempt": r["attempt"],
                        "missing": len(missing), "example": missing[:1]})
        if r["state"] in ("succeeded", "failed", "cancelled"):
            state = r["state"]
            break
    time.sleep(0.05)  # poll interval inside the deadline loop
json.dump({"observations": obs, "state": state}, open(out, "w"))
