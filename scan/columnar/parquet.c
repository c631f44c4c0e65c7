/* Parquet footer: FileMetaData decoding, schema flattening, statistics aggregation, and
 * scan_read_parquet (the only part that does I/O). See scan/columnar/parquet.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/columnar/parquet.h"
#include "scan/columnar/thrift.h"

/* ------------------------------------------------------------------------------------------- */
/* Schema elements as decoded, before flattening (names borrowed from the footer). */
struct pq_elem {
    const unsigned char *name;
    size_t name_len;
    int32_t type;               /* -1: group */
    int32_t type_length;
    int32_t repetition;         /* -1: absent (root) */
    int32_t num_children;
    int32_t converted;          /* -1: absent */
    int32_t scale, precision;
    /* LogicalType union: 0 absent, else its field id (1 STRING ... 14 UUID, 15 FLOAT16). */
    int32_t lt;
    int32_t lt_unit;            /* TIME/TIMESTAMP unit field id 1..3 */
    bool lt_utc, lt_signed;
    int32_t lt_bits, lt_scale, lt_precision;
};

struct pq_stats {
    bool has_nulls;
    int64_t nulls;
    struct scan_pq_bytes min, max, lmin, lmax; /* min_value/max_value and legacy min/max */
};

struct pq_dec {
    struct scan_thrift t;
    struct scan_pq_meta *m;
    struct pq_elem *el;
    uint32_t n_el;
    size_t path_bytes;          /* total of the leaf paths, capped at SCAN_PQ_MAX_PATH_BYTES */
    const char *why;
    scan_pq_chunk_cb *chunk_cb; /* may be NULL: every row group's chunks, as decoded */
    void *chunk_ctx;
};

#define TRY(x)                                                                                   \
    do {                                                                                         \
        if ((rv = (x)) != 0)                                                                     \
            goto err;                                                                            \
    } while (0)

static int rd_i32(struct scan_thrift *t, uint8_t ty, int32_t *v)
{
    int64_t x;
    int rv = scan_thrift_int_field(t, ty, &x);
    if (rv != 0)
        return rv;
    if (x < INT32_MIN || x > INT32_MAX)
        return SHIR_E_MALFORMED;
    *v = (int32_t)x;
    return 0;
}

/* A struct whose only interesting content is which field is set (TimeUnit): the set field id. */
static int rd_union_id(struct scan_thrift *t, int32_t *which)
{
    int16_t last, id;
    uint8_t ty;
    int rv = scan_thrift_struct_begin(t, &last);
    while (rv == 0) {
        if ((rv = scan_thrift_field(t, &last, &ty, &id)) != 0 || ty == SCAN_THRIFT_STOP)
            break;
        *which = id;
        rv = scan_thrift_skip(t, ty);
    }
    return rv;
}

/* TimestampType/TimeType {1: isAdjustedToUTC, 2: unit}, IntType {1: bitWidth, 2: isSigned},
 * DecimalType {1: scale, 2: precision}: small structs of integers read into the element. */
static int rd_logical_params(struct scan_thrift *t, struct pq_elem *e)
{
    int16_t last, id;
    uint8_t ty;
    int rv = scan_thrift_struct_begin(t, &last);
    while (rv == 0) {
        if ((rv = scan_thrift_field(t, &last, &ty, &id)) != 0 || ty == SCAN_THRIFT_STOP)
            break;
        int64_t v = 0;
        if (e->lt == 7 || e->lt == 8) {          /* TIME, TIMESTAMP */
            if (id == 2 && ty == SCAN_THRIFT_STRUCT) {
                rv = rd_union_id(t, &e->lt_unit);
                continue;
            }
            if (id == 1 && (rv = scan_thrift_int_field(t, ty, &v)) == 0) {
                e->lt_utc = v != 0;
                continue;
            }
        } else if (e->lt == 10 && (id == 1 || id == 2)) {   /* INTEGER */
            if ((rv = scan_thrift_int_field(t, ty, &v)) != 0)
                break;
            if (id == 1)
                e->lt_bits = (int32_t)(v & 0xff);
            else
                e->lt_signed = v != 0;
            continue;
        } else if (e->lt == 5 && (id == 1 || id == 2)) {    /* DECIMAL */
            int32_t x;
            if ((rv = rd_i32(t, ty, &x)) != 0)
                break;
            *(id == 1 ? &e->lt_scale : &e->lt_precision) = x;
            continue;
        }
        if (rv == 0)
            rv = scan_thrift_skip(t, ty);
    }
    return rv;
}

