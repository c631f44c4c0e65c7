/* Parts of a database run (scan/source/dbparts.c and the walk in db.c) without a server: the
 * boundaries, batches and resume point from tables of cases, then runs on a SQLite fixture with
 * parts: part 0 holds the schema first, each part its tables, a checkpoint after each; an
 * attempt resumed from every checkpoint writes only the later parts, byte for byte those of an
 * uninterrupted run; the resume key's (schema, name) order from a table of cases, and an attempt
 * resumed after tables were created and dropped before its checkpoint repeats and loses none.
 * (That it reads no earlier table is measured on a real server by
 * tests/integration/dispatch_db.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "scan/engine.h"
#include "scan/source/db.h"

/* ------------------------------------------------------------------------------------------- */
/* The plan, pure. */

static void test_part_size_defaults(void **state)
{
    (void)state;
    static const struct {
        const char *source;
        unsigned level;
        bool exact;
        uint32_t set, want;
    } cases[] = {
        {"postgres://h/db", 1, false, 0, SCAN_DB_PART_TABLES_L1},
        {"postgres://h/db", 2, false, 0, SCAN_DB_PART_TABLES_L2},
        {"postgres://h/db", 3, false, 0, 1},
        {"mysql://h/db", 1, true, 0, 1},  /* a count reads each table */
        {"mysql://h/db", 2, true, 0, 1},
        {"sqlite:///x.db", 3, false, 7, 7}, /* the definition's own size wins */
        {"/data", 1, false, 0, SCAN_PART_SIZE_L1},
        {"/data", 3, false, 0, SCAN_PART_SIZE_L23},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct scan_job j;
        scan_job_init(&j);
        j.source = (char *)cases[i].source;
        j.level = cases[i].level;
        j.db.exact_counts = cases[i].exact;
        j.part_size = cases[i].set;
        assert_int_equal(scan_job_part_size(&j), cases[i].want);
    }
}

static void test_plan_cases(void **state)
{
    (void)state;
    static const struct {
        uint32_t per, resume_part;
        uint64_t resume_tables;
        bool resume;
        /* expected */
        uint32_t part;
        uint64_t first;
        bool schemas;
    } cases[] = {
        {1, 0, 0, false, 0, 0, true},
        {64, 0, 0, true, 0, 0, true},    /* resumed before any checkpoint: from the start */
        {1, 5, 5, true, 5, 5, false},    /* checkpoint of part 4 = table 4: read from table 5 */
        {64, 2, 128, true, 2, 128, false},
        {64, 3, 150, true, 3, 150, false}, /* the last, partial part was checkpointed */
        {10, 4, 33, true, 4, 33, false},   /* the part size changed since: start at the table */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct scan_job j;
        scan_job_init(&j);
        j.source = (char *)"postgres://h/db";
        j.level = 2;
        j.part_size = cases[i].per;
        j.resume = cases[i].resume;
        j.resume_part = cases[i].resume_part;
        j.resume_files = cases[i].resume_tables;
        struct scan_db_parts p;
        scan_db_parts_start(&j, &p);
        assert_int_equal(p.per_part, cases[i].per);
        assert_int_equal(p.part, cases[i].part);
        assert_int_equal(p.first, cases[i].first);
        assert_int_equal(p.schemas, cases[i].schemas);
    }
    /* Batches stop at a part's end and at the catalog's; a part closes after its last table or
     * the catalog's last. */
    struct scan_db_parts p = {.per_part = 64};
    assert_int_equal(scan_db_parts_batch(&p, 0, 200, 64), 64);
    assert_int_equal(scan_db_parts_batch(&p, 60, 200, 64), 4);
    assert_int_equal(scan_db_parts_batch(&p, 192, 200, 64), 8);
    assert_int_equal(scan_db_parts_batch(&p, 200, 200, 64), 0);
    assert_false(scan_db_parts_closes(&p, 62, 200));
    assert_true(scan_db_parts_closes(&p, 63, 200));
    assert_true(scan_db_parts_closes(&p, 199, 200));
    p.per_part = 1000;
    assert_int_equal(scan_db_parts_batch(&p, 960, 5000, 64), 40); /* 1000 is no multiple of 64 */
    assert_false(scan_db_parts_closes(&p, 998, 5000));
    assert_true(scan_db_parts_closes(&p, 999, 5000));
    p.per_part = 1;
    assert_int_equal(scan_db_parts_batch(&p, 7, 9, 64), 1);
    assert_true(scan_db_parts_closes(&p, 7, 9));
    /* A resume point for a database is its table count: any, after part 0. */
    struct scan_job j;
    scan_job_init(&j);
    j.source = (char *)"postgres://h/db";
    j.level = 3;
    j.parts_dir = (char *)"/out";
    j.run_scan = (char *)"s";
    j.run_id = 1;
    j.resume = true;
    j.resume_part = 4;
    j.resume_files = 4;
    char msg[200];
    assert_int_equal(scan_job_validate(&j, msg, sizeof msg), 0);
    j.resume_part = 0;
    assert_int_equal(scan_job_validate(&j, msg, sizeof msg), SHIR_E_INVAL);
}

