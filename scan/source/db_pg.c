/* PostgreSQL as a database source (libpq).
 *
 * The session is read-only from its first statement (`default_transaction_read_only=on` in the
 * startup options, so even a role that could write cannot through us), with the job's
 * statement timeout. The catalog comes from pg_catalog, not information_schema: one query for
 * all relations, then one prepared statement per 64 tables (information_schema's views are built
 * on pg_catalog with many more joins and privilege checks per row, which adds up at 10,000
 * tables). Any role that can log in can read pg_catalog; sampling needs SELECT on the table. */
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "scan/source/db.h"

/* Debian's bundle of the system's trusted CAs: libpq 15 has no "system" keyword for
 * sslrootcert and would otherwise look for ~/.postgresql/root.crt. */
#define PG_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

/* Sample with TABLESAMPLE only above this estimate: below it `LIMIT 128` reads a few pages
 * anyway, and SYSTEM sampling of a small table often returns nothing. */
#define PG_TABLESAMPLE_MIN 10000

static const char pg_schemas_filter[] =
    "n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') "
    "AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'";

/* The columns of a table: name, declared type, nullable, type category, place in the primary
 * key, and the first foreign key's target as "SCHEMA\tTABLE\tCOLUMN". */
#define PG_COLUMNS                                                                                \
    "a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, t.typcategory, "        \
    "COALESCE(array_position(pk.conkey, a.attnum), 0), fk.ref "                                  \
    "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "                                  \
    "LEFT JOIN pg_constraint pk ON pk.conrelid = a.attrelid AND pk.contype = 'p' "               \
    "LEFT JOIN LATERAL (SELECT fn.nspname || E'\\t' || fc.relname || E'\\t' || fa.attname AS ref " \
    "  FROM pg_constraint f JOIN pg_class fc ON fc.oid = f.confrelid "                           \
    "  JOIN pg_namespace fn ON fn.oid = fc.relnamespace "                                        \
    "  JOIN pg_attribute fa ON fa.attrelid = f.confrelid "                                       \
    "   AND fa.attnum = f.confkey[array_position(f.conkey, a.attnum)] "                          \
    "  WHERE f.conrelid = a.attrelid AND f.contype = 'f' AND a.attnum = ANY (f.conkey) "         \
    "  ORDER BY f.conname LIMIT 1) fk ON true "                                                  \
    "WHERE a.attnum > 0 AND NOT a.attisdropped "

static const char pg_describe_sql[] =
    "SELECT " PG_COLUMNS "AND a.attrelid = $1::oid ORDER BY a.attnum";
/* Many tables in one round trip: 64 per statement is ~40 times fewer trips than one each. */
static const char pg_describe_many_sql[] =
    "SELECT a.attrelid, " PG_COLUMNS "AND a.attrelid = ANY ($1::oid[]) "
    "ORDER BY a.attrelid, a.attnum";

struct pg_conn {
    PGconn *pg;
};

/* libpq's message without its trailing newline. */
static void pg_msg(PGconn *pg, const char *what, char *msg, size_t cap)
{
    const char *e = pg ? PQerrorMessage(pg) : "out of memory";
    size_t n = strlen(e);
    while (n && (e[n - 1] == '\n' || e[n - 1] == ' '))
        n--;
    (void)shir_str_fmt(msg, cap, "%s: %.*s", what, (int)n, e);
}

/* A failed result: its SQLSTATE says timeout or permission; a dead connection is CLOSED. */
static int pg_err(struct pg_conn *c, PGresult *r, const char *what, char *msg, size_t cap)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    pg_msg(c->pg, what, msg, cap);
    if (!r)
        return SHIR_E_NOMEM;
    if (PQstatus(c->pg) == CONNECTION_BAD)
        return SHIR_E_CLOSED;
    if (state && strcmp(state, "57014") == 0)
        return SHIR_E_TIMEOUT;
    if (state && strcmp(state, "42501") == 0)
        return SHIR_E_DENIED;
    return SHIR_E_IO;
}

static const char *sslmode_of(enum scan_db_tls t)
{
    switch (t) {
    case SCAN_DB_TLS_VERIFY_CA: return "verify-ca";
    case SCAN_DB_TLS_REQUIRE: return "require";
    case SCAN_DB_TLS_DISABLE: return "disable";
    case SCAN_DB_TLS_VERIFY_FULL: break;
    }
    return "verify-full";
}

