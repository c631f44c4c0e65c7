/* Avro values for L3 sampling: the schema compiled into a node tree, blocks decompressed
 * (null, deflate, snappy, zstandard) and objects decoded, leaf values rendered as text into the
 * columns scan_avro_schema_fill made. See scan/columnar/avro.h. Bounded for hostile input:
 * nesting of data (recursive types) is limited to 64, and every object costs "ops" from a per-block
 * allowance, so an array of a billion nulls in a few bytes ends quickly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "scan/columnar/avro.h"
#include "scan/columnar/codecs.h"
#include "scan/columnar/parquet.h"

enum av_kind {
    AV_NULL, AV_BOOL, AV_INT, AV_LONG, AV_FLOAT, AV_DOUBLE, AV_BYTES, AV_STRING, AV_FIXED,
    AV_ENUM, AV_RECORD, AV_ARRAY, AV_MAP, AV_UNION, AV_REF,
};

struct av_node {
    enum av_kind kind;
    long col;                    /* column index in the asset, -1: not sampled */
    struct scan_pq_leaf render;  /* how to render it (the Parquet renderer does the work) */
    size_t fixed_size;
    json_t *symbols;             /* enum symbols, borrowed from prog->root */
    char *name;                  /* owned: full name of a named type */
    struct av_node **kids;       /* owned array: fields, branches, or the one item/value type */
    size_t n_kids;
    struct av_node *ref;         /* AV_REF: the named type */
};

struct scan_avro_prog {
    json_t *root;
    struct av_node **nodes;      /* every node, for lookups and freeing */
    size_t n_nodes;
};

/* Data nesting followed while decoding (recursive types can nest without end). */
#define AV_MAX_DATA_DEPTH 64
/* Decode steps per block: far above what max_rows objects of any sane schema need. */
#define AV_OPS_PER_BLOCK 4000000

static struct av_node *node_new(struct scan_avro_prog *p, enum av_kind k)
{
    struct av_node **v = realloc(p->nodes, (p->n_nodes + 1) * sizeof *v);
    if (!v)
        return NULL;
    p->nodes = v;
    struct av_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->kind = k;
    n->col = -1;
    p->nodes[p->n_nodes++] = n;
    return n;
}

static int add_kid(struct av_node *n, struct av_node *k)
{
    struct av_node **v = realloc(n->kids, (n->n_kids + 1) * sizeof *v);
    if (!v)
        return SHIR_E_NOMEM;
    n->kids = v;
    v[n->n_kids++] = k;
    return 0;
}

static const char *js(json_t *o, const char *k)
{
    json_t *v = json_is_object(o) ? json_object_get(o, k) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int set_name(struct av_node *n, json_t *o)
{
    const char *name = js(o, "name"), *ns = js(o, "namespace");
    char full[512];
    if (!name)
        return 0;
    if (ns && !strchr(name, '.'))
        snprintf(full, sizeof full, "%s.%s", ns, name);
    else
        snprintf(full, sizeof full, "%s", name);
    n->name = strdup(full);
    return n->name ? 0 : SHIR_E_NOMEM;
}

static struct av_node *find_named(struct scan_avro_prog *p, const char *s)
{
    for (size_t i = 0; i < p->n_nodes; i++) {
        const char *nm = p->nodes[i]->name;
        const char *dot = nm ? strrchr(nm, '.') : NULL;
        if (nm && (strcmp(nm, s) == 0 || (dot && strcmp(dot + 1, s) == 0)))
            return p->nodes[i];
    }
    return NULL;
}

static void base_render(struct av_node *n)
{
    struct scan_pq_leaf *r = &n->render;
    switch (n->kind) {
    case AV_BOOL: r->phys = SCAN_PQ_BOOLEAN; break;
    case AV_INT: r->phys = SCAN_PQ_INT32; break;
    case AV_LONG: r->phys = SCAN_PQ_INT64; break;
    case AV_FLOAT: r->phys = SCAN_PQ_FLOAT; break;
    case AV_DOUBLE: r->phys = SCAN_PQ_DOUBLE; break;
    case AV_STRING: r->phys = SCAN_PQ_BYTE_ARRAY; r->logical = SCAN_PQ_L_STRING; break;
    case AV_FIXED:
        r->phys = SCAN_PQ_FLBA;
        r->type_length = (int32_t)n->fixed_size;
        break;
    default: r->phys = SCAN_PQ_BYTE_ARRAY; break;
    }
}

static void logical_render(struct av_node *n, json_t *t)
{
    const char *lt = js(t, "logicalType");
    struct scan_pq_leaf *r = &n->render;
    if (!lt)
        return;
    if (strcmp(lt, "date") == 0 && n->kind == AV_INT) {
        r->logical = SCAN_PQ_L_DATE;
    } else if ((strstr(lt, "timestamp-") || strncmp(lt, "time-", 5) == 0) &&
               (n->kind == AV_LONG || n->kind == AV_INT)) {
        r->logical = strncmp(lt, "time-", 5) == 0 ? SCAN_PQ_L_TIME : SCAN_PQ_L_TIMESTAMP;
        r->unit = strstr(lt, "micros") ? SCAN_PQ_MICROS
                : strstr(lt, "nanos") ? SCAN_PQ_NANOS : SCAN_PQ_MILLIS;
        r->utc = strncmp(lt, "local-", 6) != 0;
    } else if (strcmp(lt, "decimal") == 0 && (n->kind == AV_BYTES || n->kind == AV_FIXED)) {
        json_t *s = json_object_get(t, "scale");
        r->logical = SCAN_PQ_L_DECIMAL;
        r->scale = json_is_integer(s) ? (int32_t)json_integer_value(s) : 0;
    } else if (strcmp(lt, "uuid") == 0 && n->kind == AV_STRING) {
        r->logical = SCAN_PQ_L_STRING;
    }
}

static long column_of(struct scan_asset *a, const char *path)
{
    if (!path)
        return -1;
    for (size_t i = 0; i < a->n_cols; i++)
        if (strcmp(a->cols[i].name, path[0] ? path : "value") == 0)
            return (long)i;
    return -1;
}

static enum av_kind prim_kind(const char *s, bool *ok)
{
    static const char *const names[] = { "null", "boolean", "int", "long", "float", "double",
                                         "bytes", "string" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i]) == 0) {
            *ok = true;
            return (enum av_kind)i;
        }
    }
    *ok = false;
    return AV_NULL;
}

