/* Avro object container files: header, schema flattening (jansson), block walk for the row
 * count. See scan/columnar/avro.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "scan/columnar/avro.h"

static int rd_long(const unsigned char **p, size_t *left, int64_t *v)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (*left == 0)
            return SHIR_E_TRUNC;
        unsigned char b = *(*p)++;
        (*left)--;
        if (i == 9 && b > 1)
            return SHIR_E_MALFORMED;
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = (int64_t)(x >> 1) ^ -(int64_t)(x & 1);
            return 0;
        }
    }
    return SHIR_E_MALFORMED;
}

static int rd_bytes(const unsigned char **p, size_t *left, const unsigned char **out, size_t *n)
{
    int64_t len;
    int rv = rd_long(p, left, &len);
    if (rv != 0)
        return rv;
    if (len < 0)
        return SHIR_E_MALFORMED;
    if ((uint64_t)len > *left)
        return SHIR_E_TRUNC;
    *out = *p;
    *n = (size_t)len;
    *p += len;
    *left -= (size_t)len;
    return 0;
}

int scan_avro_header_decode(const unsigned char *buf, size_t n, struct scan_avro_header *h,
                            const char **why)
{
    const unsigned char *p = buf;
    size_t left = n;
    int rv;
    memset(h, 0, sizeof *h);
    *why = "truncated header";
    if (n < 4)
        return SHIR_E_TRUNC;
    if (memcmp(buf, "Obj\x01", 4) != 0) {
        *why = "bad magic";
        return SHIR_E_MALFORMED;
    }
    p += 4;
    left -= 4;
    for (;;) {
        int64_t count, bsize;
        if ((rv = rd_long(&p, &left, &count)) != 0)
            goto bad;
        if (count == 0)
            break;
        if (count < 0) {
            if (count == INT64_MIN)
                goto malformed;
            count = -count;
            if ((rv = rd_long(&p, &left, &bsize)) != 0)
                goto bad;
        }
        /* Each entry takes at least 2 bytes (two empty lengths). */
        if ((uint64_t)count > left / 2 + 1) {
            rv = SHIR_E_TRUNC;
            goto bad;
        }
        for (int64_t i = 0; i < count; i++) {
            const unsigned char *k, *v;
            size_t kn, vn;
            if ((rv = rd_bytes(&p, &left, &k, &kn)) != 0 ||
                (rv = rd_bytes(&p, &left, &v, &vn)) != 0)
                goto bad;
            if (kn == 11 && memcmp(k, "avro.schema", 11) == 0) {
                h->schema = v;
                h->schema_len = vn;
            } else if (kn == 10 && memcmp(k, "avro.codec", 10) == 0) {
                h->codec = v;
                h->codec_len = vn;
            }
        }
    }
    if (left < 16)
        return SHIR_E_TRUNC;
    memcpy(h->sync, p, 16);
    h->header_len = n - left + 16;
    if (!h->schema) {
        *why = "no avro.schema in the header";
        return SHIR_E_MALFORMED;
    }
    *why = NULL;
    return 0;
bad:
    if (rv == SHIR_E_TRUNC)
        return rv;
malformed:
    *why = "malformed header";
    return SHIR_E_MALFORMED;
}

int scan_avro_block_prefix(const unsigned char *buf, size_t n, int64_t *count, int64_t *size,
                           size_t *used)
{
    const unsigned char *p = buf;
    size_t left = n;
    int rv;
    if ((rv = rd_long(&p, &left, count)) != 0 || (rv = rd_long(&p, &left, size)) != 0)
        return rv;
    if (*count < 0 || *size < 0)
        return SHIR_E_MALFORMED;
    *used = n - left;
    return 0;
}

/* ------------------------------------------------------------------------------------------- */
/* Schema flattening. */

struct named {
    char *name;
    enum scan_type type;
};

