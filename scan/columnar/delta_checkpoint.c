/* Delta Lake checkpoints (see delta.h): which files are checkpoints, which complete checkpoint
 * to read (pure), and reading one: every row group of each Parquet part or V2 top-level file
 * with our Parquet reader (the add.path, add.size, add.stats, add.deletionVector.*,
 * metaData.schemaString, metaData.partitionColumns and sidecar.path chunks, joined row by row),
 * a V2 top-level JSON file as JSON lines,
 * then the V2 sidecars, opened by name under _delta_log/_sidecars (dirops.h: locally with
 * O_NOFOLLOW). A file that changes while it is read (a share that lies about sizes, an entry
 * that vanishes) fails the checkpoint it belongs to, which is then skipped like a corrupt one. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/columnar/delta.h"
#include "scan/columnar/parquet.h"

/* ------------------------------------------------------------------------------------------- */
/* Names (pure). */

static bool digits(const char *p, size_t n, int64_t *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' || *v > (INT64_MAX - 9) / 10)
            return false;
        *v = *v * 10 + (p[i] - '0');
    }
    return true;
}

static bool is_uuid(const char *p, size_t n)
{
    if (n != 36)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = p[i];
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (dash ? c != '-' : !hex)
            return false;
    }
    return true;
}

int scan_delta_cp_parse(const char *name, struct scan_delta_cp *out)
{
    static const char mid[] = ".checkpoint.";
    size_t n = strlen(name), ml = sizeof mid - 1;
    int64_t v, part, parts;
    if (n < 20 + ml || n >= sizeof out->name || !digits(name, 20, &v) ||
        memcmp(name + 20, mid, ml) != 0)
        return -1;
    const char *r = name + 20 + ml; /* "parquet", "P.T.parquet", "<uuid>.parquet|json" */
    size_t rl = n - 20 - ml;
    memset(out, 0, sizeof *out);
    out->version = v;
    out->part = out->parts = 1;
    if (strcmp(r, "parquet") == 0) {
        out->kind = SCAN_DELTA_CP_CLASSIC;
    } else if (rl == 10 + 1 + 10 + 8 && r[10] == '.' && strcmp(r + 21, ".parquet") == 0 &&
               digits(r, 10, &part) && digits(r + 11, 10, &parts) && parts >= 1 &&
               part >= 1 && part <= parts && parts <= SCAN_DELTA_MAX_CHECKPOINTS) {
        out->kind = SCAN_DELTA_CP_MULTI;
        out->part = (uint32_t)part;
        out->parts = (uint32_t)parts;
    } else if (rl > 36 && is_uuid(r, 36) && strcmp(r + 36, ".parquet") == 0) {
        out->kind = SCAN_DELTA_CP_V2_PARQUET;
    } else if (rl > 36 && is_uuid(r, 36) && strcmp(r + 36, ".json") == 0) {
        out->kind = SCAN_DELTA_CP_V2_JSON;
    } else {
        return -1;
    }
    memcpy(out->name, name, n + 1);
    return 0;
}

int scan_delta_hint_parse(const char *text, size_t n, struct scan_delta_hint *h)
{
    memset(h, 0, sizeof *h);
    h->version = -1;
    json_t *j = json_loadb(text, n, 0, NULL);
    json_t *v = json_object_get(j, "version"), *p = json_object_get(j, "parts");
    const char *v2 = json_string_value(json_object_get(json_object_get(j, "v2Checkpoint"),
                                                       "path"));
    int rv = -1;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        h->version = json_integer_value(v);
        if (json_is_integer(p) && json_integer_value(p) > 0 &&
            json_integer_value(p) <= SCAN_DELTA_MAX_CHECKPOINTS)
            h->parts = (uint32_t)json_integer_value(p);
        if (v2 && strlen(v2) < sizeof h->v2_name && !strchr(v2, '/'))
            memcpy(h->v2_name, v2, strlen(v2) + 1);
        rv = 0;
    }
    json_decref(j);
    return rv;
}

static bool hint_names(const struct scan_delta_hint *h, const struct scan_delta_cp *c)
{
    if (!h || h->version != c->version)
        return false;
    if (h->v2_name[0])
        return strcmp(h->v2_name, c->name) == 0;
    if (h->parts > 1)
        return c->kind == SCAN_DELTA_CP_MULTI && c->parts == h->parts;
    return c->kind == SCAN_DELTA_CP_CLASSIC;
}