static int rd_logical(struct scan_thrift *t, struct pq_elem *e)
{
    int16_t last, id;
    uint8_t ty;
    int rv = scan_thrift_struct_begin(t, &last);
    while (rv == 0) {
        if ((rv = scan_thrift_field(t, &last, &ty, &id)) != 0 || ty == SCAN_THRIFT_STOP)
            break;
        e->lt = id;
        if (ty == SCAN_THRIFT_STRUCT && (id == 5 || id == 7 || id == 8 || id == 10))
            rv = rd_logical_params(t, e);
        else
            rv = scan_thrift_skip(t, ty);
    }
    return rv;
}

static int rd_schema_elem(struct scan_thrift *t, struct pq_elem *e)
{
    int16_t last, id;
    uint8_t ty;
    memset(e, 0, sizeof *e);
    e->type = e->repetition = e->converted = -1;
    int rv = scan_thrift_struct_begin(t, &last);
    while (rv == 0) {
        if ((rv = scan_thrift_field(t, &last, &ty, &id)) != 0 || ty == SCAN_THRIFT_STOP)
            break;
        switch (id) {
        case 1: rv = rd_i32(t, ty, &e->type); break;
        case 2: rv = rd_i32(t, ty, &e->type_length); break;
        case 3: rv = rd_i32(t, ty, &e->repetition); break;
        case 4:
            rv = ty == SCAN_THRIFT_BINARY ? scan_thrift_binary(t, &e->name, &e->name_len)
                                          : SHIR_E_MALFORMED;
            break;
        case 5: rv = rd_i32(t, ty, &e->num_children); break;
        case 6: rv = rd_i32(t, ty, &e->converted); break;
        case 7: rv = rd_i32(t, ty, &e->scale); break;
        case 8: rv = rd_i32(t, ty, &e->precision); break;
        case 10:
            rv = ty == SCAN_THRIFT_STRUCT ? rd_logical(t, e) : scan_thrift_skip(t, ty);
            break;
        default: rv = scan_thrift_skip(t, ty); break;
        }
    }
    if (rv == 0 && (e->num_children < 0 || (e->type > SCAN_PQ_FLBA)))
        rv = SHIR_E_MALFORMED;
    return rv;
}

/* ------------------------------------------------------------------------------------------- */
/* Flattening. The elements are the tree in pre-order, each group giving its child count. */

/* Resolve the leaf's logical type: LogicalType wins, converted_type is the fallback. */
static void leaf_logical(struct scan_pq_leaf *l, const struct pq_elem *e)
{
    static const enum scan_pq_logical by_lt[] = {
        [1] = SCAN_PQ_L_STRING, [4] = SCAN_PQ_L_ENUM, [5] = SCAN_PQ_L_DECIMAL,
        [6] = SCAN_PQ_L_DATE, [7] = SCAN_PQ_L_TIME, [8] = SCAN_PQ_L_TIMESTAMP,
        [10] = SCAN_PQ_L_INT, [11] = SCAN_PQ_L_NULL, [12] = SCAN_PQ_L_JSON,
        [13] = SCAN_PQ_L_BSON, [14] = SCAN_PQ_L_UUID, [15] = SCAN_PQ_L_FLOAT16,
    };
    l->scale = e->scale;
    l->precision = e->precision;
    if (e->lt > 0) {
        l->logical = (size_t)e->lt < sizeof by_lt / sizeof by_lt[0] && by_lt[e->lt]
                         ? by_lt[e->lt] : SCAN_PQ_L_OTHER;
        l->unit = e->lt_unit == 2 ? SCAN_PQ_MICROS : e->lt_unit == 3 ? SCAN_PQ_NANOS
                                                                     : SCAN_PQ_MILLIS;
        l->utc = e->lt_utc;
        l->bits = e->lt_bits;
        l->is_signed = e->lt_signed;
        if (e->lt == 5) {
            l->scale = e->lt_scale;
            l->precision = e->lt_precision;
        }
        return;
    }
    switch (e->converted) {
    case 0: l->logical = SCAN_PQ_L_STRING; break;
    case 4: l->logical = SCAN_PQ_L_ENUM; break;
    case 5: l->logical = SCAN_PQ_L_DECIMAL; break;
    case 6: l->logical = SCAN_PQ_L_DATE; break;
    /* The converted TIME_x and TIMESTAMP_x types are defined as adjusted to UTC. */
    case 7: case 8:
        l->logical = SCAN_PQ_L_TIME;
        l->unit = e->converted == 7 ? SCAN_PQ_MILLIS : SCAN_PQ_MICROS;
        l->utc = true;
        break;
    case 9: case 10:
        l->logical = SCAN_PQ_L_TIMESTAMP;
        l->unit = e->converted == 9 ? SCAN_PQ_MILLIS : SCAN_PQ_MICROS;
        l->utc = true;
        break;
    case 11: case 12: case 13: case 14:  /* UINT_8..UINT_64 */
        l->logical = SCAN_PQ_L_INT;
        l->bits = 8 << (e->converted - 11);
        l->is_signed = false;
        break;
    case 15: case 16: case 17: case 18:  /* INT_8..INT_64 */
        l->logical = SCAN_PQ_L_INT;
        l->bits = 8 << (e->converted - 15);
        l->is_signed = true;
        break;
    case 19: l->logical = SCAN_PQ_L_JSON; break;
    case 20: l->logical = SCAN_PQ_L_BSON; break;
    case 21: l->logical = SCAN_PQ_L_INTERVAL; break;
    default: l->logical = SCAN_PQ_L_NONE; break;
    }
}

