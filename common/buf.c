/* Bounded buffers and checked big/little-endian readers. */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

void shir_buf_init(struct shir_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void shir_buf_free(struct shir_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

int shir_buf_reserve(struct shir_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return SHIR_E_TOOBIG;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return 0;
    /* Grow geometrically, but never past max. */
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max)
        cap = b->max;
    unsigned char *p = realloc(b->data, cap);
    if (!p)
        return SHIR_E_NOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int shir_buf_append(struct shir_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    int rv = shir_buf_reserve(b, n);
    if (rv != 0)
        return rv;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int shir_buf_append_u8(struct shir_buf *b, uint8_t v)
{
    return shir_buf_append(b, &v, 1);
}

int shir_buf_append_be16(struct shir_buf *b, uint16_t v)
{
    unsigned char t[2];
    shir_put_be16(t, v);
    return shir_buf_append(b, t, sizeof t);
}

int shir_buf_append_be32(struct shir_buf *b, uint32_t v)
{
    unsigned char t[4];
    shir_put_be32(t, v);
    return shir_buf_append(b, t, sizeof t);
}

int shir_buf_append_be64(struct shir_buf *b, uint64_t v)
{
    unsigned char t[8];
    shir_put_be64(t, v);
    return shir_buf_append(b, t, sizeof t);
}

int shir_buf_printf(struct shir_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return SHIR_E_INVAL;
    /* +1 for vsnprintf's NUL, which is not counted in len. */
    int rv = shir_buf_reserve(b, (size_t)n + 1);
    if (rv != 0)
        return rv;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void shir_buf_consume(struct shir_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void shir_buf_reset(struct shir_buf *b)
{
    b->len = 0;
}

unsigned char *shir_buf_steal(struct shir_buf *b, size_t *len)
{
    unsigned char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

void shir_reader_init(struct shir_reader *r, const void *p, size_t n)
{
    r->p = p;
    r->left = n;
}

int shir_reader_bytes(struct shir_reader *r, size_t n, const unsigned char **out)
{
    if (n > r->left)
        return SHIR_E_TRUNC;
    if (out)
        *out = r->p;
    r->p += n;
    r->left -= n;
    return 0;
}

int shir_reader_skip(struct shir_reader *r, size_t n)
{
    return shir_reader_bytes(r, n, NULL);
}

int shir_reader_u8(struct shir_reader *r, uint8_t *v)
{
    const unsigned char *p;
    int rv = shir_reader_bytes(r, 1, &p);
    if (rv == 0)
        *v = p[0];
    return rv;
}

#define READER_FN(name, type, n, get)                                                          \
    int name(struct shir_reader *r, type *v)                                                   \
    {                                                                                          \
        const unsigned char *p;                                                                \
        int rv = shir_reader_bytes(r, (n), &p);                                                \
        if (rv == 0)                                                                           \
            *v = get(p);                                                                       \
        return rv;                                                                             \
    }
READER_FN(shir_reader_be16, uint16_t, 2, shir_get_be16)
READER_FN(shir_reader_be32, uint32_t, 4, shir_get_be32)
READER_FN(shir_reader_be64, uint64_t, 8, shir_get_be64)
READER_FN(shir_reader_le32, uint32_t, 4, shir_get_le32)
READER_FN(shir_reader_le64, uint64_t, 8, shir_get_le64)
#undef READER_FN

void shir_put_be16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

void shir_put_be32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (24 - 8 * i));
}

void shir_put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (56 - 8 * i));
}

uint16_t shir_get_be16(const unsigned char *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

uint32_t shir_get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t shir_get_be64(const unsigned char *p)
{
    return (uint64_t)shir_get_be32(p) << 32 | shir_get_be32(p + 4);
}

uint32_t shir_get_le32(const unsigned char *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

uint64_t shir_get_le64(const unsigned char *p)
{
    return (uint64_t)shir_get_le32(p + 4) << 32 | shir_get_le32(p);
}
