/* Database sources without a server: URL forms and declared types from tables of cases, the
 * job's database fields over the pipe codec, and the whole catalog walk on a SQLite fixture the
 * test builds (schema, tables, view, keys, estimates, L3 sample with classification, a missing
 * file and one that is not a database). PostgreSQL and MySQL/MariaDB are tested
 * against real servers in tests/integration/scan_db_*.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "scan/engine.h"
#include "scan/source/db.h"

/* ------------------------------------------------------------------------------------------- */
/* URLs. */

static void test_urls(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        int rc;
        enum scan_db_kind kind;
        const char *host, *db, *path;
        uint16_t port;
    } cases[] = {
        {"postgres://db.example:6543/sales", 0, SCAN_DB_POSTGRES, "db.example", "sales", NULL,
         6543},
        {"postgresql://h/x", 0, SCAN_DB_POSTGRES, "h", "x", NULL, 5432},
        {"POSTGRES://h/x", 0, SCAN_DB_POSTGRES, "h", "x", NULL, 5432},
        {"mysql://127.0.0.1/shop", 0, SCAN_DB_MYSQL, "127.0.0.1", "shop", NULL, 3306},
        {"mariadb://[::1]:3307/shop", 0, SCAN_DB_MYSQL, "::1", "shop", NULL, 3307},
        {"postgres://h/my%20db", 0, SCAN_DB_POSTGRES, "h", "my db", NULL, 5432},
        {"sqlite:///var/lib/a.db", 0, SCAN_DB_SQLITE, NULL, NULL, "/var/lib/a.db", 0},
        {"sqlite://localhost/a%23b.db", 0, SCAN_DB_SQLITE, NULL, NULL, "/a#b.db", 0},
        /* Refused: credentials, queries, missing parts, bad ports and escapes. */
        {"postgres://u:pw@h/x", SHIR_E_INVAL, 0, NULL, NULL, NULL, 0},
        {"postgres://h/x?sslmode=disable", SHIR_E_INVAL, 0, NULL, NULL, NULL, 0},
        {"postgres://h/", SHIR_E_INVAL, 0, NULL, NULL, NULL, 0},
        {"postgres://h", SHIR_E_INVAL, 0, NULL, NULL, NULL, 0},
        {"postgres:///x", SHIR_E_INVAL, 0, NULL, NULL, NULL, 0},
        {"postgres://h/x/y", SHIR_E_INVAL, 0, NULL, NULL, NULL, 0},
        {"postgres://h:0/x", SHIR_E_INVAL, 0, NULL, NULL, NULL, 0},
        {"postgres://h:65536/x", SHIR_E_INVAL, 0, NULL, NULL, NULL, 0},
        {"postgres://h:/x", SHIR_E_INVAL, 0, NULL, NULL, NULL, 0},
        {"postgres://h:5x/x", SHIR_E_INVAL, 0, NULL, NULL, NULL, 0},
        {"mysql://[::1/x", SHIR_E_INVAL, 0, NULL, NULL, NULL, 0},
        {"mysql://[]/x", SHIR_E_INVAL, 0, NULL, NULL, NULL, 0},
        {"postgres://h/a%00b", SHIR_E_INVAL, 0, NULL, NULL, NULL, 0},
        {"postgres://h/a%4", SHIR_E_INVAL, 0, NULL, NULL, NULL, 0},
        {"sqlite://a.db", SHIR_E_INVAL, 0, NULL, NULL, NULL, 0},
        {"sqlite://otherhost/a.db", SHIR_E_INVAL, 0, NULL, NULL, NULL, 0},
        {"sqlite:///a.db?mode=rw", SHIR_E_INVAL, 0, NULL, NULL, NULL, 0},
        {"sqlite:///", SHIR_E_INVAL, 0, NULL, NULL, NULL, 0},
        {"/plain/path", SHIR_E_INVAL, 0, NULL, NULL, NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct scan_db_url u;
        char msg[200] = "";
        int rc = scan_db_url_parse(cases[i].url, &u, msg, sizeof msg);
        if (rc != cases[i].rc)
            fail_msg("%s: rc %d (%s)", cases[i].url, rc, msg);
        if (rc) {
            assert_true(msg[0] != '\0');
            assert_null(u.host);
            continue;
        }
        assert_int_equal(u.kind, cases[i].kind);
        assert_int_equal(u.port, cases[i].port);
        if (cases[i].host)
            assert_string_equal(u.host, cases[i].host);
        if (cases[i].db)
            assert_string_equal(u.database, cases[i].db);
        if (cases[i].path)
            assert_string_equal(u.path, cases[i].path);
        scan_db_url_free(&u);
    }
    assert_true(scan_source_is_db("mysql://h/x"));
    assert_false(scan_source_is_db("/data"));
    assert_false(scan_source_is_db("file:///data"));
}