static bool is_list(const struct pq_elem *e) { return e->lt == 3 || e->converted == 3; }
static bool is_map(const struct pq_elem *e)
{
    return e->lt == 2 || e->converted == 1 || e->converted == 2;
}

struct pq_frame {
    uint32_t elem;
    int32_t children_left;
    size_t path_len;            /* path length before this element's name was appended */
    int16_t def, rep;
    enum scan_pq_container container;
    bool drop_child_name;       /* LIST wrapper: its single child ("element") is not named */
};

static int add_leaf(struct pq_dec *d, const struct pq_elem *e, const char *path,
                    const struct pq_frame *f)
{
    struct scan_pq_meta *m = d->m;
    size_t plen = strlen(path) + 1;
    /* m->leaves holds one slot per schema element (rd_schema), so it never needs to grow. */
    if (d->path_bytes + plen > SCAN_PQ_MAX_PATH_BYTES) {
        d->why = "column paths too long in total";
        return SHIR_E_TOOBIG;
    }
    d->path_bytes += plen;
    struct scan_pq_leaf *l = &m->leaves[m->n_leaves];
    memset(l, 0, sizeof *l);
    l->path = malloc(plen);
    if (l->path)
        memcpy(l->path, path, plen);
    if (!l->path)
        return SHIR_E_NOMEM;
    m->n_leaves++;
    l->phys = e->type;
    l->type_length = e->type_length;
    l->repetition = e->repetition;
    l->max_def = f->def;
    l->max_rep = f->rep;
    l->container = f->container;
    l->null_count = -1;
    l->dict_off = -1;
    leaf_logical(l, e);
    return 0;
}

/* Walk the pre-order element list with an explicit stack (no recursion on input). Longer than
 * 60 lines because naming (LIST/MAP wrappers), levels and the stack are one walk; split, each
 * piece would need the whole frame state anyway. */
static int flatten(struct pq_dec *d)
{
    struct pq_frame st[SCAN_PQ_MAX_SCHEMA_DEPTH];
    char path[SCAN_PQ_MAX_PATH];
    size_t depth = 0, plen = 0;
    int rv = 0;
    if (d->n_el == 0 || d->el[0].num_children <= 0) {
        d->why = "schema has no columns";
        return d->n_el == 0 ? SHIR_E_MALFORMED : 0;
    }
    path[0] = '\0';
    st[0] = (struct pq_frame){ .elem = 0, .children_left = d->el[0].num_children };
    depth = 1;
    for (uint32_t i = 1; i < d->n_el; i++) {
        while (depth > 0 && st[depth - 1].children_left == 0) {
            depth--;
            plen = st[depth].path_len;
            path[plen] = '\0';
        }
        if (depth == 0) {
            d->why = "schema elements left over after the root's children";
            return SHIR_E_MALFORMED;
        }
        struct pq_frame *parent = &st[depth - 1];
        const struct pq_elem *pe = &d->el[parent->elem];
        const struct pq_elem *e = &d->el[i];
        parent->children_left--;
        struct pq_frame f = { .elem = i, .path_len = plen, .def = parent->def,
                              .rep = parent->rep, .container = parent->container };
        if (e->repetition == 1)
            f.def++;
        if (e->repetition == 2) {
            f.def++;
            f.rep++;
        }
        if (f.def > 1000 || f.rep > 1000) {
            d->why = "schema levels out of range";
            return SHIR_E_MALFORMED;
        }
        bool named = true;
        if (parent->drop_child_name) {
            named = false;
        } else if (e->repetition == 2 && parent->elem != 0 && is_list(pe)) {
            named = false;                 /* nums.list.element -> nums */
            f.container = SCAN_PQ_C_LIST;
            f.drop_child_name = e->num_children == 1;
        } else if (e->repetition == 2 && parent->elem != 0 && is_map(pe)) {
            named = false;                 /* attrs.key_value.key -> attrs.key */
            f.container = SCAN_PQ_C_MAP;
        } else if (e->repetition == 2) {
            f.container = SCAN_PQ_C_LIST;  /* legacy repeated field without a LIST wrapper */
        }
        if (named && e->name_len > 0) {
            size_t need = (plen ? 1 : 0) + e->name_len;
            if (plen + need < sizeof path) {
                if (plen)
                    path[plen++] = '.';
                memcpy(path + plen, e->name, e->name_len);
                plen += e->name_len;
                path[plen] = '\0';
            }
        }
        if (e->num_children == 0) {
            if (e->type < 0) {
                d->why = "leaf column without a physical type";
                return SHIR_E_MALFORMED;
            }
            if ((rv = add_leaf(d, e, path, &f)) != 0)
                return rv;
            plen = f.path_len;
            path[plen] = '\0';
        } else {
            if (depth >= SCAN_PQ_MAX_SCHEMA_DEPTH) {
                d->why = "schema nested too deep";
                return SHIR_E_DEPTH;
            }
            f.children_left = e->num_children;
            st[depth++] = f;
        }
    }
    for (size_t k = 0; k < depth; k++) {
        if (st[k].children_left != 0) {
            d->why = "schema ends before all children were given";
            return SHIR_E_MALFORMED;
        }
    }
    return 0;
}