/* Compile type t found at column path `path` (NULL: not a column of its own). Mirrors the
 * naming of scan_avro_schema_fill; columns are then found by name, so the two cannot drift. */
static int compile(struct scan_avro_prog *p, struct scan_asset *a, json_t *t, const char *path,
                   unsigned depth, struct av_node **out, const char **why)
{
    struct av_node *n = NULL;
    bool prim;
    int rv;
    if (!t || depth > AV_MAX_DATA_DEPTH) {
        *why = !t ? "schema without a type" : "schema nested too deep to decode";
        return SHIR_E_MALFORMED;
    }
    if (json_is_string(t)) {
        const char *s = json_string_value(t);
        enum av_kind k = prim_kind(s, &prim);
        if (!prim) {
            struct av_node *def = find_named(p, s);
            if (!def) {
                *why = "reference to an undefined type";
                return SHIR_E_MALFORMED;
            }
            if (!(n = node_new(p, AV_REF)))
                return SHIR_E_NOMEM;
            n->ref = def;
        } else {
            if (!(n = node_new(p, k)))
                return SHIR_E_NOMEM;
            base_render(n);
            n->col = k == AV_NULL ? -1 : column_of(a, path);
        }
        *out = n;
        return 0;
    }
    if (json_is_array(t)) {
        size_t non_null = 0;
        for (size_t i = 0; i < json_array_size(t); i++) {
            json_t *m = json_array_get(t, i);
            non_null += !(json_is_string(m) && strcmp(json_string_value(m), "null") == 0);
        }
        if (!(n = node_new(p, AV_UNION)))
            return SHIR_E_NOMEM;
        for (size_t i = 0; i < json_array_size(t); i++) {
            struct av_node *k;
            if ((rv = compile(p, a, json_array_get(t, i), non_null == 1 ? path : NULL, depth + 1,
                              &k, why)) != 0 || (rv = add_kid(n, k)) != 0)
                return rv;
        }
        *out = n;
        return 0;
    }
    const char *ty = js(t, "type");
    if (!json_is_object(t)) {
        *why = "schema type is neither a name, a union nor an object";
        return SHIR_E_MALFORMED;
    }
    if (!ty)
        return compile(p, a, json_object_get(t, "type"), path, depth + 1, out, why);
    enum av_kind k = prim_kind(ty, &prim);
    if (prim) {
        if (!(n = node_new(p, k)))
            return SHIR_E_NOMEM;
        base_render(n);
        logical_render(n, t);
        n->col = k == AV_NULL ? -1 : column_of(a, path);
    } else if (strcmp(ty, "record") == 0 || strcmp(ty, "error") == 0) {
        json_t *fields = json_object_get(t, "fields");
        if (!(n = node_new(p, AV_RECORD)) || (rv = set_name(n, t)) != 0)
            return SHIR_E_NOMEM;
        for (size_t i = 0; json_is_array(fields) && i < json_array_size(fields); i++) {
            json_t *f = json_array_get(fields, i);
            const char *fname = js(f, "name");
            char sub[1024];
            struct av_node *kid;
            if (!fname) {
                *why = "record field without a name";
                return SHIR_E_MALFORMED;
            }
            if (path && path[0])
                snprintf(sub, sizeof sub, "%s.%s", path, fname);
            else
                snprintf(sub, sizeof sub, "%s", fname);
            if ((rv = compile(p, a, json_object_get(f, "type"), path ? sub : NULL, depth + 1,
                              &kid, why)) != 0 || (rv = add_kid(n, kid)) != 0)
                return rv;
        }
    } else if (strcmp(ty, "enum") == 0 || strcmp(ty, "fixed") == 0) {
        json_t *size = json_object_get(t, "size");
        if (!(n = node_new(p, ty[0] == 'e' ? AV_ENUM : AV_FIXED)) || (rv = set_name(n, t)) != 0)
            return SHIR_E_NOMEM;
        n->symbols = json_object_get(t, "symbols");
        if (n->kind == AV_FIXED) {
            if (!json_is_integer(size) || json_integer_value(size) < 0 ||
                json_integer_value(size) > (1 << 20)) {
                *why = "fixed type without a sane size";
                return SHIR_E_MALFORMED;
            }
            n->fixed_size = (size_t)json_integer_value(size);
        }
        base_render(n);
        logical_render(n, t);
        n->col = column_of(a, path);
    } else if (strcmp(ty, "array") == 0 || strcmp(ty, "map") == 0) {
        struct av_node *kid;
        if (!(n = node_new(p, ty[0] == 'a' ? AV_ARRAY : AV_MAP)))
            return SHIR_E_NOMEM;
        if ((rv = compile(p, a, json_object_get(t, ty[0] == 'a' ? "items" : "values"), NULL,
                          depth + 1, &kid, why)) != 0 || (rv = add_kid(n, kid)) != 0)
            return rv;
    } else {
        struct av_node *def = find_named(p, ty);
        if (!def) {
            *why = "unknown type";
            return SHIR_E_MALFORMED;
        }
        if (!(n = node_new(p, AV_REF)))
            return SHIR_E_NOMEM;
        n->ref = def;
    }
    *out = n;
    return 0;
}

