/* Delta Lake tables: the replay state, commit replay, the schema, and the log listing that
 * picks the checkpoint (see delta.h). JSON with jansson; checkpoints in delta_checkpoint.c. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/columnar/delta.h"
#include "scan/columnar/parquet.h"

/* ------------------------------------------------------------------------------------------- */
/* State: live files (open addressing, keyed by path and deletion vector id), the latest
 * metaData, sidecar names. */

int scan_delta_state_new(struct scan_delta_state **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : SHIR_E_NOMEM;
}

static void free_parts(struct scan_delta_state *s)
{
    for (size_t i = 0; i < s->n_parts; i++)
        free(s->parts[i]);
    free(s->parts);
    s->parts = NULL;
    s->n_parts = 0;
}

void scan_delta_state_free(struct scan_delta_state *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->cap; i++)
        free(s->t[i].path);
    free(s->t);
    free(s->schema);
    free_parts(s);
    scan_delta__clear_sidecars(s);
    free(s);
}

/* FNV-1a over the path, a NUL, and the DV id ("" for none): "a" + "bc" and "ab" + "c" differ. */
static uint64_t hash(const char *p, const char *dv)
{
    uint64_t h = 1469598103934665603ull;
    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h *= 1099511628211ull;
    for (; *dv; dv++)
        h = (h ^ (unsigned char)*dv) * 1099511628211ull;
    return h;
}

static struct scan_delta_file *slot(struct scan_delta_state *s, const char *path, const char *dv)
{
    size_t i = (size_t)hash(path, dv) & (s->cap - 1);
    while (s->t[i].path && (strcmp(s->t[i].path, path) != 0 || strcmp(s->t[i].dv, dv) != 0))
        i = (i + 1) & (s->cap - 1);
    return &s->t[i];
}

static int grow(struct scan_delta_state *s)
{
    if (s->used + 1 <= s->cap / 2)
        return 0;
    if (s->used >= SCAN_DELTA_MAX_FILES)
        return SHIR_E_TOOBIG;
    size_t ncap = s->cap ? s->cap * 2 : 64;
    struct scan_delta_file *nt = calloc(ncap, sizeof *nt), *old = s->t;
    if (!nt)
        return SHIR_E_NOMEM;
    size_t ocap = s->cap;
    s->t = nt;
    s->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].path)
            *slot(s, old[i].path, old[i].dv) = old[i];
    free(old);
    return 0;
}

int64_t scan_delta__stats_records(const char *stats)
{
    json_t *j = stats ? json_loads(stats, 0, NULL) : NULL;
    json_t *n = j ? json_object_get(j, "numRecords") : NULL;
    int64_t r = json_is_integer(n) && json_integer_value(n) >= 0 ? json_integer_value(n) : -1;
    json_decref(j);
    return r;
}

int scan_delta_dv_id(const char *storage, const char *path_or_inline, int64_t offset, char *out,
                     size_t cap)
{
    if (!storage || !*storage || !path_or_inline || !*path_or_inline || offset < -1)
        return -1;
    char at[24] = "";
    if (offset >= 0)
        snprintf(at, sizeof at, "@%" PRId64, offset);
    size_t n = strlen(storage) + strlen(path_or_inline) + strlen(at);
    if (n > INT32_MAX)
        return -1;
    if (cap > 0)
        snprintf(out, cap, "%s%s%s", storage, path_or_inline, at);
    return (int)n;
}

int scan_delta__dv_id_dup(const char *storage, const char *path_or_inline, int64_t offset,
                          char **out)
{
    int n = scan_delta_dv_id(storage, path_or_inline, offset, NULL, 0);
    *out = NULL;
    if (n < 0)
        return 1;
    if (!(*out = malloc((size_t)n + 1)))
        return SHIR_E_NOMEM;
    (void)scan_delta_dv_id(storage, path_or_inline, offset, *out, (size_t)n + 1);
    return 0;
}

int64_t scan_delta_live_rows(int64_t num_records, bool has_dv, int64_t cardinality)
{
    if (num_records < 0)
        return -1;
    if (!has_dv)
        return num_records;
    return cardinality >= 0 && cardinality <= num_records ? num_records - cardinality : -1;
}

