/* Delta Lake tables: log listing, checkpoint and commit replay, the schema (see delta.h).
 * JSON with jansson; the checkpoint with our Parquet reader (its footer, then the add.path,
 * add.size, add.stats, metaData.schemaString and metaData.partitionColumns chunks). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan/columnar/delta.h"
#include "scan/columnar/parquet.h"

/* ------------------------------------------------------------------------------------------- */
/* State: live files (open addressing, path keys), the latest metaData. */

struct dfile {
    char *path;        /* owned; NULL: empty slot */
    uint64_t size;
    int64_t records;   /* -1: no stats */
    bool live;
};

struct scan_delta_state {
    struct dfile *t;
    size_t cap, used, live;
    uint64_t live_bytes;
    char *schema;      /* owned: schemaString of the latest metaData */
    char **parts;      /* owned: partition column names */
    size_t n_parts;
};

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
    free(s);
}

static uint64_t hash(const char *p)
{
    uint64_t h = 1469598103934665603ull;
    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h;
}

static struct dfile *slot(struct scan_delta_state *s, const char *path)
{
    size_t i = (size_t)hash(path) & (s->cap - 1);
    while (s->t[i].path && strcmp(s->t[i].path, path) != 0)
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
    struct dfile *nt = calloc(ncap, sizeof *nt), *old = s->t;
    if (!nt)
        return SHIR_E_NOMEM;
    size_t ocap = s->cap;
    s->t = nt;
    s->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].path)
            *slot(s, old[i].path) = old[i];
    free(old);
    return 0;
}

static int64_t stats_records(const char *stats)
{
    json_t *j = stats ? json_loads(stats, 0, NULL) : NULL;
    json_t *n = j ? json_object_get(j, "numRecords") : NULL;
    int64_t r = json_is_integer(n) && json_integer_value(n) >= 0 ? json_integer_value(n) : -1;
    json_decref(j);
    return r;
}