struct walk {
    const struct scan_limits *lim;
    struct scan_asset *a;
    struct named *names;
    size_t n_names;
    bool stop;            /* column limit reached */
};

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_is_object(o) ? json_object_get(o, k) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int add_col(struct walk *w, const char *path, enum scan_type t, const char *detail)
{
    struct scan_column *c;
    if (w->stop)
        return 0;
    int rv = scan_asset_add_column(w->a, w->lim, path[0] ? path : "value", &c);
    if (rv == SHIR_E_TOOBIG) {
        w->stop = true;
        return 0;
    }
    if (rv != 0)
        return rv;
    c->type = t;
    return scan_set_str(&c->type_detail, detail);
}

static enum scan_type primitive(const char *s)
{
    static const struct {
        const char *n;
        enum scan_type t;
    } p[] = {
        { "null", SCAN_TYPE_NULL },     { "boolean", SCAN_TYPE_BOOLEAN },
        { "int", SCAN_TYPE_INTEGER },   { "long", SCAN_TYPE_INTEGER },
        { "float", SCAN_TYPE_DECIMAL }, { "double", SCAN_TYPE_DECIMAL },
        { "bytes", SCAN_TYPE_BINARY },  { "string", SCAN_TYPE_STRING },
    };
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        if (strcmp(s, p[i].n) == 0)
            return p[i].t;
    return SCAN_TYPE_UNKNOWN;
}

static int remember(struct walk *w, json_t *o, enum scan_type t)
{
    const char *name = jstr(o, "name"), *ns = jstr(o, "namespace");
    char full[512];
    if (!name || w->n_names >= 10000)
        return 0;
    if (ns && !strchr(name, '.'))
        snprintf(full, sizeof full, "%s.%s", ns, name);
    else
        snprintf(full, sizeof full, "%s", name);
    struct named *p = realloc(w->names, (w->n_names + 1) * sizeof *p);
    if (!p)
        return SHIR_E_NOMEM;
    w->names = p;
    p[w->n_names].name = strdup(full);
    if (!p[w->n_names].name)
        return SHIR_E_NOMEM;
    p[w->n_names++].type = t;
    return 0;
}

/* A type's short description for details: "long", "record Address", "union<...>". */
static void describe(json_t *t, char *out, size_t cap)
{
    if (json_is_string(t)) {
        snprintf(out, cap, "%s", json_string_value(t));
    } else if (json_is_array(t)) {
        size_t k = (size_t)snprintf(out, cap, "union<");
        for (size_t i = 0; i < json_array_size(t) && k + 2 < cap; i++) {
            char sub[64];
            describe(json_array_get(t, i), sub, sizeof sub);
            k += (size_t)snprintf(out + k, cap - k, "%s%s", i ? "," : "", sub);
        }
        if (k + 2 < cap)
            snprintf(out + k, cap - k, ">");
    } else {
        const char *ty = jstr(t, "type"), *lt = jstr(t, "logicalType");
        const char *nm = jstr(t, "name");
        if (lt)
            snprintf(out, cap, "%s/%s", ty ? ty : "?", lt);
        else if (ty && nm)
            snprintf(out, cap, "%s %s", ty, nm);
        else
            snprintf(out, cap, "%s", ty ? ty : "?");
    }
}

static int walk_type(struct walk *w, json_t *t, const char *path, unsigned depth);

static int walk_record(struct walk *w, json_t *t, const char *path, unsigned depth)
{
    json_t *fields = json_object_get(t, "fields");
    int rv;
    if ((rv = remember(w, t, SCAN_TYPE_STRUCT)) != 0)
        return rv;
    if (!json_is_array(fields) || json_array_size(fields) == 0 ||
        depth >= SCAN_AVRO_MAX_DEPTH) {
        char d[128];
        snprintf(d, sizeof d, "record %s", jstr(t, "name") ? jstr(t, "name") : "?");
        return add_col(w, path, SCAN_TYPE_STRUCT, d);
    }
    for (size_t i = 0; i < json_array_size(fields) && !w->stop; i++) {
        json_t *f = json_array_get(fields, i);
        const char *name = jstr(f, "name");
        char sub[1024];
        if (!name)
            return SHIR_E_MALFORMED;
        if (path[0])
            snprintf(sub, sizeof sub, "%s.%s", path, name);
        else
            snprintf(sub, sizeof sub, "%s", name);
        if ((rv = walk_type(w, json_object_get(f, "type"), sub, depth + 1)) != 0)
            return rv;
    }
    return 0;
}

