/* msgpack helpers: see mp.h for why reading is hand-rolled and allocation-free. */
#include "cluster/mp.h"

#include <string.h>

static int mpw_write(void *data, const char *buf, size_t len)
{
    struct cluster__mpw *w = data;
    int rc = shir_buf_append(w->out, buf, len);
    if (rc != 0 && w->err == 0)
        w->err = rc;
    return rc == 0 ? 0 : -1;
}

void cluster__mpw_init(struct cluster__mpw *w, struct shir_buf *out)
{
    w->out = out;
    w->err = 0;
    msgpack_packer_init(&w->pk, w, mpw_write);
}

void cluster__mpw_array(struct cluster__mpw *w, uint32_t n)
{
    (void)msgpack_pack_array(&w->pk, n);
}

void cluster__mpw_uint(struct cluster__mpw *w, uint64_t v)
{
    (void)msgpack_pack_uint64(&w->pk, v);
}

void cluster__mpw_bool(struct cluster__mpw *w, bool v)
{
    (void)(v ? msgpack_pack_true(&w->pk) : msgpack_pack_false(&w->pk));
}

void cluster__mpw_str(struct cluster__mpw *w, const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap) {
        if (w->err == 0)
            w->err = SHIR_E_INVAL;
        return;
    }
    (void)msgpack_pack_str(&w->pk, n);
    (void)msgpack_pack_str_body(&w->pk, s, n);
}

void cluster__mpw_bin(struct cluster__mpw *w, const void *p, size_t n)
{
    (void)msgpack_pack_bin(&w->pk, n);
    if (n > 0)
        (void)msgpack_pack_bin_body(&w->pk, p, n);
}

void cluster__mpw_bin_header(struct cluster__mpw *w, size_t n)
{
    (void)msgpack_pack_bin(&w->pk, n);
}

void cluster__mpw_bin_body(struct cluster__mpw *w, const void *p, size_t n)
{
    if (n > 0)
        (void)msgpack_pack_bin_body(&w->pk, p, n);
}

/* ---- reading ---- */
void cluster__mpr_init(struct cluster__mpr *r, const void *p, size_t n)
{
    r->p = p;
    r->left = n;
    r->err = 0;
}

static void fail(struct cluster__mpr *r, int err)
{
    if (r->err == 0)
        r->err = err;
    r->left = 0;
}

static bool take(struct cluster__mpr *r, size_t n, const uint8_t **out)
{
    if (r->err != 0)
        return false;
    if (r->left < n) {
        fail(r, SHIR_E_TRUNC);
        return false;
    }
    *out = r->p;
    r->p += n;
    r->left -= n;
    return true;
}

static uint64_t be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Read a header byte and, for the given family, its length field. */
static bool peek_byte(struct cluster__mpr *r, uint8_t *b)
{
    const uint8_t *p;
    if (!take(r, 1, &p))
        return false;
    *b = p[0];
    return true;
}

static bool len_field(struct cluster__mpr *r, size_t width, uint64_t *len)
{
    const uint8_t *p;
    if (!take(r, width, &p))
        return false;
    *len = be(p, width);
    return true;
}

uint32_t cluster__mpr_array(struct cluster__mpr *r, uint32_t min)
{
    uint8_t b;
    uint64_t n = 0;
    if (!peek_byte(r, &b))
        return 0;
    if ((b & 0xf0) == 0x90)
        n = b & 0x0f;
    else if (b == 0xdc) {
        if (!len_field(r, 2, &n))
            return 0;
    } else if (b == 0xdd) {
        if (!len_field(r, 4, &n))
            return 0;
    } else {
        fail(r, SHIR_E_MALFORMED);
        return 0;
    }
    if (n > r->left) {
        fail(r, SHIR_E_TRUNC);
        return 0;
    }
    if (n < min) {
        fail(r, SHIR_E_MALFORMED);
        return 0;
    }
    return (uint32_t)n;
}

