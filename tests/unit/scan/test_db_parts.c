/* Parts of a database run (scan/source/dbparts.c and the walk in db.c) without a server: the
 * boundaries, batches and resume point from tables of cases, then runs on a SQLite fixture with
 * parts: part 0 holds the schema first, each part its tables, a checkpoint after each; an
 * attempt resumed from every checkpoint writes only the later parts, byte for byte those of an
 * uninterrupted run. (That it reads no earlier table is measured on a real server by
 * tests/integration/dispatch_db.sh.) */
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

static int run_parts(const char *url, const char *out, unsigned level, uint32_t per,
                     const struct scan_checkpoint *from, struct cps *k, struct scan_summary *sum)
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
    }
    struct shir_fake_clock fc;
    shir_fake_clock_init(&fc, 1000);
    struct scan_run_cbs cbs = {.checkpoint_cb = on_cp, .ud = k};
    int rc = scan_job_run(&job, "box", &fc.clock, NULL, &cbs, sum);
    scan_job_free(&job);
    return rc;
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