static int cmp_cp(const void *x, const void *y)
{
    const struct scan_delta_cp *a = x, *b = y;
    if (a->version != b->version)
        return a->version > b->version ? -1 : 1;
    if (a->hinted != b->hinted)
        return a->hinted ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->parts != b->parts)
        return a->parts < b->parts ? -1 : 1;
    if (a->part != b->part)
        return a->part < b->part ? -1 : 1;
    return strcmp(a->name, b->name);
}

size_t scan_delta_cp_plan(struct scan_delta_cp *cp, size_t n, const struct scan_delta_hint *h,
                          struct scan_delta_cpset *sets, bool *hint_used)
{
    size_t k = 0;
    *hint_used = false;
    for (size_t i = 0; i < n; i++)
        cp[i].hinted = hint_names(h, &cp[i]);
    if (n > 0) /* qsort(NULL, 0) is undefined */
        qsort(cp, n, sizeof *cp, cmp_cp);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        if (cp[i].kind == SCAN_DELTA_CP_MULTI)
            while (j < n && cp[j].kind == SCAN_DELTA_CP_MULTI && cp[j].version == cp[i].version &&
                   cp[j].parts == cp[i].parts)
                j++;
        bool complete = true;
        for (size_t p = i; p < j; p++)
            complete = complete && cp[p].part == p - i + 1;
        if (complete && j - i == cp[i].parts) {
            *hint_used = *hint_used || cp[i].hinted;
            sets[k++] = (struct scan_delta_cpset){i, j - i};
        }
        i = j;
    }
    return k;
}

int scan_delta_sidecar_name(const char *path, char *out, size_t cap)
{
    size_t k = 0;
    for (const char *p = path; *p; p++) {
        int c = (unsigned char)*p;
        if (c == '%') {
            unsigned v = 0;
            for (int d = 1; d <= 2; d++) {
                char x = p[d];
                int hv = x >= '0' && x <= '9' ? x - '0' : x >= 'a' && x <= 'f' ? x - 'a' + 10
                       : x >= 'A' && x <= 'F' ? x - 'A' + 10 : -1;
                if (hv < 0)
                    return -1;
                v = v * 16 + (unsigned)hv;
            }
            c = (int)v;
            p += 2;
        }
        if (c == '/' || c == '\0' || k + 1 >= cap)
            return -1;
        out[k++] = (char)c;
    }
    out[k] = '\0';
    return k == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0 ? -1 : 0;
}

/* ------------------------------------------------------------------------------------------- */
/* One checkpoint Parquet file: every row group. */

enum {
    C_PATH, C_SIZE, C_STATS, C_DV_TYPE, C_DV_PATH, C_DV_OFFSET, C_DV_CARD, C_SCHEMA, C_PARTS,
    C_SIDECAR, C_N
};
static const char *const col_path[C_N] = {
    "add.path", "add.size", "add.stats", "add.deletionVector.storageType",
    "add.deletionVector.pathOrInlineDv", "add.deletionVector.offset",
    "add.deletionVector.cardinality", "metaData.schemaString", "metaData.partitionColumns",
    "sidecar.path"};

struct chunk {
    uint32_t rg;
    int col;
    struct scan_pq_leaf l; /* the leaf with this row group's chunk; l.path borrowed from meta */
};

struct chunks {
    struct chunk *v;
    size_t n, cap;
};

static int on_chunk(void *ctx, uint32_t rg, size_t leaf, const struct scan_pq_leaf *l)
{
    struct chunks *cs = ctx;
    (void)leaf;
    for (int c = 0; c < C_N; c++) {
        if (strcmp(l->path, col_path[c]) != 0 || !l->has_chunk)
            continue;
        if (cs->n == cs->cap) {
            size_t nc = cs->cap ? cs->cap * 2 : 16;
            struct chunk *nv = realloc(cs->v, nc * sizeof *nv);
            if (!nv)
                return SHIR_E_NOMEM;
            cs->v = nv;
            cs->cap = nc;
        }
        cs->v[cs->n++] = (struct chunk){rg, c, *l};
    }
    return 0;
}

