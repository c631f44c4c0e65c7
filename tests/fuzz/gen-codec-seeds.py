#!/usr/bin/env python3
"""Write the seed corpora of fuzz_frame and fuzz_msg (tests/fuzz/corpus/{frame,msg}).

The seeds are committed; rerun this only to change them. Each one is a small, named example of
a shape in docs/wire.md: valid envelopes of every type, envelopes from a newer peer (appended
elements, unknown body keys: accepted), and the hostile inputs the decoder must refuse (count
bombs, depth bombs, trailing bytes, oversize and truncated frames).
fuzz_frame's first byte is its chunking/limit selector (see fuzz_frame.c).
"""
import os
import struct
import sys


def pack(v):
    """A tiny msgpack encoder (no dependency): enough types for the seeds."""
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        if -32 <= v < 0:
            return struct.pack("b", v)
        if v >= 0:
            return b"\xcf" + struct.pack(">Q", v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, str):
        b = v.encode()
        if len(b) < 32:
            return bytes([0xA0 | len(b)]) + b
        return b"\xd9" + bytes([len(b)]) + b if len(b) < 256 else b"\xda" + struct.pack(">H", len(b)) + b
    if isinstance(v, bytes):
        return b"\xc4" + bytes([len(v)]) + v
    if isinstance(v, list):
        head = bytes([0x90 | len(v)]) if len(v) < 16 else b"\xdc" + struct.pack(">H", len(v))
        return head + b"".join(pack(x) for x in v)
    if isinstance(v, dict):
        head = bytes([0x80 | len(v)]) if len(v) < 16 else b"\xde" + struct.pack(">H", len(v))
        return head + b"".join(pack(k) + pack(x) for k, x in v.items())
    raise TypeError(v)


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


BODY = {"id": 7, "name": "node-a", "pin": bytes(range(32)), "ok": True,
        "list": [1, 2, 3], "sub": {"id": 9}, "neg": -5, "f": 1.5}

VALID = {
    "request": pack([0, 1, 1500, "cluster.join", BODY]),
    "request-nil-body": pack([0, 2**64 - 1, 0, "x", None]),
    "response": pack([1, 1, BODY]),
    "response-array": pack([1, 3, [None, False, "s", b"b"]]),
    "error": pack([2, 5, -20017, "no leader"]),
    "error-min": pack([2, 0, -2**31, ""]),
    "oneway": pack([3, "gossip.ping", {"inc": 3}]),
    "ext": pack([1, 4, None])[:-1] + b"\xd6\x05abcd",
}
# From a newer peer: elements appended to the envelope, keys added to a body (msg corpus only,
# so the frame streams above stay as they were).
NEWER = {
    "request-appended": pack([0, 1, 1500, "join.hello",
                              {"runtime_id": bytes(16), "slot": 1, "generation": 3,
                               "client_nonce": bytes(32), "features": {"load": [250, 1.5]}},
                              {"load": 250}, "trace-id"]),
    "response-appended": pack([1, 1, {"status": -20021, "value": 7, "trace": "x"}, None]),
    "error-appended": pack([2, 5, -20017, "no leader", [1, 2]]),
    "oneway-appended": pack([3, "gossip", b"\x90", {"load": 1}]),
}
HOSTILE = {
    "array32-bomb": b"\xdd\xff\xff\xff\xff",
    "map32-bomb": b"\xdf\xff\xff\xff\xff",
    "str32-bomb": b"\xdb\xff\xff\xff\xff",
    "bin32-bomb": b"\xc6\xff\xff\xff\xff",
    "ext32-bomb": b"\xc9\xff\xff\xff\xff",
    "array16-bomb": b"\xdc\xff\xff",
    "depth-bomb": b"\x91" * 64 + b"\xc0",
    "depth-32": b"\x93\x01\x01" + b"\x91" * 31 + b"\xc0",
    "trailing": pack([1, 1, None]) + b"\xc0",
    "unknown-type": pack([9, 1, None]),
    "bad-method": pack([0, 1, 0, "a b", None]),
    "reserved-c1": b"\x93\x01\x01\xc1",
    "appended-trailing": pack([1, 1, None, {"load": 1}]) + b"\xc0",
    "appended-bomb": b"\x94\x01\x01\xc0\xdd\xff\xff\xff\xff",
}


def write(dirname, name, data):
    with open(os.path.join(dirname, name), "wb") as f:
        f.write(data)


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    fdir, mdir = os.path.join(root, "frame"), os.path.join(root, "msg")
    os.makedirs(fdir, exist_ok=True)
    os.makedirs(mdir, exist_ok=True)
    for name, p in {**VALID, **NEWER, **HOSTILE}.items():
        write(mdir, name, p)
    stream = b"".join(frame(p) for p in VALID.values())
    write(fdir, "stream-whole", b"\x00" + stream)
    write(fdir, "stream-1byte", b"\x01" + stream)
    write(fdir, "stream-7byte", b"\x07" + stream)
    write(fdir, "one-request", b"\x03" + frame(VALID["request"]))
    write(fdir, "bomb-in-frame", b"\x00" + frame(HOSTILE["array32-bomb"]))
    write(fdir, "oversize-64k", b"\x02" + frame(VALID["oneway"]) + struct.pack(">I", 65537) + b"xyz")
    write(fdir, "oversize-4m", b"\x10" + struct.pack(">I", 4 * 1024 * 1024 + 1) + b"x")
    write(fdir, "announce-4m", b"\x10" + struct.pack(">I", 4 * 1024 * 1024) + b"\xc0")
    write(fdir, "zero-length", b"\x00" + frame(VALID["oneway"]) + b"\x00\x00\x00\x00")
    write(fdir, "truncated-header", b"\x00" + frame(VALID["response"]) + b"\x00\x00")
    write(fdir, "truncated-payload", b"\x05" + frame(VALID["request"])[:-3])
    write(fdir, "empty-stream", b"\x00")
    return 0


if __name__ == "__main__":
    sys.exit(main())
