#!/usr/bin/env python3
"""Write the seed corpora of fuzz_arrow (tests/fuzz/corpus/arrow) and fuzz_arrow_stream
(tests/fuzz/corpus/arrow-stream) from the Arrow fixtures that
tests/fixtures/columnar/generate-arrow.sh wrote: each footer (selector byte 0) and each record
batch message (selector byte 1); stream files. The seeds are committed; rerun this only to change them."""
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "fixtures", "columnar")
out = os.path.join(here, "corpus", "arrow")
os.makedirs(out, exist_ok=True)
for name in ("events.arrow", "empty.arrow"):
    b = open(os.path.join(fixtures, name), "rb").read()
    flen = struct.unpack("<i", b[-10:-6])[0]
    footer = b[-10 - flen:-10]
    stem = name.split(".")[0]
    open(os.path.join(out, stem + "_footer"), "wb").write(b"\x00" + footer)
    # The record batch blocks: the footer's vector of 24-byte structs, found as the fixtures
    # lay it out (the reader, not this script, is what must cope with anything else).
    root = struct.unpack_from("<I", footer, 0)[0]
    vt = root - struct.unpack_from("<i", footer, root)[0]
    vtn = struct.unpack_from("<H", footer, vt)[0]
    if vtn < 4 + 2 * 4:
        continue
    fo = struct.unpack_from("<H", footer, vt + 4 + 2 * 3)[0]
    if fo == 0:
        continue
    vec = root + fo + struct.unpack_from("<I", footer, root + fo)[0]
    for i in range(min(struct.unpack_from("<I", footer, vec)[0], 2)):
        off, mlen = struct.unpack_from("<qi", footer, vec + 4 + 24 * i)
        open(os.path.join(out, "%s_batch%d" % (stem, i)), "wb").write(b"\x01" + b[off:off + mlen])

# fuzz_arrow_stream (tests/fuzz/corpus/arrow-stream): the small stream files whole, and the first
# 4 KiB of the dictionary-replacing and pre-0.15 ones (a cut stream is an input like any other).
out = os.path.join(here, "corpus", "arrow-stream")
os.makedirs(out, exist_ok=True)
for name, keep in (("small.arrows", None), ("empty.arrows", None),
                   ("events_dicts.arrows", 4096), ("events_legacy.arrows", 4096)):
    b = open(os.path.join(fixtures, name), "rb").read()
    open(os.path.join(out, name.split(".")[0]), "wb").write(b if keep is None else b[:keep])