/* ------------------------------------------------------------------------------------------- */
/* Runs with parts on SQLite. */

#define N_TABLES 7

struct cps {
    struct scan_checkpoint c[64];
    size_t n;
};

static int on_cp(void *ud, const struct scan_checkpoint *c)
{
    struct cps *k = ud;
    assert_true(k->n < 64);
    k->c[k->n++] = *c;
    return 0;
}

/* A run with parts, resumed from `from` (NULL: none), with its key or (with_key false, as an
 * older agent's job) by its table count. */
static int run_parts_key(const char *url, const char *out, unsigned level, uint32_t per,
                         const struct scan_checkpoint *from, bool with_key, struct cps *k,
                         struct scan_summary *sum);

/* t0 .. t6, each with an e-mail column and some rows, and a view. */
static void make_fixture(const char *path)
{
    sqlite3 *db;
    unlink(path);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    for (int i = 0; i < N_TABLES; i++) {
        char sql[400];
        snprintf(sql, sizeof sql,
                 "CREATE TABLE t%d(id INTEGER PRIMARY KEY, email TEXT);"
                 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20) "
                 "INSERT INTO t%d SELECT i, 'u' || i || '@example.com' FROM n;",
                 i, i);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    assert_int_equal(sqlite3_exec(db, "CREATE VIEW v AS SELECT email FROM t0; ANALYZE;", NULL,
                                  NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static int run_parts_key(const char *url, const char *out, unsigned level, uint32_t per,
                         const struct scan_checkpoint *from, bool with_key, struct cps *k,
                         struct scan_summary *sum)
{
    struct scan_job job;
    scan_job_init(&job);
    job.source = strdup(url);
    job.level = level;
    job.parts_dir = strdup(out);
    job.run_scan = strdup("db");
    job.run_id = 3;
    job.part_size = per;
    job.host_name = strdup("box");
    if (from) {
        job.resume = true;
        job.resume_part = from->part + 1;
        job.resume_files = from->files;
        job.resume_assets = from->assets;
        if (with_key && from->key_len) {
            job.resume_key = malloc(from->key_len + 1);
            assert_non_null(job.resume_key);
            memcpy(job.resume_key, from->key, from->key_len);
            job.resume_key[from->key_len] = '\0';
            job.resume_key_len = from->key_len;
        }
    }
    struct shir_fake_clock fc;
    shir_fake_clock_init(&fc, 1000);
    struct scan_run_cbs cbs = {.checkpoint_cb = on_cp, .ud = k};
    int rc = scan_job_run(&job, "box", &fc.clock, NULL, &cbs, sum);
    scan_job_free(&job);
    return rc;
}

static int run_parts(const char *url, const char *out, unsigned level, uint32_t per,
                     const struct scan_checkpoint *from, struct cps *k, struct scan_summary *sum)
{
    return run_parts_key(url, out, level, per, from, true, k, sum);
}

static char *slurp(const char *dir, uint32_t part)
{
    char path[200];
    snprintf(path, sizeof path, "%s/db/3/part-%06u.jsonl", dir, part);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 16);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void rm_rf(const char *dir)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void check_resumes(const char *url, unsigned level, uint32_t per)
{
    char full[64], dir[64], path[200];
    strcpy(full, "/tmp/shir-dbparts-full-XXXXXX");
    assert_non_null(mkdtemp(full));
    struct cps k = {0};
    struct scan_summary sum;
    assert_int_equal(run_parts(url, full, level, per, NULL, &k, &sum), 0);
    /* 8 tables and views (t0..t6, v), per per part; the schema leads part 0. */
    uint32_t n_parts = (N_TABLES + 1 + per - 1) / per;
    assert_int_equal(k.n, n_parts);
    assert_int_equal(k.c[n_parts - 1].files, N_TABLES + 1);
    assert_int_equal(sum.assets, N_TABLES + 2);
    char *p0 = slurp(full, 0);
    assert_non_null(p0);
    assert_non_null(strstr(p0, "\"type\":\"schema\""));
    assert_true(strstr(p0, "\"type\":\"schema\"") < strstr(p0, "/main/t0\""));
    assert_int_equal(count_lines(p0), 1 + per);
    free(p0);
    snprintf(path, sizeof path, "%s/db/3/_SUCCESS", full);
    assert_int_equal(access(path, F_OK), 0);
    /* From every checkpoint: only the later parts are written, equal to the full run's. */
    for (size_t c = 0; c < k.n; c++) {
        strcpy(dir, "/tmp/shir-dbparts-res-XXXXXX");
        assert_non_null(mkdtemp(dir));
        struct cps kr = {0};
        assert_int_equal(run_parts(url, dir, level, per, &k.c[c], &kr, &sum), 0);
        assert_int_equal(kr.n, k.n - c - 1);
        assert_int_equal(sum.assets, N_TABLES + 2); /* the whole run's, counters carried over */
        for (uint32_t q = 0; q < n_parts; q++) {
            char *a = slurp(full, q), *b = slurp(dir, q);
            if (q <= k.c[c].part) {
                assert_null(b); /* an earlier attempt's part: not written again */
            } else {
                assert_non_null(b);
                assert_string_equal(a, b);
            }
            free(a);
            free(b);
        }
        rm_rf(dir);
    }
    rm_rf(full);
}

/* The (schema, name) order of database keys, and where a resumed attempt starts in a catalog. */
static void test_key_cases(void **state)
{
    (void)state;
    static const struct {
        const char *schema, *name, *key_schema, *key_name;
        bool after;
    } cases[] = {
        {"main", "t3", "main", "t3", false},
        {"main", "t4", "main", "t3", true},
        {"main", "t10", "main", "t1", true}, /* a longer name after its prefix */
        {"main", "t1", "main", "t10", false},
        {"main", "t2", "main", "t10", true},
        {"a", "zzz", "ab", "a", false}, /* the schema first: "a" < "ab" */
        {"ab", "a", "a", "zzz", true},
        {"a b", "x", "a", "x", true},          /* ' ' after the separator */
        {"public", "T", "public", "t", false}, /* bytewise: 'T' < 't' */
        {"s", "\xc3\xa9", "s", "z", true},
    };
    char key[SCAN_RESUME_KEY_MAX];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = scan_key_table(cases[i].key_schema, cases[i].key_name, key);
        assert_int_equal(n, strlen(cases[i].key_schema) + 1 + strlen(cases[i].key_name));
        if (scan_key_table_after(cases[i].schema, cases[i].name, key, n) != cases[i].after) {
            print_message("case %zu: (%s, %s) vs (%s, %s)\n", i, cases[i].schema, cases[i].name,
                          cases[i].key_schema, cases[i].key_name);
            fail();
        }
    }
    /* A name too long for a key: none (the checkpoint resumes by its count). */
    static char longname[SCAN_RESUME_KEY_MAX];
    memset(longname, 'n', sizeof longname - 1);
    assert_int_equal(scan_key_table("s", longname, key), 0);
    longname[sizeof longname - 3] = '\0'; /* 1 + 1 + 4093 bytes: fits */
    assert_int_equal(scan_key_table("s", longname, key), SCAN_RESUME_KEY_MAX - 1);
    /* The first table after a key in a catalog; a key past all, before all. */
    struct scan_db_table t[] = {{.schema = "main", .name = "t0"},
                                {.schema = "main", .name = "t10"},
                                {.schema = "main", .name = "t2"},
                                {.schema = "main", .name = "v"}};
    static const struct {
        const char *name;
        uint64_t first;
    } at[] = {{"t0", 1}, {"t1", 1}, {"t10", 2}, {"t3", 3}, {"v", 4}, {"w", 4}, {"", 0}};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        size_t n = scan_key_table("main", at[i].name, key);
        assert_int_equal(scan_db_parts_after_key(t, 4, key, n), at[i].first);
    }
}

/* Every line of the parts in dir: how many describe table `name` (its qualified name). */
static size_t table_lines(const char *dir, const char *name)
{
    char want[64];
    snprintf(want, sizeof want, "/main/%s\"", name);
    size_t n = 0;
    for (uint32_t q = 0;; q++) {
        char *t = slurp(dir, q);
        if (!t)
            break;
        for (const char *h = t; (h = strstr(h, want)) != NULL; h += strlen(want))
            n++;
        free(t);
    }
    return n;
}

/* An attempt stops after checkpoint 3 (a table per part: t0..t3 written, the key (main, t3));
 * tables are created and dropped before that point, then the run resumes. Every table in the
 * catalog in both attempts is in exactly one part: by its count, a table dropped before the
 * point would have moved t4 below it (lost), one created would have moved t3 past it (twice).
 * One dropped keeps the line the first attempt wrote; one created before the point is not
 * reported, one after it is. */
static void test_sqlite_catalog_changed(void **state)
{
    (void)state;
    static const struct {
        const char *sql;
        const char *added[2];
    } cases[] = {
        {"CREATE TABLE t10(id INTEGER)", {"t10"}},
        {"DROP TABLE t1", {NULL}},
        {"CREATE TABLE t10(id INTEGER); CREATE TABLE t20(id INTEGER); DROP TABLE t1",
         {"t10", "t20"}},
        {"DROP TABLE t0; DROP TABLE t2; CREATE TABLE t5a(id INTEGER)", {"t5a"}},
    };
    static const char *const before[] = {"t0", "t1", "t2", "t3", "t4", "t5", "t6", "v"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char tmp[] = "/tmp/shir-test-dbchg.XXXXXX", path[64], url[96], out[96];
        assert_non_null(mkdtemp(tmp));
        (void)snprintf(path, sizeof path, "%s/f.db", tmp);
        (void)snprintf(url, sizeof url, "sqlite://%s", path);
        (void)snprintf(out, sizeof out, "%s/out", tmp);
        assert_int_equal(mkdir(out, 0700), 0);
        make_fixture(path);
        struct cps *k = calloc(2, sizeof *k);
        assert_non_null(k);
        struct scan_summary sum;
        assert_int_equal(run_parts(url, out, 2, 1, NULL, &k[0], &sum), 0);
        assert_int_equal(k[0].c[3].files, 4);
        assert_int_equal(k[0].c[3].key_len, strlen("main") + 1 + 2);
        assert_memory_equal(k[0].c[3].key, "main\0t3", 7);
        for (uint32_t q = 4; q < 8; q++) { /* the later parts of the stopped attempt: gone */
            char p[160];
            (void)snprintf(p, sizeof p, "%s/db/3/part-%06u.jsonl", out, q);
            assert_int_equal(unlink(p), 0);
        }
        sqlite3 *db;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, cases[i].sql, NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_close(db), SQLITE_OK);
        assert_int_equal(run_parts(url, out, 2, 1, &k[0].c[3], &k[1], &sum), 0);
        for (size_t t = 0; t < sizeof before / sizeof before[0]; t++) {
            if (table_lines(out, before[t]) != 1) {
                print_message("case %zu: %s in %zu parts\n", i, before[t],
                              table_lines(out, before[t]));
                fail();
            }
        }
        for (size_t a = 0; a < 2 && cases[i].added[a]; a++) {
            char key[SCAN_RESUME_KEY_MAX];
            size_t n = scan_key_table("main", "t3", key);
            bool after = scan_key_table_after("main", cases[i].added[a], key, n);
            assert_int_equal(table_lines(out, cases[i].added[a]), after ? 1 : 0);
        }
        free(k);
        rm_rf(tmp);
    }
}

static void test_sqlite_parts(void **state)
{
    (void)state;
    char dir[] = "/tmp/shir-test-dbparts.XXXXXX", path[64], url[96];
    assert_non_null(mkdtemp(dir));
    (void)snprintf(path, sizeof path, "%s/f.db", dir);
    (void)snprintf(url, sizeof url, "sqlite://%s", path);
    make_fixture(path);
    check_resumes(url, 3, 1); /* L3: a table per part */
    check_resumes(url, 2, 3); /* 3 tables per part, the last one partial */
    check_resumes(url, 1, 8); /* everything in part 0 */
    rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_part_size_defaults),
        cmocka_unit_test(test_plan_cases),
        cmocka_unit_test(test_sqlite_parts),
        cmocka_unit_test(test_key_cases),
        cmocka_unit_test(test_sqlite_catalog_changed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
