#!/usr/bin/env python3
"""An unauthenticated client of the shir-join/1 channel, for the tests that attack an agent.

It speaks what anyone on the network can: TLS 1.3 with ALPN "shir-join/1", no client
certificate, the server's certificate not checked (an attacker does not care who answers), and
the frames and msgpack messages of docs/wire.md, encoded by hand (a few dozen lines; the tests
need no extra package).

    join_attack.py forge KEY                 a key with the same runtime and CA pin but another
                                             secret (a valid checksum): it gets as far as the
                                             proof, which fails
    join_attack.py flood --port P [...]      open and then hold sessions, unfinished frames and
                                             half-open handshakes until SIGTERM
    join_attack.py proofs --port P --key K --sessions N [--source A]
                                             one wrong proof per session, N sessions
    join_attack.py twoproofs --port P --key K
                                             two join.prove on one session

Each mode prints one JSON line per report on stdout.
"""
import argparse
import base64
import hashlib
import json
import os
import selectors
import signal
import socket
import ssl
import struct
import sys
import time

ALPN = "shir-join/1"

# ---- msgpack, the subset the join messages use ----------------------------------------------


def mp_pack(v):
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        if 0 <= v < 1 << 32:
            return b"\xce" + struct.pack(">I", v)
        if 0 <= v < 1 << 64:
            return b"\xcf" + struct.pack(">Q", v)
        raise ValueError("int out of range")
    if isinstance(v, str):
        b = v.encode()
        if len(b) < 32:
            return bytes([0xA0 | len(b)]) + b
        return b"\xda" + struct.pack(">H", len(b)) + b
    if isinstance(v, (bytes, bytearray)):
        return b"\xc5" + struct.pack(">H", len(v)) + bytes(v)
    if isinstance(v, list):
        return bytes([0x90 | len(v)]) + b"".join(mp_pack(x) for x in v)
    if isinstance(v, dict):
        return bytes([0x80 | len(v)]) + b"".join(mp_pack(k) + mp_pack(x) for k, x in v.items())
    raise TypeError(type(v))


def mp_unpack(b, i=0):
    """(value, next index) for one msgpack value at b[i:]."""
    t = b[i]
    if t < 0x80:
        return t, i + 1
    if t >= 0xE0:
        return t - 256, i + 1
    if 0x80 <= t <= 0x8F or t in (0xDE, 0xDF):
        n, i = (t & 0x0F, i + 1) if t <= 0x8F else \
            ((struct.unpack(">H", b[i + 1:i + 3])[0], i + 3) if t == 0xDE
             else (struct.unpack(">I", b[i + 1:i + 5])[0], i + 5))
        d = {}
        for _ in range(n):
            k, i = mp_unpack(b, i)
            d[k], i = mp_unpack(b, i)
        return d, i
    if 0x90 <= t <= 0x9F or t in (0xDC, 0xDD):
        n, i = (t & 0x0F, i + 1) if t <= 0x9F else \
            ((struct.unpack(">H", b[i + 1:i + 3])[0], i + 3) if t == 0xDC
             else (struct.unpack(">I", b[i + 1:i + 5])[0], i + 5))
        a = []
        for _ in range(n):
            x, i = mp_unpack(b, i)
            a.append(x)
        return a, i
    if 0xA0 <= t <= 0xBF:
        n = t & 0x1F
        return b[i + 1:i + 1 + n].decode(errors="replace"), i + 1 + n
    fixed = {0xC0: (None, 1), 0xC2: (False, 1), 0xC3: (True, 1)}
    if t in fixed:
        return fixed[t][0], i + fixed[t][1]
    ints = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q",
            0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xD3: ">q"}
    if t in ints:
        n = struct.calcsize(ints[t])
        return struct.unpack(ints[t], b[i + 1:i + 1 + n])[0], i + 1 + n
    lens = {0xD9: (">B", True), 0xDA: (">H", True), 0xDB: (">I", True),
            0xC4: (">B", False), 0xC5: (">H", False), 0xC6: (">I", False)}
    if t in lens:
        fmt, is_str = lens[t]
        h = struct.calcsize(fmt)
        n = struct.unpack(fmt, b[i + 1:i + 1 + h])[0]
        body = b[i + 1 + h:i + 1 + h + n]
        return (body.decode(errors="replace") if is_str else body), i + 1 + h + n
    raise ValueError("msgpack type 0x%02x not handled" % t)


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def request(rid, method, body):
    return frame(mp_pack([0, rid, 10000, method, body]))


# ---- keys -----------------------------------------------------------------------------------

PREFIX = "SHIR1-"


def key_decode(text):
    """The fields a joiner sends in clear (cluster/key.h), and the raw payload."""
    raw = base64.urlsafe_b64decode(text.strip()[len(PREFIX):] + "==")
    payload = raw[:-4]
    return {"runtime_id": payload[1:17], "slot": payload[17],
            "generation": struct.unpack(">I", payload[18:22])[0]}, payload