/* ------------------------------------------------------------------------------------------- */
/* Declared types, as each server spells them. */

static void test_types(void **state)
{
    (void)state;
    static const struct {
        const char *declared;
        bool array;
        enum scan_type type;
    } cases[] = {
        {"integer", false, SCAN_TYPE_INTEGER},
        {"bigint", false, SCAN_TYPE_INTEGER},
        {"smallint", false, SCAN_TYPE_INTEGER},
        {"int(11)", false, SCAN_TYPE_INTEGER},
        {"int unsigned", false, SCAN_TYPE_INTEGER},
        {"bigint(20) unsigned", false, SCAN_TYPE_INTEGER},
        {"INT8", false, SCAN_TYPE_INTEGER},
        {"tinyint(1)", false, SCAN_TYPE_BOOLEAN},
        {"tinyint(4)", false, SCAN_TYPE_INTEGER},
        {"boolean", false, SCAN_TYPE_BOOLEAN},
        {"numeric(12,2)", false, SCAN_TYPE_DECIMAL},
        {"decimal(10,0)", false, SCAN_TYPE_DECIMAL},
        {"double precision", false, SCAN_TYPE_DECIMAL},
        {"real", false, SCAN_TYPE_DECIMAL},
        {"float", false, SCAN_TYPE_DECIMAL},
        {"money", false, SCAN_TYPE_DECIMAL},
        {"character varying(40)", false, SCAN_TYPE_STRING},
        {"varchar(255)", false, SCAN_TYPE_STRING},
        {"character(3)", false, SCAN_TYPE_STRING},
        {"text", false, SCAN_TYPE_STRING},
        {"longtext", false, SCAN_TYPE_STRING},
        {"uuid", false, SCAN_TYPE_STRING},
        {"enum('a','b')", false, SCAN_TYPE_STRING},
        {"bytea", false, SCAN_TYPE_BINARY},
        {"blob", false, SCAN_TYPE_BINARY},
        {"varbinary(16)", false, SCAN_TYPE_BINARY},
        {"date", false, SCAN_TYPE_DATE},
        {"datetime(6)", false, SCAN_TYPE_TIMESTAMP},
        {"timestamp without time zone", false, SCAN_TYPE_TIMESTAMP},
        {"timestamp(3) with time zone", false, SCAN_TYPE_TIMESTAMP},
        {"time without time zone", false, SCAN_TYPE_TIME},
        {"interval", false, SCAN_TYPE_STRING},
        {"json", false, SCAN_TYPE_STRUCT},
        {"jsonb", false, SCAN_TYPE_STRUCT},
        {"integer[]", false, SCAN_TYPE_ARRAY},
        {"text[]", false, SCAN_TYPE_ARRAY},
        {"_int4", true, SCAN_TYPE_ARRAY},
        /* SQLite's affinity for names nobody else uses. */
        {"UNSIGNED BIG INT", false, SCAN_TYPE_INTEGER},
        {"NATIVE CHARACTER(70)", false, SCAN_TYPE_STRING},
        {"DOUBLE", false, SCAN_TYPE_DECIMAL},
        {"", false, SCAN_TYPE_UNKNOWN},
        {"mood", false, SCAN_TYPE_UNKNOWN}, /* a PostgreSQL enum by its own name */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (scan_db_type_of(cases[i].declared, cases[i].array) != cases[i].type)
            fail_msg("%s: %s", cases[i].declared,
                     scan_type_name(scan_db_type_of(cases[i].declared, cases[i].array)));
    assert_int_equal(scan_db_type_of(NULL, false), SCAN_TYPE_UNKNOWN);
}

/* ------------------------------------------------------------------------------------------- */
/* The job's database fields over the pipe. */

static void test_job_db_roundtrip(void **state)
{
    (void)state;
    struct scan_job j, k;
    scan_job_init(&j);
    assert_int_equal(j.db.tls, SCAN_DB_TLS_VERIFY_FULL);
    assert_int_equal(j.db.connect_timeout_s, 15);
    assert_int_equal(j.db.statement_timeout_ms, 30000);
    j.source = strdup("postgres://db:5433/sales");
    j.db.user = strdup("reader");
    assert_int_equal(shir_secret_set(&j.db.password, "s3\0cret", 7), 0);
    j.db.tls = SCAN_DB_TLS_VERIFY_CA;
    j.db.tls_ca = strdup("/etc/ca.pem");
    j.db.connect_timeout_s = 3;
    j.db.statement_timeout_ms = 1234;
    j.db.exact_counts = true;
    j.db.tls_ca_pem = strdup("-----BEGIN CERTIFICATE-----\n");
    j.db.tls_ca_pem_len = strlen(j.db.tls_ca_pem);
    char msg[200];
    assert_int_equal(scan_job_validate(&j, msg, sizeof msg), 0);
    struct shir_buf b;
    shir_buf_init(&b, SCAN_FRAME_MAX + 4);
    assert_int_equal(scan_job_encode(&j, &b), 0);
    scan_job_init(&k);
    assert_int_equal(scan_job_decode(b.data, b.len, &k), 0);
    assert_string_equal(k.source, "postgres://db:5433/sales");
    assert_string_equal(k.db.user, "reader");
    assert_int_equal(k.db.password.len, 7);
    assert_memory_equal(k.db.password.bytes, "s3\0cret", 7);
    assert_int_equal(k.db.tls, SCAN_DB_TLS_VERIFY_CA);
    assert_string_equal(k.db.tls_ca, "/etc/ca.pem");
    assert_int_equal(k.db.connect_timeout_s, 3);
    assert_int_equal(k.db.statement_timeout_ms, 1234);
    assert_true(k.db.exact_counts);
    assert_int_equal(k.db.tls_ca_pem_len, j.db.tls_ca_pem_len);
    assert_memory_equal(k.db.tls_ca_pem, j.db.tls_ca_pem, j.db.tls_ca_pem_len);
    scan_job_free(&k);
    /* A bad URL is refused before any worker starts. */
    free(j.source);
    j.source = strdup("postgres://u:pw@db/sales");
    assert_int_equal(scan_job_validate(&j, msg, sizeof msg), SHIR_E_INVAL);
    assert_non_null(strstr(msg, "--password-file"));
    assert_null(strstr(msg, "pw")); /* a password put in the URL is not echoed */
    scan_job_free(&j);
    shir_buf_free(&b);
}

/* ------------------------------------------------------------------------------------------- */
/* The walk on SQLite. */

struct collect_sink {
    struct scan_sink base;
    char **lines;
    size_t n;
};

static int collect_put(struct scan_sink *s, const struct scan_asset *a)
{
    struct collect_sink *c = (struct collect_sink *)s;
    struct shir_buf b;
    shir_buf_init(&b, SIZE_MAX);
    assert_int_equal(scan_asset_to_json(&b, a), 0);
    assert_int_equal(shir_buf_append_u8(&b, '\0'), 0);
    c->lines = realloc(c->lines, (c->n + 1) * sizeof *c->lines);
    assert_non_null(c->lines);
    c->lines[c->n++] = (char *)shir_buf_steal(&b, NULL);
    s->delivered++;
    return 0;
}

static void collect_free(struct collect_sink *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->lines[i]);
    free(c->lines);
}