uint32_t cluster__mpr_array_max(struct cluster__mpr *r, uint32_t max)
{
    uint32_t n = cluster__mpr_array(r, 0);
    if (n > max) {
        fail(r, SHIR_E_TOOBIG);
        return 0;
    }
    return n;
}

uint64_t cluster__mpr_uint(struct cluster__mpr *r)
{
    uint8_t b;
    uint64_t v = 0;
    if (!peek_byte(r, &b))
        return 0;
    if (b <= 0x7f)
        return b;
    if (b >= 0xcc && b <= 0xcf) { /* uint 8, 16, 32, 64 */
        (void)len_field(r, (size_t)1 << (b - 0xcc), &v);
        return v;
    }
    fail(r, SHIR_E_MALFORMED);
    return 0;
}

uint64_t cluster__mpr_range(struct cluster__mpr *r, uint64_t lo, uint64_t hi)
{
    uint64_t v = cluster__mpr_uint(r);
    if (r->err == 0 && (v < lo || v > hi)) {
        fail(r, SHIR_E_MALFORMED);
        return lo;
    }
    return v;
}

bool cluster__mpr_bool(struct cluster__mpr *r)
{
    uint8_t b;
    if (!peek_byte(r, &b))
        return false;
    if (b == 0xc2 || b == 0xc3)
        return b == 0xc3;
    fail(r, SHIR_E_MALFORMED);
    return false;
}

/* str or bin header: returns the length (checked against the remaining bytes). */
static bool blob_header(struct cluster__mpr *r, bool str, uint64_t *n)
{
    uint8_t b;
    if (!peek_byte(r, &b))
        return false;
    if (str && (b & 0xe0) == 0xa0)
        *n = b & 0x1f;
    else if (b == (str ? 0xd9 : 0xc4))
        (void)len_field(r, 1, n);
    else if (b == (str ? 0xda : 0xc5))
        (void)len_field(r, 2, n);
    else if (b == (str ? 0xdb : 0xc6))
        (void)len_field(r, 4, n);
    else {
        fail(r, SHIR_E_MALFORMED);
        return false;
    }
    if (r->err != 0)
        return false;
    if (*n > r->left) {
        fail(r, SHIR_E_TRUNC);
        return false;
    }
    return true;
}

void cluster__mpr_str(struct cluster__mpr *r, char *dst, size_t cap)
{
    uint64_t n = 0;
    const uint8_t *p;
    dst[0] = '\0';
    if (!blob_header(r, true, &n))
        return;
    if (n >= cap) {
        fail(r, SHIR_E_TOOBIG);
        return;
    }
    if (!take(r, (size_t)n, &p))
        return;
    if (memchr(p, 0, (size_t)n)) {
        fail(r, SHIR_E_MALFORMED);
        return;
    }
    memcpy(dst, p, (size_t)n);
    dst[n] = '\0';
}

void cluster__mpr_bin_exact(struct cluster__mpr *r, void *dst, size_t n)
{
    uint64_t len = 0;
    const uint8_t *p;
    if (!blob_header(r, false, &len))
        return;
    if (len != n) {
        fail(r, SHIR_E_MALFORMED);
        return;
    }
    if (take(r, n, &p) && n > 0)
        memcpy(dst, p, n);
}

size_t cluster__mpr_bin_header(struct cluster__mpr *r, size_t cap)
{
    uint64_t len = 0;
    if (!blob_header(r, false, &len))
        return 0;
    if (len > cap) {
        fail(r, SHIR_E_TOOBIG);
        return 0;
    }
    return (size_t)len;
}

const uint8_t *cluster__mpr_take(struct cluster__mpr *r, size_t n)
{
    const uint8_t *p;
    return take(r, n, &p) ? p : NULL;
}

size_t cluster__mpr_bin_ref(struct cluster__mpr *r, const uint8_t **p, size_t cap)
{
    size_t len = cluster__mpr_bin_header(r, cap);
    *p = cluster__mpr_take(r, len);
    return *p ? len : 0;
}