static int rd_schema(struct pq_dec *d, uint8_t ty)
{
    uint8_t et;
    uint32_t n;
    int rv;
    if (ty != SCAN_THRIFT_LIST)
        return SHIR_E_MALFORMED;
    if ((rv = scan_thrift_list(&d->t, &et, &n)) != 0)
        return rv;
    if (et != SCAN_THRIFT_STRUCT || d->el)
        return SHIR_E_MALFORMED;
    if (n > SCAN_PQ_MAX_ELEMENTS) {
        d->why = "schema has more than 200000 elements";
        return SHIR_E_TOOBIG;
    }
    /* n <= bytes left (scan_thrift_list) and <= SCAN_PQ_MAX_ELEMENTS. */
    d->el = calloc(n ? n : 1, sizeof *d->el);
    d->m->leaves = calloc(n ? n : 1, sizeof *d->m->leaves);
    if (!d->el || !d->m->leaves)
        return SHIR_E_NOMEM;
    d->n_el = n;
    for (uint32_t i = 0; i < n; i++)
        if ((rv = rd_schema_elem(&d->t, &d->el[i])) != 0)
            return rv;
    return flatten(d);
}

/* ------------------------------------------------------------------------------------------- */
/* Row groups and statistics. */

static int rd_binary_field(struct scan_thrift *t, uint8_t ty, struct scan_pq_bytes *b)
{
    if (ty != SCAN_THRIFT_BINARY)
        return SHIR_E_MALFORMED;
    return scan_thrift_binary(t, &b->p, &b->n);
}

static int rd_stats(struct scan_thrift *t, struct pq_stats *s)
{
    int16_t last, id;
    uint8_t ty;
    int rv = scan_thrift_struct_begin(t, &last);
    while (rv == 0) {
        if ((rv = scan_thrift_field(t, &last, &ty, &id)) != 0 || ty == SCAN_THRIFT_STOP)
            break;
        switch (id) {
        case 1: rv = rd_binary_field(t, ty, &s->lmax); break;
        case 2: rv = rd_binary_field(t, ty, &s->lmin); break;
        case 3:
            rv = scan_thrift_int_field(t, ty, &s->nulls);
            s->has_nulls = rv == 0 && s->nulls >= 0;
            break;
        case 5: rv = rd_binary_field(t, ty, &s->max); break;
        case 6: rv = rd_binary_field(t, ty, &s->min); break;
        default: rv = scan_thrift_skip(t, ty); break;
        }
    }
    return rv;
}

/* Sort order of a leaf: 's' signed, 'u' unsigned (bytes/unsigned ints), 'f' float, 'd' decimal
 * in big-endian bytes, 0 none (INT96, INTERVAL, FLOAT16: no defined order, no min/max). */
static char leaf_order(const struct scan_pq_leaf *l)
{
    switch (l->phys) {
    case SCAN_PQ_BOOLEAN: return 'u';
    case SCAN_PQ_INT32:
    case SCAN_PQ_INT64: return l->logical == SCAN_PQ_L_INT && !l->is_signed ? 'u' : 's';
    case SCAN_PQ_FLOAT:
    case SCAN_PQ_DOUBLE: return 'f';
    case SCAN_PQ_BYTE_ARRAY:
    case SCAN_PQ_FLBA:
        if (l->logical == SCAN_PQ_L_DECIMAL)
            return 'd';
        if (l->logical == SCAN_PQ_L_INTERVAL || l->logical == SCAN_PQ_L_FLOAT16)
            return 0;
        return 'u';
    default: return 0;
    }
}

