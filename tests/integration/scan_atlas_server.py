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

Like Apache Atlas 2.x (the checks are Atlas's own, with its status codes and error codes), a
request is accepted whole or refused whole, before anything of it is recorded:
  - an entity of a type the server does not know: 400 ATLAS-400-00-014 (TYPE_NAME_INVALID). It
    knows Atlas's fs_path and RDBMS model (rdbms_instance, rdbms_db, rdbms_table, rdbms_column,
    rdbms_index, rdbms_foreign_key) and Purview's tabular_schema and column (registered, as an
    Atlas fed by shir must have them; docs/scanning.md);
  - a mandatory attribute (inherited ones too: qualifiedName, name) null or absent, and not given
    as a relationship attribute: 404 ATLAS-404-00-007 (INSTANCE_CRUD_INVALID_PARAMS);
  - a reference (in relationshipAttributes or attributes) by a placeholder guid that is not an
    entity of the request, or by uniqueAttributes to an entity the server has not stored from an
    earlier request: 404 ATLAS-404-00-00A (REFERENCED_ENTITY_NOT_FOUND). Atlas resolves
    uniqueAttributes in its store only (atlas.rest.create.shell.entity.for.non-existing.ref is
    false by default), never among the entities of the same request.
Unknown attributes are not refused (Atlas ignores attributes a type does not declare), nor are
classification names (a real Atlas needs them defined first). Refused bodies are kept as
DIR/rejected-N.json with the reason in DIR/rejected-N.why.

entities.json also holds, for every accepted entity: "entities": {TYPE: {QN: DELIVERIES}},
"links": {QN: {RELATIONSHIP_ATTRIBUTE: TARGET_QN or [TARGET_QN...]}} (references resolved to
qualified names), "classifications": {QN: [NAME...]}, and "rejected": N.

If DIR/hold-after holds N, a request that comes once N requests were accepted waits while that
file exists (DIR/held-K marks each such request as it arrives), then gets 503 unrecorded: a
request in flight when its sender dies, at a point the test chooses.
"""
import http.server
import json
import os
import sys
import threading
import time

D = sys.argv[1]
STATE = {"requests": 0, "fsPaths": {}, "entities": {}, "links": {}, "classifications": {},
         "rejected": 0}
LOCK = threading.Lock()
DATASET = ["qualifiedName", "name"]  # Referenceable, Asset
TYPES = {
    "fs_path": DATASET + ["path"],
    "tabular_schema": DATASET,
    "column": DATASET,
    "rdbms_instance": DATASET + ["rdbms_type", "platform"],
    "rdbms_db": DATASET + ["prodOrOther"],
    "rdbms_table": DATASET,
    "rdbms_column": DATASET + ["data_type"],
    "rdbms_index": DATASET,
    "rdbms_foreign_key": DATASET,
}


def refs_of(value):
    """The object ids in an attribute's value (one, a list, or none)."""
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, dict) and ("guid" in v or "uniqueAttributes" in v)]


def check(ents):
    """None if Atlas would accept these entities, else (status, errorCode, message)."""
    local = {}
    for e in ents:
        t = e.get("typeName")
        if t not in TYPES:
            return 400, "ATLAS-400-00-014", "Type ENTITY with name %s does not exist" % t
        local[str(e.get("guid"))] = (t, (e.get("attributes") or {}).get("qualifiedName"))
    msgs = []
    for e in ents:
        t, attrs = e["typeName"], e.get("attributes") or {}
        rels = e.get("relationshipAttributes") or {}
        for a in TYPES[t]:
            if attrs.get(a) is None and a not in rels:
                msgs.append("%s.%s: mandatory attribute value missing in type %s" % (t, a, t))
    if msgs:
        return (404, "ATLAS-404-00-007",
                "Invalid instance creation/updation parameters passed : %s" % msgs)
    for e in ents:
        for v in list((e.get("relationshipAttributes") or {}).values()) + \
                list((e.get("attributes") or {}).values()):
            for r in refs_of(v):
                rt = r.get("typeName")
                if rt not in TYPES:
                    return 400, "ATLAS-400-00-014", "Type ENTITY with name %s does not exist" % rt
                if "guid" in r:
                    ok = str(r["guid"]) in local
                else:
                    qn = (r.get("uniqueAttributes") or {}).get("qualifiedName")
                    ok = qn in STATE["entities"].get(rt, {})
                if not ok:
                    return 404, "ATLAS-404-00-00A", "Referenced entity %s is not found" % r
    return None


def target(r, local):
    if "guid" in r:
        return local[str(r["guid"])]
    return r["uniqueAttributes"]["qualifiedName"]


def record(ents):
    local = {str(e.get("guid")): e["attributes"]["qualifiedName"] for e in ents}
    for e in ents:
        t, qn = e["typeName"], e["attributes"]["qualifiedName"]
        if t == "fs_path":
            STATE["fsPaths"][qn] = STATE["fsPaths"].get(qn, 0) + 1
        per = STATE["entities"].setdefault(t, {})
        per[qn] = per.get(qn, 0) + 1
        links = {}
        for k, v in (e.get("relationshipAttributes") or {}).items():
            rs = refs_of(v)
            if rs:
                ts = [target(r, local) for r in rs]
                links[k] = ts if isinstance(v, list) else ts[0]
        if links:
            STATE["links"][qn] = links
        STATE["classifications"][qn] = sorted(c.get("typeName") for c in
                                              e.get("classifications") or [])


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

    def held(self):
        """Whether DIR/hold-after held this request (it waited until the file went away)."""
        path = os.path.join(D, "hold-after")
        try:
            n = int(open(path).read())
        except (OSError, ValueError):
            return False
        with LOCK:
            if STATE["requests"] < n:
                return False
            k = len([f for f in os.listdir(D) if f.startswith("held-")])
            open(os.path.join(D, "held-%d" % k), "w").close()
        while os.path.exists(path):
            time.sleep(0.02)
        return True

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
        if self.held():
            self.refuse()
            return
        with LOCK:
            if refuse_now():
                self.refuse()
                return
            try:
                ents = json.loads(body)["entities"]
                assert isinstance(ents, list) and all(isinstance(e, dict) for e in ents)
            except (ValueError, KeyError, TypeError, AssertionError):
                ents = None
            bad = (400, "ATLAS-400-00-01A", "invalid parameters: not an entity-bulk document") \
                if ents is None else check(ents)
            if bad:
                k = STATE["rejected"]
                STATE["rejected"] += 1
                with open(os.path.join(D, "rejected-%d.json" % k), "wb") as f:
                    f.write(body)
                with open(os.path.join(D, "rejected-%d.why" % k), "w") as f:
                    f.write("%d %s %s\n" % bad)
                write_atomic("entities.json", json.dumps(STATE))
                out = json.dumps({"errorCode": bad[1], "errorMessage": bad[2]}).encode()
                self.send_response(bad[0])
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)
                return
            n = len([f for f in os.listdir(D) if f.startswith("req-") and f.endswith(".json")])
            with open(os.path.join(D, f"req-{n}.hdr.tmp"), "w") as f:
                f.write(str(self.headers))
            with open(os.path.join(D, f"req-{n}.json.tmp"), "wb") as f:
                f.write(body)
            os.rename(os.path.join(D, f"req-{n}.hdr.tmp"), os.path.join(D, f"req-{n}.hdr"))
            os.rename(os.path.join(D, f"req-{n}.json.tmp"), os.path.join(D, f"req-{n}.json"))
            record(ents)
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


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(os.path.join(D, "port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(D, "port.tmp"), os.path.join(D, "port"))
srv.serve_forever()