static const char *find_line(const struct collect_sink *c, const char *needle)
{
    for (size_t i = 0; i < c->n; i++)
        if (strstr(c->lines[i], needle))
            return c->lines[i];
    return NULL;
}

static void exec_sql(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
}

/* people (labelled emails, a hard-negative amount), orders → people, a view, ANALYZE. */
static void make_fixture(const char *path)
{
    sqlite3 *db;
    unlink(path);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec_sql(db, "CREATE TABLE people(id INTEGER PRIMARY KEY, email TEXT NOT NULL, "
                 "amount NUMERIC(10,2), born DATE, photo BLOB, \"odd/name#1\" VARCHAR(20));"
                 "CREATE TABLE orders(id INTEGER NOT NULL, line INTEGER NOT NULL, "
                 "person_id INTEGER REFERENCES people, placed TIMESTAMP, "
                 "PRIMARY KEY (id, line));"
                 "CREATE VIEW emails AS SELECT email FROM people;"
                 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) "
                 "INSERT INTO people SELECT i, 'user' || i || '@example.com', i * 1.25, "
                 "'2020-01-01', x'00ff', 'v' || i FROM n;"
                 "CREATE INDEX people_email ON people(email); ANALYZE;");
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static bool exact_counts; /* the next run_db's job asks for count(*) */