int scan_delta__add(struct scan_delta_state *s, const char *path, const char *dv, uint64_t size,
                    int64_t rec)
{
    int rv = grow(s);
    if (rv != 0)
        return rv;
    dv = dv ? dv : "";
    struct scan_delta_file *f = slot(s, path, dv);
    if (!f->path) {
        size_t pl = strlen(path), dl = strlen(dv);
        if (!(f->path = malloc(pl + 1 + dl + 1)))
            return SHIR_E_NOMEM;
        memcpy(f->path, path, pl + 1); /* one allocation: "path\0dv\0" */
        memcpy(f->path + pl + 1, dv, dl + 1);
        f->dv = f->path + pl + 1;
        s->used++;
    } else if (f->live) {
        s->live--;
        s->live_bytes -= f->size;
    }
    f->size = size;
    f->records = rec;
    f->live = true;
    s->live++;
    s->live_bytes += size;
    return 0;
}

static void remove_file(struct scan_delta_state *s, const char *path, const char *dv)
{
    if (!s->cap)
        return;
    struct scan_delta_file *f = slot(s, path, dv ? dv : "");
    if (f->path && f->live) {
        f->live = false;
        s->live--;
        s->live_bytes -= f->size;
    }
}

int scan_delta__set_meta(struct scan_delta_state *s, const char *schema,
                         const char *const *parts, size_t n_parts)
{
    char *sc = strdup(schema);
    if (!sc)
        return SHIR_E_NOMEM;
    free(s->schema);
    s->schema = sc;
    free_parts(s);
    if (n_parts == 0)
        return 0;
    if (!(s->parts = calloc(n_parts, sizeof *s->parts)))
        return SHIR_E_NOMEM;
    for (size_t i = 0; i < n_parts; i++)
        if (!(s->parts[s->n_parts++] = strdup(parts[i])))
            return SHIR_E_NOMEM;
    return 0;
}

static int set_meta_json(struct scan_delta_state *s, const char *schema, json_t *parts)
{
    size_t n = json_is_array(parts) ? json_array_size(parts) : 0, k = 0;
    const char **v = n ? calloc(n, sizeof *v) : NULL;
    if (n && !v)
        return SHIR_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *p = json_string_value(json_array_get(parts, i));
        if (p)
            v[k++] = p; /* borrowed: copied by scan_delta__set_meta */
    }
    int rv = scan_delta__set_meta(s, schema, v, k);
    free(v);
    return rv;
}

int scan_delta__add_sidecar(struct scan_delta_state *s, const char *path)
{
    if (s->n_sidecars >= SCAN_DELTA_MAX_SIDECARS)
        return SHIR_E_TOOBIG;
    if ((s->n_sidecars & (s->n_sidecars - 1)) == 0) { /* 0, 1, 2, 4, ...: grow to twice */
        char **nv = realloc(s->sidecars, (s->n_sidecars ? 2 * s->n_sidecars : 1) * sizeof *nv);
        if (!nv)
            return SHIR_E_NOMEM;
        s->sidecars = nv;
    }
    if (!(s->sidecars[s->n_sidecars] = strdup(path)))
        return SHIR_E_NOMEM;
    s->n_sidecars++;
    return 0;
}

void scan_delta__clear_sidecars(struct scan_delta_state *s)
{
    for (size_t i = 0; i < s->n_sidecars; i++)
        free(s->sidecars[i]);
    free(s->sidecars);
    s->sidecars = NULL;
    s->n_sidecars = 0;
}

/* An add's or remove's `deletionVector`: *id NULL when absent or null, else its unique id
 * (malloc'd) and *card its cardinality (-1 when absent or not a count). 0, 1 when it is there
 * but not a descriptor, SHIR_E_NOMEM. */
static int action_dv(json_t *action, char **id, int64_t *card)
{
    json_t *dv = json_object_get(action, "deletionVector"), *off, *c;
    *id = NULL;
    *card = -1;
    if (!dv || json_is_null(dv))
        return 0;
    if (!json_is_object(dv))
        return 1;
    off = json_object_get(dv, "offset");
    if (off && !json_is_null(off) && (!json_is_integer(off) || json_integer_value(off) < 0))
        return 1;
    c = json_object_get(dv, "cardinality");
    if (json_is_integer(c) && json_integer_value(c) >= 0)
        *card = json_integer_value(c);
    return scan_delta__dv_id_dup(json_string_value(json_object_get(dv, "storageType")),
                                 json_string_value(json_object_get(dv, "pathOrInlineDv")),
                                 json_is_integer(off) ? json_integer_value(off) : -1, id);
}

