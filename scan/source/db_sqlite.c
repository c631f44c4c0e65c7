/* SQLite as a database source (libsqlite3): the file is opened read-only and immutable
 * (`file:PATH?mode=ro&immutable=1`), so SQLite neither writes nor takes locks, not even a
 * journal or WAL file next to it; a database another process is changing may then read
 * inconsistently, which docs/sources.md says. A statement runs under a progress handler that
 * interrupts it past the job's statement timeout. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "scan/source/db.h"

struct sqlite_conn {
    sqlite3 *db;
    const struct shir_clock *clock;
    uint32_t timeout_ms;
    uint64_t deadline_ms; /* of the running statement */
};

/* sqlite3_progress_handler: a non-zero return interrupts the statement (SQLITE_INTERRUPT). */
static int progress_cb(void *ud)
{
    struct sqlite_conn *c = ud;
    return c->clock->now_ms(c->clock) > c->deadline_ms;
}

static int sqlite_err(struct sqlite_conn *c, int code, const char *what, char *msg, size_t cap)
{
    (void)shir_str_fmt(msg, cap, "%s: %s", what,
                       code == SQLITE_INTERRUPT ? "statement timeout" : sqlite3_errmsg(c->db));
    switch (code) {
    case SQLITE_NOMEM: return SHIR_E_NOMEM;
    case SQLITE_INTERRUPT: return SHIR_E_TIMEOUT;
    case SQLITE_PERM:
    case SQLITE_AUTH:
    case SQLITE_CANTOPEN: return SHIR_E_DENIED;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return SHIR_E_MALFORMED;
    default: return SHIR_E_IO;
    }
}

/* Prepare `sql` with up to two text parameters, starting the statement's deadline. */
static int prepare(struct sqlite_conn *c, const char *sql, const char *p1, const char *p2,
                   sqlite3_stmt **st, char *msg, size_t cap)
{
    c->deadline_ms = c->clock->now_ms(c->clock) + c->timeout_ms;
    int code = sqlite3_prepare_v2(c->db, sql, -1, st, NULL);
    if (code == SQLITE_OK && p1)
        code = sqlite3_bind_text(*st, 1, p1, -1, SQLITE_STATIC);
    if (code == SQLITE_OK && p2)
        code = sqlite3_bind_text(*st, 2, p2, -1, SQLITE_STATIC);
    if (code != SQLITE_OK) {
        sqlite3_finalize(*st);
        *st = NULL;
        return sqlite_err(c, code, "prepare", msg, cap);
    }
    return 0;
}

/* The file as a URI: `?` `#` `%` in the path are escaped (sqlite.org/uri.html §3.1). */
static int make_uri(const char *path, struct shir_buf *b)
{
    int rc = shir_buf_append(b, "file:", 5);
    for (const char *p = path; rc == 0 && *p; p++)
        rc = (*p == '?' || *p == '#' || *p == '%')
                 ? shir_buf_printf(b, "%%%02X", (unsigned char)*p)
                 : shir_buf_append_u8(b, (uint8_t)*p);
    if (rc == 0)
        rc = shir_buf_printf(b, "?mode=ro&immutable=1");
    return rc ? rc : shir_buf_append_u8(b, '\0');
}

static int sq_open(const struct scan_db_connect *cc, void **out, char *msg, size_t cap)
{
    struct sqlite_conn *c = calloc(1, sizeof *c);
    struct shir_buf uri;
    shir_buf_init(&uri, SIZE_MAX);
    int rc = c ? make_uri(cc->url->path, &uri) : SHIR_E_NOMEM;
    if (rc)
        goto err;
    c->clock = cc->clock;
    uint32_t ms = cc->job->db.statement_timeout_ms;
    c->timeout_ms = ms ? ms : UINT32_MAX;
    int code = sqlite3_open_v2((const char *)uri.data, &c->db,
                               SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
    if (code != SQLITE_OK) {
        rc = sqlite_err(c, code, "open", msg, cap);
        goto err;
    }
    /* Refuse anything that is not a database now, not at the first table. Every 1000 virtual
     * machine steps is about 10 µs: the timeout is checked often enough to be kept within ms. */
    sqlite3_progress_handler(c->db, 1000, progress_cb, c);
    sqlite3_stmt *st = NULL;
    if ((rc = prepare(c, "SELECT count(*) FROM sqlite_schema", NULL, NULL, &st, msg, cap)) != 0)
        goto err;
    code = sqlite3_step(st);
    sqlite3_finalize(st);
    if (code != SQLITE_ROW) {
        rc = sqlite_err(c, code, "read schema", msg, cap);
        goto err;
    }
    shir_buf_free(&uri);
    *out = c;
    return 0;
err:
    shir_buf_free(&uri);
    if (c)
        sqlite3_close(c->db);
    free(c);
    return rc;
}

static void sq_close(void *conn)
{
    struct sqlite_conn *c = conn;
    sqlite3_close(c->db);
    free(c);
}

/* The row estimate: sqlite_stat1's first number for the table's first index (ANALYZE writes
 * it), else unknown. */
static int64_t estimate(struct sqlite_conn *c, const char *table)
{
    sqlite3_stmt *st = NULL;
    char msg[64];
    int64_t n = -1;
    if (sqlite3_table_column_metadata(c->db, "main", "sqlite_stat1", "stat", NULL, NULL, NULL,
                                      NULL, NULL) != SQLITE_OK ||
        prepare(c, "SELECT stat FROM main.sqlite_stat1 WHERE tbl = ?1 LIMIT 1", table, NULL, &st,
                msg, sizeof msg) != 0)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *s = sqlite3_column_text(st, 0);
        if (s && *s >= '0' && *s <= '9')
            n = strtoll((const char *)s, NULL, 10);
    }
    sqlite3_finalize(st);
    return n;
}