static int run_db(const char *source, unsigned level, uint32_t stmt_ms,
                  struct collect_sink *sink, struct scan_summary *sum)
{
    struct scan_job job;
    scan_job_init(&job);
    job.source = strdup(source);
    job.level = level;
    job.db.statement_timeout_ms = stmt_ms;
    job.db.exact_counts = exact_counts;
    struct scan_readers readers;
    char msg[200];
    assert_int_equal(scan_readers_open(&readers, &job, msg, sizeof msg), 0);
    struct shir_fake_clock fc;
    shir_fake_clock_init(&fc, 1000);
    struct scan_engine_cfg cfg = {
        .job = &job, .readers = &readers, .clock = &fc.clock, .host = "box"};
    memset(sum, 0, sizeof *sum);
    *sink = (struct collect_sink){.base = {.put = collect_put}};
    int rc = scan_db_run(&cfg, &sink->base, sum);
    scan_readers_close(&readers);
    scan_job_free(&job);
    return rc;
}

static void test_sqlite_walk(void **state)
{
    (void)state;
    char dir[] = "/tmp/shir-test-db.XXXXXX", path[64], url[96];
    assert_non_null(mkdtemp(dir));
    (void)snprintf(path, sizeof path, "%s/f.db", dir);
    (void)snprintf(url, sizeof url, "sqlite://%s", path);
    make_fixture(path);

    struct collect_sink s;
    struct scan_summary sum;
    assert_int_equal(run_db(url, 3, 30000, &s, &sum), 0);
    assert_int_equal(s.n, 4); /* schema main, emails, orders, people */
    assert_int_equal(sum.assets, 4);
    assert_int_equal(sum.errors, 0);
    char qn[160];
    (void)snprintf(qn, sizeof qn, "\"qualifiedName\":\"sqlite://box%s/main\"", path);
    assert_non_null(strstr(s.lines[0], qn));
    assert_non_null(strstr(s.lines[0], "\"type\":\"schema\""));
    /* Tables in name order: a resumed run can start by index. */
    assert_non_null(strstr(s.lines[1], "/main/emails\""));
    assert_non_null(strstr(s.lines[1], "\"type\":\"view\""));
    assert_non_null(strstr(s.lines[2], "/main/orders\""));
    assert_non_null(strstr(s.lines[3], "/main/people\""));
    const char *p = s.lines[3];
    assert_non_null(strstr(p, "\"rowCount\":300,\"rowCountEstimated\":true"));
    assert_null(strstr(p, "\"modified\""));
    assert_non_null(strstr(p, "{\"name\":\"id\",\"type\":\"integer\",\"typeDetail\":\"INTEGER\","
                              "\"nullable\":true,\"primaryKey\":1,\"classifications\":[]}"));
    assert_non_null(strstr(p, "{\"name\":\"email\",\"type\":\"string\",\"typeDetail\":\"TEXT\","
                              "\"nullable\":false,\"classifications\":[\"EMAIL_ADDRESS\"]}"));
    /* Hard negatives: amounts and ids are not labelled. */
    assert_non_null(strstr(p, "{\"name\":\"amount\",\"type\":\"decimal\",\"typeDetail\":"
                              "\"NUMERIC(10,2)\",\"nullable\":true,\"classifications\":[]}"));
    assert_non_null(strstr(p, "{\"name\":\"photo\",\"type\":\"binary\""));
    /* A name that could forge a path is encoded in references and kept as is in columns. */
    assert_non_null(strstr(p, "\"name\":\"odd/name#1\""));
    const char *o = s.lines[2];
    assert_non_null(strstr(o, "\"name\":\"id\",\"type\":\"integer\",\"typeDetail\":\"INTEGER\","
                              "\"nullable\":false,\"primaryKey\":1"));
    assert_non_null(strstr(o, "\"name\":\"line\",\"type\":\"integer\",\"typeDetail\":"
                              "\"INTEGER\",\"nullable\":false,\"primaryKey\":2"));
    (void)snprintf(qn, sizeof qn, "\"references\":\"sqlite://box%s/main/people#id\"", path);
    assert_non_null(strstr(o, qn));
    assert_true(sum.classified_columns >= 2);
    assert_true(sum.bytes_read > 0);
    collect_free(&s);

    /* L1: names and estimates, no columns and nothing sampled. */
    assert_int_equal(run_db(url, 1, 30000, &s, &sum), 0);
    assert_int_equal(s.n, 4);
    assert_non_null(find_line(&s, "\"rowCount\":300"));
    assert_null(find_line(&s, "\"name\":\"email\""));
    assert_int_equal(sum.bytes_read, 0);
    collect_free(&s);

    /* Exact counts when asked: orders has no statistics, so no estimate, but 0 rows exactly. */
    exact_counts = true;
    assert_int_equal(run_db(url, 1, 30000, &s, &sum), 0);
    exact_counts = false;
    assert_non_null(strstr(s.lines[3], "\"rowCount\":300,\"columns\""));
    assert_non_null(strstr(s.lines[2], "\"rowCount\":0,\"columns\""));
    assert_null(strstr(s.lines[1], "\"rowCount\"")); /* a view is not counted */
    collect_free(&s);

    /* The file is untouched: read-only and immutable leave no journal. */
    char journal[80];
    (void)snprintf(journal, sizeof journal, "%s-journal", path);
    assert_int_equal(access(journal, F_OK), -1);
    unlink(path);
    rmdir(dir);
}