static int walk_type(struct walk *w, json_t *t, const char *path, unsigned depth)
{
    char d[256];
    if (!t || depth > SCAN_AVRO_MAX_DEPTH)
        return SHIR_E_MALFORMED;
    if (json_is_string(t)) {
        const char *s = json_string_value(t);
        enum scan_type p = primitive(s);
        if (p == SCAN_TYPE_UNKNOWN) {   /* a reference to a named type defined earlier */
            for (size_t i = 0; i < w->n_names; i++) {
                const char *dot = strrchr(w->names[i].name, '.');
                if (strcmp(w->names[i].name, s) == 0 || (dot && strcmp(dot + 1, s) == 0)) {
                    p = w->names[i].type;
                    break;
                }
            }
        }
        return add_col(w, path, p, s);
    }
    if (json_is_array(t)) {
        /* ["null", X] is an optional X; other unions stay unions. */
        json_t *only = NULL;
        size_t non_null = 0;
        for (size_t i = 0; i < json_array_size(t); i++) {
            json_t *m = json_array_get(t, i);
            if (!(json_is_string(m) && strcmp(json_string_value(m), "null") == 0)) {
                only = m;
                non_null++;
            }
        }
        if (non_null == 1)
            return walk_type(w, only, path, depth + 1);
        describe(t, d, sizeof d);
        return add_col(w, path, non_null == 0 ? SCAN_TYPE_NULL : SCAN_TYPE_UNKNOWN, d);
    }
    if (!json_is_object(t))
        return SHIR_E_MALFORMED;
    const char *ty = jstr(t, "type"), *lt = jstr(t, "logicalType");
    if (!ty)   /* {"type": {...}} or {"type": [...]} */
        return walk_type(w, json_object_get(t, "type"), path, depth + 1);
    describe(t, d, sizeof d);
    if (lt) {
        enum scan_type lty = SCAN_TYPE_UNKNOWN;
        if (strcmp(lt, "decimal") == 0) {
            json_t *p = json_object_get(t, "precision"), *s = json_object_get(t, "scale");
            snprintf(d, sizeof d, "%s/decimal(%" JSON_INTEGER_FORMAT ",%" JSON_INTEGER_FORMAT ")",
                     ty, json_is_integer(p) ? json_integer_value(p) : 0,
                     json_is_integer(s) ? json_integer_value(s) : 0);
            lty = SCAN_TYPE_DECIMAL;
        } else if (strcmp(lt, "date") == 0) {
            lty = SCAN_TYPE_DATE;
        } else if (strncmp(lt, "timestamp-", 10) == 0 || strncmp(lt, "local-timestamp-", 16) == 0) {
            lty = SCAN_TYPE_TIMESTAMP;
        } else if (strncmp(lt, "time-", 5) == 0) {
            lty = SCAN_TYPE_TIME;
        } else if (strcmp(lt, "uuid") == 0) {
            lty = SCAN_TYPE_STRING;
        }
        if (lty != SCAN_TYPE_UNKNOWN) {
            if (strcmp(ty, "fixed") == 0 && remember(w, t, lty) != 0)
                return SHIR_E_NOMEM;
            return add_col(w, path, lty, d);
        }
    }
    if (strcmp(ty, "record") == 0 || strcmp(ty, "error") == 0)
        return walk_record(w, t, path, depth);
    if (strcmp(ty, "enum") == 0 || strcmp(ty, "fixed") == 0) {
        enum scan_type et = ty[0] == 'e' ? SCAN_TYPE_STRING : SCAN_TYPE_BINARY;
        if (remember(w, t, et) != 0)
            return SHIR_E_NOMEM;
        return add_col(w, path, et, d);
    }
    if (strcmp(ty, "array") == 0 || strcmp(ty, "map") == 0) {
        char sub[200];
        describe(json_object_get(t, ty[0] == 'a' ? "items" : "values"), sub, sizeof sub);
        snprintf(d, sizeof d, "%s<%s>", ty, sub);
        return add_col(w, path, ty[0] == 'a' ? SCAN_TYPE_ARRAY : SCAN_TYPE_MAP, d);
    }
    return add_col(w, path, primitive(ty), d);   /* {"type": "long"} and unknown types */
}

