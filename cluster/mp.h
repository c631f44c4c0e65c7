/* cluster/mp (internal): msgpack helpers for the FSM's commands and snapshots, and gossip.
 *
 * Writing goes through msgpack-c's packer into a bounded struct shir_buf. Reading is a small
 * pull reader over borrowed bytes, written here rather than using msgpack_unpack() for two
 * reasons: (1) msgpack_unpack() allocates a zone sized from counts it trusts (design §2: 5 bytes
 * can ask for ~96 GB), and (2) the FSM's apply must never fail, so decoding a log entry must not
 * allocate at all. Every count is checked against the bytes that remain before it is used; strings
 * and blobs are copied into fixed-size destinations or refused. The first error sticks.
 */
#ifndef SHIR_CLUSTER_MP_H
#define SHIR_CLUSTER_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "common/common.h"

/* ---- writing ---- */
struct cluster__mpw {
    msgpack_packer pk;
    struct shir_buf *out; /* borrowed */
    int err;              /* first error: SHIR_E_TOOBIG / SHIR_E_NOMEM / SHIR_E_INVAL */
};
void cluster__mpw_init(struct cluster__mpw *w, struct shir_buf *out);
void cluster__mpw_array(struct cluster__mpw *w, uint32_t n);
void cluster__mpw_uint(struct cluster__mpw *w, uint64_t v);
void cluster__mpw_bool(struct cluster__mpw *w, bool v);
/* A NUL-terminated string held in a char[cap]; SHIR_E_INVAL (sticky) when it is not terminated
 * within cap, so a caller's unterminated array is refused rather than over-read. */
void cluster__mpw_str(struct cluster__mpw *w, const char *s, size_t cap);
void cluster__mpw_bin(struct cluster__mpw *w, const void *p, size_t n);
/* A bin written in pieces: the header for n bytes, then bodies adding up to n. */
void cluster__mpw_bin_header(struct cluster__mpw *w, size_t n);
void cluster__mpw_bin_body(struct cluster__mpw *w, const void *p, size_t n);

/* The most bytes one value can take, for bounds derived from capacities (snapshot sizes): a
 * uint is at most 1 + 8 bytes, an array/str/bin header at most 1 + 4. */
#define CLUSTER__MP_UINT_MAX     9u
#define CLUSTER__MP_BOOL_MAX     1u
#define CLUSTER__MP_ARRAY_MAX    5u
#define CLUSTER__MP_STR_MAX(cap) (5u + (size_t)(cap)) /* cap: bytes without the NUL */
#define CLUSTER__MP_BIN_MAX(n)   (5u + (size_t)(n))

/* ---- reading ---- */
#define CLUSTER__MPR_DEPTH 16 /* deepest value cluster__mpr_skip will walk */

struct cluster__mpr {
    const uint8_t *p;
    size_t left;
    int err; /* first error: SHIR_E_TRUNC, SHIR_E_MALFORMED, SHIR_E_TOOBIG, SHIR_E_DEPTH */
};
void cluster__mpr_init(struct cluster__mpr *r, const void *p, size_t n);
/* An array header with at least `min` elements; returns the count (0 after an error). Counts
 * larger than the remaining bytes are refused (every element takes at least one byte). */
uint32_t cluster__mpr_array(struct cluster__mpr *r, uint32_t min);
/* An array header of at most `max` elements (a table's capacity): SHIR_E_TOOBIG beyond. */
uint32_t cluster__mpr_array_max(struct cluster__mpr *r, uint32_t max);
uint64_t cluster__mpr_uint(struct cluster__mpr *r);
/* A uint that must lie in [lo, hi]. */
uint64_t cluster__mpr_range(struct cluster__mpr *r, uint64_t lo, uint64_t hi);
bool cluster__mpr_bool(struct cluster__mpr *r);
/* A str of at most cap-1 bytes without NUL, copied NUL-terminated into dst. */
void cluster__mpr_str(struct cluster__mpr *r, char *dst, size_t cap);
/* A bin of exactly n bytes copied into dst. */
void cluster__mpr_bin_exact(struct cluster__mpr *r, void *dst, size_t n);
/* A bin of at most cap bytes copied into dst; returns its length. */
size_t cluster__mpr_bin(struct cluster__mpr *r, void *dst, size_t cap);
/* A bin of at most cap bytes left where it is: *p points into the reader's bytes (borrowed,
 * valid as long as they are); returns its length. */
size_t cluster__mpr_bin_ref(struct cluster__mpr *r, const uint8_t **p, size_t cap);
/* The header of a bin of at most cap bytes (the body is then taken with cluster__mpr_take):
 * returns its length. */
size_t cluster__mpr_bin_header(struct cluster__mpr *r, size_t cap);
/* The next n raw bytes, borrowed; NULL after an error (sticky SHIR_E_TRUNC when short). */
const uint8_t *cluster__mpr_take(struct cluster__mpr *r, size_t n);
/* Skip one value of any type (fields added by a newer version). */
void cluster__mpr_skip(struct cluster__mpr *r);
/* Skip `n` values. */
void cluster__mpr_skip_n(struct cluster__mpr *r, uint32_t n);

#endif /* SHIR_CLUSTER_MP_H */