static int cmp_bytes(const struct scan_pq_bytes *a, const struct scan_pq_bytes *b)
{
    size_t n = a->n < b->n ? a->n : b->n;
    int c = n ? memcmp(a->p, b->p, n) : 0;
    if (c != 0)
        return c;
    return a->n < b->n ? -1 : a->n > b->n;
}

/* Two's complement big-endian integers of any lengths. */
static int cmp_bigint(const struct scan_pq_bytes *a, const struct scan_pq_bytes *b)
{
    bool na = a->n && (a->p[0] & 0x80), nb = b->n && (b->p[0] & 0x80);
    if (na != nb)
        return na ? -1 : 1;
    size_t n = a->n > b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++) {
        unsigned fill = na ? 0xff : 0;
        unsigned x = i + a->n >= n ? a->p[i + a->n - n] : fill;
        unsigned y = i + b->n >= n ? b->p[i + b->n - n] : fill;
        if (x != y)
            return x < y ? -1 : 1;
    }
    return 0;
}

static uint64_t le_n(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

/* Compare two statistic values of leaf l; *ok false when they cannot be compared. */
static int cmp_value(const struct scan_pq_leaf *l, const struct scan_pq_bytes *a,
                     const struct scan_pq_bytes *b, bool *ok)
{
    char o = leaf_order(l);
    *ok = true;
    if (l->phys == SCAN_PQ_INT32 || l->phys == SCAN_PQ_INT64 || l->phys == SCAN_PQ_FLOAT ||
        l->phys == SCAN_PQ_DOUBLE) {
        size_t w = l->phys == SCAN_PQ_INT32 || l->phys == SCAN_PQ_FLOAT ? 4 : 8;
        if (a->n != w || b->n != w) {
            *ok = false;
            return 0;
        }
        uint64_t x = le_n(a->p, w), y = le_n(b->p, w);
        if (o == 'f') {
            double dx, dy;
            if (w == 4) {
                float fx, fy;
                uint32_t ux = (uint32_t)x, uy = (uint32_t)y;
                memcpy(&fx, &ux, 4);
                memcpy(&fy, &uy, 4);
                dx = fx;
                dy = fy;
            } else {
                memcpy(&dx, &x, 8);
                memcpy(&dy, &y, 8);
            }
            if (dx != dx || dy != dy)
                *ok = false;
            return dx < dy ? -1 : dx > dy;
        }
        if (o == 's') {
            int64_t sx = w == 4 ? (int32_t)(uint32_t)x : (int64_t)x;
            int64_t sy = w == 4 ? (int32_t)(uint32_t)y : (int64_t)y;
            return sx < sy ? -1 : sx > sy;
        }
        return x < y ? -1 : x > y;
    }
    if (o == 'd')
        return cmp_bigint(a, b);
    if (o == 0)
        *ok = false;
    return cmp_bytes(a, b);
}

static void merge_stats(struct scan_pq_leaf *l, const struct pq_stats *s, bool first)
{
    char o = leaf_order(l);
    struct scan_pq_bytes mn = s->min, mx = s->max;
    /* Legacy min/max were written with signed byte order: trust them only where the type's
     * order is signed (numbers, booleans), never for strings or bytes. */
    if ((!mn.p || !mx.p) && (o == 's' || o == 'f' || l->phys == SCAN_PQ_BOOLEAN)) {
        mn = s->lmin;
        mx = s->lmax;
    }
    bool have = mn.p && mx.p && o != 0;
    if (first) {
        l->null_count_ok = s->has_nulls;
        l->null_count = s->has_nulls ? s->nulls : -1;
        l->minmax_ok = have;
        l->min = mn;
        l->max = mx;
        return;
    }
    if (l->null_count_ok && s->has_nulls && l->null_count <= INT64_MAX - s->nulls) {
        l->null_count += s->nulls;
    } else {
        l->null_count_ok = false;
        l->null_count = -1;
    }
    if (!l->minmax_ok)
        return;
    bool ok1 = have, ok2 = have;
    if (have && cmp_value(l, &mn, &l->min, &ok1) < 0 && ok1)
        l->min = mn;
    if (have && cmp_value(l, &mx, &l->max, &ok2) > 0 && ok2)
        l->max = mx;
    if (!ok1 || !ok2)
        l->minmax_ok = false;
}

struct pq_chunk {
    int32_t codec;
    int64_t num_values, size, data_off, dict_off;
    struct pq_stats st;
};

static int rd_col_meta(struct scan_thrift *t, struct pq_chunk *c)
{
    int16_t last, id;
    uint8_t ty;
    int rv = scan_thrift_struct_begin(t, &last);
    while (rv == 0) {
        if ((rv = scan_thrift_field(t, &last, &ty, &id)) != 0 || ty == SCAN_THRIFT_STOP)
            break;
        switch (id) {
        case 4: rv = rd_i32(t, ty, &c->codec); break;
        case 5: rv = scan_thrift_int_field(t, ty, &c->num_values); break;
        case 7: rv = scan_thrift_int_field(t, ty, &c->size); break;
        case 9: rv = scan_thrift_int_field(t, ty, &c->data_off); break;
        case 11: rv = scan_thrift_int_field(t, ty, &c->dict_off); break;
        case 12:
            rv = ty == SCAN_THRIFT_STRUCT ? rd_stats(t, &c->st) : SHIR_E_MALFORMED;
            break;
        default: rv = scan_thrift_skip(t, ty); break;
        }
    }
    return rv;
}

static int rd_col_chunk(struct scan_thrift *t, struct pq_chunk *c)
{
    int16_t last, id;
    uint8_t ty;
    memset(c, 0, sizeof *c);
    c->dict_off = -1;
    int rv = scan_thrift_struct_begin(t, &last);
    while (rv == 0) {
        if ((rv = scan_thrift_field(t, &last, &ty, &id)) != 0 || ty == SCAN_THRIFT_STOP)
            break;
        if (id == 3 && ty == SCAN_THRIFT_STRUCT)
            rv = rd_col_meta(t, c);
        else
            rv = scan_thrift_skip(t, ty);
    }
    return rv;
}

static int rd_row_group(struct pq_dec *d, uint32_t rg)
{
    struct scan_thrift *t = &d->t;
    int16_t last, id;
    uint8_t ty;
    int rv = scan_thrift_struct_begin(t, &last);
    while (rv == 0) {
        if ((rv = scan_thrift_field(t, &last, &ty, &id)) != 0 || ty == SCAN_THRIFT_STOP)
            break;
        if (id != 1 || ty != SCAN_THRIFT_LIST) {
            rv = scan_thrift_skip(t, ty);
            continue;
        }
        uint8_t et;
        uint32_t n;
        if ((rv = scan_thrift_list(t, &et, &n)) != 0)
            break;
        if (et != SCAN_THRIFT_STRUCT || n != d->m->n_leaves) {
            d->why = "row group column count differs from the schema";
            return SHIR_E_MALFORMED;
        }
        for (uint32_t i = 0; i < n && rv == 0; i++) {
            struct pq_chunk c;
            if ((rv = rd_col_chunk(t, &c)) != 0)
                break;
            struct scan_pq_leaf *l = &d->m->leaves[i], rl = *l;
            merge_stats(l, &c.st, rg == 0);
            rl.has_chunk = c.size > 0 && c.data_off >= 0;
            rl.codec = c.codec;
            rl.data_off = c.data_off;
            rl.dict_off = c.dict_off > 0 ? c.dict_off : -1;
            rl.chunk_size = c.size;
            rl.num_values = c.num_values;
            if (rg == 0) {
                l->has_chunk = rl.has_chunk;
                l->codec = rl.codec;
                l->data_off = rl.data_off;
                l->dict_off = rl.dict_off;
                l->chunk_size = rl.chunk_size;
                l->num_values = rl.num_values;
            }
            if (d->chunk_cb && (rv = d->chunk_cb(d->chunk_ctx, rg, i, &rl)) != 0)
                break;
        }
    }
    return rv;
}

static int rd_row_groups(struct pq_dec *d, uint8_t ty)
{
    uint8_t et;
    uint32_t n;
    int rv;
    if (ty != SCAN_THRIFT_LIST)
        return SHIR_E_MALFORMED;
    if ((rv = scan_thrift_list(&d->t, &et, &n)) != 0)
        return rv;
    if (et != SCAN_THRIFT_STRUCT)
        return SHIR_E_MALFORMED;
    if (n > 0 && !d->el) {
        /* Every writer we know emits the schema (field 2) before row groups (field 4). */
        d->why = "row groups before the schema";
        return SHIR_E_MALFORMED;
    }
    d->m->n_row_groups = n;
    for (uint32_t i = 0; i < n; i++)
        if ((rv = rd_row_group(d, i)) != 0)
            return rv;
    return 0;
}

void scan_parquet_meta_free(struct scan_pq_meta *m)
{
    for (size_t i = 0; i < m->n_leaves; i++)
        free(m->leaves[i].path);
    free(m->leaves);
    memset(m, 0, sizeof *m);
}

int scan_parquet_meta_decode(const unsigned char *buf, size_t n, struct scan_pq_meta *m,
                             const char **why)
{
    return scan_parquet_meta_decode_chunks(buf, n, m, why, NULL, NULL);
}

int scan_parquet_meta_decode_chunks(const unsigned char *buf, size_t n, struct scan_pq_meta *m,
                                    const char **why, scan_pq_chunk_cb *cb, void *ctx)
{
    struct pq_dec d = { .m = m, .chunk_cb = cb, .chunk_ctx = ctx };
    int16_t last, id;
    uint8_t ty;
    bool have_schema = false, have_rows = false;
    int rv;
    memset(m, 0, sizeof *m);
    m->num_rows = -1;
    scan_thrift_init(&d.t, buf, n);
    TRY(scan_thrift_struct_begin(&d.t, &last));
    for (;;) {
        TRY(scan_thrift_field(&d.t, &last, &ty, &id));
        if (ty == SCAN_THRIFT_STOP)
            break;
        switch (id) {
        case 1: TRY(rd_i32(&d.t, ty, &m->version)); break;
        case 2: TRY(rd_schema(&d, ty)); have_schema = true; break;
        case 3: TRY(scan_thrift_int_field(&d.t, ty, &m->num_rows)); have_rows = true; break;
        case 4: TRY(rd_row_groups(&d, ty)); break;
        default: TRY(scan_thrift_skip(&d.t, ty)); break;
        }
    }
    if (!have_schema || !have_rows || m->num_rows < 0) {
        d.why = "required field missing (schema or num_rows)";
        rv = SHIR_E_MALFORMED;
        goto err;
    }
    free(d.el);
    return 0;
err:
    if (!d.why)
        d.why = rv == SHIR_E_TRUNC ? "truncated metadata"
              : rv == SHIR_E_DEPTH ? "metadata nested too deep"
              : rv == SHIR_E_TOOBIG ? "metadata too large"
              : rv == SHIR_E_NOMEM ? "out of memory" : "malformed metadata";
    if (why)
        *why = d.why;
    free(d.el);
    scan_parquet_meta_free(m);
    return rv;
}

/* ------------------------------------------------------------------------------------------- */
/* The asset. */

int scan_parquet_fill(const struct scan_pq_meta *m, const struct scan_limits *lim,
                      struct scan_asset *a)
{
    char text[SCAN_PQ_MAX_TEXT], detail[160];
    int rv;
    if ((rv = scan_set_str(&a->format, "parquet")) != 0)
        return rv;
    a->row_count = m->num_rows;
    for (size_t i = 0; i < m->n_leaves; i++) {
        const struct scan_pq_leaf *l = &m->leaves[i];
        struct scan_column *c;
        rv = scan_asset_add_column(a, lim, l->path, &c);
        if (rv == SHIR_E_TOOBIG)
            return 0;   /* recorded once by the model */
        if (rv != 0)
            return rv;
        c->type = scan_parquet_scan_type(l);
        scan_parquet_type_detail(l, detail, sizeof detail);
        if ((rv = scan_set_str(&c->type_detail, detail)) != 0)
            return rv;
        if (m->n_row_groups == 0)
            continue;
        c->null_count = l->null_count_ok ? l->null_count : -1;
        c->has_stats = l->null_count_ok;
        if (!l->minmax_ok)
            continue;
        size_t cap = lim->max_sample_len + 1 < sizeof text ? lim->max_sample_len + 1 : sizeof text;
        if (scan_parquet_render(l, l->min.p, l->min.n, text, cap) >= 0 &&
            (rv = scan_set_str(&c->min, text)) != 0)
            return rv;
        if (scan_parquet_render(l, l->max.p, l->max.n, text, cap) >= 0 &&
            (rv = scan_set_str(&c->max, text)) != 0)
            return rv;
        c->has_stats = c->has_stats || (c->min && c->max);
    }
    return 0;
}

struct pq_emit_ctx {
    struct scan_column *c;
    const struct scan_limits *lim;
};

static int emit_sample(void *ctx, const char *v, size_t n)
{
    struct pq_emit_ctx *e = ctx;
    return scan_column_add_sample(e->c, e->lim, v, n);
}

struct pq_file_src {
    const struct scan_file *f;
    uint64_t start;
};

static int file_read(void *ctx, uint64_t off, void *buf, size_t n, size_t *got)
{
    const struct pq_file_src *fs = ctx;
    return scan_file_read_at(fs->f, fs->start + off, buf, n, got);
}

/* L3: sample the first row group's chunks page by page. One page of a column is the columnar
 * equivalent of the model's "first 128 rows", and pages cannot be decoded in part, so the budget
 * is lim->max_struct_bytes (1 MiB) per column, within 64 MiB per file. */
static int sample_pages(const struct scan_file *f, const struct scan_pq_meta *m,
                        const struct scan_limits *lim, struct scan_asset *a)
{
    uint64_t budget = SCAN_PQ_MAX_CHUNK_READ;
    char note[160];
    int rv = 0;
    size_t n_cols = m->n_leaves < a->n_cols ? m->n_leaves : a->n_cols;
    for (size_t i = 0; i < n_cols && budget > 0; i++) {
        const struct scan_pq_leaf *l = &m->leaves[i];
        if (!l->has_chunk || strcmp(a->cols[i].name, l->path) != 0)
            continue;
        int64_t start = l->dict_off >= 0 && l->dict_off < l->data_off ? l->dict_off : l->data_off;
        if (start < 4 || (uint64_t)start >= f->size || l->chunk_size <= 0) {
            if ((rv = scan_asset_add_error(a, "column %s: chunk offset out of the file",
                                           l->path)) != 0)
                break;
            continue;
        }
        struct pq_file_src fs = { f, (uint64_t)start };
        struct scan_pq_source src = { file_read, &fs, (uint64_t)l->chunk_size };
        if (src.size > f->size - (uint64_t)start)
            src.size = f->size - (uint64_t)start;
        uint64_t max = lim->max_struct_bytes < budget ? lim->max_struct_bytes : budget, got = 0;
        struct pq_emit_ctx ctx = { &a->cols[i], lim };
        note[0] = '\0';
        rv = scan_parquet_chunk_sample_src(l, &src, max, lim->max_rows, emit_sample, &ctx, note,
                                           sizeof note, &got);
        a->bytes_read += got;
        budget -= got < budget ? got : budget;
        if (rv != 0)
            break;
        if (note[0] && (rv = scan_asset_add_error(a, "column %s: %s", l->path, note)) != 0)
            break;
    }
    return rv;
}

int scan_read_parquet(const struct scan_file *f, enum scan_level level,
                      const struct scan_limits *lim, struct scan_asset *a)
{
    unsigned char head[4], tail[8];
    unsigned char *footer = NULL;
    struct scan_pq_meta m = { 0 };
    const char *why = NULL;
    size_t got;
    int rv;
    if ((rv = scan_set_str(&a->format, "parquet")) != 0)
        return rv;
    /* "PAR1" + at least an empty footer + length + "PAR1". */
    if (f->size < 12)
        return scan_asset_add_error(a, "parquet: file too small (%" PRIu64 " bytes)", f->size);
    if ((rv = scan_file_read_at(f, 0, head, 4, &got)) != 0)
        return rv;
    if (got == 4 && (rv = scan_file_read_at(f, f->size - 8, tail, 8, &got)) != 0)
        return rv;
    a->bytes_read += 12;
    if (got != 4 && got != 8)
        return scan_asset_add_error(a, "parquet: truncated file");
    if (memcmp(head, "PAR1", 4) != 0)
        return scan_asset_add_error(a, "parquet: bad magic at the start");
    if (memcmp(tail + 4, "PARE", 4) == 0)
        return scan_asset_add_error(a, "parquet: encrypted footer not supported");
    if (memcmp(tail + 4, "PAR1", 4) != 0)
        return scan_asset_add_error(a, "parquet: bad magic at the end (truncated file?)");
    uint32_t flen = shir_get_le32(tail);
    if (flen == 0 || flen > SCAN_PQ_MAX_FOOTER || flen > f->size - 12)
        return scan_asset_add_error(a, "parquet: footer length %" PRIu32
                                    " out of range for a %" PRIu64 "-byte file", flen, f->size);
    footer = malloc(flen);
    if (!footer)
        return SHIR_E_NOMEM;
    if ((rv = scan_file_read_at(f, f->size - 8 - flen, footer, flen, &got)) != 0)
        goto out;
    a->bytes_read += got;
    if (got != flen) {
        rv = scan_asset_add_error(a, "parquet: truncated footer");
        goto out;
    }
    rv = scan_parquet_meta_decode(footer, flen, &m, &why);
    if (rv == SHIR_E_NOMEM)
        goto out;
    if (rv != 0) {
        rv = scan_asset_add_error(a, "parquet: corrupt footer: %s", why);
        goto out;
    }
    if ((rv = scan_parquet_fill(&m, lim, a)) != 0)
        goto out;
    a->row_count = m.num_rows;
    if (level >= SCAN_L3)
        rv = sample_pages(f, &m, lim, a);
out:
    scan_parquet_meta_free(&m);
    free(footer);
    return rv;
}
