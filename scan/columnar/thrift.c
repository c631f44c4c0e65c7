/* Thrift compact protocol decoder: see scan/columnar/thrift.h for the wire format and the
 * bounds. */
#include <string.h>

#include "scan/columnar/thrift.h"

void scan_thrift_init(struct scan_thrift *t, const void *p, size_t n)
{
    t->p = p;
    t->left = n;
    t->depth = 0;
}

int scan_thrift_varint(struct scan_thrift *t, uint64_t *v)
{
    uint64_t x = 0;
    /* 10 bytes carry 70 bits; the 10th may only hold the top bit of a 64-bit value. */
    for (unsigned i = 0; i < 10; i++) {
        if (t->left == 0)
            return SHIR_E_TRUNC;
        unsigned char b = *t->p++;
        t->left--;
        if (i == 9 && b > 1)
            return SHIR_E_MALFORMED;
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return SHIR_E_MALFORMED;
}

static int64_t unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

int scan_thrift_byte(struct scan_thrift *t, int8_t *v)
{
    if (t->left == 0)
        return SHIR_E_TRUNC;
    *v = (int8_t)*t->p++;
    t->left--;
    return 0;
}

int scan_thrift_i64(struct scan_thrift *t, int64_t *v)
{
    uint64_t u;
    int rv = scan_thrift_varint(t, &u);
    if (rv != 0)
        return rv;
    *v = unzigzag(u);
    return 0;
}

int scan_thrift_i32(struct scan_thrift *t, int32_t *v)
{
    int64_t x;
    int rv = scan_thrift_i64(t, &x);
    if (rv != 0)
        return rv;
    if (x < INT32_MIN || x > INT32_MAX)
        return SHIR_E_MALFORMED;
    *v = (int32_t)x;
    return 0;
}

int scan_thrift_i16(struct scan_thrift *t, int16_t *v)
{
    int64_t x;
    int rv = scan_thrift_i64(t, &x);
    if (rv != 0)
        return rv;
    if (x < INT16_MIN || x > INT16_MAX)
        return SHIR_E_MALFORMED;
    *v = (int16_t)x;
    return 0;
}

int scan_thrift_double(struct scan_thrift *t, double *v)
{
    if (t->left < 8)
        return SHIR_E_TRUNC;
    uint64_t u = shir_get_le64(t->p);
    memcpy(v, &u, sizeof *v);
    t->p += 8;
    t->left -= 8;
    return 0;
}

int scan_thrift_binary(struct scan_thrift *t, const unsigned char **p, size_t *n)
{
    uint64_t len;
    int rv = scan_thrift_varint(t, &len);
    if (rv != 0)
        return rv;
    if (len > t->left)
        return SHIR_E_TRUNC;
    *p = t->p;
    *n = (size_t)len;
    t->p += len;
    t->left -= (size_t)len;
    return 0;
}

int scan_thrift_list(struct scan_thrift *t, uint8_t *elem_type, uint32_t *count)
{
    if (t->left == 0)
        return SHIR_E_TRUNC;
    unsigned char h = *t->p++;
    t->left--;
    uint64_t n = h >> 4;
    if (n == 15) {
        int rv = scan_thrift_varint(t, &n);
        if (rv != 0)
            return rv;
    }
    /* Each element takes at least one byte on the wire: a larger count is a lie. */
    if (n > t->left || n > UINT32_MAX)
        return n > t->left ? SHIR_E_TRUNC : SHIR_E_MALFORMED;
    *elem_type = (uint8_t)(h & 0x0f);
    *count = (uint32_t)n;
    return 0;
}

int scan_thrift_struct_begin(struct scan_thrift *t, int16_t *last_id)
{
    if (t->depth >= SCAN_THRIFT_MAX_DEPTH)
        return SHIR_E_DEPTH;
    t->depth++;
    *last_id = 0;
    return 0;
}

int scan_thrift_field(struct scan_thrift *t, int16_t *last_id, uint8_t *type, int16_t *id)
{
    if (t->left == 0)
        return SHIR_E_TRUNC;
    unsigned char h = *t->p++;
    t->left--;
    if (h == 0) {
        *type = SCAN_THRIFT_STOP;
        *id = 0;
        if (t->depth > 0)
            t->depth--;
        return 0;
    }
    uint8_t ty = (uint8_t)(h & 0x0f);
    if (ty > SCAN_THRIFT_STRUCT)
        return SHIR_E_MALFORMED;
    unsigned delta = h >> 4;
    if (delta == 0) {
        int rv = scan_thrift_i16(t, id);
        if (rv != 0)
            return rv;
    } else {
        int32_t next = (int32_t)*last_id + (int32_t)delta;
        if (next > INT16_MAX)
            return SHIR_E_MALFORMED;
        *id = (int16_t)next;
    }
    *last_id = *id;
    *type = ty;
    return 0;
}

int scan_thrift_int_field(struct scan_thrift *t, uint8_t type, int64_t *v)
{
    switch (type) {
    case SCAN_THRIFT_TRUE: *v = 1; return 0;
    case SCAN_THRIFT_FALSE: *v = 0; return 0;
    case SCAN_THRIFT_BYTE: {
        int8_t b = 0;
        int rv = scan_thrift_byte(t, &b);
        *v = b;
        return rv;
    }
    case SCAN_THRIFT_I16:
    case SCAN_THRIFT_I32:
    case SCAN_THRIFT_I64: return scan_thrift_i64(t, v);
    default: return SHIR_E_MALFORMED;
    }
}

/* Skip an element of a list/set/map: bools there are one byte, unlike in fields. */
static int skip_elem(struct scan_thrift *t, uint8_t type)
{
    if (type == SCAN_THRIFT_TRUE || type == SCAN_THRIFT_FALSE) {
        int8_t b;
        return scan_thrift_byte(t, &b);
    }
    return scan_thrift_skip(t, type);
}

int scan_thrift_skip(struct scan_thrift *t, uint8_t type)
{
    int rv = 0;
    switch (type) {
    case SCAN_THRIFT_TRUE:
    case SCAN_THRIFT_FALSE: return 0;
    case SCAN_THRIFT_BYTE: {
        int8_t b;
        return scan_thrift_byte(t, &b);
    }
    case SCAN_THRIFT_I16:
    case SCAN_THRIFT_I32:
    case SCAN_THRIFT_I64: {
        uint64_t u;
        return scan_thrift_varint(t, &u);
    }
    case SCAN_THRIFT_DOUBLE: {
        double d;
        return scan_thrift_double(t, &d);
    }
    case SCAN_THRIFT_BINARY: {
        const unsigned char *p;
        size_t n;
        return scan_thrift_binary(t, &p, &n);
    }
    case SCAN_THRIFT_LIST:
    case SCAN_THRIFT_SET: {
        uint8_t et;
        uint32_t n;
        if ((rv = scan_thrift_list(t, &et, &n)) != 0)
            return rv;
        /* Nested containers count towards the depth limit like structs do. */
        if (t->depth >= SCAN_THRIFT_MAX_DEPTH)
            return SHIR_E_DEPTH;
        t->depth++;
        for (uint32_t i = 0; i < n && rv == 0; i++)
            rv = skip_elem(t, et);
        t->depth--;
        return rv;
    }
    case SCAN_THRIFT_MAP: {
        uint64_t n;
        if ((rv = scan_thrift_varint(t, &n)) != 0)
            return rv;
        if (n == 0)
            return 0;
        if (t->left == 0)
            return SHIR_E_TRUNC;
        /* Each entry takes at least two bytes (key and value). */
        if (n > t->left / 2 + 1)
            return SHIR_E_TRUNC;
        unsigned char kv = *t->p++;
        t->left--;
        uint8_t kt = (uint8_t)(kv >> 4), vt = (uint8_t)(kv & 0x0f);
        if (t->depth >= SCAN_THRIFT_MAX_DEPTH)
            return SHIR_E_DEPTH;
        t->depth++;
        for (uint64_t i = 0; i < n && rv == 0; i++) {
            rv = skip_elem(t, kt);
            if (rv == 0)
                rv = skip_elem(t, vt);
        }
        t->depth--;
        return rv;
    }
    case SCAN_THRIFT_STRUCT: {
        int16_t last, id;
        uint8_t ft;
        if ((rv = scan_thrift_struct_begin(t, &last)) != 0)
            return rv;
        for (;;) {
            if ((rv = scan_thrift_field(t, &last, &ft, &id)) != 0)
                return rv;
            if (ft == SCAN_THRIFT_STOP)
                return 0;
            if ((rv = scan_thrift_skip(t, ft)) != 0)
                return rv;
        }
    }
    default: return SHIR_E_MALFORMED;
    }
}