static int add_file(struct scan_delta_state *s, const char *path, uint64_t size, int64_t rec)
{
    int rv = grow(s);
    if (rv != 0)
        return rv;
    struct dfile *f = slot(s, path);
    if (!f->path) {
        if (!(f->path = strdup(path)))
            return SHIR_E_NOMEM;
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

static void remove_file(struct scan_delta_state *s, const char *path)
{
    if (!s->cap)
        return;
    struct dfile *f = slot(s, path);
    if (f->path && f->live) {
        f->live = false;
        s->live--;
        s->live_bytes -= f->size;
    }
}

static int set_meta(struct scan_delta_state *s, const char *schema, json_t *parts)
{
    char *sc = strdup(schema);
    if (!sc)
        return SHIR_E_NOMEM;
    free(s->schema);
    s->schema = sc;
    free_parts(s);
    size_t n = json_is_array(parts) ? json_array_size(parts) : 0;
    if (n == 0)
        return 0;
    if (!(s->parts = calloc(n, sizeof *s->parts)))
        return SHIR_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *p = json_string_value(json_array_get(parts, i));
        if (p && !(s->parts[s->n_parts++] = strdup(p)))
            return SHIR_E_NOMEM;
    }
    return 0;
}

/* One action line. Returns 0, 1 for a malformed line, or SHIR_E_NOMEM / SHIR_E_TOOBIG. */
static int apply_line(struct scan_delta_state *s, const char *line, size_t n)
{
    json_t *j = json_loadb(line, n, 0, NULL), *x;
    int rv = 1;
    if (!json_is_object(j))
        goto out;
    if ((x = json_object_get(j, "add"))) {
        const char *path = json_string_value(json_object_get(x, "path"));
        json_t *size = json_object_get(x, "size");
        if (path && json_is_integer(size) && json_integer_value(size) >= 0)
            rv = add_file(s, path, (uint64_t)json_integer_value(size),
                          stats_records(json_string_value(json_object_get(x, "stats"))));
    } else if ((x = json_object_get(j, "remove"))) {
        const char *path = json_string_value(json_object_get(x, "path"));
        if (path) {
            remove_file(s, path);
            rv = 0;
        }
    } else if ((x = json_object_get(j, "metaData"))) {
        const char *schema = json_string_value(json_object_get(x, "schemaString"));
        if (schema)
            rv = set_meta(s, schema, json_object_get(x, "partitionColumns"));
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
/* The checkpoint: add rows and the metaData row, from the first row group's chunks. */

struct strv {
    char **v;
    size_t n, cap;
};

static int strv_emit(void *ctx, const char *v, size_t n)
{
    struct strv *sv = ctx;
    if (sv->n == sv->cap) {
        size_t nc = sv->cap ? sv->cap * 2 : 64;
        char **nv = realloc(sv->v, nc * sizeof *nv);
        if (!nv)
            return SHIR_E_NOMEM;
        sv->v = nv;
        sv->cap = nc;
    }
    char *c = malloc(n + 1);
    if (!c)
        return SHIR_E_NOMEM;
    memcpy(c, v, n);
    c[n] = '\0';
    sv->v[sv->n++] = c;
    return 0;
}

static void strv_free(struct strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
}

struct cp_src {
    int fd;
    uint64_t base;
};

static int cp_read(void *ctx, uint64_t off, void *buf, size_t n, size_t *got)
{
    const struct cp_src *c = ctx;
    struct scan_file f = {.fd = c->fd, .path = "checkpoint", .size = UINT64_MAX};
    return scan_file_read_at(&f, c->base + off, buf, n, got);
}

/* All values of leaf `path` (non-null, in row order). */
static int cp_column(int fd, uint64_t fsize, const struct scan_pq_meta *m, const char *path,
                     struct strv *out, struct scan_asset *a)
{
    char note[160] = "";
    for (size_t i = 0; i < m->n_leaves; i++) {
        const struct scan_pq_leaf *l = &m->leaves[i];
        if (strcmp(l->path, path) != 0 || !l->has_chunk)
            continue;
        int64_t start = l->dict_off >= 0 && l->dict_off < l->data_off ? l->dict_off : l->data_off;
        if (start < 4 || (uint64_t)start >= fsize || l->chunk_size <= 0)
            return scan_asset_add_error(a, "delta: checkpoint column %s outside the file", path);
        struct cp_src cs = {fd, (uint64_t)start};
        struct scan_pq_source src = {cp_read, &cs, (uint64_t)l->chunk_size};
        uint64_t got = 0;
        int rv = scan_parquet_chunk_sample_src(l, &src, 256u << 20, UINT32_MAX, strv_emit, out,
                                               note, sizeof note, &got);
        a->bytes_read += got;
        if (rv == 0 && note[0])
            rv = scan_asset_add_error(a, "delta: checkpoint column %s: %s", path, note);
        return rv;
    }
    return 0;
}

/* ~70 lines: read footer, five columns, and stitch them into the state, in one place. */
static int read_checkpoint(int logfd, const char *name, struct scan_delta_state *s,
                           struct scan_asset *a)
{
    struct scan_pq_meta m = {0};
    struct strv paths = {0}, sizes = {0}, stats = {0}, schema = {0}, parts = {0};
    unsigned char tail[8], *footer = NULL;
    const char *why = NULL;
    struct stat st;
    size_t got;
    int rv = 0;
    int fd = openat(logfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return scan_asset_add_error(a, "delta: cannot open %s: %s", name, strerror(errno));
    struct scan_file f = {.fd = fd, .path = name, .size = 0};
    if (fstat(fd, &st) != 0 || st.st_size < 12) {
        rv = scan_asset_add_error(a, "delta: %s is not a Parquet file", name);
        goto out;
    }
    f.size = (uint64_t)st.st_size;
    if ((rv = scan_file_read_at(&f, f.size - 8, tail, 8, &got)) != 0)
        goto out;
    uint32_t flen = shir_get_le32(tail);
    if (got != 8 || memcmp(tail + 4, "PAR1", 4) != 0 || flen == 0 || flen > SCAN_PQ_MAX_FOOTER ||
        flen > f.size - 12) {
        rv = scan_asset_add_error(a, "delta: %s: bad Parquet footer", name);
        goto out;
    }
    if (!(footer = malloc(flen))) {
        rv = SHIR_E_NOMEM;
        goto out;
    }
    if ((rv = scan_file_read_at(&f, f.size - 8 - flen, footer, flen, &got)) != 0)
        goto out;
    a->bytes_read += got + 8;
    rv = got == flen ? scan_parquet_meta_decode(footer, flen, &m, &why) : SHIR_E_TRUNC;
    if (rv == SHIR_E_NOMEM)
        goto out;
    if (rv != 0) {
        rv = scan_asset_add_error(a, "delta: %s: corrupt footer: %s", name, why ? why : "cut");
        goto out;
    }
    if (m.n_row_groups > 1) {
        rv = scan_asset_add_error(a, "delta: %s has %" PRIu32 " row groups: only the first is "
                                     "read, live files are undercounted", name, m.n_row_groups);
        if (rv != 0)
            goto out;
    }
    if ((rv = cp_column(fd, f.size, &m, "add.path", &paths, a)) != 0 ||
        (rv = cp_column(fd, f.size, &m, "add.size", &sizes, a)) != 0 ||
        (rv = cp_column(fd, f.size, &m, "add.stats", &stats, a)) != 0 ||
        (rv = cp_column(fd, f.size, &m, "metaData.schemaString", &schema, a)) != 0 ||
        (rv = cp_column(fd, f.size, &m, "metaData.partitionColumns", &parts, a)) != 0)
        goto out;
    if (sizes.n != paths.n) {
        rv = scan_asset_add_error(a, "delta: %s: %zu add paths but %zu sizes", name, paths.n,
                                  sizes.n);
        goto out;
    }
    /* Stats are optional per file: they align with the paths only when every add has them. */
    for (size_t i = 0; i < paths.n && rv == 0; i++)
        rv = add_file(s, paths.v[i], strtoull(sizes.v[i], NULL, 10),
                      stats.n == paths.n ? stats_records(stats.v[i]) : -1);
    if (rv == 0 && schema.n > 0) {
        json_t *pa = json_array();
        for (size_t i = 0; pa && i < parts.n; i++)
            json_array_append_new(pa, json_string(parts.v[i]));
        rv = pa ? set_meta(s, schema.v[schema.n - 1], pa) : SHIR_E_NOMEM;
        json_decref(pa);
    }
out:
    strv_free(&paths);
    strv_free(&sizes);
    strv_free(&stats);
    strv_free(&schema);
    strv_free(&parts);
    scan_parquet_meta_free(&m);
    free(footer);
    close(fd);
    return rv;
}

/* ------------------------------------------------------------------------------------------- */
/* The log directory. */

/* "NNNNNNNNNNNNNNNNNNNN.json" or ".checkpoint.parquet": the version, or -1. */
static int64_t log_version(const char *name, const char *suffix)
{
    size_t n = strlen(name), sl = strlen(suffix);
    if (n != 20 + sl || strcmp(name + 20, suffix) != 0)
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

static int read_commit(int logfd, int64_t v, struct scan_delta_state *s, struct scan_asset *a,
                       size_t *bad)
{
    char name[32];
    struct stat st;
    snprintf(name, sizeof name, "%020" PRId64 ".json", v);
    int fd = openat(logfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return scan_asset_add_error(a, "delta: cannot open %s: %s", name, strerror(errno));
    int rv = 0;
    char *buf = NULL;
    if (fstat(fd, &st) != 0 || st.st_size > SCAN_DELTA_MAX_COMMIT_BYTES) {
        rv = scan_asset_add_error(a, "delta: %s larger than 64 MiB: not replayed", name);
        goto out;
    }
    struct scan_file f = {.fd = fd, .path = name, .size = (uint64_t)st.st_size};
    size_t got = 0;
    if (!(buf = malloc((size_t)st.st_size + 1))) {
        rv = SHIR_E_NOMEM;
        goto out;
    }
    if ((rv = scan_file_read_at(&f, 0, buf, (size_t)st.st_size, &got)) != 0)
        goto out;
    a->bytes_read += got;
    rv = scan_delta_apply_json(s, buf, got, bad);
out:
    free(buf);
    close(fd);
    return rv;
}

/* ~75 lines: list, choose the checkpoint, replay — the order of the protocol, read as one. */
int scan_read_delta(const char *dir, enum scan_level level, const struct scan_limits *lim,
                    struct scan_asset *a)
{
    struct scan_delta_state *s = NULL;
    int64_t *commits = NULL, cp = -1;
    size_t n = 0, cap = 0, bad = 0;
    int rv, logfd = -1;
    DIR *d = NULL;
    (void)level; /* L2 and L3 alike: the data files' values are not sampled */
    a->type = SCAN_ASSET_TABLE;
    if ((rv = scan_set_str(&a->format, "delta")) != 0)
        return rv;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    logfd = openat(dfd, "_delta_log", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    close(dfd);
    if (logfd < 0)
        return scan_asset_add_error(a, "delta: cannot open _delta_log: %s", strerror(errno));
    int lfd2 = dup(logfd);
    if (lfd2 < 0 || !(d = fdopendir(lfd2))) {
        if (lfd2 >= 0)
            close(lfd2);
        rv = -errno;
        goto out;
    }
    for (struct dirent *e; (e = readdir(d));) {
        int64_t v;
        if ((v = log_version(e->d_name, ".checkpoint.parquet")) >= 0) {
            cp = v > cp ? v : cp;
        } else if ((v = log_version(e->d_name, ".json")) >= 0) {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 64;
                int64_t *nv = realloc(commits, nc * sizeof *nv);
                if (!nv) {
                    rv = SHIR_E_NOMEM;
                    goto out;
                }
                commits = nv;
                cap = nc;
            }
            commits[n++] = v;
        }
    }
    qsort(commits, n, sizeof *commits, cmp_i64);
    if ((rv = scan_delta_state_new(&s)) != 0)
        goto out;
    if (cp >= 0) {
        char name[48];
        snprintf(name, sizeof name, "%020" PRId64 ".checkpoint.parquet", cp);
        if ((rv = read_checkpoint(logfd, name, s, a)) != 0)
            goto out;
    }
    int64_t version = cp, expect = cp + 1;
    size_t replayed = 0;
    for (size_t i = 0; i < n; i++) {
        if (commits[i] <= cp)
            continue;
        if (commits[i] != expect) {
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
        if ((rv = read_commit(logfd, commits[i], s, a, &bad)) != 0)
            goto out;
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
    if (d)
        closedir(d);
    if (logfd >= 0)
        close(logfd);
    free(commits);
    scan_delta_state_free(s);
    return rv;
}