size_t cluster__mpr_bin(struct cluster__mpr *r, void *dst, size_t cap)
{
    const uint8_t *p;
    size_t len = cluster__mpr_bin_ref(r, &p, cap);
    if (len > 0)
        memcpy(dst, p, len);
    return len;
}

static void skip_depth(struct cluster__mpr *r, unsigned depth);

static void skip_items(struct cluster__mpr *r, uint64_t items, unsigned depth)
{
    if (items > r->left) {
        fail(r, SHIR_E_TRUNC);
        return;
    }
    for (uint64_t i = 0; i < items && r->err == 0; i++)
        skip_depth(r, depth + 1);
}

/* How to skip a value whose first byte is 0xc4..0xdf: a length field of `width` bytes (0: none),
 * then `fixed` bytes plus the length times `bytes` (bin, str, ext, numbers), or the length
 * times `items` values (arrays 1, maps 2). */
struct skip_rule {
    uint8_t width, fixed, bytes, items;
};
static const struct skip_rule skip_rules[0xe0 - 0xc4] = {
    {1, 0, 1, 0}, {2, 0, 1, 0}, {4, 0, 1, 0},                              /* bin 8/16/32 */
    {1, 1, 1, 0}, {2, 1, 1, 0}, {4, 1, 1, 0},                              /* ext: type byte */
    {0, 4, 0, 0}, {0, 8, 0, 0},                                            /* float 32/64 */
    {0, 1, 0, 0}, {0, 2, 0, 0}, {0, 4, 0, 0}, {0, 8, 0, 0},                /* uint 8..64 */
    {0, 1, 0, 0}, {0, 2, 0, 0}, {0, 4, 0, 0}, {0, 8, 0, 0},                /* int 8..64 */
    {0, 2, 0, 0}, {0, 3, 0, 0}, {0, 5, 0, 0}, {0, 9, 0, 0}, {0, 17, 0, 0}, /* fixext */
    {1, 0, 1, 0}, {2, 0, 1, 0}, {4, 0, 1, 0},                              /* str 8/16/32 */
    {2, 0, 0, 1}, {4, 0, 0, 1},                                            /* array 16/32 */
    {2, 0, 0, 2}, {4, 0, 0, 2},                                            /* map 16/32 */
};

/* Skip one value; containers recurse at most CLUSTER__MPR_DEPTH deep. */
static void skip_depth(struct cluster__mpr *r, unsigned depth)
{
    uint8_t b;
    uint64_t n = 0;
    const uint8_t *p;
    if (depth > CLUSTER__MPR_DEPTH) {
        fail(r, SHIR_E_DEPTH);
        return;
    }
    if (!peek_byte(r, &b))
        return;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return;
    if ((b & 0xe0) == 0xa0) {
        (void)take(r, b & 0x1f, &p);
        return;
    }
    if ((b & 0xf0) == 0x90 || (b & 0xf0) == 0x80) {
        skip_items(r, (b & 0xf0) == 0x90 ? b & 0x0fu : 2u * (b & 0x0f), depth);
        return;
    }
    if (b < 0xc4) { /* 0xc1: never used */
        fail(r, SHIR_E_MALFORMED);
        return;
    }
    const struct skip_rule *s = &skip_rules[b - 0xc4];
    if (s->width && !len_field(r, s->width, &n))
        return;
    if (s->items)
        skip_items(r, n * s->items, depth);
    else
        (void)take(r, (size_t)(s->fixed + n * s->bytes), &p);
}

void cluster__mpr_skip(struct cluster__mpr *r)
{
    skip_depth(r, 0);
}

void cluster__mpr_skip_n(struct cluster__mpr *r, uint32_t n)
{
    for (uint32_t i = 0; i < n && r->err == 0; i++)
        cluster__mpr_skip(r);
}