def key_forge(text):
    """The same key with another secret and a checksum that matches."""
    _, payload = key_decode(text)
    p = bytearray(payload)
    for i in range(54, 86):  # version 1 + id 16 + slot 1 + generation 4 + pin 32 = 54
        p[i] ^= 0x5A
    check = hashlib.sha256(PREFIX.encode() + bytes(p)).digest()[:4]
    return PREFIX + base64.urlsafe_b64encode(bytes(p) + check).decode().rstrip("=")


# ---- connections ----------------------------------------------------------------------------

def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.set_alpn_protocols([ALPN])
    return ctx


def tcp(port, source, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms Nagle/delayed-ACK stalls
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def session(ctx, port, source, timeout=5.0):
    """A TLS session on shir-join/1 without a certificate, or None when the server ended it."""
    s = tcp(port, source, timeout)
    try:
        t = ctx.wrap_socket(s, server_hostname=None, do_handshake_on_connect=False)
        t.do_handshake()
        return t
    except (OSError, ssl.SSLError):
        s.close()
        return None


def read_frame(t):
    """One frame's payload, or None at the end of the stream."""
    buf = b""
    while len(buf) < 4:
        chunk = t.recv(4 - len(buf))
        if not chunk:
            return None
        buf += chunk
    n = struct.unpack(">I", buf)[0]
    body = b""
    while len(body) < n:
        chunk = t.recv(n - len(body))
        if not chunk:
            return None
        body += chunk
    return body


def read_message(t):
    try:
        p = read_frame(t)
    except (OSError, ssl.SSLError):
        return None
    return None if p is None else mp_unpack(p)[0]


# ---- modes ----------------------------------------------------------------------------------

def hello_body(fields):
    return {"runtime_id": fields["runtime_id"], "slot": fields["slot"],
            "generation": fields["generation"], "client_nonce": os.urandom(32)}


PROVE_BODY = {"csr": "x", "name": "intruder", "address": "127.0.0.1:1", "witness": False,
              "version": "0"}


def wrong_proof(ctx, port, source, fields):
    """One session: hello, then a random proof. Returns (what, code, message)."""
    t = session(ctx, port, source)
    if t is None:
        return ("closed", 0, "")
    try:
        t.sendall(request(1, "join.hello", hello_body(fields)))
        m = read_message(t)
        if m is None:
            return ("closed", 0, "")
        if m[0] == 2:
            return ("hello-error", m[2], m[3])
        body = dict(PROVE_BODY, proof=os.urandom(32))
        t.sendall(request(2, "join.prove", body))
        m = read_message(t)
        if m is None:
            return ("closed", 0, "")
        return ("prove-error", m[2], m[3]) if m[0] == 2 else ("accepted", 0, "")
    except (OSError, ssl.SSLError):
        return ("closed", 0, "")
    finally:
        t.close()


def mode_proofs(a):
    fields, _ = key_decode(a.key)
    ctx = tls_context()
    counts = {}
    samples = {}
    for _ in range(a.sessions):
        what, code, msg = wrong_proof(ctx, a.port, a.source, fields)
        k = "%s %d" % (what, code)
        counts[k] = counts.get(k, 0) + 1
        samples.setdefault(k, msg)
    print(json.dumps({"counts": counts, "samples": samples}), flush=True)


def mode_twoproofs(a):
    """Both proofs in one write: the server must answer at most one and end the session."""
    fields, _ = key_decode(a.key)
    t = session(tls_context(), a.port, a.source)
    t.sendall(request(1, "join.hello", hello_body(fields)))
    first = read_message(t)
    p1 = request(2, "join.prove", dict(PROVE_BODY, proof=os.urandom(32)))
    p2 = request(3, "join.prove", dict(PROVE_BODY, proof=os.urandom(32)))
    t.sendall(p1 + p2)
    answers = []
    while True:
        m = read_message(t)
        if m is None:
            break
        answers.append(m)
    print(json.dumps({"hello": first[0] if first else None,
                      "answers": [[m[0], m[1], m[2] if m[0] == 2 else 0] for m in answers]}),
          flush=True)


class Flood:
    """Sessions that never prove anything, held open; whatever the server closes is opened again
    (at most `rate` a second), until SIGTERM."""

    KINDS = ("idle", "partial", "halfopen")

    def __init__(self, a):
        self.a = a
        self.ctx = tls_context()
        self.sel = selectors.DefaultSelector()
        self.want = {}   # (kind, source) -> how many to hold
        self.held = {}   # socket -> (kind, source)
        self.stats = {"opened": 0, "closed_by_server": 0, "failed_to_open": 0,
                      "big_sent": 0, "big_refused": 0}
        self.stop = False
        signal.signal(signal.SIGTERM, self.on_term)

    def on_term(self, signum, frame_):
        self.stop = True

    def plan(self, kind, n, sources):
        for i in range(n):
            k = (kind, sources[i % len(sources)])
            self.want[k] = self.want.get(k, 0) + 1

    def open_one(self, kind, source):
        try:
            if kind == "halfopen":
                s = tcp(self.a.port, source)
            else:
                s = session(self.ctx, self.a.port, source)
                if s is None:
                    self.stats["failed_to_open"] += 1
                    return False
                if kind == "partial":
                    # An unfinished frame: under the join channel's 64 KiB limit, 60 KiB sent.
                    s.sendall(struct.pack(">I", 65000) + b"p" * 61440)
        except (OSError, ssl.SSLError):
            self.stats["failed_to_open"] += 1
            return False
        s.setblocking(False)
        self.held[s] = (kind, source)
        self.sel.register(s, selectors.EVENT_READ)
        self.stats["opened"] += 1
        return True

    def big(self, n, source):
        """Frames announcing 4 MiB, 3 MiB of each sent: what once took 650 MB of RSS."""
        for _ in range(n):
            t = session(self.ctx, self.a.port, source)
            if t is None:
                self.stats["big_refused"] += 1
                continue
            try:
                t.sendall(struct.pack(">I", 4 * 1024 * 1024 - 64) + b"b" * (3 * 1024 * 1024))
                t.setblocking(False)
                self.held[t] = ("big", source)
                self.sel.register(t, selectors.EVENT_READ)
                self.stats["big_sent"] += 1
            except (OSError, ssl.SSLError):
                self.stats["big_refused"] += 1
                t.close()

    def count(self):
        c = {}
        for kind, source in self.held.values():
            c[(kind, source)] = c.get((kind, source), 0) + 1
        return c

    def refill(self, budget):
        c = self.count()
        for (kind, source), n in self.want.items():
            for _ in range(n - c.get((kind, source), 0)):
                if budget <= 0:
                    return 0
                budget -= 1
                self.open_one(kind, source)
        return budget

    def drop(self, s):
        self.sel.unregister(s)
        del self.held[s]
        s.close()

    def report(self, what):
        c = {}
        for kind, _ in self.held.values():
            c[kind] = c.get(kind, 0) + 1
        print(json.dumps(dict(self.stats, report=what, holding=c)), flush=True)

    def run(self):
        a = self.a
        self.plan("idle", a.idle, a.session_sources.split(","))
        self.plan("partial", a.partial, a.session_sources.split(","))
        self.plan("halfopen", a.halfopen, a.halfopen_sources.split(","))
        # The burst: everything once, more than any cap allows.
        self.refill(1 << 30)
        self.big(a.big, a.session_sources.split(",")[0])
        # Then hold only what the caps allow, re-opening what the server closes.
        for kind, n, srcs in (("idle", a.hold_idle, a.session_sources),
                              ("partial", a.hold_partial, a.session_sources),
                              ("halfopen", a.hold_halfopen, a.halfopen_sources)):
            for k in [k for k in self.want if k[0] == kind]:
                del self.want[k]
            self.plan(kind, n, srcs.split(","))
        self.report("ready")
        tokens, last = float(a.rate), time.monotonic()
        while not self.stop:
            for key, _ in self.sel.select(timeout=0.05):  # poll interval of the refill loop
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except (ssl.SSLWantReadError, BlockingIOError):
                    continue
                except (OSError, ssl.SSLError):
                    data = b""
                if not data:
                    self.stats["closed_by_server"] += 1
                    self.drop(s)
            now = time.monotonic()
            tokens = min(float(a.rate), tokens + (now - last) * a.rate)
            last = now
            tokens = float(self.refill(int(tokens)))
        self.report("done")
        for s in list(self.held):
            self.drop(s)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    f = sub.add_parser("forge")
    f.add_argument("key")
    for name in ("proofs", "twoproofs"):
        q = sub.add_parser(name)
        q.add_argument("--port", type=int, required=True)
        q.add_argument("--key", required=True)
        q.add_argument("--source", default="127.0.0.1")
        q.add_argument("--sessions", type=int, default=1)
    fl = sub.add_parser("flood")
    fl.add_argument("--port", type=int, required=True)
    fl.add_argument("--session-sources", default="127.0.0.1")
    fl.add_argument("--halfopen-sources", default="127.0.0.2")
    fl.add_argument("--idle", type=int, default=0)
    fl.add_argument("--partial", type=int, default=0)
    fl.add_argument("--halfopen", type=int, default=0)
    fl.add_argument("--big", type=int, default=0)
    fl.add_argument("--hold-idle", type=int, default=0)
    fl.add_argument("--hold-partial", type=int, default=0)
    fl.add_argument("--hold-halfopen", type=int, default=0)
    fl.add_argument("--rate", type=int, default=100, help="re-opens per second at most")
    a = p.parse_args()
    if a.mode == "forge":
        print(key_forge(a.key))
    elif a.mode == "proofs":
        mode_proofs(a)
    elif a.mode == "twoproofs":
        mode_twoproofs(a)
    else:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        Flood(a).run()


if __name__ == "__main__":
    main()
