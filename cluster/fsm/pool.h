/* cluster/fsm/pool.h (internal to cluster/fsm/): bytes of variable-size records, for tables
 * whose records carry blobs (scan definitions, checkpoints, sealed credentials).
 *
 * Why this shape:
 * - Apply never allocates (fsm.h), so a table's capacity is a compile-time constant and its
 *   pool is allocated once, by the table's init in cluster_fsm_new.
 * - Replicas must agree on every outcome, including "full". A pool is `cap` fixed-size chunks;
 *   a blob of len bytes takes ceil(len / chunk) of them, chained, wherever they are free. So
 *   whether a blob fits depends only on how many chunks the live blobs hold — on the logical
 *   contents — never on the order of earlier allocations and frees, and a replica restored
 *   from a snapshot (whose chunks are laid out afresh) answers exactly like one that applied
 *   the whole log. Nothing outside the pool ever sees a chunk number.
 * - A replicated setting may only lower a table's effective limit: callers pass it to
 *   cluster__pool_fits, which also caps it at `cap`, and check in apply (validation) before
 *   cluster__pool_put.
 *
 * Not for: anything outside the FSM, or records that fit a fixed-size field (use the field).
 */
#ifndef SHIR_CLUSTER_FSM_POOL_H
#define SHIR_CLUSTER_FSM_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/mp.h"

#define CLUSTER__POOL_NONE UINT32_MAX

struct cluster__pool {
    uint32_t chunk;     /* payload bytes per chunk */
    uint32_t cap;       /* chunks */
    uint32_t used;      /* chunks held by blobs */
    uint32_t free_head; /* first free chunk, CLUSTER__POOL_NONE when full */
    uint32_t *next;     /* per chunk: the next one of its blob or of the free list */
    uint8_t *data;      /* cap * chunk bytes */
};

/* A blob as a record keeps it: its first chunk and its length. {NONE, 0} is the empty blob. */
struct cluster__blob {
    uint32_t head;
    uint32_t len;
};
#define CLUSTER__BLOB_EMPTY ((struct cluster__blob){CLUSTER__POOL_NONE, 0})

/* Allocate cap chunks of `chunk` bytes (both > 0). 0, SHIR_E_INVAL, SHIR_E_NOMEM. */
int cluster__pool_init(struct cluster__pool *p, uint32_t chunk, uint32_t cap);
/* Wipe and free. A zeroed or finished pool is a no-op. */
void cluster__pool_fini(struct cluster__pool *p);

/* Chunks a blob of len bytes takes. */
uint32_t cluster__pool_chunks(const struct cluster__pool *p, size_t len);
/* Would a blob of len bytes fit with at most `limit` chunks in use (limit above cap counts as
 * cap), once `replacing` (NULL: nothing) is dropped? Over a limit lowered below what is in use,
 * a replacement that does not grow the pool still fits. */
bool cluster__pool_fits(const struct cluster__pool *p, size_t len,
                        const struct cluster__blob *replacing, uint32_t limit);
/* Store len bytes (copied). The caller checked cluster__pool_fits with a limit <= cap, so this
 * cannot fail. */
struct cluster__blob cluster__pool_put(struct cluster__pool *p, const void *src, size_t len);
/* Release a blob's chunks (wiped) and empty *b. */
void cluster__pool_drop(struct cluster__pool *p, struct cluster__blob *b);
/* Copy a blob's b.len bytes into dst. */
void cluster__pool_read(const struct cluster__pool *p, struct cluster__blob b, void *dst);
/* Is the blob's content equal to src[0..len)? */
bool cluster__pool_equal(const struct cluster__pool *p, struct cluster__blob b, const void *src,
                         size_t len);

/* A blob as one msgpack bin. */
void cluster__pool_write(struct cluster__mpw *w, const struct cluster__pool *p,
                         struct cluster__blob b);
/* Read a bin of at most max_len bytes straight into the pool (restore). SHIR_E_TOOBIG (sticky
 * in r) when it is longer than max_len or does not fit in the pool's capacity; the empty blob
 * after any error. */
struct cluster__blob cluster__pool_read_mp(struct cluster__mpr *r, struct cluster__pool *p,
                                           size_t max_len);

#endif /* SHIR_CLUSTER_FSM_POOL_H */