/* add / remove: the file is (path, DV id); an add's rows are numRecords less the DV's
 * cardinality. Returns as apply_line. */
static int apply_file_action(struct scan_delta_state *s, json_t *x, bool add)
{
    const char *path = json_string_value(json_object_get(x, "path"));
    json_t *size = json_object_get(x, "size");
    char *dv = NULL;
    int64_t card;
    int rv = path ? action_dv(x, &dv, &card) : 1;
    if (rv != 0)
        return rv;
    if (!add) {
        remove_file(s, path, dv);
    } else if (json_is_integer(size) && json_integer_value(size) >= 0) {
        int64_t rec = scan_delta__stats_records(json_string_value(json_object_get(x, "stats")));
        rv = scan_delta__add(s, path, dv, (uint64_t)json_integer_value(size),
                             scan_delta_live_rows(rec, dv != NULL, card));
    } else {
        rv = 1;
    }
    free(dv);
    return rv;
}

/* One action line. Returns 0, 1 for a malformed line, or SHIR_E_NOMEM / SHIR_E_TOOBIG. */
static int apply_line(struct scan_delta_state *s, const char *line, size_t n)
{
    json_t *j = json_loadb(line, n, 0, NULL), *x;
    int rv = 1;
    if (!json_is_object(j))
        goto out;
    if ((x = json_object_get(j, "add"))) {
        rv = apply_file_action(s, x, true);
    } else if ((x = json_object_get(j, "remove"))) {
        rv = apply_file_action(s, x, false);
    } else if ((x = json_object_get(j, "metaData"))) {
        const char *schema = json_string_value(json_object_get(x, "schemaString"));
        if (schema)
            rv = set_meta_json(s, schema, json_object_get(x, "partitionColumns"));
    } else if ((x = json_object_get(j, "sidecar"))) {
        /* V2 checkpoints only; collected, read by delta_checkpoint.c. Over the cap: malformed. */
        const char *path = json_string_value(json_object_get(x, "path"));
        if (path)
            rv = scan_delta__add_sidecar(s, path);
        rv = rv == SHIR_E_TOOBIG ? 1 : rv;
    } else {
        rv = 0; /* protocol, commitInfo, txn, domainMetadata, ...: nothing to keep */
    }
out:
    json_decref(j);
    return rv;
}

