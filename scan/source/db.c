/* The catalog walk of a database source: connect, list schemas and tables (ordered, so a run
 * can resume at a table index), then per table describe (L2), sample and classify (L3), and
 * hand each asset to the sink. The servers are reached only through struct scan_db_driver.
 *
 * Qualified names follow the style Purview uses for these sources:
 *   postgresql://HOST:PORT/DB/SCHEMA/TABLE      (schema: postgresql://HOST:PORT/DB/SCHEMA)
 *   mysql://HOST:PORT/DB/TABLE                  (schema, i.e. the database: mysql://HOST:PORT/DB)
 *   sqlite://MACHINE/ABS/PATH/main/TABLE        (no Purview form exists: the file's own URL)
 * and a column is TABLE_NAME#COLUMN. Names are percent-encoded where they hold '/', '#', '?',
 * '%', spaces or control bytes, so a name cannot forge another asset's qualified name. */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "scan/source/db.h"

/* ------------------------------------------------------------------------------------------- */
/* The catalog. */

int scan_db_catalog_add_schema(struct scan_db_catalog *c, const char *name)
{
    char *copy = strdup(name);
    char **v = copy ? realloc(c->schemas, (c->n_schemas + 1) * sizeof *v) : NULL;
    if (!v) {
        free(copy);
        return SHIR_E_NOMEM;
    }
    v[c->n_schemas++] = copy;
    c->schemas = v;
    return 0;
}

int scan_db_catalog_add_table(struct scan_db_catalog *c, const char *schema, const char *name,
                              bool is_view, int64_t est_rows, struct scan_db_table **out)
{
    if (c->n_tables == c->cap_tables) {
        size_t cap = c->cap_tables ? c->cap_tables * 2 : 64;
        struct scan_db_table *v = realloc(c->tables, cap * sizeof *v);
        if (!v)
            return SHIR_E_NOMEM;
        c->tables = v;
        c->cap_tables = cap;
    }
    struct scan_db_table *t = &c->tables[c->n_tables];
    *t = (struct scan_db_table){.schema = strdup(schema), .name = strdup(name),
                                .is_view = is_view, .est_rows = est_rows};
    if (!t->schema || !t->name) {
        free(t->schema);
        free(t->name);
        return SHIR_E_NOMEM;
    }
    if (out)
        *out = t;
    c->n_tables++;
    return 0;
}

