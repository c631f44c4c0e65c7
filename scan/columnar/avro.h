/* scan/columnar/avro.h: Avro object container file headers (internal to scan/).
 *
 * Layout (https://avro.apache.org/docs/1.11.1/specification/#object-container-files):
 *
 *   "Obj" 0x01 | metadata map<string, bytes> | 16-byte sync marker | block ...
 *   block := long count | long size | size bytes (codec-compressed objects) | sync marker
 *
 * long = zigzag varint; a map is written in blocks of `long count` entries (a negative count is
 * followed by the block's byte size), ended by a count of 0.
 */
#ifndef SHIR_SCAN_AVRO_H
#define SHIR_SCAN_AVRO_H

#include <stddef.h>
#include <stdint.h>

#include "scan/model.h"

/* Headers above 16 MiB are refused (schemas are KBs; metadata maps rarely reach 1 MiB). */
#define SCAN_AVRO_MAX_HEADER (16u << 20)
/* Record nesting followed in a schema; deeper fields are reported as one struct column. */
#define SCAN_AVRO_MAX_DEPTH 32
/* Blocks walked to count rows; past this the row count is left unknown (-1): 10 000 preads. */
#define SCAN_AVRO_MAX_BLOCKS 10000

struct scan_avro_header {
    const unsigned char *schema;   /* borrowed: avro.schema JSON, NULL if absent */
    size_t schema_len;
    const unsigned char *codec;    /* borrowed: avro.codec, NULL if absent ("null") */
    size_t codec_len;
    unsigned char sync[16];
    size_t header_len;             /* bytes up to and including the sync marker */
};

/* Decode the header in buf[n]. 0, SHIR_E_TRUNC (needs more bytes), SHIR_E_MALFORMED with *why. */
int scan_avro_header_decode(const unsigned char *buf, size_t n, struct scan_avro_header *h,
                            const char **why);
/* Flatten the schema JSON into columns of `a` (records -> dotted paths, logical types).
 * 0, SHIR_E_MALFORMED (recorded in `a` as an error), SHIR_E_NOMEM. */
int scan_avro_schema_fill(const unsigned char *json, size_t n, const struct scan_limits *lim,
                          struct scan_asset *a);
/* Decode one block prefix (count, size) from buf[n]; *used the bytes it took. */
int scan_avro_block_prefix(const unsigned char *buf, size_t n, int64_t *count, int64_t *size,
                           size_t *used);

/* L3 sampling. Blocks larger than this once decompressed are not sampled (16 MiB). */
#define SCAN_AVRO_MAX_BLOCK (16u << 20)

/* The schema compiled for decoding values; leaves are tied to the columns of `a` that
 * scan_avro_schema_fill made, by name. 0, SHIR_E_MALFORMED with *why, SHIR_E_NOMEM. */
struct scan_avro_prog;
int scan_avro_prog_new(const unsigned char *json, size_t n, struct scan_asset *a,
                       struct scan_avro_prog **out, const char **why);
void scan_avro_prog_free(struct scan_avro_prog *p);
/* Decode up to `count` objects (at most lim->max_rows) from an uncompressed block body, adding
 * the leaf values as samples to the asset's columns. *decoded receives the objects decoded.
 * 0, SHIR_E_MALFORMED with *why, SHIR_E_NOMEM. */
int scan_avro_sample_block(const struct scan_avro_prog *p, const unsigned char *buf, size_t n,
                           int64_t count, const struct scan_limits *lim, struct scan_asset *a,
                           int64_t *decoded, const char **why);
/* Decompress a block body by codec name ("null", "deflate", "snappy", "zstandard", and "lz4" as
 * fastavro writes it) into a new buffer *out[*on] (the caller frees). SHIR_E_UNSUPPORTED or
 * SHIR_E_MALFORMED with *why, SHIR_E_NOMEM. */
int scan_avro_decompress(const char *codec, const unsigned char *src, size_t sn,
                         unsigned char **out, size_t *on, const char **why);

#endif /* SHIR_SCAN_AVRO_H */