void scan_avro_prog_free(struct scan_avro_prog *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_nodes; i++) {
        free(p->nodes[i]->kids);
        free(p->nodes[i]->name);
        free(p->nodes[i]);
    }
    free(p->nodes);
    json_decref(p->root);
    free(p);
}

int scan_avro_prog_new(const unsigned char *json, size_t n, struct scan_asset *a,
                       struct scan_avro_prog **out, const char **why)
{
    json_error_t jerr;
    struct av_node *top;
    struct scan_avro_prog *p = calloc(1, sizeof *p);
    int rv;
    *out = NULL;
    if (!p)
        return SHIR_E_NOMEM;
    p->root = json_loadb((const char *)json, n, JSON_DECODE_ANY, &jerr);
    if (!p->root) {
        *why = "schema is not JSON";
        rv = SHIR_E_MALFORMED;
        goto err;
    }
    if ((rv = compile(p, a, p->root, "", 0, &top, why)) != 0)
        goto err;
    /* The top node is the first one made (nodes[0]): decoding starts there. */
    *out = p;
    return 0;
err:
    scan_avro_prog_free(p);
    return rv;
}

/* ------------------------------------------------------------------------------------------- */

struct cursor {
    const unsigned char *p;
    size_t left;
    uint64_t ops;
    const struct scan_limits *lim;
    struct scan_asset *a;
};

static int rd_long(struct cursor *c, int64_t *v)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (c->left == 0)
            return SHIR_E_MALFORMED;
        unsigned char b = *c->p++;
        c->left--;
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = (int64_t)(x >> 1) ^ -(int64_t)(x & 1);
            return 0;
        }
    }
    return SHIR_E_MALFORMED;
}

static int take(struct cursor *c, size_t n, const unsigned char **out)
{
    if (n > c->left)
        return SHIR_E_MALFORMED;
    *out = c->p;
    c->p += n;
    c->left -= n;
    return 0;
}

