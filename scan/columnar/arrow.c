/* Arrow IPC files / Feather v2: a bounds-checked flatbuffer reader for the footer and messages,
 * the schema as columns, the row count, stream detection, and scan_read_arrow (the only part
 * that does I/O, with arrow_stream.c for the stream format). See scan/columnar/arrow.h. Values
 * are not sampled: the schema and row count come from metadata only. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/columnar/arrow.h"

/* ------------------------------------------------------------------------------------------- */
/* Flatbuffers, just enough: tables (through their vtable), strings, vectors of offsets or of
 * structs, scalars. Positions are offsets into the buffer; every read is checked. */
struct fb {
    const unsigned char *p;
    size_t n;
};

struct fbt {
    size_t pos;      /* table start */
    size_t vt;       /* vtable start */
    uint16_t vtn;    /* vtable size in bytes */
    uint16_t tsize;  /* table size in bytes */
};

static bool fb_has(const struct fb *b, size_t pos, size_t len)
{
    return pos <= b->n && len <= b->n - pos;
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static bool fb_table(const struct fb *b, size_t pos, struct fbt *t)
{
    if (!fb_has(b, pos, 4))
        return false;
    int64_t vt = (int64_t)pos - (int32_t)rd32(b->p + pos);
    if (vt < 0 || !fb_has(b, (size_t)vt, 4))
        return false;
    t->pos = pos;
    t->vt = (size_t)vt;
    t->vtn = rd16(b->p + t->vt);
    t->tsize = rd16(b->p + t->vt + 2);
    return t->vtn >= 4 && fb_has(b, t->vt, t->vtn) && t->tsize >= 4 && fb_has(b, pos, t->tsize);
}

/* Position of field `id` in the table, or 0 when absent; `len` bytes must fit in the table. */
static size_t fb_field(const struct fbt *t, const struct fb *b, unsigned id, size_t len)
{
    size_t at = 4 + 2 * (size_t)id;
    if (at + 2 > t->vtn)
        return 0;
    uint16_t fo = rd16(b->p + t->vt + at);
    if (fo == 0 || (size_t)fo + len > t->tsize)
        return 0;
    return t->pos + fo;
}

static int64_t fb_int(const struct fbt *t, const struct fb *b, unsigned id, size_t width,
                      int64_t def)
{
    size_t at = fb_field(t, b, id, width);
    if (!at)
        return def;
    switch (width) {
    case 1: return (int8_t)b->p[at];
    case 2: return (int16_t)rd16(b->p + at);
    case 4: return (int32_t)rd32(b->p + at);
    default: return (int64_t)((uint64_t)rd32(b->p + at) | (uint64_t)rd32(b->p + at + 4) << 32);
    }
}

/* Follow the uoffset stored in field `id` (a table, string or vector). */
static bool fb_ref(const struct fbt *t, const struct fb *b, unsigned id, size_t *target)
{
    size_t at = fb_field(t, b, id, 4);
    if (!at)
        return false;
    uint32_t off = rd32(b->p + at);
    if (off == 0 || !fb_has(b, at, (size_t)off))
        return false;
    *target = at + off;
    return true;
}

static bool fb_subtable(const struct fbt *t, const struct fb *b, unsigned id, struct fbt *sub)
{
    size_t at;
    return fb_ref(t, b, id, &at) && fb_table(b, at, sub);
}

/* A vector of `esize`-byte elements: its first element and count. */
static bool fb_vector(const struct fbt *t, const struct fb *b, unsigned id, size_t esize,
                      size_t *first, size_t *count)
{
    size_t at;
    if (!fb_ref(t, b, id, &at) || !fb_has(b, at, 4))
        return false;
    size_t cnt = rd32(b->p + at);
    if (cnt > (b->n - at - 4) / esize)
        return false;
    *first = at + 4;
    *count = cnt;
    return true;
}

static bool fb_string(const struct fbt *t, const struct fb *b, unsigned id, const char **s,
                      size_t *len)
{
    size_t first, cnt;
    if (!fb_vector(t, b, id, 1, &first, &cnt))
        return false;
    *s = (const char *)b->p + first;
    *len = cnt;
    return true;
}

/* Element i of a vector of offsets to tables. */
static bool fb_vec_table(const struct fb *b, size_t first, size_t i, struct fbt *t)
{
    size_t at = first + 4 * i;
    uint32_t off = rd32(b->p + at);
    return off != 0 && fb_has(b, at, (size_t)off) && fb_table(b, at + off, t);
}

/* ------------------------------------------------------------------------------------------- */
/* Schema. */

enum arrow_type {
    AT_NONE = 0, AT_NULL, AT_INT, AT_FLOAT, AT_BINARY, AT_UTF8, AT_BOOL, AT_DECIMAL, AT_DATE,
    AT_TIME, AT_TIMESTAMP, AT_INTERVAL, AT_LIST, AT_STRUCT, AT_UNION, AT_FIXED_BINARY,
    AT_FIXED_LIST, AT_MAP, AT_DURATION, AT_LARGE_BINARY, AT_LARGE_UTF8, AT_LARGE_LIST,
    AT_RUN_END, AT_BINARY_VIEW, AT_UTF8_VIEW, AT_LIST_VIEW, AT_LARGE_LIST_VIEW,
};

static const char *const unit_names[] = {"SECOND", "MILLISECOND", "MICROSECOND", "NANOSECOND"};

static const char *unit_name(int64_t u)
{
    return u >= 0 && u < 4 ? unit_names[u] : "?";
}

/* The column type and its detail text ("Int(64,signed)", "Timestamp(MICROSECOND,UTC)"). */
static enum scan_type field_type(const struct fb *b, int64_t tt, const struct fbt *ty, bool has,
                                 char *d, size_t dn)
{
    int64_t bits, unit;
    const char *tz;
    size_t tzn;
    switch (tt) {
    case AT_NULL: snprintf(d, dn, "Null"); return SCAN_TYPE_NULL;
    case AT_INT:
        bits = has ? fb_int(ty, b, 0, 4, 0) : 0;
        snprintf(d, dn, "Int(%" PRId64 ",%s)", bits,
                 has && fb_int(ty, b, 1, 1, 0) ? "signed" : "unsigned");
        return SCAN_TYPE_INTEGER;
    case AT_FLOAT:
        snprintf(d, dn, "FloatingPoint(%s)",
                 (const char *[]){"HALF", "SINGLE", "DOUBLE", "?"}[has ? (fb_int(ty, b, 0, 2, 0) & 3)
                                                                       : 3]);
        return SCAN_TYPE_DECIMAL;
    case AT_DECIMAL:
        snprintf(d, dn, "Decimal(%" PRId64 ",%" PRId64 ")", has ? fb_int(ty, b, 0, 4, 0) : 0,
                 has ? fb_int(ty, b, 1, 4, 0) : 0);
        return SCAN_TYPE_DECIMAL;
    case AT_BINARY: snprintf(d, dn, "Binary"); return SCAN_TYPE_BINARY;
    case AT_LARGE_BINARY: snprintf(d, dn, "LargeBinary"); return SCAN_TYPE_BINARY;
    case AT_BINARY_VIEW: snprintf(d, dn, "BinaryView"); return SCAN_TYPE_BINARY;
    case AT_FIXED_BINARY:
        snprintf(d, dn, "FixedSizeBinary(%" PRId64 ")", has ? fb_int(ty, b, 0, 4, 0) : 0);
        return SCAN_TYPE_BINARY;
    case AT_UTF8: snprintf(d, dn, "Utf8"); return SCAN_TYPE_STRING;
    case AT_LARGE_UTF8: snprintf(d, dn, "LargeUtf8"); return SCAN_TYPE_STRING;
    case AT_UTF8_VIEW: snprintf(d, dn, "Utf8View"); return SCAN_TYPE_STRING;
    case AT_BOOL: snprintf(d, dn, "Bool"); return SCAN_TYPE_BOOLEAN;
    case AT_DATE:
        snprintf(d, dn, "Date(%s)", has && fb_int(ty, b, 0, 2, 1) == 0 ? "DAY" : "MILLISECOND");
        return SCAN_TYPE_DATE;
    case AT_TIMESTAMP:
        unit = has ? fb_int(ty, b, 0, 2, 0) : 0;
        if (has && fb_string(ty, b, 1, &tz, &tzn))
            snprintf(d, dn, "Timestamp(%s,%.*s)", unit_name(unit), (int)(tzn > 64 ? 64 : tzn), tz);
        else
            snprintf(d, dn, "Timestamp(%s)", unit_name(unit));
        return SCAN_TYPE_TIMESTAMP;
    case AT_TIME:
        snprintf(d, dn, "Time(%s)", unit_name(has ? fb_int(ty, b, 0, 2, 1) : 1));
        return SCAN_TYPE_TIME;
    case AT_DURATION:
        snprintf(d, dn, "Duration(%s)", unit_name(has ? fb_int(ty, b, 0, 2, 1) : 1));
        return SCAN_TYPE_STRING;
    case AT_INTERVAL: snprintf(d, dn, "Interval"); return SCAN_TYPE_STRING;
    case AT_LIST: snprintf(d, dn, "List"); return SCAN_TYPE_ARRAY;
    case AT_LARGE_LIST: snprintf(d, dn, "LargeList"); return SCAN_TYPE_ARRAY;
    case AT_LIST_VIEW: snprintf(d, dn, "ListView"); return SCAN_TYPE_ARRAY;
    case AT_LARGE_LIST_VIEW: snprintf(d, dn, "LargeListView"); return SCAN_TYPE_ARRAY;
    case AT_FIXED_LIST:
        snprintf(d, dn, "FixedSizeList(%" PRId64 ")", has ? fb_int(ty, b, 0, 4, 0) : 0);
        return SCAN_TYPE_ARRAY;
    case AT_MAP: snprintf(d, dn, "Map"); return SCAN_TYPE_MAP;
    case AT_STRUCT: snprintf(d, dn, "Struct"); return SCAN_TYPE_STRUCT;
    case AT_UNION: snprintf(d, dn, "Union"); return SCAN_TYPE_UNKNOWN;
    case AT_RUN_END: snprintf(d, dn, "RunEndEncoded"); return SCAN_TYPE_UNKNOWN;
    default: snprintf(d, dn, "type %" PRId64, tt); return SCAN_TYPE_UNKNOWN;
    }
}

struct walk {
    const struct fb *b;
    const struct scan_limits *lim;
    struct scan_asset *a;
    char path[1024];
    size_t visited;
    bool full;          /* max_columns reached: stop adding */
    const char *why;
};

/* One field (and a struct's children as dotted paths). A run-end encoded column reads as its
 * values' type; other nested types are one column. ~50 lines: naming, typing and recursion of
 * one field read best together. */
static int walk_field(struct walk *w, const struct fbt *f, size_t plen, unsigned depth)
{
    const struct fb *b = w->b;
    const char *name;
    size_t nn;
    char detail[160];
    struct fbt ty;
    int rv;
    if (++w->visited > SCAN_ARROW_MAX_FIELDS) {
        w->why = "more than 200000 fields";
        return SHIR_E_MALFORMED;
    }
    if (!fb_string(f, b, 0, &name, &nn))
        name = "", nn = 0;
    if (memchr(name, '\0', nn)) {
        w->why = "field name with a NUL byte";
        return SHIR_E_MALFORMED;
    }
    size_t np = plen + (plen ? 1 : 0) + nn;
    if (np >= sizeof w->path) {
        w->why = "field path longer than 1023 bytes";
        return SHIR_E_MALFORMED;
    }
    if (plen)
        w->path[plen] = '.';
    memcpy(w->path + np - nn, name, nn);
    w->path[np] = '\0';
    int64_t tt = fb_int(f, b, 2, 1, 0) & 0xff;
    bool has = fb_subtable(f, b, 3, &ty);
    enum scan_type st = field_type(b, tt, &ty, has, detail, sizeof detail);
    struct fbt dict;
    if (fb_subtable(f, b, 4, &dict))
        strncat(detail, " dictionary", sizeof detail - strlen(detail) - 1);
    if (!w->full) {
        struct scan_column *c;
        rv = scan_asset_add_column(w->a, w->lim, w->path, &c);
        if (rv == SHIR_E_TOOBIG) {
            w->full = true;
        } else if (rv != 0) {
            return rv;
        } else {
            c->type = st;
            if ((rv = scan_set_str(&c->type_detail, detail)) != 0)
                return rv;
        }
    }
    size_t first, cnt;
    if (tt == AT_STRUCT && depth < SCAN_ARROW_MAX_DEPTH && fb_vector(f, b, 5, 4, &first, &cnt)) {
        for (size_t i = 0; i < cnt; i++) {
            struct fbt child;
            if (!fb_vec_table(b, first, i, &child)) {
                w->why = "bad child field";
                return SHIR_E_MALFORMED;
            }
            if ((rv = walk_field(w, &child, np, depth + 1)) != 0)
                return rv;
        }
    }
    w->path[plen] = '\0';
    return 0;
}

/* The Schema table's fields become columns of `a`. Shared by the file footer and the stream's
 * first message. */
static int schema_fill(const struct fb *b, const struct fbt *schema, const struct scan_limits *lim,
                       struct scan_asset *a, const char **why)
{
    size_t first, cnt;
    int rv;
    if (fb_int(schema, b, 0, 2, 0) != 0) {
        *why = "big-endian data";
        return SHIR_E_UNSUPPORTED;
    }
    struct walk w = {.b = b, .lim = lim, .a = a};
    if (!fb_vector(schema, b, 1, 4, &first, &cnt))
        return 0;
    for (size_t i = 0; i < cnt; i++) {
        struct fbt f;
        if (!fb_vec_table(b, first, i, &f)) {
            *why = "bad field";
            return SHIR_E_MALFORMED;
        }
        if ((rv = walk_field(&w, &f, 0, 0)) != 0) {
            *why = w.why;
            return rv;
        }
    }
    return 0;
}

int scan_arrow_footer_fill(const unsigned char *fbuf, size_t n, const struct scan_limits *lim,
                           struct scan_asset *a, struct scan_arrow_block **blocks, size_t *nb,
                           const char **why)
{
    struct fb b = {fbuf, n};
    struct fbt footer, schema;
    size_t first, cnt;
    int rv;
    *blocks = NULL;
    *nb = 0;
    *why = NULL;
    if (!fb_has(&b, 0, 4) || !fb_table(&b, rd32(fbuf), &footer)) {
        *why = "footer is not a flatbuffer table";
        return SHIR_E_MALFORMED;
    }
    if (!fb_subtable(&footer, &b, 1, &schema)) {
        *why = "footer without a schema";
        return SHIR_E_MALFORMED;
    }
    if ((rv = schema_fill(&b, &schema, lim, a, why)) != 0)
        return rv;
    /* recordBatches: a vector of 24-byte Block structs. Absent means no batches. */
    if (!fb_vector(&footer, &b, 3, 24, &first, &cnt))
        return 0;
    if (cnt > 0) {
        *blocks = malloc(cnt * sizeof **blocks);
        if (!*blocks)
            return SHIR_E_NOMEM;
    }
    for (size_t i = 0; i < cnt; i++) {
        const unsigned char *p = fbuf + first + 24 * i;
        (*blocks)[i].offset = (int64_t)((uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32);
        (*blocks)[i].meta_len = (int32_t)rd32(p + 8);
    }
    *nb = cnt;
    return 0;
}

/* ------------------------------------------------------------------------------------------- */
/* Messages: their framing and the Message table. */

int scan_arrow_frame_parse(const unsigned char *p, size_t n, struct scan_arrow_frame *fr,
                           const char **why)
{
    if (n < 4) {
        *why = "message prefix cut short";
        return SHIR_E_MALFORMED;
    }
    uint32_t w = rd32(p);
    fr->prefix = 4;
    if (w == 0xffffffffu) {
        if (n < 8) {
            *why = "continuation marker without its length";
            return SHIR_E_MALFORMED;
        }
        fr->prefix = 8;
        w = rd32(p + 4);
    }
    if (w > INT32_MAX) {
        *why = "negative metadata length";
        return SHIR_E_MALFORMED;
    }
    fr->meta_len = w;
    return 0;
}

int scan_arrow_message_decode(const unsigned char *fbuf, size_t n, struct scan_arrow_message *m,
                              const char **why)
{
    struct fb b = {fbuf, n};
    struct fbt msg, rb;
    m->header_type = 0;
    m->body_len = 0;
    m->rows = -1;
    if (!fb_has(&b, 0, 4) || !fb_table(&b, rd32(fbuf), &msg)) {
        *why = "message is not a flatbuffer table";
        return SHIR_E_MALFORMED;
    }
    m->header_type = (int)(fb_int(&msg, &b, 1, 1, 0) & 0xff);
    m->body_len = fb_int(&msg, &b, 3, 8, 0);
    if (m->body_len < 0) {
        *why = "message with a negative body length";
        return SHIR_E_MALFORMED;
    }
    if (m->header_type != SCAN_ARROW_RECORD_BATCH)
        return 0;
    if (!fb_subtable(&msg, &b, 2, &rb)) {
        *why = "record batch message without its header";
        return SHIR_E_MALFORMED;
    }
    m->rows = fb_int(&rb, &b, 0, 8, 0); /* absent: the default, 0 rows */
    if (m->rows < 0) {
        *why = "record batch with a negative length";
        return SHIR_E_MALFORMED;
    }
    return 0;
}

int scan_arrow_schema_message_fill(const unsigned char *fbuf, size_t n,
                                   const struct scan_limits *lim, struct scan_asset *a,
                                   const char **why)
{
    struct fb b = {fbuf, n};
    struct fbt msg, schema;
    *why = NULL;
    if (!fb_has(&b, 0, 4) || !fb_table(&b, rd32(fbuf), &msg)) {
        *why = "message is not a flatbuffer table";
        return SHIR_E_MALFORMED;
    }
    if (fb_int(&msg, &b, 1, 1, 0) != SCAN_ARROW_SCHEMA || !fb_subtable(&msg, &b, 2, &schema)) {
        *why = "the first message is not a schema";
        return SHIR_E_MALFORMED;
    }
    return schema_fill(&b, &schema, lim, a, why);
}

int scan_arrow_message_rows(const unsigned char *m, size_t n, int64_t *rows, const char **why)
{
    struct scan_arrow_frame fr;
    struct scan_arrow_message msg;
    *rows = -1;
    if (scan_arrow_frame_parse(m, n, &fr, why) != 0) {
        *why = "record batch message too short";
        return SHIR_E_MALFORMED;
    }
    if (fr.meta_len > n - fr.prefix) {
        *why = "record batch metadata longer than its block";
        return SHIR_E_MALFORMED;
    }
    if (scan_arrow_message_decode(m + fr.prefix, fr.meta_len, &msg, why) != 0)
        return SHIR_E_MALFORMED;
    if (msg.header_type != SCAN_ARROW_RECORD_BATCH) {
        *why = "block is not a record batch";
        return SHIR_E_MALFORMED;
    }
    *rows = msg.rows;
    return 0;
}

/* Strict on purpose: this decides "arrow" over "binary" for a file of any name, so every check
 * a real stream passes is made (marker, 8-byte padded length, a Message table of a known
 * metadata version whose header is a Schema and whose body is empty). */
bool scan_arrow_stream_start(const unsigned char *head, size_t n)
{
    struct scan_arrow_frame fr;
    const char *why;
    if (n < 16 || rd32(head) != 0xffffffffu || scan_arrow_frame_parse(head, n, &fr, &why) != 0)
        return false;
    if (fr.meta_len < 8 || fr.meta_len > SCAN_ARROW_MAX_FOOTER || fr.meta_len % 8 != 0)
        return false;
    /* The head may hold only the start of a large schema: check what it holds, and that the
     * header's offset stays inside the declared metadata. */
    struct fb b = {head + 8, n - 8 < fr.meta_len ? n - 8 : fr.meta_len};
    struct fbt msg;
    if (!fb_table(&b, rd32(b.p), &msg))
        return false;
    int64_t version = fb_int(&msg, &b, 0, 2, 0); /* absent: V1 */
    size_t at = fb_field(&msg, &b, 2, 4);
    return version >= 0 && version <= 4 && fb_int(&msg, &b, 1, 1, 0) == SCAN_ARROW_SCHEMA &&
           at != 0 && rd32(b.p + at) != 0 && rd32(b.p + at) <= fr.meta_len - at &&
           fb_int(&msg, &b, 3, 8, 0) == 0;
}

/* ------------------------------------------------------------------------------------------- */
/* I/O. */

static int count_rows(const struct scan_file *f, const struct scan_arrow_block *bl, size_t nb,
                      uint64_t body_end, struct scan_asset *a)
{
    int64_t total = 0;
    unsigned char *buf = NULL;
    size_t cap = 0, got;
    const char *why = NULL;
    int rv = 0;
    if (nb > SCAN_ARROW_MAX_BATCHES)
        return 0; /* -1: counting would cost a pread per batch */
    for (size_t i = 0; i < nb; i++) {
        int64_t rows;
        size_t ml = bl[i].meta_len > 0 ? (size_t)bl[i].meta_len : 0;
        if (bl[i].offset < 8 || ml < 8 || ml > SCAN_ARROW_MAX_MESSAGE ||
            (uint64_t)bl[i].offset > body_end || ml > body_end - (uint64_t)bl[i].offset) {
            rv = scan_asset_add_error(a, "arrow: record batch %zu lies outside the file", i);
            goto out;
        }
        if (ml > cap) {
            unsigned char *nbuf = realloc(buf, ml);
            if (!nbuf) {
                rv = SHIR_E_NOMEM;
                goto out;
            }
            buf = nbuf;
            cap = ml;
        }
        if ((rv = scan_file_read_at(f, (uint64_t)bl[i].offset, buf, ml, &got)) != 0)
            goto out;
        a->bytes_read += got;
        if (got != ml || scan_arrow_message_rows(buf, ml, &rows, &why) != 0 ||
            rows > INT64_MAX - total) {
            rv = scan_asset_add_error(a, "arrow: record batch %zu: %s", i,
                                      why ? why : "truncated");
            goto out;
        }
        total += rows;
    }
    a->row_count = total;
out:
    free(buf);
    return rv;
}

int scan_read_arrow(const struct scan_file *f, enum scan_level level,
                    const struct scan_limits *lim, struct scan_asset *a)
{
    unsigned char head[6], tail[10];
    unsigned char *footer = NULL;
    struct scan_arrow_block *blocks = NULL;
    size_t nb = 0, got;
    const char *why = NULL;
    int rv;
    (void)level; /* L2 and L3 read the same: schema and row count, no values */
    if ((rv = scan_set_str(&a->format, "arrow")) != 0)
        return rv;
    /* No file magic: the stream format (a stream named .arrow, or any name by content). */
    if ((rv = scan_file_read_at(f, 0, head, f->size < 6 ? (size_t)f->size : 6, &got)) != 0)
        return rv;
    a->bytes_read += got;
    if (got < 6 || memcmp(head, "ARROW1", 6) != 0)
        return scan_arrow_read_stream(f, lim, a);
    if (f->size < 8 + 10)
        return scan_asset_add_error(a, "arrow: file too small (%" PRIu64 " bytes)", f->size);
    if ((rv = scan_file_read_at(f, f->size - 10, tail, 10, &got)) != 0)
        return rv;
    a->bytes_read += got;
    if (got != 10)
        return scan_asset_add_error(a, "arrow: truncated file");
    if (memcmp(tail + 4, "ARROW1", 6) != 0)
        return scan_asset_add_error(a, "arrow: bad magic at the end (a truncated file?)");
    uint32_t flen = rd32(tail);
    if (flen < 4 || flen > SCAN_ARROW_MAX_FOOTER || flen > f->size - 18)
        return scan_asset_add_error(a, "arrow: footer length %" PRIu32
                                    " out of range for a %" PRIu64 "-byte file", flen, f->size);
    footer = malloc(flen);
    if (!footer)
        return SHIR_E_NOMEM;
    uint64_t foff = f->size - 10 - flen;
    if ((rv = scan_file_read_at(f, foff, footer, flen, &got)) != 0)
        goto out;
    a->bytes_read += got;
    if (got != flen) {
        rv = scan_asset_add_error(a, "arrow: truncated footer");
        goto out;
    }
    rv = scan_arrow_footer_fill(footer, flen, lim, a, &blocks, &nb, &why);
    if (rv == SHIR_E_NOMEM)
        goto out;
    if (rv != 0) {
        rv = scan_asset_add_error(a, "arrow: %s footer: %s",
                                  rv == SHIR_E_UNSUPPORTED ? "unsupported" : "corrupt", why);
        goto out;
    }
    rv = count_rows(f, blocks, nb, foff, a);
out:
    free(blocks);
    free(footer);
    return rv;
}
