#!/usr/bin/env python3
"""Write the seed corpus of fuzz_cluster_gossip (tests/fuzz/corpus/cluster-gossip).

The seeds are committed; rerun this only to change them. Each one is a small, named example of
the wire form drawn in cluster/gossip.h: [kind, from, to, seq, target, origin, [record...]] with
each record [id, incarnation, liveness, report_inc, report_seq, version, leader, applied,
unreachable, cpu, mem_avail_mb, mem_total_mb]. The valid ones use msgpack's shortest forms, as gossip_msg_encode writes them (so
they are byte for byte what a node sends); the next-* ones carry fields a newer version appends
to the message and to its records (skipped by the decoder); the hostile ones are what the
decoder must refuse.
fuzz_cluster_gossip builds a node whose id is the message's `to`, so every valid seed is
addressed to node 1 from a member.
"""
import os
import struct
import sys

PING, ACK, PING_REQ = 0, 1, 2
ALIVE, SUSPECT, DEAD = 0, 1, 2
INC = 1700000000000  # incarnations are the wall-clock ms of an agent's start


def pack(v):
    """The msgpack subset of the wire form, shortest encodings first."""
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        for tag, fmt, top in ((0xCC, ">B", 0xFF), (0xCD, ">H", 0xFFFF), (0xCE, ">I", 0xFFFFFFFF)):
            if v <= top:
                return bytes([tag]) + struct.pack(fmt, v)
        return b"\xcf" + struct.pack(">Q", v)
    if isinstance(v, str):
        b = v.encode()
        return (bytes([0xA0 | len(b)]) if len(b) < 32 else b"\xd9" + bytes([len(b)])) + b
    if isinstance(v, list):
        head = bytes([0x90 | len(v)]) if len(v) < 16 else b"\xdc" + struct.pack(">H", len(v))
        return head + b"".join(pack(x) for x in v)
    if isinstance(v, dict):
        return bytes([0x80 | len(v)]) + b"".join(pack(k) + pack(x) for k, x in v.items())
    if v is None:
        return b"\xc0"
    if isinstance(v, bytes):
        return v  # already msgpack
    raise TypeError(v)


def rec(node, liveness=ALIVE, inc=None, seq=3, version="1.4.0", leader=1, applied=40,
        unreachable=0, report=True, cpu=125, mem_avail=3072, mem_total=7936):
    inc = INC + node if inc is None else inc
    return [node, inc, liveness, inc if report else 0, seq if report else 0, version, leader,
            applied, unreachable, cpu, mem_avail, mem_total]


def head(kind, frm, to, seq, target, origin, extra=0):
    """The message array and its first six fields; the record array follows (then `extra`
    appended elements)."""
    return bytes([0x97 + extra]) + b"".join(pack(x) for x in (kind, frm, to, seq, target, origin))


def msg(kind, frm, to, seq, target, origin, records, extra=()):
    return head(kind, frm, to, seq, target, origin, len(extra)) + pack(records) + \
        b"".join(pack(x) for x in extra)


# What shir_next (SHIR_TEST_GOSSIP_NEXT_FIELDS) appends: [running scans, capacity] to a record,
# {"load": 250} to a message.
NEXT_REC = [1, 4]
NEXT_MSG = {"load": 250}


VIEW = [rec(2), rec(1), rec(3)]
VALID = {
    "ping": msg(PING, 2, 1, 7, 1, 0, VIEW),
    "ping-empty": msg(PING, 2, 1, 1, 1, 0, []),
    "ping-relayed": msg(PING, 2, 1, 5, 1, 3, VIEW),
    "ping-req": msg(PING_REQ, 2, 1, 5, 3, 0, VIEW),
    "ack-first-probe": msg(ACK, 2, 1, 1, 2, 0, VIEW),
    "ack-for-origin": msg(ACK, 3, 1, 4, 3, 2, [rec(3), rec(2)]),
    "ack-relayed": msg(ACK, 2, 1, 1, 3, 0, VIEW),
    "suspects-self": msg(PING, 2, 1, 2, 1, 0, [rec(2), rec(1, SUSPECT, inc=5), rec(3, DEAD)]),
    "dead-self-max": msg(PING, 2, 1, 2, 1, 0, [rec(1, DEAD, inc=2**64 - 1)]),
    "no-report": msg(PING, 3, 1, 2, 1, 0, [rec(3, report=False), rec(2, SUSPECT, report=False)]),
    "limited": msg(ACK, 2, 1, 9, 2, 0, [rec(2, leader=0, unreachable=2, version="1.5.0-rc1")]),
    "full": msg(PING, 2, 1, 2**64 - 1, 1, 0,
                [rec(i, i % 3, inc=2**64 - i, seq=2**40, version="v" * 31, leader=2**64 - 1,
                     applied=2**63, unreachable=32, cpu=1000, mem_avail=2**64 - 1,
                     mem_total=2**64 - 1) for i in range(1, 33)]),
    "next-fields": msg(PING, 2, 1, 7, 1, 0, [r + [NEXT_REC] for r in VIEW], [NEXT_MSG]),
    "next-fields-assorted": msg(ACK, 2, 1, 1, 2, 0,
                                [rec(2) + ["x", None, [[{}]]], rec(3) + [b"\xcb" + bytes(8)]],
                                [None, "scans", [1, [2, [3]]], b"\xc4\x01\x00"]),
}
GOOD = VALID["ping"]
HOSTILE = {
    "bad-33-records": msg(PING, 2, 1, 1, 1, 0, [rec(i) for i in range(1, 34)]),
    "bad-kind": msg(3, 2, 1, 1, 1, 0, VIEW),
    "bad-liveness": msg(PING, 2, 1, 1, 1, 0, [rec(2, 3)]),
    "bad-version-32": msg(PING, 2, 1, 1, 1, 0, [rec(2, version="v" * 32)]),
    "bad-from-0": msg(PING, 0, 1, 1, 1, 0, VIEW),
    "bad-unreachable": msg(PING, 2, 1, 1, 1, 0, [rec(2, unreachable=33)]),
    "bad-cpu": msg(PING, 2, 1, 1, 1, 0, [rec(2, cpu=1001)]),
    "bad-trailing": GOOD + b"\xc0",
    "bad-truncated": GOOD[:-3],
    "bad-count-bomb": head(PING, 2, 1, 1, 1, 0) + b"\xdd\xff\xff\xff\xff",
    "bad-not-array": pack(1),
    "bad-next-trailing": msg(PING, 2, 1, 7, 1, 0, VIEW, [NEXT_MSG]) + b"\xc0",
    "bad-next-count-bomb": head(PING, 2, 1, 1, 1, 0, 1) + pack([]) + b"\xdd\xff\xff\xff\xff",
    "bad-next-deep": head(PING, 2, 1, 1, 1, 0, 1) + pack([]) + b"\x91" * 20 + b"\x00",
    "bad-next-33-records": msg(PING, 2, 1, 1, 1, 0, [rec(i) + [NEXT_REC] for i in range(1, 34)],
                               [NEXT_MSG]),
}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "cluster-gossip")
    os.makedirs(out, exist_ok=True)
    for name, data in {**VALID, **HOSTILE}.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
