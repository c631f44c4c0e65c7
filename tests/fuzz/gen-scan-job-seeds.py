#!/usr/bin/env python3
"""Write the seeds of fuzz_scan_job for a runtime run's job fields and the worker frames added
with them (tests/fuzz/corpus/scan_job/run-*, frame-*). The older seeds there were made by hand;
rerun this only to change these. Each seed is one or more frames (u32 BE length + msgpack map)
as drawn in scan/scan.h: valid shapes, and hostile ones the decoders must refuse."""
import os
import struct
import sys


def pack(v):
    """A tiny msgpack encoder (no dependency): the types the frames use."""
    if v is None:
        return b"\xc0"
    if v is True or v is False:
        return b"\xc3" if v else b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        if v >= 0:
            return b"\xcf" + struct.pack(">Q", v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, str):
        b = v.encode("utf-8", "surrogateescape")
        if len(b) < 32:
            return bytes([0xA0 | len(b)]) + b
        return b"\xda" + struct.pack(">H", len(b)) + b
    if isinstance(v, bytes):
        return b"\xc5" + struct.pack(">H", len(v)) + v
    if isinstance(v, list):
        head = bytes([0x90 | len(v)]) if len(v) < 16 else b"\xdc" + struct.pack(">H", len(v))
        return head + b"".join(pack(x) for x in v)
    if isinstance(v, dict):
        head = bytes([0x80 | len(v)]) if len(v) < 16 else b"\xde" + struct.pack(">H", len(v))
        return head + b"".join(pack(k) + pack(x) for k, x in v.items())
    raise TypeError(v)


def frame(body):
    return struct.pack(">I", len(body)) + body


RUN_JOB = {
    "t": "job", "source": "/data", "level": 3, "sink": 0, "run_id": 2**40, "attempt": 2,
    "run_scan": "nightly", "parts_dir": "/mnt/results", "part_size": 2000, "resume": 1,
    "resume_part": 3, "resume_files": 6000, "resume_assets": 5990, "resume_bytes": 2**33,
    "resume_errors": 4, "skip_ids": [b"\x11" * 32, b"\x22" * 32], "parent_pid": 4242,
    "fence_ms": 3000,
    "rules_text": b"rules:\n  - name: CUSTOMER_ID\n    regex: 'C[0-9]{8}'\n",
    "host_name": "runtime-a", "fault": 4,
}
SEEDS = {
    "run-job": frame(pack(RUN_JOB)),
    "run-job-rules-str": frame(pack(dict(RUN_JOB, rules_text="rules: []\n"))),
    # Refused: a skip list past its bound (4097 elements, empty ones: the count is checked
    # first); a parent pid past INT32_MAX; a file id of 31 bytes, or a walk index in its place;
    # a fault past the last. An older parent's "skip" (walk indices) is an unknown key: ignored.
    "run-job-skip-too-long": frame(pack(dict(RUN_JOB, skip_ids=[b""] * 4097))),
    "run-job-ppid-big": frame(pack(dict(RUN_JOB, parent_pid=2**31))),
    "run-job-skip-id-short": frame(pack(dict(RUN_JOB, skip_ids=[b"\x11" * 31]))),
    "run-job-skip-id-index": frame(pack(dict(RUN_JOB, skip_ids=[6001]))),
    "run-job-skip-by-index": frame(pack(dict(RUN_JOB, skip=[6001, 7000]))),
    "run-job-fault-5": frame(pack(dict(RUN_JOB, fault=5))),
    "frame-checkpoint": frame(pack({"t": "checkpoint", "part": 0, "files": 2000, "assets": 1999,
                                    "bytes": 123456, "errors": 1})),
    "frame-checkpoint-part-big": frame(pack({"t": "checkpoint", "part": 2**32, "files": 0,
                                             "assets": 0, "bytes": 0, "errors": 0})),
    "frame-checkpoint-missing": frame(pack({"t": "checkpoint", "part": 1})),
    # The resume key (a path; a database's schema NUL name) in the job and the checkpoint;
    # refused: one past SCAN_RESUME_KEY_MAX (4096 bytes), one that is not bytes or text.
    "run-job-resume-key": frame(pack(dict(RUN_JOB, resume_key=b"logs/2024-01-01.csv"))),
    "run-job-resume-key-db": frame(pack(dict(RUN_JOB, resume_key=b"public\x00orders"))),
    "run-job-resume-key-long": frame(pack(dict(RUN_JOB, resume_key=b"k" * 4097))),
    "run-job-resume-key-int": frame(pack(dict(RUN_JOB, resume_key=5))),
    "frame-checkpoint-key": frame(pack({"t": "checkpoint", "part": 1, "files": 4000,
                                        "assets": 3999, "bytes": 1, "errors": 0,
                                        "key": b"b/c.txt"})),
    "frame-checkpoint-key-str": frame(pack({"t": "checkpoint", "part": 1, "files": 4000,
                                            "assets": 3999, "bytes": 1, "errors": 0,
                                            "key": "b/c.txt"})),
    "frame-checkpoint-key-long": frame(pack({"t": "checkpoint", "part": 1, "files": 4000,
                                             "assets": 3999, "bytes": 1, "errors": 0,
                                             "key": b"x" * 4097})),
    "frame-checkpoint-key-int": frame(pack({"t": "checkpoint", "part": 1, "files": 4000,
                                            "assets": 3999, "bytes": 1, "errors": 0, "key": 7})),
    "frame-file": frame(pack({"t": "file", "index": 2**64 - 1})),
    # The file's id (SHA-256 of its relative path); refused: another length, not bytes.
    "frame-file-id": frame(pack({"t": "file", "index": 9, "id": b"\xab" * 32})),
    "frame-file-id-short": frame(pack({"t": "file", "index": 9, "id": b"\xab" * 33})),
    "frame-file-id-str": frame(pack({"t": "file", "index": 9, "id": "x" * 32})),
    "frame-ack": frame(pack({"t": "ack", "seq": 7, "newer": [1, 2]})),
    "frame-ack-str": frame(pack({"t": "ack", "seq": "7"})),
    # What a worker of a run writes, in order.
    "frame-stream": b"".join([
        frame(pack({"t": "file", "index": 0, "id": b"\x5a" * 32})),
        frame(pack({"t": "progress", "files_seen": 1, "assets": 1})),
        frame(pack({"t": "checkpoint", "part": 0, "files": 1, "assets": 1, "bytes": 10,
                    "errors": 0})),
        frame(pack({"t": "ack", "seq": 1})),
        frame(pack({"t": "summary", "files_seen": 1, "assets": 1, "status": 0, "message": ""})),
    ]),
}

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus",
                                                          "scan_job")
os.makedirs(out, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
