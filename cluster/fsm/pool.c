/* Fixed-size chunks chained per blob: see pool.h for why. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fsm/pool.h"

int cluster__pool_init(struct cluster__pool *p, uint32_t chunk, uint32_t cap)
{
    memset(p, 0, sizeof *p);
    if (chunk == 0 || cap == 0 || cap == CLUSTER__POOL_NONE)
        return SHIR_E_INVAL;
    p->next = malloc((size_t)cap * sizeof *p->next);
    p->data = malloc((size_t)cap * chunk);
    if (!p->next || !p->data) {
        free(p->next);
        free(p->data);
        memset(p, 0, sizeof *p);
        return SHIR_E_NOMEM;
    }
    p->chunk = chunk;
    p->cap = cap;
    for (uint32_t i = 0; i < cap; i++)
        p->next[i] = i + 1 < cap ? i + 1 : CLUSTER__POOL_NONE;
    p->free_head = 0;
    return 0;
}

void cluster__pool_fini(struct cluster__pool *p)
{
    if (p->data)
        shir_wipe(p->data, (size_t)p->cap * p->chunk);
    free(p->data);
    free(p->next);
    memset(p, 0, sizeof *p);
}

uint32_t cluster__pool_chunks(const struct cluster__pool *p, size_t len)
{
    size_t n = len / p->chunk + (len % p->chunk != 0);
    return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

bool cluster__pool_fits(const struct cluster__pool *p, size_t len,
                        const struct cluster__blob *replacing, uint32_t limit)
{
    uint64_t after = (uint64_t)p->used + cluster__pool_chunks(p, len);
    if (replacing)
        after -= cluster__pool_chunks(p, replacing->len);
    /* Over a lowered limit, what does not grow the pool (a shrinking replacement) still goes
     * in: lowering a limit refuses growth, it does not freeze what is there. */
    return after <= (limit < p->cap ? limit : p->cap) || after <= p->used;
}

struct cluster__blob cluster__pool_put(struct cluster__pool *p, const void *src, size_t len)
{
    struct cluster__blob b = CLUSTER__BLOB_EMPTY;
    uint32_t need = cluster__pool_chunks(p, len);
    assert(need <= p->cap - p->used && len <= UINT32_MAX);
    const uint8_t *s = src;
    uint32_t *link = &b.head;
    for (uint32_t k = 0; k < need; k++) {
        uint32_t c = p->free_head;
        p->free_head = p->next[c];
        size_t n = len - (size_t)k * p->chunk < p->chunk ? len - (size_t)k * p->chunk : p->chunk;
        memcpy(p->data + (size_t)c * p->chunk, s + (size_t)k * p->chunk, n);
        *link = c;
        link = &p->next[c];
    }
    *link = CLUSTER__POOL_NONE;
    p->used += need;
    b.len = (uint32_t)len;
    return b;
}

void cluster__pool_drop(struct cluster__pool *p, struct cluster__blob *b)
{
    uint32_t c = b->head;
    while (c != CLUSTER__POOL_NONE) {
        uint32_t nx = p->next[c];
        shir_wipe(p->data + (size_t)c * p->chunk, p->chunk);
        p->next[c] = p->free_head;
        p->free_head = c;
        p->used--;
        c = nx;
    }
    *b = CLUSTER__BLOB_EMPTY;
}

/* Walks a blob's bytes chunk by chunk, in order. */
struct pieces {
    const struct cluster__pool *p;
    uint32_t c;
    size_t left;
};

static bool next_piece(struct pieces *it, const uint8_t **ptr, size_t *n)
{
    if (it->c == CLUSTER__POOL_NONE || it->left == 0)
        return false;
    *ptr = it->p->data + (size_t)it->c * it->p->chunk;
    *n = it->left < it->p->chunk ? it->left : it->p->chunk;
    it->left -= *n;
    it->c = it->p->next[it->c];
    return true;
}

void cluster__pool_read(const struct cluster__pool *p, struct cluster__blob b, void *dst)
{
    struct pieces it = {p, b.head, b.len};
    const uint8_t *piece;
    size_t n;
    for (uint8_t *d = dst; next_piece(&it, &piece, &n); d += n)
        memcpy(d, piece, n);
}

bool cluster__pool_equal(const struct cluster__pool *p, struct cluster__blob b, const void *src,
                         size_t len)
{
    struct pieces it = {p, b.head, b.len};
    const uint8_t *piece;
    size_t n;
    if (b.len != len)
        return false;
    for (const uint8_t *s = src; next_piece(&it, &piece, &n); s += n)
        if (memcmp(s, piece, n) != 0)
            return false;
    return true;
}

void cluster__pool_write(struct cluster__mpw *w, const struct cluster__pool *p,
                         struct cluster__blob b)
{
    struct pieces it = {p, b.head, b.len};
    const uint8_t *piece;
    size_t n;
    cluster__mpw_bin_header(w, b.len);
    while (next_piece(&it, &piece, &n))
        cluster__mpw_bin_body(w, piece, n);
}

struct cluster__blob cluster__pool_read_mp(struct cluster__mpr *r, struct cluster__pool *p,
                                           size_t max_len)
{
    size_t len = cluster__mpr_bin_header(r, max_len);
    if (r->err == 0 && !cluster__pool_fits(p, len, NULL, p->cap))
        r->err = SHIR_E_TOOBIG;
    const uint8_t *src = cluster__mpr_take(r, len);
    if (!src)
        return CLUSTER__BLOB_EMPTY;
    return cluster__pool_put(p, src, len);
}
