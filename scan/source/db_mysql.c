/* MySQL and MariaDB as a database source (libmariadb, MariaDB Connector/C, which speaks to
 * both).
 *
 * Always TCP (libmariadb takes the host "localhost" for its Unix socket otherwise), never
 * LOAD DATA LOCAL (a hostile server could ask the client for any file it can read), no option
 * files. The session is read-only (SET SESSION TRANSACTION READ ONLY) with the job's statement
 * timeout: MariaDB's max_statement_time, else MySQL's max_execution_time (SELECT only). The
 * catalog is information_schema, filtered to the URL's database: MySQL has no schema below a
 * database. Any account sees in information_schema what it has some privilege on; sampling
 * needs SELECT. */
#include <mysql.h>
#include <stdlib.h>
#include <string.h>

#include "scan/source/db.h"

struct my_conn {
    MYSQL *my;
};

static int my_code(unsigned e)
{
    switch (e) {
    case 2006: /* CR_SERVER_GONE_ERROR */
    case 2013: /* CR_SERVER_LOST */
        return SHIR_E_CLOSED;
    case 1969: /* MariaDB ER_STATEMENT_TIMEOUT */
    case 3024: /* MySQL ER_QUERY_TIMEOUT */
        return SHIR_E_TIMEOUT;
    case 1044: /* ER_DBACCESS_DENIED_ERROR */
    case 1142: /* ER_TABLEACCESS_DENIED_ERROR */
    case 1143: /* ER_COLUMNACCESS_DENIED_ERROR */
        return SHIR_E_DENIED;
    case 1045: /* ER_ACCESS_DENIED_ERROR: bad user or password */
        return SHIR_E_AUTH;
    case 2026: /* CR_SSL_CONNECTION_ERROR */
        return SHIR_E_TLS;
    case 2002: /* CR_CONNECTION_ERROR */
    case 2003: /* CR_CONN_HOST_ERROR */
    case 2005: /* CR_UNKNOWN_HOST */
        return SHIR_E_UNAVAILABLE;
    case 2008: /* CR_OUT_OF_MEMORY */
        return SHIR_E_NOMEM;
    default: return SHIR_E_IO;
    }
}

static int my_err(struct my_conn *c, const char *what, char *msg, size_t cap)
{
    (void)shir_str_fmt(msg, cap, "%s: %s", what, mysql_error(c->my));
    return my_code(mysql_errno(c->my));
}

static int my_exec(struct my_conn *c, const char *sql, size_t len, const char *what, char *msg,
                   size_t cap)
{
    if (mysql_real_query(c->my, sql, len) != 0)
        return my_err(c, what, msg, cap);
    MYSQL_RES *r = mysql_store_result(c->my);
    mysql_free_result(r);
    return mysql_errno(c->my) ? my_err(c, what, msg, cap) : 0;
}

/* TLS as the job asks. libmariadb checks the chain and the name together, so verify-ca is as
 * strict as verify-full here (docs/sources.md). */
static void set_tls(MYSQL *my, const struct scan_db_opts *o)
{
    my_bool on = 1, off = 0;
    if (o->tls == SCAN_DB_TLS_DISABLE) {
        mysql_options(my, MYSQL_OPT_SSL_ENFORCE, &off);
        return;
    }
    mysql_options(my, MYSQL_OPT_SSL_ENFORCE, &on);
    mysql_options(my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT,
                  o->tls == SCAN_DB_TLS_REQUIRE ? &off : &on);
    if (o->tls_ca)
        mysql_options(my, MYSQL_OPT_SSL_CA, o->tls_ca);
}

/* Read-only session with a statement timeout. */
static int session(struct my_conn *c, const struct scan_db_opts *o, char *msg, size_t cap)
{
    char sql[96];
    int rc = my_exec(c, "SET SESSION TRANSACTION READ ONLY", 33, "read-only session", msg, cap);
    if (rc || !o->statement_timeout_ms)
        return rc;
    (void)shir_str_fmt(sql, sizeof sql, "SET SESSION max_statement_time = %u.%03u",
                       o->statement_timeout_ms / 1000, o->statement_timeout_ms % 1000);
    if (my_exec(c, sql, strlen(sql), "statement timeout", msg, cap) == 0)
        return 0;
    (void)shir_str_fmt(sql, sizeof sql, "SET SESSION max_execution_time = %u",
                       o->statement_timeout_ms);
    return my_exec(c, sql, strlen(sql), "statement timeout", msg, cap);
}

