#!/usr/bin/env python3
"""A tiny Atlas stand-in for tests: records every POST to /api/atlas/v2/entity/bulk.

Usage: scan_atlas_server.py DIR   -- binds 127.0.0.1 on a free port, writes it to DIR/port,
records bodies as DIR/req-N.json and headers as DIR/req-N.hdr. If DIR/fail holds a number K > 0,
the next K requests get 503 (the file is decremented), to simulate an endpoint that is down.
"""
import http.server
import os
import sys

D = sys.argv[1]


class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        fail = os.path.join(D, "fail")
        if os.path.exists(fail):
            k = int(open(fail).read() or "0")
            if k > 0:
                open(fail, "w").write(str(k - 1))
                self.send_response(503)
                self.end_headers()
                return
        if self.path != "/api/atlas/v2/entity/bulk":
            self.send_response(404)
            self.end_headers()
            return
        n = len([f for f in os.listdir(D) if f.endswith(".json")])
        with open(os.path.join(D, f"req-{n}.hdr.tmp"), "w") as f:
            f.write(str(self.headers))
        with open(os.path.join(D, f"req-{n}.json.tmp"), "wb") as f:
            f.write(body)
        os.rename(os.path.join(D, f"req-{n}.hdr.tmp"), os.path.join(D, f"req-{n}.hdr"))
        os.rename(os.path.join(D, f"req-{n}.json.tmp"), os.path.join(D, f"req-{n}.json"))
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
