#!/usr/bin/env bash
# Write the seed corpus of fuzz_columnar_codecs (tests/fuzz/corpus/columnar-codecs): LZ4 blocks
# and frames from lz4js (npm registry, temporary directory, never committed) and Brotli from
# node's zlib. Each seed is [decoder selector][LE16 uncompressed size][compressed bytes], see
# fuzz_columnar_codecs.c. The seeds are committed; rerun only to change them.
set -euo pipefail
out=$(cd "$(dirname "$0")" && pwd)/corpus/columnar-codecs
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent lz4js@0.2.0 >/dev/null
cat > seeds.js <<'JS'
// Seeds for fuzz_columnar_codecs: [selector][LE16 size][compressed] (lz4js, node's zlib brotli).
const fs = require('fs'); const zlib = require('zlib'); const lz4 = require('lz4js');
const dir = process.argv[2];
const plain = Buffer.from(Array.from({ length: 40 }, (_, i) => 'user' + i + '@example.com,').join(''));
const block = (b) => { const d = Buffer.alloc(lz4.compressBound(b.length)); const n = lz4.compressBlock(b, d, 0, b.length, new Uint32Array(1 << 16)); return d.subarray(0, n); };
const hdr = (sel, n) => { const h = Buffer.alloc(3); h[0] = sel; h.writeUInt16LE(n, 1); return h; };
const raw = block(plain);
const be = (v) => { const b = Buffer.alloc(4); b.writeUInt32BE(v); return b; };
const le = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
const half = plain.length >> 1;
const b1 = block(plain.subarray(0, half)), b2 = block(plain.subarray(half));
const w = (name, buf) => fs.writeFileSync(dir + '/' + name, buf);
w('lz4_raw', Buffer.concat([hdr(0, plain.length), raw]));
w('lz4_hadoop_two_frames', Buffer.concat([hdr(1, plain.length), be(half), be(b1.length), b1, be(plain.length - half), be(b2.length), b2]));
w('lz4_codec_raw_block', Buffer.concat([hdr(1, plain.length), raw]));
w('lz4_codec_frame', Buffer.concat([hdr(1, plain.length), Buffer.from(lz4.compress(plain))]));
w('brotli', Buffer.concat([hdr(2, plain.length), zlib.brotliCompressSync(plain)]));
w('avro_lz4', Buffer.concat([hdr(3, 0), le(plain.length), raw]));
w('avro_lz4_size_bomb', Buffer.concat([hdr(3, 0), le(0xfffffff0), raw]));
JS
node seeds.js "$out"
ls -l "$out"