struct strv {
    char **v;
    size_t n, cap;
};

/* One value (NULL for a null row) appended as a string; SHIR_E_TOOBIG past
 * SCAN_DELTA_MAX_GROUP_ROWS. */
static int strv_emit(void *ctx, const char *v, size_t n)
{
    struct strv *sv = ctx;
    if (sv->n >= SCAN_DELTA_MAX_GROUP_ROWS)
        return SHIR_E_TOOBIG;
    if (sv->n == sv->cap) {
        size_t nc = sv->cap ? sv->cap * 2 : 64;
        char **nv = realloc(sv->v, nc * sizeof *nv);
        if (!nv)
            return SHIR_E_NOMEM;
        sv->v = nv;
        sv->cap = nc;
    }
    if (!v) {
        sv->v[sv->n++] = NULL;
        return 0;
    }
    char *c = malloc(n + 1);
    if (!c)
        return SHIR_E_NOMEM;
    memcpy(c, v, n);
    c[n] = '\0';
    sv->v[sv->n++] = c;
    return 0;
}

static void strv_clear(struct strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    sv->n = 0;
}

struct cp_src {
    const struct scan_file *f;
    uint64_t base;
};

static int cp_read(void *ctx, uint64_t off, void *buf, size_t n, size_t *got)
{
    const struct cp_src *c = ctx;
    return scan_file_read_at(c->f, c->base + off, buf, n, got);
}

/* All values of one chunk, in row order, appended to out (NULL for a null of a column that is
 * not repeated; partitionColumns, a list, gives its non-null values only). */
static int read_chunk(const struct scan_file *f, uint64_t fsize, const struct chunk *c, struct strv *out,
                      struct scan_asset *a, char *why, size_t cap)
{
    const struct scan_pq_leaf *l = &c->l;
    char note[160] = "";
    int64_t start = l->dict_off >= 0 && l->dict_off < l->data_off ? l->dict_off : l->data_off;
    if (start < 4 || (uint64_t)start >= fsize || l->chunk_size <= 0) {
        snprintf(why, cap, "column %s of row group %" PRIu32 " outside the file", l->path, c->rg);
        return SHIR_E_MALFORMED;
    }
    struct cp_src cs = {f, (uint64_t)start};
    struct scan_pq_source src = {cp_read, &cs, (uint64_t)l->chunk_size};
    uint64_t got = 0;
    int rv = scan_parquet_chunk_rows_src(l, &src, 256u << 20, strv_emit, out, note, sizeof note,
                                         &got);
    a->bytes_read += got;
    if (rv == 0 && note[0]) {
        snprintf(why, cap, "column %s of row group %" PRIu32 ": %s", l->path, c->rg, note);
        rv = SHIR_E_MALFORMED;
    } else if (rv < 0 && rv != SHIR_E_NOMEM) { /* a read error or too many rows: unusable */
        snprintf(why, cap, "column %s of row group %" PRIu32 ": %s", l->path, c->rg,
                 shir_strerror(rv));
        rv = SHIR_E_MALFORMED;
    }
    return rv;
}

/* Row i of column c: NULL when the column is absent from the row group or null there. */
static const char *cell(const struct strv *v, int c, size_t i)
{
    return i < v[c].n ? v[c].v[i] : NULL;
}

/* One add row: (path, DV id), size, rows. 0, 1 when the row is not an add, SHIR_E_MALFORMED
 * with why (a size or DV that is not one), SHIR_E_NOMEM, SHIR_E_TOOBIG. */
static int apply_add_row(struct scan_delta_state *s, const struct strv *v, size_t i, char *why,
                         size_t cap)
{
    const char *path = cell(v, C_PATH, i), *size = cell(v, C_SIZE, i);
    const char *st = cell(v, C_DV_TYPE, i), *off = cell(v, C_DV_OFFSET, i);
    const char *card = cell(v, C_DV_CARD, i);
    char *dv = NULL, *end = NULL;
    if (!path)
        return 1;
    unsigned long long sz = size && *size != '-' ? strtoull(size, &end, 10) : 0;
    if (!end || *end) {
        snprintf(why, cap, "add %.100s without a size", path);
        return SHIR_E_MALFORMED;
    }
    int64_t o = off ? strtoll(off, NULL, 10) : -1;
    int rv = st ? scan_delta__dv_id_dup(st, cell(v, C_DV_PATH, i), o, &dv) : 0;
    if (rv == 1) {
        snprintf(why, cap, "add %.100s with a deletion vector that is not one", path);
        return SHIR_E_MALFORMED;
    }
    int64_t rec = scan_delta__stats_records(cell(v, C_STATS, i));
    if (rv == 0)
        rv = scan_delta__add(s, path, dv, sz,
                             scan_delta_live_rows(rec, dv != NULL,
                                                  card ? strtoll(card, NULL, 10) : -1));
    free(dv);
    return rv;
}