static int my_open(const struct scan_db_connect *cc, void **out, char *msg, size_t cap)
{
    const struct scan_db_opts *o = &cc->job->db;
    char *password = NULL;
    int rc = 0;
    struct my_conn *c = calloc(1, sizeof *c);
    if (!c || !(c->my = mysql_init(NULL))) {
        free(c);
        return SHIR_E_NOMEM;
    }
    if ((rc = scan_db_password(&o->password, &password, msg, cap)) != 0)
        goto out;
    unsigned proto = MYSQL_PROTOCOL_TCP, cto = o->connect_timeout_s;
    /* A read that waits longer than the statement timeout plus a margin means a dead server. */
    unsigned rto = (o->statement_timeout_ms ? o->statement_timeout_ms / 1000 : 3600) + 30;
    my_bool no = 0;
    mysql_options(c->my, MYSQL_OPT_PROTOCOL, &proto);
    mysql_options(c->my, MYSQL_OPT_CONNECT_TIMEOUT, &cto);
    mysql_options(c->my, MYSQL_OPT_READ_TIMEOUT, &rto);
    mysql_options(c->my, MYSQL_OPT_WRITE_TIMEOUT, &rto);
    mysql_options(c->my, MYSQL_OPT_LOCAL_INFILE, &no);
    mysql_options(c->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    set_tls(c->my, o);
    if (!mysql_real_connect(c->my, cc->url->host, o->user, password ? password : "",
                            cc->url->database, cc->url->port, NULL, 0)) {
        rc = my_err(c, "connect", msg, cap);
        goto out;
    }
    rc = session(c, o, msg, cap);
out:
    scan_db_password_drop(password);
    if (rc) {
        mysql_close(c->my);
        free(c);
        c = NULL;
    }
    *out = c;
    return rc;
}

static void my_close(void *conn)
{
    struct my_conn *c = conn;
    mysql_close(c->my);
    free(c);
}

static int my_query(struct my_conn *c, const char *sql, size_t len, const char *what,
                    MYSQL_RES **res, char *msg, size_t cap)
{
    if (mysql_real_query(c->my, sql, len) != 0 || !(*res = mysql_store_result(c->my)))
        return my_err(c, what, msg, cap);
    return 0;
}

static int my_catalog(void *conn, struct scan_db_catalog *out, char *msg, size_t cap)
{
    struct my_conn *c = conn;
    MYSQL_RES *r = NULL;
    MYSQL_ROW row;
    static const char db_sql[] = "SELECT DATABASE()";
    /* Sequences (MariaDB) are generators, not data. Binary order: the walk's order must not
     * depend on a collation. */
    static const char t_sql[] =
        "SELECT TABLE_NAME, TABLE_TYPE, TABLE_ROWS FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE <> 'SEQUENCE' "
        "ORDER BY CAST(TABLE_NAME AS BINARY)";
    int rc = my_query(c, db_sql, sizeof db_sql - 1, "database", &r, msg, cap);
    if (rc == 0 && (row = mysql_fetch_row(r)) != NULL && row[0])
        rc = scan_db_catalog_add_schema(out, row[0]);
    mysql_free_result(r);
    r = NULL;
    if (rc == 0 && out->n_schemas != 1) {
        (void)shir_str_copy(msg, cap, "no database selected");
        rc = SHIR_E_NOTFOUND;
    }
    if (rc == 0)
        rc = my_query(c, t_sql, sizeof t_sql - 1, "list tables", &r, msg, cap);
    while (rc == 0 && (row = mysql_fetch_row(r)) != NULL) {
        if (!row[0] || !row[1])
            continue;
        bool view = strcmp(row[1], "VIEW") == 0;
        long long est = !view && row[2] ? strtoll(row[2], NULL, 10) : -1;
        rc = scan_db_catalog_add_table(out, out->schemas[0], row[0], view, est, NULL);
    }
    mysql_free_result(r);
    return rc;
}

/* Append a single-quoted, escaped string literal. */
static int literal(struct my_conn *c, struct shir_buf *b, const char *s)
{
    size_t n = strlen(s);
    int rc = shir_buf_reserve(b, 2 * n + 3);
    if (rc)
        return rc;
    b->data[b->len++] = '\'';
    b->len += mysql_real_escape_string(c->my, (char *)b->data + b->len, s, (unsigned long)n);
    b->data[b->len++] = '\'';
    return 0;
}

static int my_describe(void *conn, const struct scan_db_table *t, const struct scan_limits *lim,
                       struct scan_asset *a, char *msg, size_t cap)
{
    struct my_conn *c = conn;
    struct shir_buf sql;
    MYSQL_RES *r = NULL;
    MYSQL_ROW row;
    shir_buf_init(&sql, SIZE_MAX);
    int rc = shir_buf_printf(
        &sql,
        "SELECT c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE, "
        "(SELECT k.ORDINAL_POSITION FROM information_schema.KEY_COLUMN_USAGE k "
        " WHERE k.TABLE_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME "
        " AND k.COLUMN_NAME = c.COLUMN_NAME AND k.CONSTRAINT_NAME = 'PRIMARY' LIMIT 1), "
        "(SELECT CONCAT(k.REFERENCED_TABLE_SCHEMA, '\\t', k.REFERENCED_TABLE_NAME, '\\t', "
        "  k.REFERENCED_COLUMN_NAME) FROM information_schema.KEY_COLUMN_USAGE k "
        " WHERE k.TABLE_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME "
        " AND k.COLUMN_NAME = c.COLUMN_NAME AND k.REFERENCED_TABLE_NAME IS NOT NULL "
        " ORDER BY k.CONSTRAINT_NAME LIMIT 1) "
        "FROM information_schema.COLUMNS c WHERE c.TABLE_SCHEMA = DATABASE() "
        "AND c.TABLE_NAME = ");
    if (rc == 0)
        rc = literal(c, &sql, t->name);
    if (rc == 0)
        rc = shir_buf_printf(&sql, " ORDER BY c.ORDINAL_POSITION");
    if (rc == 0)
        rc = my_query(c, (const char *)sql.data, sql.len, "columns", &r, msg, cap);
    while (rc == 0 && (row = mysql_fetch_row(r)) != NULL) {
        struct scan_column *col;
        if (!row[0])
            continue;
        if ((rc = scan_asset_add_column(a, lim, row[0], &col)) != 0) {
            rc = rc == SHIR_E_TOOBIG ? 0 : rc; /* recorded on the asset */
            break;
        }
        col->type = scan_db_type_of(row[1], false);
        col->nullable = row[2] && strcmp(row[2], "YES") == 0;
        col->pk_position = row[3] ? (uint32_t)strtoul(row[3], NULL, 10) : 0;
        if (row[1])
            rc = scan_set_str(&col->type_detail, row[1]);
        if (rc == 0 && row[4])
            rc = scan_set_str(&col->references, row[4]);
    }
    mysql_free_result(r);
    shir_buf_free(&sql);
    return rc;
}

static int my_sample(void *conn, const struct scan_db_table *t, const struct scan_limits *lim,
                     struct scan_asset *a, uint64_t *bytes, char *msg, size_t cap)
{
    struct my_conn *c = conn;
    struct shir_buf sql;
    MYSQL_RES *r = NULL;
    MYSQL_ROW row;
    if (a->n_cols == 0)
        return 0;
    shir_buf_init(&sql, SIZE_MAX);
    char close[24];
    (void)shir_str_fmt(close, sizeof close, ", %u)", lim->max_sample_len);
    /* No TABLESAMPLE in MySQL or MariaDB: the first rows, as Purview reads them. */
    int rc = shir_buf_printf(&sql, "SELECT ");
    if (rc == 0)
        rc = scan_db_select_list(&sql, a, '`', "LEFT(", close);
    if (rc == 0)
        rc = shir_buf_printf(&sql, " FROM ");
    if (rc == 0)
        rc = scan_db_quote_ident(&sql, t->schema, '`');
    if (rc == 0)
        rc = shir_buf_append_u8(&sql, '.');
    if (rc == 0)
        rc = scan_db_quote_ident(&sql, t->name, '`');
    if (rc == 0)
        rc = shir_buf_printf(&sql, " LIMIT %u", lim->max_rows);
    if (rc == 0)
        rc = my_query(c, (const char *)sql.data, sql.len, "sample", &r, msg, cap);
    unsigned nf = rc == 0 ? mysql_num_fields(r) : 0;
    while (rc == 0 && (row = mysql_fetch_row(r)) != NULL) {
        unsigned long *len = mysql_fetch_lengths(r);
        for (unsigned f = 0; rc == 0 && f < nf && f < a->n_cols; f++) {
            if (!row[f] || a->cols[f].type == SCAN_TYPE_BINARY)
                continue; /* nothing to classify in a null or bytes */
            *bytes += len[f];
            rc = scan_column_add_sample(&a->cols[f], lim, row[f], len[f]);
        }
    }
    if (rc == 0 && mysql_errno(c->my))
        rc = my_err(c, "sample", msg, cap);
    mysql_free_result(r);
    shir_buf_free(&sql);
    return rc;
}

static int my_count(void *conn, const struct scan_db_table *t, int64_t *rows, char *msg,
                    size_t cap)
{
    struct my_conn *c = conn;
    struct shir_buf sql;
    MYSQL_RES *r = NULL;
    MYSQL_ROW row;
    shir_buf_init(&sql, SIZE_MAX);
    int rc = shir_buf_printf(&sql, "SELECT count(*) FROM ");
    if (rc == 0)
        rc = scan_db_quote_ident(&sql, t->schema, '`');
    if (rc == 0)
        rc = shir_buf_append_u8(&sql, '.');
    if (rc == 0)
        rc = scan_db_quote_ident(&sql, t->name, '`');
    if (rc == 0)
        rc = my_query(c, (const char *)sql.data, sql.len, "count", &r, msg, cap);
    if (rc == 0 && (row = mysql_fetch_row(r)) != NULL && row[0])
        *rows = strtoll(row[0], NULL, 10);
    else if (rc == 0)
        rc = my_err(c, "count", msg, cap);
    mysql_free_result(r);
    shir_buf_free(&sql);
    return rc;
}

const struct scan_db_driver scan_db_mysql = {
    .name = "mysql",
    .schema_is_database = true,
    .open = my_open,
    .catalog = my_catalog,
    .describe = my_describe,
    .sample = my_sample,
    .count = my_count,
    .close = my_close,
};