/* A failed connection's cause, as our code. libpq gives only text here. */
static int connect_error(const char *m)
{
    if (strstr(m, "password authentication failed") || strstr(m, "no password supplied") ||
        strstr(m, "authentication failed"))
        return SHIR_E_AUTH;
    if (strstr(m, "SSL") || strstr(m, "certificate"))
        return SHIR_E_TLS;
    if (strstr(m, "timeout expired"))
        return SHIR_E_TIMEOUT;
    if (strstr(m, "permission denied") || strstr(m, "not permitted"))
        return SHIR_E_DENIED;
    return SHIR_E_UNAVAILABLE;
}

/* sslrootcert: libpq treats `require` with a root file present as verify-ca, so the system
 * bundle is named only for the verify modes (a CA the user names is used in any mode). NULL:
 * not set. */
static const char *root_cert(const struct scan_db_opts *o)
{
    if (o->tls_ca)
        return o->tls_ca;
    bool verify = o->tls == SCAN_DB_TLS_VERIFY_FULL || o->tls == SCAN_DB_TLS_VERIFY_CA;
    return verify ? PG_SYSTEM_CA : NULL;
}

static int pg_open(const struct scan_db_connect *cc, void **out, char *msg, size_t cap)
{
    const struct scan_db_opts *o = &cc->job->db;
    char port[8], timeout[16], options[96];
    char *password;
    int rc = scan_db_password(&o->password, &password, msg, cap);
    if (rc)
        return rc;
    (void)shir_str_fmt(port, sizeof port, "%u", (unsigned)cc->url->port);
    (void)shir_str_fmt(timeout, sizeof timeout, "%u", o->connect_timeout_s);
    (void)shir_str_fmt(options, sizeof options,
                       "-c default_transaction_read_only=on -c statement_timeout=%u",
                       o->statement_timeout_ms);
    const char *const keys[] = {"host", "port", "dbname", "user", "password", "sslmode",
                                "sslrootcert", "connect_timeout", "options", "application_name",
                                "passfile", NULL};
    const char *const vals[] = {cc->url->host, port, cc->url->database, o->user, password,
                                sslmode_of(o->tls), root_cert(o),
                                timeout, options, "shir", "/dev/null", NULL};
    struct pg_conn *c = calloc(1, sizeof *c);
    if (!c) {
        rc = SHIR_E_NOMEM;
        goto out;
    }
    c->pg = PQconnectdbParams(keys, vals, 0);
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
        pg_msg(c->pg, "connect", msg, cap);
        rc = c->pg ? connect_error(msg) : SHIR_E_NOMEM;
        goto out;
    }
    PGresult *r = PQprepare(c->pg, "shir_describe", pg_describe_sql, 1, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = pg_err(c, r, "prepare", msg, cap);
    PQclear(r);
    if (rc == 0) {
        r = PQprepare(c->pg, "shir_describe_many", pg_describe_many_sql, 1, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = pg_err(c, r, "prepare", msg, cap);
        PQclear(r);
    }
out:
    scan_db_password_drop(password);
    if (rc && c) {
        PQfinish(c->pg);
        free(c);
        c = NULL;
    }
    *out = c;
    return rc;
}

static void pg_close(void *conn)
{
    struct pg_conn *c = conn;
    PQfinish(c->pg);
    free(c);
}

static PGresult *pg_query(struct pg_conn *c, const char *sql)
{
    return PQexecParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, 0);
}

static int pg_catalog_read(void *conn, struct scan_db_catalog *out, char *msg, size_t cap)
{
    struct pg_conn *c = conn;
    char sql[1024];
    int rc = 0;
    (void)shir_str_fmt(sql, sizeof sql,
                       "SELECT n.nspname FROM pg_namespace n WHERE %s "
                       "ORDER BY n.nspname COLLATE \"C\"",
                       pg_schemas_filter);
    PGresult *r = pg_query(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = pg_err(c, r, "list schemas", msg, cap);
    for (int i = 0; rc == 0 && i < PQntuples(r); i++)
        rc = scan_db_catalog_add_schema(out, PQgetvalue(r, i, 0));
    PQclear(r);
    if (rc)
        return rc;
    /* Partitions are scanned as their parent (a partitioned table can have thousands). */
    (void)shir_str_fmt(sql, sizeof sql,
                       "SELECT c.oid, n.nspname, c.relname, c.relkind, c.reltuples::bigint "
                       "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition "
                       "AND %s ORDER BY n.nspname COLLATE \"C\", c.relname COLLATE \"C\"",
                       pg_schemas_filter);
    r = pg_query(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = pg_err(c, r, "list tables", msg, cap);
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        char kind = PQgetvalue(r, i, 3)[0];
        bool view = kind == 'v' || kind == 'm';
        /* reltuples is -1 for a table never vacuumed or analysed (PostgreSQL 14+): unknown. */
        long long est = kind == 'v' ? -1 : strtoll(PQgetvalue(r, i, 4), NULL, 10);
        struct scan_db_table *t;
        rc = scan_db_catalog_add_table(out, PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), view,
                                       est < 0 ? -1 : est, &t);
        if (rc == 0) {
            t->id = strtoull(PQgetvalue(r, i, 0), NULL, 10);
            t->tag = kind;
        }
    }
    PQclear(r);
    return rc;
}

