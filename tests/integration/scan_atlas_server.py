#!/usr/bin/env python3
"""A tiny Atlas stand-in for tests: records every POST to /api/atlas/v2/entity/bulk.

Usage: scan_atlas_server.py DIR   -- binds 127.0.0.1 on a free port, writes it to DIR/port,
records bodies as DIR/req-N.json and headers as DIR/req-N.hdr. If DIR/fail holds a number K > 0,
the next K requests get 503 (the file is decremented), to simulate an endpoint that is down.

It also keeps what Atlas itself would: the entities by qualifiedName (an upsert), in
DIR/entities.json, rewritten atomically after each accepted request before it is answered:
    {"requests": N, "fsPaths": {QUALIFIED_NAME: DELIVERIES, ...}}
so a test reading it knows that every entity listed was received (and acknowledged) by then, and
how often each was sent (re-sent entities are idempotent, but counted).

If DIR/refuse-after holds "N K", the K requests that come after the N-th accepted one get 503
(K is decremented in the file as they are refused): an endpoint that goes down mid-run, for as
long as K requests, at a point the test chooses.
"""
import http.server
import json
import os
import sys

D = sys.argv[1]
STATE = {"requests": 0, "fsPaths": {}}


def write_atomic(name, text):
    tmp = os.path.join(D, name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, os.path.join(D, name))


def refuse_now():
    """Whether DIR/refuse-after says this request is refused (and count it)."""
    path = os.path.join(D, "refuse-after")
    if not os.path.exists(path):
        return False
    n, k = (int(x) for x in open(path).read().split())
    if STATE["requests"] < n or k <= 0:
        return False
    write_atomic("refuse-after", "%d %d\n" % (n, k - 1))
    return True


class H(http.server.BaseHTTPRequestHandler):
    def refuse(self):
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        fail = os.path.join(D, "fail")
        if os.path.exists(fail):
            k = int(open(fail).read() or "0")
            if k > 0:
                open(fail, "w").write(str(k - 1))
                self.refuse()
                return
        if self.path != "/api/atlas/v2/entity/bulk":
            self.send_response(404)
            self.end_headers()
            return
        if refuse_now():
            self.refuse()
            return
        n = len([f for f in os.listdir(D) if f.startswith("req-") and f.endswith(".json")])
        with open(os.path.join(D, f"req-{n}.hdr.tmp"), "w") as f:
            f.write(str(self.headers))
        with open(os.path.join(D, f"req-{n}.json.tmp"), "wb") as f:
            f.write(body)
        os.rename(os.path.join(D, f"req-{n}.hdr.tmp"), os.path.join(D, f"req-{n}.hdr"))
        os.rename(os.path.join(D, f"req-{n}.json.tmp"), os.path.join(D, f"req-{n}.json"))
        try:
            ents = json.loads(body)["entities"]
        except (ValueError, KeyError, TypeError):
            ents = []
        for e in ents:
            if e.get("typeName") == "fs_path":
                qn = e["attributes"]["qualifiedName"]
                STATE["fsPaths"][qn] = STATE["fsPaths"].get(qn, 0) + 1
        STATE["requests"] += 1
        write_atomic("entities.json", json.dumps(STATE))
        out = b'{"mutatedEntities":{}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(os.path.join(D, "port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(D, "port.tmp"), os.path.join(D, "port"))
srv.serve_forever()
