/* scan/source/db.h: database sources (internal to scan/).
 *
 * For: scanning a database named by a URL (sqlite:///PATH, postgres://HOST[:PORT]/DB,
 * mysql://HOST[:PORT]/DB): its schemas, tables and views as assets, with declared column types,
 * nullability, primary and foreign keys, the catalog's row estimate, and at L3 a sample of rows
 * classified like files. The URL and type rules (dburl.c, dbtype.c) are pure; the walk (db.c) sees
 * each server only through `struct scan_db_driver`, one file per server (db_sqlite.c, db_pg.c,
 * db_mysql.c), which are the only files that include a client library.
 * Not for: files (source.c), credentials storage (cluster/), or writing to a database: every
 * driver opens its session read-only.
 */
#ifndef SHIR_SCAN_SOURCE_DB_H
#define SHIR_SCAN_SOURCE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scan/engine.h"

enum scan_db_kind { SCAN_DB_NONE = 0, SCAN_DB_SQLITE, SCAN_DB_POSTGRES, SCAN_DB_MYSQL };

/* A parsed source URL. Strings are owned (scan_db_url_free). */
struct scan_db_url {
    enum scan_db_kind kind;
    char *host;      /* server host name or address; NULL for SQLite */
    uint16_t port;   /* the URL's port, else the server's default (5432, 3306); 0 for SQLite */
    char *database;  /* database name (percent-decoded); SQLite: NULL */
    char *path;      /* SQLite: absolute path of the database file (percent-decoded) */
};

/* Which kind of source `src` names, by its scheme only (SCAN_DB_NONE: a path or file:// URL). */
enum scan_db_kind scan_db_kind_of(const char *src);
/* Parse a database URL. Accepted: sqlite:///ABS/PATH (or sqlite://localhost/ABS/PATH),
 * postgres://HOST[:PORT]/DB or postgresql://…, mysql://HOST[:PORT]/DB or mariadb://…; HOST may be
 * [IPv6]. No user, password or query in the URL: credentials travel apart (docs/sources.md).
 * 0, or SHIR_E_INVAL with the reason in msg; SHIR_E_NOMEM. Pure. */
int scan_db_url_parse(const char *src, struct scan_db_url *u, char *msg, size_t cap);
void scan_db_url_free(struct scan_db_url *u);

/* Append one component of a qualified name (a database, schema, table or column name),
 * percent-encoding the bytes that could change the name's structure (control bytes, space, DEL,
 * '/', '#', '?', '%'), so no name can forge another asset's. Used by the walk (db.c) and by the
 * Atlas mapping for column names (sink/atlas_map.c). SHIR_E_NOMEM. Pure. */
int scan_db_qn_part(struct shir_buf *b, const char *s);

/* The generic type of a declared column type ("numeric(12,2)", "timestamp with time zone",
 * "varchar(40)", "integer[]", "enum('a','b')", "BLOB"…), for any of the three servers; arrays by
 * the caller's flag or a trailing "[]". Pure. */
enum scan_type scan_db_type_of(const char *declared, bool is_array);

/* One table or view of the catalog, in the order the walk visits them. */
struct scan_db_table {
    char *schema;     /* owned */
    char *name;       /* owned */
    bool is_view;
    int64_t est_rows; /* the catalog's estimate, -1 unknown */
    uint64_t id;      /* the server's id where it has one (PostgreSQL's oid), else 0 */
    char tag;         /* the driver's own (PostgreSQL's relkind), else 0 */
};

/* The catalog: schemas and tables ordered by (schema, name), so a walk can resume by index. */
struct scan_db_catalog {
    char **schemas;   /* owned */
    size_t n_schemas;
    struct scan_db_table *tables; /* owned */
    size_t n_tables, cap_tables;
};
int scan_db_catalog_add_schema(struct scan_db_catalog *c, const char *name);
/* Append a table (names copied); returns it in *out when out is not NULL. SHIR_E_NOMEM. */
int scan_db_catalog_add_table(struct scan_db_catalog *c, const char *schema, const char *name,
                              bool is_view, int64_t est_rows, struct scan_db_table **out);
void scan_db_catalog_free(struct scan_db_catalog *c);

/* What a driver is given to connect. All borrowed. */
struct scan_db_connect {
    const struct scan_db_url *url;
    const struct scan_job *job;        /* user, password, TLS, timeouts */
    const struct shir_clock *clock;
};

/* A server, as the walk sees it. conn is the driver's. Every call returns 0 or a negative code
 * with a human message in msg[cap] (never holding the password); per-table failures
 * (describe/sample) are recorded on the asset by the walk and the walk goes on, while a failure
 * of open or catalog fails the run. */