/* Row i of a describe result as a column of a (the result's fields from `off` on). */
static int add_column(PGresult *r, int i, int off, const struct scan_limits *lim,
                      struct scan_asset *a)
{
    struct scan_column *col;
    int rc = scan_asset_add_column(a, lim, PQgetvalue(r, i, off), &col);
    if (rc)
        return rc == SHIR_E_TOOBIG ? 0 : rc; /* recorded on the asset; the rest is dropped */
    const char *type = PQgetvalue(r, i, off + 1);
    /* The type's category settles arrays and enums, whose names say nothing. */
    char cat = PQgetvalue(r, i, off + 3)[0];
    col->type = cat == 'E' ? SCAN_TYPE_STRING : scan_db_type_of(type, cat == 'A');
    col->nullable = PQgetvalue(r, i, off + 2)[0] == 't';
    col->pk_position = (uint32_t)strtoul(PQgetvalue(r, i, off + 4), NULL, 10);
    rc = scan_set_str(&col->type_detail, type);
    if (rc == 0 && !PQgetisnull(r, i, off + 5))
        rc = scan_set_str(&col->references, PQgetvalue(r, i, off + 5));
    return rc;
}

static int pg_describe(void *conn, const struct scan_db_table *t, const struct scan_limits *lim,
                       struct scan_asset *a, char *msg, size_t cap)
{
    struct pg_conn *c = conn;
    char oid[24];
    (void)shir_str_fmt(oid, sizeof oid, "%llu", (unsigned long long)t->id);
    const char *params[1] = {oid};
    PGresult *r = PQexecPrepared(c->pg, "shir_describe", 1, params, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = pg_err(c, r, "columns", msg, cap);
    for (int i = 0; rc == 0 && i < PQntuples(r); i++)
        rc = add_column(r, i, 0, lim, a);
    PQclear(r);
    return rc;
}

static int pg_describe_many(void *conn, const struct scan_db_table *t, size_t n,
                            const struct scan_limits *lim, struct scan_asset *a, char *msg,
                            size_t cap)
{
    struct pg_conn *c = conn;
    struct shir_buf ids;
    PGresult *r = NULL;
    shir_buf_init(&ids, SIZE_MAX);
    int rc = shir_buf_append_u8(&ids, '{');
    for (size_t k = 0; rc == 0 && k < n; k++)
        rc = shir_buf_printf(&ids, "%s%llu", k ? "," : "", (unsigned long long)t[k].id);
    if (rc == 0)
        rc = shir_buf_printf(&ids, "}");
    if (rc == 0)
        rc = shir_buf_append_u8(&ids, '\0');
    if (rc == 0) {
        const char *params[1] = {(const char *)ids.data};
        r = PQexecPrepared(c->pg, "shir_describe_many", 1, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            rc = pg_err(c, r, "columns", msg, cap);
    }
    /* Rows come grouped by table: find each group's asset once. */
    size_t k = 0;
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        uint64_t relid = strtoull(PQgetvalue(r, i, 0), NULL, 10);
        if (t[k].id != relid)
            for (k = 0; k < n && t[k].id != relid; k++)
                ;
        if (k == n) {
            (void)shir_str_copy(msg, cap, "columns: a table that was not asked for");
            rc = SHIR_E_PROTO;
            break;
        }
        rc = add_column(r, i, 1, lim, &a[k]);
    }
    PQclear(r);
    shir_buf_free(&ids);
    return rc;
}

/* SELECT left(("c")::text, 256), … FROM "schema"."table" [TABLESAMPLE SYSTEM (p)] LIMIT n,
 * into b (NUL-terminated). */
static int sample_sql(struct shir_buf *b, const struct scan_asset *a, const struct scan_db_table *t,
                      const struct scan_limits *lim, bool tablesample)
{
    char close[32];
    uint32_t rows = lim->max_rows;
    (void)shir_str_fmt(close, sizeof close, ")::text, %u)", lim->max_sample_len);
    shir_buf_reset(b);
    int rc = shir_buf_printf(b, "SELECT ");
    if (rc == 0)
        rc = scan_db_select_list(b, a, '"', "left((", close);
    if (rc == 0)
        rc = shir_buf_printf(b, " FROM ");
    if (rc == 0)
        rc = scan_db_quote_ident(b, t->schema, '"');
    if (rc == 0)
        rc = shir_buf_append_u8(b, '.');
    if (rc == 0)
        rc = scan_db_quote_ident(b, t->name, '"');
    if (rc == 0 && tablesample) {
        /* Ask for four times the rows wanted: SYSTEM takes whole pages, and a run of sparse
         * pages would otherwise come back short (and then we read the plain LIMIT instead). */
        double pct = 100.0 * 4.0 * rows / (double)t->est_rows;
        rc = shir_buf_printf(b, " TABLESAMPLE SYSTEM (%.6f)", pct > 100.0 ? 100.0 : pct);
    }
    if (rc == 0)
        rc = shir_buf_printf(b, " LIMIT %u", rows);
    return rc ? rc : shir_buf_append_u8(b, '\0');
}

static int pg_sample(void *conn, const struct scan_db_table *t, const struct scan_limits *lim,
                     struct scan_asset *a, uint64_t *bytes, char *msg, size_t cap)
{
    struct pg_conn *c = conn;
    struct shir_buf sql;
    PGresult *r = NULL;
    shir_buf_init(&sql, SIZE_MAX);
    bool ts = (t->tag == 'r' || t->tag == 'm') && t->est_rows >= PG_TABLESAMPLE_MIN;
    if (a->n_cols == 0)
        return 0; /* PostgreSQL allows a table without columns: nothing to sample */
    int rc = sample_sql(&sql, a, t, lim, ts);
    if (rc == 0) {
        r = pg_query(c, (const char *)sql.data);
        if (ts && PQresultStatus(r) == PGRES_TUPLES_OK &&
            (uint32_t)PQntuples(r) < lim->max_rows) {
            PQclear(r);
            rc = sample_sql(&sql, a, t, lim, false);
            r = rc == 0 ? pg_query(c, (const char *)sql.data) : NULL;
        }
    }
    if (rc == 0 && PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = pg_err(c, r, "sample", msg, cap);
    int nf = rc == 0 ? PQnfields(r) : 0;
    for (int i = 0; rc == 0 && i < PQntuples(r); i++)
        for (int f = 0; rc == 0 && f < nf && (size_t)f < a->n_cols; f++) {
            if (PQgetisnull(r, i, f) || a->cols[f].type == SCAN_TYPE_BINARY)
                continue; /* nothing to classify in a null or bytes */
            size_t len = (size_t)PQgetlength(r, i, f);
            *bytes += len;
            rc = scan_column_add_sample(&a->cols[f], lim, PQgetvalue(r, i, f), len);
        }
    PQclear(r);
    shir_buf_free(&sql);
    return rc;
}

static int pg_count(void *conn, const struct scan_db_table *t, int64_t *rows, char *msg,
                    size_t cap)
{
    struct pg_conn *c = conn;
    struct shir_buf sql;
    PGresult *r = NULL;
    shir_buf_init(&sql, SIZE_MAX);
    int rc = shir_buf_printf(&sql, "SELECT count(*) FROM ");
    if (rc == 0)
        rc = scan_db_quote_ident(&sql, t->schema, '"');
    if (rc == 0)
        rc = shir_buf_append_u8(&sql, '.');
    if (rc == 0)
        rc = scan_db_quote_ident(&sql, t->name, '"');
    if (rc == 0)
        rc = shir_buf_append_u8(&sql, '\0');
    if (rc == 0 && PQresultStatus(r = pg_query(c, (const char *)sql.data)) != PGRES_TUPLES_OK)
        rc = pg_err(c, r, "count", msg, cap);
    if (rc == 0)
        *rows = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    shir_buf_free(&sql);
    return rc;
}

const struct scan_db_driver scan_db_postgres = {
    .name = "postgresql",
    .open = pg_open,
    .catalog = pg_catalog_read,
    .describe = pg_describe,
    .describe_many = pg_describe_many,
    .sample = pg_sample,
    .count = pg_count,
    .close = pg_close,
};