/* Stitch one row group's columns into the state, row by row (scan_parquet_chunk_rows_src). */
static int apply_row_group(struct scan_delta_state *s, struct strv *v, char *why, size_t cap)
{
    int rv = 0;
    /* Each add.* column the row group has holds one value or null per row: as many as paths. */
    for (int c = C_SIZE; c <= C_DV_CARD; c++)
        if (v[c].n != v[C_PATH].n && (v[c].n > 0 || c == C_SIZE)) {
            snprintf(why, cap, "%zu rows of add.path but %zu of %s", v[C_PATH].n, v[c].n,
                     col_path[c]);
            return SHIR_E_MALFORMED;
        }
    for (size_t i = 0; i < v[C_PATH].n && rv >= 0; i++)
        rv = apply_add_row(s, v, i, why, cap);
    rv = rv > 0 ? 0 : rv;
    for (size_t i = v[C_SCHEMA].n; rv == 0 && i-- > 0;)
        if (v[C_SCHEMA].v[i]) { /* the last metaData row of the row group */
            rv = scan_delta__set_meta(s, v[C_SCHEMA].v[i], (const char *const *)v[C_PARTS].v,
                                      v[C_PARTS].n);
            break;
        }
    for (size_t i = 0; i < v[C_SIDECAR].n && rv == 0; i++)
        if (v[C_SIDECAR].v[i] &&
            (rv = scan_delta__add_sidecar(s, v[C_SIDECAR].v[i])) == SHIR_E_TOOBIG) {
            snprintf(why, cap, "more than %u sidecars", SCAN_DELTA_MAX_SIDECARS);
            rv = SHIR_E_MALFORMED;
        }
    return rv;
}

static int read_footer(const struct scan_file *f, uint64_t fsize, unsigned char **footer,
                       uint32_t *flen, struct scan_asset *a, char *why, size_t cap)
{
    unsigned char tail[8];
    size_t got = 0;
    int rv = fsize >= 12 ? scan_file_read_at(f, fsize - 8, tail, 8, &got) : 0;
    if (rv != 0 || got != 8 || memcmp(tail + 4, "PAR1", 4) != 0 ||
        (*flen = shir_get_le32(tail)) == 0 || *flen > SCAN_PQ_MAX_FOOTER || *flen > fsize - 12) {
        snprintf(why, cap, "not a Parquet file (bad footer)");
        return SHIR_E_MALFORMED;
    }
    if (!(*footer = malloc(*flen)))
        return SHIR_E_NOMEM;
    if (scan_file_read_at(f, fsize - 8 - *flen, *footer, *flen, &got) != 0 || got != *flen) {
        snprintf(why, cap, "footer cannot be read");
        return SHIR_E_MALFORMED;
    }
    a->bytes_read += got + 8;
    return 0;
}

int scan_delta_apply_parquet(struct scan_delta_state *s, const struct scan_file *f,
                             struct scan_asset *a, char *why, size_t cap)
{
    struct scan_pq_meta m = {0};
    struct chunks cs = {0};
    struct strv v[C_N] = {{0}};
    unsigned char *footer = NULL;
    uint32_t flen = 0;
    const char *dwhy = NULL;
    uint64_t fsize = f->size;
    int rv;
    if ((rv = read_footer(f, fsize, &footer, &flen, a, why, cap)) != 0)
        goto out;
    rv = scan_parquet_meta_decode_chunks(footer, flen, &m, &dwhy, on_chunk, &cs);
    if (rv != 0 && rv != SHIR_E_NOMEM) {
        snprintf(why, cap, "corrupt footer: %s", dwhy ? dwhy : "?");
        rv = SHIR_E_MALFORMED;
    }
    /* The chunks come in row-group order: read and apply one row group at a time. */
    for (size_t i = 0; rv == 0 && i < cs.n;) {
        size_t j = i;
        for (; rv == 0 && j < cs.n && cs.v[j].rg == cs.v[i].rg; j++)
            rv = read_chunk(f, fsize, &cs.v[j], &v[cs.v[j].col], a, why, cap);
        if (rv == 0)
            rv = apply_row_group(s, v, why, cap);
        for (int c = 0; c < C_N; c++)
            strv_clear(&v[c]);
        i = j;
    }
out:
    for (int c = 0; c < C_N; c++)
        free(v[c].v);
    free(cs.v);
    scan_parquet_meta_free(&m);
    free(footer);
    return rv;
}