int scan_avro_schema_fill(const unsigned char *js, size_t n, const struct scan_limits *lim,
                          struct scan_asset *a)
{
    json_error_t jerr;
    struct walk w = { .lim = lim, .a = a };
    int rv;
    json_t *root = json_loadb((const char *)js, n, JSON_DECODE_ANY, &jerr);
    if (!root) {
        rv = scan_asset_add_error(a, "avro: schema is not JSON: %s", jerr.text);
        return rv != 0 ? rv : SHIR_E_MALFORMED;
    }
    rv = walk_type(&w, root, "", 0);
    if (rv == SHIR_E_MALFORMED && scan_asset_add_error(a, "avro: malformed schema") != 0)
        rv = SHIR_E_NOMEM;
    for (size_t i = 0; i < w.n_names; i++)
        free(w.names[i].name);
    free(w.names);
    json_decref(root);
    return rv;
}

/* ------------------------------------------------------------------------------------------- */

/* Walk the blocks with two small preads each (prefix, then the sync marker after the data). */
static int count_rows(const struct scan_file *f, const struct scan_avro_header *h,
                      struct scan_asset *a)
{
    uint64_t off = h->header_len, rows = 0;
    unsigned char win[20], sync[16];
    for (unsigned b = 0; off < f->size; b++) {
        size_t got, used;
        int64_t count, size;
        int rv;
        if (b >= SCAN_AVRO_MAX_BLOCKS)
            return 0;   /* not cheap: row count stays unknown */
        if ((rv = scan_file_read_at(f, off, win, sizeof win, &got)) != 0)
            return rv;
        a->bytes_read += got;
        rv = scan_avro_block_prefix(win, got, &count, &size, &used);
        if (rv != 0 || (uint64_t)size > f->size - off - used ||
            f->size - off - used - (uint64_t)size < 16)
            return scan_asset_add_error(a, "avro: corrupt or truncated block at offset %" PRIu64,
                                        off);
        off += used + (uint64_t)size;
        if ((rv = scan_file_read_at(f, off, sync, 16, &got)) != 0)
            return rv;
        a->bytes_read += got;
        if (got != 16 || memcmp(sync, h->sync, 16) != 0)
            return scan_asset_add_error(a, "avro: sync marker mismatch at offset %" PRIu64, off);
        off += 16;
        rows += (uint64_t)count;
    }
    a->row_count = rows > INT64_MAX ? -1 : (int64_t)rows;
    return 0;
}