/* A sample moves at most what it keeps: 128 rows of 1 MB text cost a few tens of KB. */
static void test_sqlite_sample_bounded(void **state)
{
    (void)state;
    char dir[] = "/tmp/shir-test-db.XXXXXX", path[64], url[96];
    assert_non_null(mkdtemp(dir));
    (void)snprintf(path, sizeof path, "%s/big.db", dir);
    (void)snprintf(url, sizeof url, "sqlite://%s", path);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec_sql(db, "CREATE TABLE docs(id INTEGER, body TEXT, raw BLOB);"
                 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 130) "
                 "INSERT INTO docs SELECT i, printf('%.*c', 1000000, 'x'), zeroblob(1000000) "
                 "FROM n;");
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    struct collect_sink s;
    struct scan_summary sum;
    assert_int_equal(run_db(url, 3, 30000, &s, &sum), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(sum.errors, 0);
    /* 128 rows × (an id of up to 3 bytes + 256 bytes of body); the blob is never fetched. */
    assert_true(sum.bytes_read > 128 * 256);
    assert_true(sum.bytes_read <= 128 * (3 + 256));
    collect_free(&s);
    unlink(path);
    rmdir(dir);
}

static void test_sqlite_errors(void **state)
{
    (void)state;
    char dir[] = "/tmp/shir-test-db.XXXXXX", path[64], url[96];
    assert_non_null(mkdtemp(dir));
    (void)snprintf(path, sizeof path, "%s/not.db", dir);
    (void)snprintf(url, sizeof url, "sqlite://%s", path);
    struct collect_sink s;
    struct scan_summary sum;
    /* Missing file. */
    assert_true(run_db(url, 2, 30000, &s, &sum) < 0);
    assert_non_null(strstr(sum.message, "cannot scan sqlite://"));
    assert_int_equal(s.n, 0);
    collect_free(&s);
    /* Not a database. */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("this is not a database, just text that goes on for a while......................"
          "...............................................................................",
          f);
    fclose(f);
    assert_int_equal(run_db(url, 2, 30000, &s, &sum), SHIR_E_MALFORMED);
    assert_non_null(strstr(sum.message, "not a database"));
    collect_free(&s);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_job_db_roundtrip),
        cmocka_unit_test(test_sqlite_walk),
        cmocka_unit_test(test_sqlite_sample_bounded),
        cmocka_unit_test(test_sqlite_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