struct scan_db_driver {
    const char *name;     /* scheme of qualified names: "postgresql", "mysql", "sqlite" */
    bool schema_is_database; /* MySQL: the URL's database is the one schema, and qualified
                                names have no schema part (mysql://host:3306/db/table) */
    int (*open)(const struct scan_db_connect *c, void **conn, char *msg, size_t cap);
    int (*catalog)(void *conn, struct scan_db_catalog *out, char *msg, size_t cap);
    /* Columns of t into a (names, declared types in type_detail, generic types, nullability,
     * pk_position; references as "SCHEMA\tTABLE\tCOLUMN", which the walk turns into a qualified
     * name). */
    int (*describe)(void *conn, const struct scan_db_table *t, const struct scan_limits *lim,
                    struct scan_asset *a, char *msg, size_t cap);
    /* Optional (NULL: describe one at a time): describe t[0..n) into a[0..n) in one round trip.
     * On failure the assets may hold part of the answer: the walk starts them afresh and falls
     * back to describe. */
    int (*describe_many)(void *conn, const struct scan_db_table *t, size_t n,
                         const struct scan_limits *lim, struct scan_asset *a, char *msg,
                         size_t cap);
    /* Up to lim->max_rows rows as text into the columns' samples (matched by position with what
     * describe returned). *bytes receives the bytes of text read. */
    int (*sample)(void *conn, const struct scan_db_table *t, const struct scan_limits *lim,
                  struct scan_asset *a, uint64_t *bytes, char *msg, size_t cap);
    /* The exact number of rows of t (SELECT count(*)), when the job asks for it. */
    int (*count)(void *conn, const struct scan_db_table *t, int64_t *rows, char *msg, size_t cap);
    void (*close)(void *conn);
};

extern const struct scan_db_driver scan_db_sqlite;
extern const struct scan_db_driver scan_db_postgres;
extern const struct scan_db_driver scan_db_mysql;

/* Parts of a runtime run of a database (dbparts.c, pure; docs/sources.md "Runs of the
 * runtime"): part k holds tables k*N .. (k+1)*N - 1 of the ordered catalog, part 0 the schemas
 * first; a resumed attempt starts after the checkpoint's key (job->resume_key), else at its
 * table count (job->resume_files). */
struct scan_db_parts {
    uint32_t per_part; /* N: tables per part (scan_job_part_size, at least 1) */
    uint32_t part;     /* the part this attempt writes first */
    uint64_t first;    /* the first table it reads: those below were written by an earlier one */
    bool schemas;      /* it writes the schema assets (part 0: not a resumed attempt) */
};
/* Where the job's attempt starts (its resume point, validated by scan_job_validate). */
void scan_db_parts_start(const struct scan_job *j, struct scan_db_parts *p);
/* How many tables from index i (of n) to read together: at most max, never across the end of
 * i's part; 0 when i >= n. */
uint64_t scan_db_parts_batch(const struct scan_db_parts *p, uint64_t i, uint64_t n, uint64_t max);
/* Resuming by key: the index of the first of the n tables t (in catalog order) after the key,
 * where the attempt starts reading (those before it were written by an earlier attempt). */
uint64_t scan_db_parts_after_key(const struct scan_db_table *t, uint64_t n, const char *key,
                                 size_t key_len);
/* Whether the part holding table i closes after it: i is its last table, or the catalog's. */
bool scan_db_parts_closes(const struct scan_db_parts *p, uint64_t i, uint64_t n);

/* Scan the database job->source names (like scan_engine_run for files: same contract, same
 * summary; per-table problems are asset errors, counted in sum->errors). With job->parts_dir the
 * sink is a parts sink: tables go to numbered parts (a checkpoint after each), then _SUCCESS;
 * job->resume is obeyed. */
int scan_db_run(const struct scan_engine_cfg *cfg, struct scan_sink *sink,
                struct scan_summary *sum);

/* The select list of a sample, from the columns describe returned: each column as
 * `fn_open` "col" `fn_close` (e.g. `left((` … `)::text, 256)`), binary columns as NULL, so a
 * server sends at most what a sample keeps (lim->max_sample_len per cell) and never a
 * column's bytes: a table of 128 rows of 100 MB documents costs kilobytes, not gigabytes.
 * Appends to b. SHIR_E_NOMEM. */
int scan_db_select_list(struct shir_buf *b, const struct scan_asset *a, char q,
                        const char *fn_open, const char *fn_close);

/* The job's password as the C string client libraries want (*out NULL when there is none):
 * free it with scan_db_password_drop, which wipes it, right after connecting. SHIR_E_INVAL
 * (msg says why) for a password holding a NUL byte, SHIR_E_NOMEM. */
int scan_db_password(const struct shir_secret *pw, char **out, char *msg, size_t cap);
void scan_db_password_drop(char *p);

/* SQL identifier quoting for drivers that build statements: `q` doubled inside `q`…`q`.
 * Appends to b. SHIR_E_NOMEM, SHIR_E_INVAL for an identifier with a NUL. */
int scan_db_quote_ident(struct shir_buf *b, const char *ident, char q);

#endif /* SHIR_SCAN_SOURCE_DB_H */