/* L3: decode the first blocks' objects for samples, within lim->max_struct_bytes of blocks. */
static int sample_blocks(const struct scan_file *f, const struct scan_avro_header *h,
                         const struct scan_limits *lim, struct scan_asset *a)
{
    struct scan_avro_prog *prog = NULL;
    const char *why = NULL;
    char codec[32] = "null";
    unsigned char win[20], *data = NULL, *plain = NULL;
    uint64_t off = h->header_len, budget = lim->max_struct_bytes;
    int64_t total = 0;
    int rv;
    if (h->codec)
        snprintf(codec, sizeof codec, "%.*s", (int)(h->codec_len < 31 ? h->codec_len : 31),
                 (const char *)h->codec);
    rv = scan_avro_prog_new(h->schema, h->schema_len, a, &prog, &why);
    if (rv != 0)
        return rv == SHIR_E_NOMEM ? rv : scan_asset_add_error(a, "avro: values not sampled: %s",
                                                               why);
    while (off < f->size && total < (int64_t)lim->max_rows) {
        size_t got, used, plain_n;
        int64_t count, size, decoded;
        if ((rv = scan_file_read_at(f, off, win, sizeof win, &got)) != 0)
            break;
        a->bytes_read += got;
        if (scan_avro_block_prefix(win, got, &count, &size, &used) != 0 ||
            (uint64_t)size > f->size - off - used || (uint64_t)size > budget)
            break;   /* corrupt blocks are reported by count_rows; the budget just ends */
        free(data);
        if (!(data = malloc(size ? (size_t)size : 1))) {
            rv = SHIR_E_NOMEM;
            break;
        }
        if ((rv = scan_file_read_at(f, off + used, data, (size_t)size, &got)) != 0)
            break;
        a->bytes_read += got;
        budget -= got;
        if (got != (size_t)size)
            break;
        free(plain);
        plain = NULL;
        rv = scan_avro_decompress(codec, data, got, &plain, &plain_n, &why);
        if (rv == 0)
            rv = scan_avro_sample_block(prog, plain, plain_n, count, lim, a, &decoded, &why);
        if (rv == SHIR_E_NOMEM)
            break;
        if (rv != 0) {
            rv = scan_asset_add_error(a, "avro: values not sampled past offset %" PRIu64 ": %s",
                                      off, why);
            break;
        }
        total += decoded;
        off += used + (uint64_t)size + 16;
    }
    free(data);
    free(plain);
    scan_avro_prog_free(prog);
    return rv;
}

int scan_read_avro(const struct scan_file *f, enum scan_level level,
                   const struct scan_limits *lim, struct scan_asset *a)
{
    struct scan_avro_header h;
    const char *why = NULL;
    unsigned char *buf = NULL;
    size_t want = f->size < 65536 ? (size_t)f->size : 65536, got;
    int rv;
    if ((rv = scan_set_str(&a->format, "avro")) != 0)
        return rv;
    /* 64 KiB holds nearly every header; a bigger schema costs one more read, up to 16 MiB. */
    for (;;) {
        free(buf);
        buf = malloc(want ? want : 1);
        if (!buf)
            return SHIR_E_NOMEM;
        if ((rv = scan_file_read_at(f, 0, buf, want, &got)) != 0)
            goto out;
        a->bytes_read += got;
        rv = scan_avro_header_decode(buf, got, &h, &why);
        if (rv != SHIR_E_TRUNC || got < want || want >= f->size || want >= SCAN_AVRO_MAX_HEADER)
            break;
        want = f->size < SCAN_AVRO_MAX_HEADER ? (size_t)f->size : SCAN_AVRO_MAX_HEADER;
    }
    if (rv != 0) {
        rv = scan_asset_add_error(a, "avro: %s", rv == SHIR_E_TRUNC ? "truncated header" : why);
        goto out;
    }
    if (h.codec && !(h.codec_len == 4 && memcmp(h.codec, "null", 4) == 0)) {
        if ((rv = scan_set_str(&a->compression, NULL)) != 0)
            goto out;
        char codec[32];
        snprintf(codec, sizeof codec, "%.*s", (int)(h.codec_len < 31 ? h.codec_len : 31),
                 (const char *)h.codec);
        if ((rv = scan_set_str(&a->compression, codec)) != 0)
            goto out;
    }
    rv = scan_avro_schema_fill(h.schema, h.schema_len, lim, a);
    if (rv == SHIR_E_MALFORMED) {
        rv = 0;
        goto out;
    }
    if (rv != 0)
        goto out;
    rv = count_rows(f, &h, a);
    if (rv == 0 && level >= SCAN_L3)
        rv = sample_blocks(f, &h, lim, a);
out:
    free(buf);
    return rv;
}