int scan_delta_apply_json(struct scan_delta_state *s, const char *text, size_t n, size_t *bad)
{
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(text + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - text) : n;
        size_t k = i;
        while (k < e && (text[k] == ' ' || text[k] == '\r' || text[k] == '\t'))
            k++;
        if (k < e) {
            int rv = apply_line(s, text + i, e - i);
            if (rv < 0)
                return rv;
            *bad += (size_t)rv;
        }
        i = e + 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------- */
/* The schema: a Spark StructType, nested structs as dotted paths. */

static enum scan_type spark_type(const char *t)
{
    static const struct {
        const char *name;
        enum scan_type type;
    } map[] = {{"string", SCAN_TYPE_STRING},   {"long", SCAN_TYPE_INTEGER},
               {"integer", SCAN_TYPE_INTEGER}, {"short", SCAN_TYPE_INTEGER},
               {"byte", SCAN_TYPE_INTEGER},    {"double", SCAN_TYPE_DECIMAL},
               {"float", SCAN_TYPE_DECIMAL},   {"boolean", SCAN_TYPE_BOOLEAN},
               {"date", SCAN_TYPE_DATE},       {"timestamp", SCAN_TYPE_TIMESTAMP},
               {"timestamp_ntz", SCAN_TYPE_TIMESTAMP}, {"binary", SCAN_TYPE_BINARY}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(t, map[i].name) == 0)
            return map[i].type;
    return strncmp(t, "decimal", 7) == 0 ? SCAN_TYPE_DECIMAL : SCAN_TYPE_UNKNOWN;
}

struct swalk {
    const struct scan_delta_state *s;
    const struct scan_limits *lim;
    struct scan_asset *a;
    char path[1024];
};

static int walk_struct(struct swalk *w, json_t *st, size_t plen, unsigned depth)
{
    json_t *fields = json_object_get(st, "fields");
    size_t n = json_is_array(fields) ? json_array_size(fields) : 0;
    for (size_t i = 0; i < n; i++) {
        json_t *f = json_array_get(fields, i), *ty = json_object_get(f, "type");
        const char *name = json_string_value(json_object_get(f, "name"));
        if (!name)
            continue;
        int k = snprintf(w->path + plen, sizeof w->path - plen, "%s%s", plen ? "." : "", name);
        if (k < 0 || (size_t)k >= sizeof w->path - plen)
            continue;
        size_t np = plen + (size_t)k;
        enum scan_type t;
        char detail[96];
        if (json_is_string(ty)) {
            t = spark_type(json_string_value(ty));
            snprintf(detail, sizeof detail, "%s", json_string_value(ty));
        } else {
            const char *kind = json_string_value(json_object_get(ty, "type"));
            kind = kind ? kind : "?";
            t = strcmp(kind, "struct") == 0 ? SCAN_TYPE_STRUCT
                : strcmp(kind, "array") == 0 ? SCAN_TYPE_ARRAY
                : strcmp(kind, "map") == 0   ? SCAN_TYPE_MAP
                                             : SCAN_TYPE_UNKNOWN;
            snprintf(detail, sizeof detail, "%s", kind);
        }
        for (size_t p = 0; plen == 0 && p < w->s->n_parts; p++)
            if (strcmp(w->s->parts[p], name) == 0)
                strncat(detail, " partition", sizeof detail - strlen(detail) - 1);
        struct scan_column *c;
        int rv = scan_asset_add_column(w->a, w->lim, w->path, &c);
        if (rv == SHIR_E_TOOBIG)
            return 0;
        if (rv != 0)
            return rv;
        c->type = t;
        if ((rv = scan_set_str(&c->type_detail, detail)) != 0)
            return rv;
        if (t == SCAN_TYPE_STRUCT && depth < 32 && (rv = walk_struct(w, ty, np, depth + 1)) != 0)
            return rv;
        w->path[plen] = '\0';
    }
    return 0;
}

int scan_delta_fill(const struct scan_delta_state *s, const struct scan_limits *lim,
                    struct scan_asset *a)
{
    int rv = 0;
    a->size = s->live_bytes;
    a->live_files = s->live;
    int64_t rows = 0;
    for (size_t i = 0; i < s->cap && rows >= 0; i++)
        if (s->t[i].path && s->t[i].live)
            rows = s->t[i].records < 0 ? -1 : rows + s->t[i].records;
    a->row_count = rows;
    if (!s->schema)
        return scan_asset_add_error(a, "delta: no metaData action: the schema is unknown");
    json_error_t je;
    json_t *st = json_loads(s->schema, 0, &je);
    if (!json_is_object(st)) {
        json_decref(st);
        return scan_asset_add_error(a, "delta: schemaString is not a JSON struct: %s", je.text);
    }
    struct swalk w = {.s = s, .lim = lim, .a = a};
    rv = walk_struct(&w, st, 0, 0);
    json_decref(st);
    return rv;
}

/* ------------------------------------------------------------------------------------------- */
/* The log directory. */

/* "NNNNNNNNNNNNNNNNNNNN.json": the version, or -1. */
static int64_t commit_version(const char *name)
{
    if (strlen(name) != 25 || strcmp(name + 20, ".json") != 0)
        return -1;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9' || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (name[i] - '0');
    }
    return v;
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

int scan_delta__read_json(struct scan_dir *log, const char *name, struct scan_delta_state *s,
                          struct scan_asset *a, size_t *bad)
{
    struct scan_file f;
    int rv = scan_dir_open_file(log, name, &f);
    if (rv == SHIR_E_NOMEM)
        return rv;
    if (rv != 0) {
        rv = scan_asset_add_error(a, "delta: cannot open %s: %s", name, shir_strerror(rv));
        return rv ? rv : 1;
    }
    char *buf = NULL;
    if (f.size > SCAN_DELTA_MAX_COMMIT_BYTES) {
        rv = scan_asset_add_error(a, "delta: %s larger than 64 MiB: not replayed", name);
        rv = rv ? rv : 1;
        goto out;
    }
    size_t got = 0;
    if (!(buf = malloc((size_t)f.size + 1))) {
        rv = SHIR_E_NOMEM;
        goto out;
    }
    /* A file that shrinks after the open reads short; one that grows is read to its old size. */
    if ((rv = scan_file_read_at(&f, 0, buf, (size_t)f.size, &got)) != 0) {
        rv = scan_asset_add_error(a, "delta: cannot read %s: %s", name, shir_strerror(rv));
        rv = rv ? rv : 1;
        goto out;
    }
    a->bytes_read += got;
    rv = scan_delta_apply_json(s, buf, got, bad);
out:
    free(buf);
    scan_dir_close_file(log, &f);
    return rv;
}

/* The listing: commit versions (sorted) and checkpoint files. */
struct listing {
    int64_t *commits;
    size_t n, cap;
    struct scan_delta_cp *cps;
    size_t n_cp, cap_cp;
};

static int grow_to(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 64;
    void *nv = realloc(*v, nc * elem);
    if (!nv)
        return SHIR_E_NOMEM;
    *v = nv;
    *cap = nc;
    return 0;
}

static int list_one(void *ud, const struct scan_dirent *e)
{
    struct listing *l = ud;
    struct scan_delta_cp cp;
    int64_t v;
    if ((v = commit_version(e->name)) >= 0) {
        int rv = grow_to((void **)&l->commits, &l->cap, l->n + 1, sizeof *l->commits);
        if (rv == 0)
            l->commits[l->n++] = v;
        return rv;
    }
    if (scan_delta_cp_parse(e->name, &cp) == 0 && l->n_cp < SCAN_DELTA_MAX_CHECKPOINTS) {
        int rv = grow_to((void **)&l->cps, &l->cap_cp, l->n_cp + 1, sizeof *l->cps);
        if (rv == 0)
            l->cps[l->n_cp++] = cp;
        return rv;
    }
    return 0;
}

static int list_log(struct scan_dir *log, struct listing *l)
{
    int rv = scan_dir_list(log, list_one, l);
    if (l->n > 0) /* qsort(NULL, 0) is undefined */
        qsort(l->commits, l->n, sizeof *l->commits, cmp_i64);
    return rv;
}

static void read_hint(struct scan_dir *log, struct scan_delta_hint *h)
{
    char buf[SCAN_DELTA_MAX_HINT_BYTES];
    struct scan_file f;
    h->version = -1;
    if (scan_dir_open_file(log, "_last_checkpoint", &f) != 0)
        return;
    size_t got = 0;
    if (f.size < sizeof buf && scan_file_read_at(&f, 0, buf, sizeof buf, &got) == 0 &&
        got < sizeof buf)
        (void)scan_delta_hint_parse(buf, got, h);
    scan_dir_close_file(log, &f);
}

/* The newest checkpoint that reads whole, into a fresh *s; older ones when a newer one fails
 * (each failure an error in a). *cp_version -1 when none: replay from commit 0. */
static int load_checkpoint(struct scan_dir *log, struct listing *l, struct scan_delta_state **s,
                           struct scan_asset *a, int64_t *cp_version)
{
    struct scan_delta_hint h;
    bool hint_used = false;
    int rv = 0;
    *cp_version = -1;
    read_hint(log, &h);
    struct scan_delta_cpset *sets = l->n_cp ? calloc(l->n_cp, sizeof *sets) : NULL;
    if (l->n_cp && !sets)
        return SHIR_E_NOMEM;
    size_t n = scan_delta_cp_plan(l->cps, l->n_cp, &h, sets, &hint_used);
    if (h.version >= 0 && !hint_used && (n == 0 || h.version >= l->cps[sets[0].first].version))
        rv = scan_asset_add_error(a, "delta: _last_checkpoint names version %" PRId64 ", for "
                                     "which no complete checkpoint is listed: ignored",
                                  h.version);
    for (size_t i = 0; i < n && rv == 0; i++) {
        const struct scan_delta_cp *cp = &l->cps[sets[i].first];
        char why[256] = "";
        rv = scan_delta__read_cpset(log, cp, sets[i].count, *s, a, why, sizeof why);
        if (rv == 0) {
            *cp_version = cp->version;
            break;
        }
        if (rv != SHIR_E_MALFORMED)
            break;
        scan_delta_state_free(*s);
        *s = NULL;
        if ((rv = scan_delta_state_new(s)) == 0)
            rv = scan_asset_add_error(a, "delta: checkpoint %s skipped: %s", cp->name, why);
    }
    free(sets);
    return rv;
}

/* ~60 lines: list, choose the checkpoint, replay — the order of the protocol, read as one. */
int scan_read_delta_dir(struct scan_dir *table, enum scan_level level,
                        const struct scan_limits *lim, struct scan_asset *a)
{
    struct scan_delta_state *s = NULL;
    struct scan_dir *log = NULL;
    struct listing l = {0};
    int64_t cp = -1;
    size_t bad = 0;
    int rv;
    (void)level; /* L2 and L3 alike: the data files' values are not sampled */
    a->type = SCAN_ASSET_TABLE;
    if ((rv = scan_set_str(&a->format, "delta")) != 0)
        return rv;
    if ((rv = scan_dir_open_dir(table, "_delta_log", &log)) != 0)
        return rv == SHIR_E_NOMEM ? rv
                                  : scan_asset_add_error(a, "delta: cannot open _delta_log: %s",
                                                         shir_strerror(rv));
    if ((rv = list_log(log, &l)) != 0 && rv != SHIR_E_NOMEM) {
        rv = scan_asset_add_error(a, "delta: cannot list _delta_log: %s", shir_strerror(rv));
        goto out;
    }
    if (rv != 0 || (rv = scan_delta_state_new(&s)) != 0 ||
        (rv = load_checkpoint(log, &l, &s, a, &cp)) != 0)
        goto out;
    int64_t version = cp, expect = cp + 1;
    size_t replayed = 0;
    for (size_t i = 0; i < l.n; i++) {
        if (l.commits[i] <= cp)
            continue;
        if (l.commits[i] != expect) {
            rv = scan_asset_add_error(a, "delta: commit %" PRId64 " is missing: the log stops "
                                         "at version %" PRId64, expect, version);
            break;
        }
        if (++replayed > SCAN_DELTA_MAX_COMMITS) {
            rv = scan_asset_add_error(a, "delta: more than %u commits after the last "
                                         "checkpoint: not replayed further",
                                      SCAN_DELTA_MAX_COMMITS);
            break;
        }
        char name[32];
        snprintf(name, sizeof name, "%020" PRId64 ".json", l.commits[i]);
        if ((rv = scan_delta__read_json(log, name, s, a, &bad)) != 0) {
            rv = rv == 1 ? 0 : rv; /* unreadable: said in a; the log stops before it */
            break;
        }
        version = expect++;
    }
    if (rv != 0)
        goto out;
    a->table_version = version;
    if (bad > 0 && (rv = scan_asset_add_error(a, "delta: %zu malformed log lines skipped",
                                              bad)) != 0)
        goto out;
    rv = scan_delta_fill(s, lim, a);
out:
    if (rv == SHIR_E_TOOBIG)
        rv = scan_asset_add_error(a, "delta: more than %u files: counts unknown",
                                  SCAN_DELTA_MAX_FILES);
    scan_dir_close(log);
    free(l.commits);
    free(l.cps);
    scan_delta_state_free(s);
    return rv;
}

int scan_read_delta(const char *dir, enum scan_level level, const struct scan_limits *lim,
                    struct scan_asset *a)
{
    struct scan_dir *d;
    a->type = SCAN_ASSET_TABLE;
    int rv = scan_set_str(&a->format, "delta");
    if (rv == 0 && (rv = scan_dir_local_open(dir, &d)) == 0) {
        rv = scan_read_delta_dir(d, level, lim, a);
        scan_dir_close(d);
    }
    return rv;
}