/* ------------------------------------------------------------------------------------------- */
/* A checkpoint set: its files, then (V2) its sidecars. */

static int read_file(struct scan_dir *dir, const char *name, struct scan_delta_state *s,
                     struct scan_asset *a, char *why, size_t cap)
{
    struct scan_file f;
    int rv = scan_dir_open_file(dir, name, &f);
    if (rv == SHIR_E_NOMEM)
        return rv;
    if (rv != 0) {
        snprintf(why, cap, "cannot open %s: %s", name, shir_strerror(rv));
        return SHIR_E_MALFORMED;
    }
    size_t wl;
    rv = scan_delta_apply_parquet(s, &f, a, why, cap);
    scan_dir_close_file(dir, &f);
    if (rv == SHIR_E_MALFORMED && (wl = strlen(why)) + 1 < cap) { /* name the file */
        char tmp[256];
        snprintf(tmp, sizeof tmp, "%s", why);
        snprintf(why, cap, "%s: %s", name, tmp);
    }
    return rv;
}

static int read_sidecars(struct scan_dir *log, struct scan_delta_state *s, struct scan_asset *a,
                         char *why, size_t cap)
{
    char **names = s->sidecars;
    size_t n = s->n_sidecars;
    struct scan_dir *sd = NULL;
    s->sidecars = NULL; /* taken: sidecars naming further sidecars are not followed */
    s->n_sidecars = 0;
    int rv = scan_dir_open_dir(log, "_sidecars", &sd);
    if (rv != 0 && rv != SHIR_E_NOMEM) {
        snprintf(why, cap, "cannot open _sidecars: %s", shir_strerror(rv));
        rv = SHIR_E_MALFORMED;
    }
    for (size_t i = 0; i < n && rv == 0; i++) {
        char name[256];
        if (scan_delta_sidecar_name(names[i], name, sizeof name) != 0) {
            snprintf(why, cap, "sidecar path '%.100s' is outside _delta_log/_sidecars", names[i]);
            rv = SHIR_E_MALFORMED;
        } else {
            rv = read_file(sd, name, s, a, why, cap);
        }
    }
    scan_dir_close(sd);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    scan_delta__clear_sidecars(s);
    return rv;
}

int scan_delta__read_cpset(struct scan_dir *log, const struct scan_delta_cp *cp, size_t count,
                           struct scan_delta_state *s, struct scan_asset *a, char *why,
                           size_t cap)
{
    int rv = 0;
    scan_delta__clear_sidecars(s);
    if (cp[0].kind == SCAN_DELTA_CP_V2_JSON) {
        size_t bad = 0, nerr = a->n_errors;
        rv = scan_delta__read_json(log, cp[0].name, s, a, &bad);
        if (rv == 1 || (rv == 0 && bad > 0)) {
            snprintf(why, cap, "%s: %s", cp[0].name,
                     rv == 1 && a->n_errors > nerr ? a->errors[a->n_errors - 1]
                                                   : "malformed lines");
            rv = SHIR_E_MALFORMED;
        }
    } else {
        for (size_t i = 0; i < count && rv == 0; i++)
            rv = read_file(log, cp[i].name, s, a, why, cap);
    }
    if (rv == 0 && s->n_sidecars > 0)
        rv = read_sidecars(log, s, a, why, cap);
    if (rv == 0 && !s->schema) { /* the protocol puts metaData in every checkpoint */
        snprintf(why, cap, "no metaData action");
        rv = SHIR_E_MALFORMED;
    }
    return rv;
}