static int sq_catalog(void *conn, struct scan_db_catalog *out, char *msg, size_t cap)
{
    struct sqlite_conn *c = conn;
    sqlite3_stmt *st = NULL;
    /* sqlite_ names are SQLite's own (sqlite_sequence, sqlite_stat1): not data. */
    int rc = prepare(c,
                     "SELECT name, type FROM main.sqlite_schema WHERE type IN ('table', 'view') "
                     "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                     NULL, NULL, &st, msg, cap);
    if (rc == 0)
        rc = scan_db_catalog_add_schema(out, "main");
    int code = SQLITE_ROW;
    while (rc == 0 && (code = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *type = (const char *)sqlite3_column_text(st, 1);
        if (name && type)
            rc = scan_db_catalog_add_table(out, "main", name, strcmp(type, "view") == 0, -1,
                                           NULL);
    }
    if (rc == 0 && code != SQLITE_DONE)
        rc = sqlite_err(c, code, "list tables", msg, cap);
    sqlite3_finalize(st);
    for (size_t i = 0; rc == 0 && i < out->n_tables; i++)
        if (!out->tables[i].is_view)
            out->tables[i].est_rows = estimate(c, out->tables[i].name);
    return rc;
}

/* A foreign key to a table's primary key without naming the column: SQLite allows it. */
static char *pk_column(struct sqlite_conn *c, const char *table)
{
    sqlite3_stmt *st = NULL;
    char msg[64], *out = NULL;
    if (prepare(c, "SELECT name FROM pragma_table_info(?1, 'main') WHERE pk = 1", table, NULL,
                &st, msg, sizeof msg) != 0)
        return NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

static int foreign_keys(struct sqlite_conn *c, const struct scan_db_table *t,
                        struct scan_asset *a, char *msg, size_t cap)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(c, "SELECT \"from\", \"table\", \"to\" FROM pragma_foreign_key_list(?1, "
                        "'main') ORDER BY id, seq",
                     t->name, NULL, &st, msg, cap);
    int code = SQLITE_ROW;
    while (rc == 0 && (code = sqlite3_step(st)) == SQLITE_ROW) {
        const char *from = (const char *)sqlite3_column_text(st, 0);
        const char *to_t = (const char *)sqlite3_column_text(st, 1);
        const char *to_c = (const char *)sqlite3_column_text(st, 2);
        struct scan_column *col = from ? scan_asset_column(a, from) : NULL;
        if (!col || !to_t || col->references)
            continue;
        char *pk = to_c ? NULL : pk_column(c, to_t);
        const char *tc = to_c ? to_c : pk;
        if (tc) {
            size_t n = strlen(to_t) + strlen(tc) + 7;
            if (!(col->references = malloc(n)))
                rc = SHIR_E_NOMEM;
            else
                (void)shir_str_fmt(col->references, n, "main\t%s\t%s", to_t, tc);
        }
        free(pk);
    }
    if (rc == 0 && code != SQLITE_DONE)
        rc = sqlite_err(c, code, "foreign keys", msg, cap);
    sqlite3_finalize(st);
    return rc;
}

static int sq_describe(void *conn, const struct scan_db_table *t, const struct scan_limits *lim,
                       struct scan_asset *a, char *msg, size_t cap)
{
    struct sqlite_conn *c = conn;
    sqlite3_stmt *st = NULL;
    int rc = prepare(c, "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1, 'main') "
                        "ORDER BY cid",
                     t->name, NULL, &st, msg, cap);
    int code = SQLITE_ROW;
    while (rc == 0 && (code = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *type = (const char *)sqlite3_column_text(st, 1);
        struct scan_column *col;
        if (!name)
            continue;
        if ((rc = scan_asset_add_column(a, lim, name, &col)) != 0) {
            rc = rc == SHIR_E_TOOBIG ? 0 : rc; /* recorded on the asset; keep the rest */
            break;
        }
        col->type = scan_db_type_of(type, false);
        col->nullable = sqlite3_column_int(st, 2) ? 0 : 1;
        col->pk_position = (uint32_t)sqlite3_column_int(st, 3);
        if (type && type[0])
            rc = scan_set_str(&col->type_detail, type);
    }
    if (rc == 0 && code != SQLITE_DONE && code != SQLITE_ROW)
        rc = sqlite_err(c, code, "columns", msg, cap);
    sqlite3_finalize(st);
    if (rc == 0 && !t->is_view)
        rc = foreign_keys(c, t, a, msg, cap);
    return rc;
}

static int sq_sample(void *conn, const struct scan_db_table *t, const struct scan_limits *lim,
                     struct scan_asset *a, uint64_t *bytes, char *msg, size_t cap)
{
    struct sqlite_conn *c = conn;
    struct shir_buf sql;
    sqlite3_stmt *st = NULL;
    if (a->n_cols == 0)
        return 0; /* a view over nothing: nothing to sample */
    shir_buf_init(&sql, SIZE_MAX);
    char close[24];
    (void)shir_str_fmt(close, sizeof close, ", 1, %u)", lim->max_sample_len);
    int rc = shir_buf_printf(&sql, "SELECT ");
    if (rc == 0)
        rc = scan_db_select_list(&sql, a, '"', "substr(", close);
    if (rc == 0)
        rc = shir_buf_printf(&sql, " FROM main.");
    if (rc == 0)
        rc = scan_db_quote_ident(&sql, t->name, '"');
    if (rc == 0)
        rc = shir_buf_printf(&sql, " LIMIT %u", lim->max_rows);
    if (rc == 0)
        rc = shir_buf_append_u8(&sql, '\0');
    if (rc == 0)
        rc = prepare(c, (const char *)sql.data, NULL, NULL, &st, msg, cap);
    int code = SQLITE_ROW;
    while (rc == 0 && (code = sqlite3_step(st)) == SQLITE_ROW) {
        int n = sqlite3_column_count(st);
        for (int i = 0; rc == 0 && i < n && (size_t)i < a->n_cols; i++) {
            int kind = sqlite3_column_type(st, i);
            if (kind == SQLITE_NULL || kind == SQLITE_BLOB ||
                a->cols[i].type == SCAN_TYPE_BINARY)
                continue; /* nothing to classify in a null or bytes */
            const unsigned char *v = sqlite3_column_text(st, i);
            size_t len = (size_t)sqlite3_column_bytes(st, i);
            *bytes += len;
            if (v)
                rc = scan_column_add_sample(&a->cols[i], lim, (const char *)v, len);
        }
    }
    if (rc == 0 && code != SQLITE_DONE)
        rc = sqlite_err(c, code, "sample", msg, cap);
    sqlite3_finalize(st);
    shir_buf_free(&sql);
    return rc;
}

static int sq_count(void *conn, const struct scan_db_table *t, int64_t *rows, char *msg,
                    size_t cap)
{
    struct sqlite_conn *c = conn;
    struct shir_buf sql;
    sqlite3_stmt *st = NULL;
    shir_buf_init(&sql, SIZE_MAX);
    int rc = shir_buf_printf(&sql, "SELECT count(*) FROM main.");
    if (rc == 0)
        rc = scan_db_quote_ident(&sql, t->name, '"');
    if (rc == 0)
        rc = shir_buf_append_u8(&sql, '\0');
    if (rc == 0)
        rc = prepare(c, (const char *)sql.data, NULL, NULL, &st, msg, cap);
    int code = rc == 0 ? sqlite3_step(st) : SQLITE_OK;
    if (rc == 0 && code == SQLITE_ROW)
        *rows = sqlite3_column_int64(st, 0);
    else if (rc == 0)
        rc = sqlite_err(c, code, "count", msg, cap);
    sqlite3_finalize(st);
    shir_buf_free(&sql);
    return rc;
}

const struct scan_db_driver scan_db_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .catalog = sq_catalog,
    .describe = sq_describe,
    .sample = sq_sample,
    .count = sq_count,
    .close = sq_close,
};