static int emit(struct cursor *c, const struct av_node *n, const unsigned char *v, size_t len)
{
    char text[SCAN_PQ_MAX_TEXT];
    if (n->col < 0 || (size_t)n->col >= c->a->n_cols)
        return 0;
    struct scan_column *col = &c->a->cols[n->col];
    if (col->n_samples >= c->lim->max_rows)
        return 0;
    int k = scan_parquet_render(&n->render, v, len, text, sizeof text);
    return k < 0 ? 0 : scan_column_add_sample(col, c->lim, text, (size_t)k);
}

static int decode(struct cursor *c, const struct av_node *n, unsigned depth)
{
    const unsigned char *v;
    unsigned char le[8];
    int64_t x;
    int rv;
    if (depth > AV_MAX_DATA_DEPTH || ++c->ops > AV_OPS_PER_BLOCK)
        return SHIR_E_MALFORMED;
    switch (n->kind) {
    case AV_NULL: return 0;
    case AV_BOOL:
        if ((rv = take(c, 1, &v)) != 0)
            return rv;
        return emit(c, n, v, 1);
    case AV_INT:
    case AV_LONG:
        if ((rv = rd_long(c, &x)) != 0)
            return rv;
        if (n->kind == AV_INT && (x < INT32_MIN || x > INT32_MAX))
            return SHIR_E_MALFORMED;
        for (size_t i = 0; i < 8; i++)
            le[i] = (unsigned char)((uint64_t)x >> (8 * i));
        return emit(c, n, le, n->kind == AV_INT ? 4 : 8);
    case AV_FLOAT:
    case AV_DOUBLE: {
        size_t w = n->kind == AV_FLOAT ? 4 : 8;
        if ((rv = take(c, w, &v)) != 0)
            return rv;
        return emit(c, n, v, w);
    }
    case AV_BYTES:
    case AV_STRING:
        if ((rv = rd_long(c, &x)) != 0)
            return rv;
        if (x < 0 || (uint64_t)x > c->left)
            return SHIR_E_MALFORMED;
        if ((rv = take(c, (size_t)x, &v)) != 0)
            return rv;
        return emit(c, n, v, (size_t)x);
    case AV_FIXED:
        if ((rv = take(c, n->fixed_size, &v)) != 0)
            return rv;
        return emit(c, n, v, n->fixed_size);
    case AV_ENUM: {
        if ((rv = rd_long(c, &x)) != 0)
            return rv;
        json_t *sym = x >= 0 ? json_array_get(n->symbols, (size_t)x) : NULL;
        if (!json_is_string(sym))
            return SHIR_E_MALFORMED;
        if (n->col >= 0 && (size_t)n->col < c->a->n_cols)
            return scan_column_add_sample(&c->a->cols[n->col], c->lim, json_string_value(sym),
                                          strlen(json_string_value(sym)));
        return 0;
    }
    case AV_RECORD:
        for (size_t i = 0; i < n->n_kids; i++)
            if ((rv = decode(c, n->kids[i], depth + 1)) != 0)
                return rv;
        return 0;
    case AV_ARRAY:
    case AV_MAP:
        /* Blocks of items: long count (negative: then a byte size), 0 ends. */
        for (;;) {
            if ((rv = rd_long(c, &x)) != 0)
                return rv;
            if (x == 0)
                return 0;
            if (x < 0) {
                int64_t bytes;
                if (x == INT64_MIN || (rv = rd_long(c, &bytes)) != 0)
                    return SHIR_E_MALFORMED;
                x = -x;
            }
            for (int64_t i = 0; i < x; i++) {
                if (n->kind == AV_MAP) {
                    int64_t kl;
                    if ((rv = rd_long(c, &kl)) != 0 || kl < 0 || (uint64_t)kl > c->left ||
                        (rv = take(c, (size_t)kl, &v)) != 0)
                        return SHIR_E_MALFORMED;
                }
                if ((rv = decode(c, n->kids[0], depth + 1)) != 0)
                    return rv;
            }
        }
    case AV_UNION:
        if ((rv = rd_long(c, &x)) != 0)
            return rv;
        if (x < 0 || (uint64_t)x >= n->n_kids)
            return SHIR_E_MALFORMED;
        return decode(c, n->kids[x], depth + 1);
    case AV_REF: return decode(c, n->ref, depth + 1);
    }
    return SHIR_E_MALFORMED;
}

int scan_avro_sample_block(const struct scan_avro_prog *p, const unsigned char *buf, size_t n,
                           int64_t count, const struct scan_limits *lim, struct scan_asset *a,
                           int64_t *decoded, const char **why)
{
    struct cursor c = { .p = buf, .left = n, .lim = lim, .a = a };
    *decoded = 0;
    for (int64_t i = 0; i < count && *decoded < (int64_t)lim->max_rows; i++) {
        int rv = decode(&c, p->nodes[0], 0);
        if (rv == SHIR_E_NOMEM)
            return rv;
        if (rv != 0) {
            *why = c.ops > AV_OPS_PER_BLOCK ? "block too costly to decode" : "malformed object";
            return rv;
        }
        (*decoded)++;
    }
    return 0;
}