void scan_db_catalog_free(struct scan_db_catalog *c)
{
    for (size_t i = 0; i < c->n_schemas; i++)
        free(c->schemas[i]);
    free(c->schemas);
    for (size_t i = 0; i < c->n_tables; i++) {
        free(c->tables[i].schema);
        free(c->tables[i].name);
    }
    free(c->tables);
    memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------------------------------------- */
/* The walk. */

struct dbwalk {
    const struct scan_engine_cfg *cfg;
    const struct scan_db_driver *drv;
    struct scan_db_url url;
    void *conn;
    struct scan_sink *sink;
    struct scan_summary *sum;
    struct scan_limits lim;
    struct shir_buf qn;
    char *cursor;
    uint64_t start_ms, last_progress_ms;
    bool parts;               /* a runtime run: numbered parts (dbparts.c) */
    struct scan_db_parts pp;  /* pp.part: the part being written */
    uint64_t part_lines;      /* assets in it so far */
};

static const struct scan_db_driver *driver_for(enum scan_db_kind k)
{
    switch (k) {
    case SCAN_DB_SQLITE: return &scan_db_sqlite;
    case SCAN_DB_POSTGRES: return &scan_db_postgres;
    case SCAN_DB_MYSQL: return &scan_db_mysql;
    case SCAN_DB_NONE: break;
    }
    return NULL;
}

/* The qualified name of the database, a schema (NULL: none), a table (NULL: none) and a
 * column (NULL: none) into w->qn, NUL-terminated. */
static int make_qn(struct dbwalk *w, const char *schema, const char *table, const char *column)
{
    struct shir_buf *b = &w->qn;
    shir_buf_reset(b);
    int rc;
    if (w->url.kind == SCAN_DB_SQLITE) {
        /* The file's path keeps its slashes; each component is encoded like a name. */
        rc = shir_buf_printf(b, "sqlite://%s", w->cfg->host);
        for (const char *p = w->url.path; rc == 0 && *p;) {
            size_t n = strcspn(p + 1, "/") + 1;
            char comp[256];
            rc = shir_buf_append_u8(b, '/');
            for (size_t off = 1; rc == 0 && off < n; off += sizeof comp - 1) {
                size_t k = n - off < sizeof comp - 1 ? n - off : sizeof comp - 1;
                memcpy(comp, p + off, k);
                comp[k] = '\0';
                rc = scan_db_qn_part(b, comp);
            }
            p += n;
        }
    } else {
        bool v6 = strchr(w->url.host, ':') != NULL;
        rc = shir_buf_printf(b, "%s://%s%s%s:%u/", w->drv->name, v6 ? "[" : "", w->url.host,
                             v6 ? "]" : "", (unsigned)w->url.port);
        if (rc == 0)
            rc = scan_db_qn_part(b, w->url.database);
    }
    if (rc == 0 && schema && !w->drv->schema_is_database && (rc = shir_buf_append_u8(b, '/')) == 0)
        rc = scan_db_qn_part(b, schema);
    if (rc == 0 && table && (rc = shir_buf_append_u8(b, '/')) == 0)
        rc = scan_db_qn_part(b, table);
    if (rc == 0 && column && (rc = shir_buf_append_u8(b, '#')) == 0)
        rc = scan_db_qn_part(b, column);
    return rc ? rc : shir_buf_append_u8(b, '\0');
}

static void progress(struct dbwalk *w, bool force)
{
    if (!w->cfg->progress)
        return;
    uint64_t now = w->cfg->clock->now_ms(w->cfg->clock);
    /* Four updates a second, as for files. */
    if (!force && now - w->last_progress_ms < 250)
        return;
    w->last_progress_ms = now;
    w->sum->duration_ms = now - w->start_ms;
    w->cfg->progress(w->cfg->progress_ud, w->sum, w->cursor ? w->cursor : "");
}

static int deliver(struct dbwalk *w, struct scan_asset *a)
{
    for (size_t i = 0; i < a->n_cols; i++)
        if (a->cols[i].n_classes)
            w->sum->classified_columns++;
    w->sum->errors += a->n_errors;
    w->sum->assets++;
    w->part_lines++;
    int rc = w->sink->put(w->sink, a);
    if (rc) {
        (void)shir_str_fmt(w->sum->message, sizeof w->sum->message, "sink: %s",
                           w->sink->errmsg[0] ? w->sink->errmsg : shir_strerror(rc));
        return rc;
    }
    if (scan_set_str(&w->cursor, a->path) != 0)
        return SHIR_E_NOMEM;
    progress(w, false);
    return 0;
}

/* An asset's path: "SCHEMA" or "SCHEMA/TABLE" as the server spells them (the cursor). */
static int set_path(struct scan_asset *a, const char *schema, const char *table)
{
    size_t n = strlen(schema) + (table ? strlen(table) + 1 : 0) + 1;
    char *p = malloc(n);
    if (!p)
        return SHIR_E_NOMEM;
    (void)shir_str_fmt(p, n, "%s%s%s", schema, table ? "/" : "", table ? table : "");
    free(a->path);
    a->path = p;
    return 0;
}

static int emit_schema(struct dbwalk *w, const char *schema)
{
    struct scan_asset a;
    scan_asset_init(&a);
    a.type = SCAN_ASSET_DB_SCHEMA;
    int rc = make_qn(w, schema, NULL, NULL);
    if (rc == 0)
        rc = scan_set_str(&a.qualified_name, (const char *)w->qn.data);
    if (rc == 0)
        rc = set_path(&a, schema, NULL);
    if (rc == 0)
        rc = scan_set_str(&a.format, w->drv->name);
    if (rc == 0)
        rc = deliver(w, &a);
    scan_asset_free(&a);
    return rc;
}

/* Foreign keys come from drivers as "SCHEMA\tTABLE\tCOLUMN": make them qualified names. */
static int resolve_references(struct dbwalk *w, struct scan_asset *a)
{
    for (size_t i = 0; i < a->n_cols; i++) {
        char *r = a->cols[i].references;
        if (!r)
            continue;
        char *t1 = strchr(r, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2) {
            free(r);
            a->cols[i].references = NULL;
            continue;
        }
        *t1 = *t2 = '\0';
        a->cols[i].references = NULL;
        int rc = make_qn(w, r, t1 + 1, t2 + 1);
        if (rc == 0)
            rc = scan_set_str(&a->cols[i].references, (const char *)w->qn.data);
        free(r);
        if (rc)
            return rc;
    }
    return 0;
}

/* A failure that ends the run: the connection is gone (every later table would fail the same
 * way) or memory ran out. */
static bool fatal(int rc)
{
    return rc == SHIR_E_CLOSED || rc == SHIR_E_NOMEM;
}

/* L2 and L3 of one table: columns (unless already described with the batch), references,
 * sample and classification. Per-table failures are recorded on the asset. */
static int table_detail(struct dbwalk *w, const struct scan_db_table *t, struct scan_asset *a,
                        bool described)
{
    char msg[256] = "";
    const struct scan_job *job = w->cfg->job;
    int rc = described ? 0 : w->drv->describe(w->conn, t, &w->lim, a, msg, sizeof msg);
    if (rc == 0)
        rc = resolve_references(w, a);
    if (rc == 0 && job->level >= SCAN_L3) {
        uint64_t bytes = 0;
        rc = w->drv->sample(w->conn, t, &w->lim, a, &bytes, msg, sizeof msg);
        a->bytes_read = bytes;
        w->sum->bytes_read += bytes;
        const struct scan_readers *r = w->cfg->readers;
        if (rc == 0 && r->classify && (rc = r->classify(r->classify_ctx, a)) != 0 &&
            rc != SHIR_E_NOMEM) {
            (void)shir_str_fmt(msg, sizeof msg, "classification failed: %s", shir_strerror(rc));
        }
    }
    if (rc && rc != SHIR_E_NOMEM &&
        scan_asset_add_error(a, "%s", msg[0] ? msg : shir_strerror(rc)) != 0)
        return SHIR_E_NOMEM;
    if (fatal(rc)) {
        (void)shir_str_fmt(w->sum->message, sizeof w->sum->message, "%s.%s: %s", t->schema,
                           t->name, msg[0] ? msg : shir_strerror(rc));
        return rc;
    }
    return 0;
}

/* count(*) in place of the estimate; a failure (a timeout on a huge table) keeps the estimate
 * and records why. */
static int exact_count(struct dbwalk *w, const struct scan_db_table *t, struct scan_asset *a)
{
    char msg[256] = "";
    int64_t n = -1;
    int rc = w->drv->count(w->conn, t, &n, msg, sizeof msg);
    if (rc == 0) {
        a->row_count = n;
        a->row_count_estimated = false;
        return 0;
    }
    if (rc != SHIR_E_NOMEM && scan_asset_add_error(a, "%s", msg[0] ? msg : shir_strerror(rc)))
        return SHIR_E_NOMEM;
    if (fatal(rc))
        (void)shir_str_fmt(w->sum->message, sizeof w->sum->message, "%s.%s: %s", t->schema,
                           t->name, msg[0] ? msg : shir_strerror(rc));
    return fatal(rc) ? rc : 0;
}

/* A table's asset before any detail: names, kind, the catalog's estimate. */
static int table_asset(struct dbwalk *w, const struct scan_db_table *t, struct scan_asset *a)
{
    scan_asset_init(a);
    a->type = t->is_view ? SCAN_ASSET_DB_VIEW : SCAN_ASSET_DB_TABLE;
    a->row_count = t->est_rows;
    a->row_count_estimated = t->est_rows >= 0;
    int rc = make_qn(w, t->schema, t->name, NULL);
    if (rc == 0)
        rc = scan_set_str(&a->qualified_name, (const char *)w->qn.data);
    if (rc == 0)
        rc = set_path(a, t->schema, t->name);
    if (rc == 0)
        rc = scan_set_str(&a->format, w->drv->name);
    return rc;
}

/* Tables t[0..n), n <= DB_BATCH, in order: described together where the driver can, then each
 * counted, detailed and delivered. 64 assets of names and columns are a few hundred KiB at
 * most, and one round trip per 64 tables is what takes PostgreSQL's L2 from ~1 ms a table to a
 * fraction (bench/bench_db_catalog.sh). */
#define DB_BATCH 64
static int scan_tables(struct dbwalk *w, const struct scan_db_table *t, size_t n)
{
    struct scan_asset a[DB_BATCH];
    const struct scan_job *job = w->cfg->job;
    bool described = false;
    size_t made = 0;
    int rc = 0;
    while (rc == 0 && made < n) {
        rc = table_asset(w, &t[made], &a[made]);
        made++; /* freed below even when half made */
    }
    if (rc == 0 && job->level >= SCAN_L2 && w->drv->describe_many && n > 1) {
        char msg[256];
        described = w->drv->describe_many(w->conn, t, n, &w->lim, a, msg, sizeof msg) == 0;
        for (size_t i = 0; !described && rc == 0 && i < n; i++) {
            scan_asset_free(&a[i]); /* what the batch left: start afresh, one at a time */
            rc = table_asset(w, &t[i], &a[i]);
        }
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
#ifdef SHIR_TEST_FAULTS
        if (job->fault == SCAN_FAULT_SLOW)
            (void)nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
#endif
        if (job->db.exact_counts && !t[i].is_view)
            rc = exact_count(w, &t[i], &a[i]);
        if (rc == 0 && job->level >= SCAN_L2)
            rc = table_detail(w, &t[i], &a[i], described);
        if (rc == 0)
            rc = deliver(w, &a[i]);
    }
    for (size_t i = 0; i < made; i++)
        scan_asset_free(&a[i]);
    return rc;
}

/* A CA bundle given as content (a runtime definition's) as a file the client libraries can
 * open by name: an anonymous memory file, named /proc/self/fd/N, that is nowhere on disk and
 * goes away with its descriptor. -1 and msg on failure. */
static int ca_memfd(const struct scan_db_opts *o, char path[32], char *msg, size_t cap)
{
    int fd = memfd_create("shir-tls-ca", MFD_CLOEXEC);
    int rc = fd < 0 ? -errno : shir_write_all(fd, o->tls_ca_pem, o->tls_ca_pem_len);
    if (rc) {
        (void)shir_str_fmt(msg, cap, "cannot hold the TLS CA bundle: %s", shir_strerror(rc));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    (void)shir_str_fmt(path, 32, "/proc/self/fd/%d", fd);
    return fd;
}

/* Connect (the driver's open, with the CA bundle as a file when the job holds its content). */
static int open_conn(struct dbwalk *w, char *msg, size_t cap)
{
    struct scan_job job = *w->cfg->job; /* shallow: only tls_ca differs, nothing is freed */
    char path[32];
    int fd = -1;
    if (job.db.tls_ca_pem) {
        if ((fd = ca_memfd(&job.db, path, msg, cap)) < 0)
            return SHIR_E_IO;
        job.db.tls_ca = path;
    }
    struct scan_db_connect c = {.url = &w->url, .job = &job, .clock = w->cfg->clock};
    int rc = w->drv->open(&c, &w->conn, msg, cap);
    if (fd >= 0)
        close(fd); /* the handshake has read it */
    return rc;
}

/* Connect and read the catalog; on failure sum->message says why. */
static int open_catalog(struct dbwalk *w, struct scan_db_catalog *cat)
{
    struct scan_summary *sum = w->sum;
    char msg[200] = "";
    int rc = scan_db_url_parse(w->cfg->job->source, &w->url, msg, sizeof msg);
    if (rc == 0 && !(w->drv = driver_for(w->url.kind)))
        rc = SHIR_E_UNSUPPORTED;
    if (rc == 0)
        rc = open_conn(w, msg, sizeof msg);
    if (rc == 0)
        rc = w->drv->catalog(w->conn, cat, msg, sizeof msg);
    if (rc)
        (void)shir_str_fmt(sum->message, sizeof sum->message, "cannot scan %s: %s",
                           w->cfg->job->source, msg[0] ? msg : shir_strerror(rc));
    return rc;
}

/* ------------------------------------------------------------------------------------------- */
/* Parts (a runtime run): the boundaries and the resume point are dbparts.c's. */

static int sink_failed(struct dbwalk *w, int rc)
{
    (void)shir_str_copy(w->sum->message, sizeof w->sum->message, w->sink->errmsg);
    return rc;
}

/* Set up the first part this attempt writes and the counters of the parts before it. */
static int start_parts(struct dbwalk *w)
{
    const struct scan_job *j = w->cfg->job;
    w->parts = true;
    scan_db_parts_start(j, &w->pp);
    if (j->resume) {
        w->sum->assets = j->resume_assets;
        w->sum->bytes_read = j->resume_bytes;
        w->sum->errors = j->resume_errors;
    }
    if (!w->sink->part_begin || !w->sink->part_commit || !w->sink->run_done) {
        (void)shir_str_copy(w->sum->message, sizeof w->sum->message,
                            "this sink cannot deliver by parts");
        return SHIR_E_INVAL;
    }
    int rc = w->sink->part_begin(w->sink, w->pp.part);
    return rc ? sink_failed(w, rc) : 0;
}

/* The part holding tables up to (not including) `tables` of the catalog is complete: durable,
 * checkpoint (its key: the last table's), next part. */
static int part_done(struct dbwalk *w, const struct scan_db_catalog *cat, uint64_t tables)
{
    int rc = w->sink->part_commit(w->sink);
    if (rc)
        return sink_failed(w, rc);
    const struct scan_run_cbs *cbs = w->cfg->cbs;
    if (cbs && cbs->checkpoint_cb) {
        struct scan_checkpoint c = {.part = w->pp.part,
                                    .files = tables,
                                    .assets = w->sum->assets,
                                    .bytes = w->sum->bytes_read,
                                    .errors = w->sum->errors};
        const struct scan_db_table *last = &cat->tables[tables - 1];
        c.key_len = (uint32_t)scan_key_table(last->schema, last->name, c.key);
        if ((rc = cbs->checkpoint_cb(cbs->ud, &c)) != 0) {
            (void)shir_str_fmt(w->sum->message, sizeof w->sum->message,
                               "cannot report checkpoint %u: %s", (unsigned)w->pp.part,
                               shir_strerror(rc));
            return rc;
        }
    }
    w->part_lines = 0;
    rc = w->sink->part_begin(w->sink, ++w->pp.part);
    return rc ? sink_failed(w, rc) : 0;
}

/* After the last table: a part that holds lines without closing (the schemas of a catalog with
 * no table) is committed, then _SUCCESS; the part begun last and left empty stays a temporary
 * file, which _SUCCESS removes. */
static int finish_parts(struct dbwalk *w)
{
    int rc = w->part_lines ? w->sink->part_commit(w->sink) : 0;
    if (rc)
        return sink_failed(w, rc);
    w->sum->duration_ms = w->cfg->clock->now_ms(w->cfg->clock) - w->start_ms;
    rc = w->sink->run_done(w->sink, w->sum);
    return rc ? sink_failed(w, rc) : 0;
}

/* The tables from `first` on, in batches that never cross a part's end. */
static int walk_tables(struct dbwalk *w, const struct scan_db_catalog *cat, uint64_t first)
{
    int rc = 0;
    uint64_t n = cat->n_tables;
    for (uint64_t i = first; rc == 0 && i < n;) {
        uint64_t k = w->parts ? scan_db_parts_batch(&w->pp, i, n, DB_BATCH)
                              : (n - i < DB_BATCH ? n - i : DB_BATCH);
        rc = scan_tables(w, &cat->tables[i], (size_t)k);
        i += k;
        if (rc == 0 && w->parts && scan_db_parts_closes(&w->pp, i - 1, n))
            rc = part_done(w, cat, i);
    }
    return rc;
}

int scan_db_run(const struct scan_engine_cfg *cfg, struct scan_sink *sink,
                struct scan_summary *sum)
{
    struct dbwalk w = {.cfg = cfg, .sink = sink, .sum = sum};
    struct scan_db_catalog cat = {0};
    scan_limits_default(&w.lim);
    shir_buf_init(&w.qn, SIZE_MAX);
    w.start_ms = w.last_progress_ms = cfg->clock->now_ms(cfg->clock);
    int rc = open_catalog(&w, &cat);
    if (rc == 0 && scan_job_has_parts(cfg->job))
        rc = start_parts(&w);
    /* Schemas first (in part 0 of a run with parts: a resumed attempt has written them). */
    for (size_t i = 0; rc == 0 && (!w.parts || w.pp.schemas) && i < cat.n_schemas; i++)
        rc = emit_schema(&w, cat.schemas[i]);
    /* Tables in catalog order: a resumed run starts at the first table of its part, the first
     * after its checkpoint's key when it has one. */
    const struct scan_job *j = cfg->job;
    if (rc == 0 && w.parts && j->resume && j->resume_key && j->resume_key_len)
        w.pp.first =
            scan_db_parts_after_key(cat.tables, cat.n_tables, j->resume_key, j->resume_key_len);
    if (rc == 0)
        rc = walk_tables(&w, &cat, w.parts ? w.pp.first : 0);
    if (w.conn)
        w.drv->close(w.conn);
    if (rc == 0 && w.parts)
        rc = finish_parts(&w);
    sum->duration_ms = cfg->clock->now_ms(cfg->clock) - w.start_ms;
    progress(&w, true);
    scan_db_catalog_free(&cat);
    scan_db_url_free(&w.url);
    shir_buf_free(&w.qn);
    free(w.cursor);
    return rc;
}