int scan_avro_decompress(const char *codec, const unsigned char *src, size_t sn,
                         unsigned char **out, size_t *on, const char **why)
{
    unsigned char *dst = NULL;
    *out = NULL;
    *on = 0;
    if (!codec || strcmp(codec, "null") == 0) {
        dst = malloc(sn ? sn : 1);
        if (!dst)
            return SHIR_E_NOMEM;
        memcpy(dst, src, sn);
        *out = dst;
        *on = sn;
        return 0;
    }
    if (strcmp(codec, "deflate") == 0) {
        /* Raw deflate (RFC 1951): inflate into a buffer doubled up to SCAN_AVRO_MAX_BLOCK. */
        z_stream z;
        size_t cap = sn * 4 + 1024, len = 0;
        int zr = Z_OK;
        memset(&z, 0, sizeof z);
        if (inflateInit2(&z, -15) != Z_OK)
            return SHIR_E_NOMEM;
        z.next_in = (unsigned char *)(uintptr_t)src;
        z.avail_in = (uInt)sn;
        while (zr != Z_STREAM_END) {
            if (cap > SCAN_AVRO_MAX_BLOCK)
                cap = SCAN_AVRO_MAX_BLOCK;
            unsigned char *nd = len < cap ? realloc(dst, cap) : NULL;
            if (!nd) {
                inflateEnd(&z);
                free(dst);
                *why = len < cap ? "out of memory" : "block inflates past 16 MiB";
                return len < cap ? SHIR_E_NOMEM : SHIR_E_MALFORMED;
            }
            dst = nd;
            z.next_out = dst + len;
            z.avail_out = (uInt)(cap - len);
            zr = inflate(&z, Z_NO_FLUSH);
            len = cap - z.avail_out;
            if (zr != Z_OK && zr != Z_STREAM_END) {
                inflateEnd(&z);
                free(dst);
                *why = "corrupt deflate block";
                return SHIR_E_MALFORMED;
            }
            if (zr == Z_OK && z.avail_in == 0 && z.avail_out != 0)
                break;   /* input ended without a stream end: take what came out */
            cap *= 2;
        }
        inflateEnd(&z);
        *out = dst;
        *on = len;
        return 0;
    }
    if (strcmp(codec, "snappy") == 0) {
        /* Snappy-compressed data followed by the CRC-32 of the uncompressed data (4 bytes). */
        size_t len;
        if (sn < 4 || snappy_uncompressed_length((const char *)src, sn - 4, &len) != SNAPPY_OK ||
            len > SCAN_AVRO_MAX_BLOCK) {
            *why = "corrupt snappy block";
            return SHIR_E_MALFORMED;
        }
        if (!(dst = malloc(len ? len : 1)))
            return SHIR_E_NOMEM;
        if (snappy_uncompress((const char *)src, sn - 4, (char *)dst, &len) != SNAPPY_OK) {
            free(dst);
            *why = "corrupt snappy block";
            return SHIR_E_MALFORMED;
        }
        *out = dst;
        *on = len;
        return 0;
    }
    if (strcmp(codec, "zstandard") == 0) {
        unsigned long long len = ZSTD_getFrameContentSize(src, sn);
        if (len == ZSTD_CONTENTSIZE_ERROR || len == ZSTD_CONTENTSIZE_UNKNOWN ||
            len > SCAN_AVRO_MAX_BLOCK) {
            *why = "zstandard block without a usable content size";
            return SHIR_E_UNSUPPORTED;
        }
        if (!(dst = malloc(len ? (size_t)len : 1)))
            return SHIR_E_NOMEM;
        size_t r = ZSTD_decompress(dst, (size_t)len, src, sn);
        if (ZSTD_isError(r)) {
            free(dst);
            *why = "corrupt zstandard block";
            return SHIR_E_MALFORMED;
        }
        *out = dst;
        *on = r;
        return 0;
    }
    if (strcmp(codec, "lz4") == 0) {
        /* Not in the Avro specification; fastavro writes it (see codecs.h). */
        int rv = scan__lz4_sized(src, sn, SCAN_AVRO_MAX_BLOCK, out, on);
        if (rv == SHIR_E_MALFORMED)
            *why = "corrupt lz4 block";
        return rv;
    }
    *why = "unsupported codec";
    return SHIR_E_UNSUPPORTED;
}
