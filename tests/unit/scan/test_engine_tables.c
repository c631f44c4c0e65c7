/* The engine and table-format directories (scan/tables.c, scan_table in scan/engine.c): a
 * directory holding a Delta log is one `table` asset read by the real Delta reader, and its
 * data and log files are neither files nor a resource set. Runs the real readers over
 * tests/fixtures/delta (the first command-line argument). */
#include <fcntl.h>
#include <sys/stat.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scan/engine.h"
#include "scan/tables.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void run(const char *root, unsigned level, const char *out, struct scan_summary *sum)
{
    struct scan_job job;
    struct scan_readers r;
    char msg[256];
    scan_job_init(&job);
    job.source = strdup(root);
    job.level = level;
    job.emit_directories = false;
    assert_int_equal(scan_readers_open(&r, &job, msg, sizeof msg), 0);
    struct scan_sink *sink;
    assert_int_equal(scan_sink_jsonl_new(out, &sink), 0);
    struct scan_engine_cfg cfg = {.job = &job, .readers = &r, .clock = shir_clock_system(),
                                  .host = "testhost"};
    memset(sum, 0, sizeof *sum);
    assert_int_equal(scan_engine_run(&cfg, sink, sum), 0);
    assert_int_equal(sink->finish(sink), 0);
    scan_sink_free(sink);
    scan_readers_close(&r);
    scan_job_free(&job);
}

static void test_delta_dir_is_one_table(void **state)
{
    char out[64];
    struct scan_summary sum;
    strcpy(out, "/tmp/shir-tables-XXXXXX");
    int fd = mkstemp(out);
    assert_true(fd >= 0);
    close(fd);
    for (unsigned level = 1; level <= 2; level++) {
        run(*state, level, out, &sum);
        const char *j = slurp(out);
        printf("  L%u: %s", level, j);
        /* The three generate scripts and the five tables: eight assets, no part-*.parquet, no
         * resource set. */
        assert_int_equal(sum.assets, 8);
        assert_int_equal(sum.resource_sets, 0);
        assert_null(strstr(j, "part-0000"));
        assert_null(strstr(j, "_delta_log"));
        assert_non_null(strstr(j, "\"table\""));
        assert_non_null(strstr(j, "\"delta\""));
        if (level == 2) {
            assert_non_null(strstr(j, "\"region\""));
            /* Every table at v3 with 30 rows in 3 files, whatever its checkpoint's layout. */
            size_t tables = 0;
            for (const char *p = j; (p = strstr(p, "\"rowCount\":30,\"tableVersion\":3,"
                                                   "\"liveFiles\":3,")); p++)
                tables++;
            assert_int_equal(tables, 4);
            /* sales_dv: at v4, 3 files whose deletion vectors leave 20 rows. */
            assert_non_null(strstr(j, "\"rowCount\":20,\"tableVersion\":4,\"liveFiles\":3,"));
        } else {
            assert_null(strstr(j, "tableVersion")); /* L1: the log is not read */
        }
    }
    unlink(out);
}

static void test_tableset(void **state)
{
    (void)state;
    struct scan_tableset t = {0};
    assert_int_equal(scan_tableset_add(&t, "lake/sales"), 0);
    assert_true(scan_tableset_inside(&t, "lake/sales/region=eu/part-0.parquet"));
    assert_true(scan_tableset_inside(&t, "lake/sales/_delta_log"));
    assert_false(scan_tableset_inside(&t, "lake/sales"));   /* the table itself */
    assert_false(scan_tableset_inside(&t, "lake/salesman/x.csv"));
    assert_false(scan_tableset_inside(&t, "lake/other.csv"));
    scan_tableset_free(&t);
    assert_int_equal(scan_tableset_add(&t, ""), 0); /* the root is a table */
    assert_true(scan_tableset_inside(&t, "anything/below"));
    scan_tableset_free(&t);
    int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(root >= 0);
    assert_false(scan_table_dir_at(root));
    close(root);
}

/* The walk marks a directory a table only when its `_delta_log` is a directory as listed
 * (getdents64's d_type): not a file of that name, not a link to a log elsewhere. */
struct marks {
    char got[8][32];
    bool table[8];
    unsigned n;
};

static int on_dir(void *ud, const struct scan_entry *e)
{
    struct marks *m = ud;
    if (e->kind == SCAN_ENTRY_DIR && m->n < 8) {
        snprintf(m->got[m->n], sizeof m->got[0], "%s", e->rel);
        m->table[m->n++] = e->table;
    }
    return 0;
}

static void test_walk_marks_tables(void **state)
{
    (void)state;
    char root[64], p[160];
    strcpy(root, "/tmp/shir-marks-XXXXXX");
    assert_non_null(mkdtemp(root));
    const char *dirs[] = {"file", "link", "plain", "real", "real/_delta_log"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", root, dirs[i]);
        assert_int_equal(mkdir(p, 0700), 0);
    }
    snprintf(p, sizeof p, "%s/file/_delta_log", root);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);
    snprintf(p, sizeof p, "%s/link/_delta_log", root);
    assert_int_equal(symlink("../real/_delta_log", p), 0);
    struct scan_walk_opts o = {.root = root};
    struct marks m = {0};
    assert_int_equal(scan_walk(&o, on_dir, &m), 0);
    /* The link is followed as a directory inside the root (so real/_delta_log is then a
     * directory already visited, not reported again), but it makes `link` no table. */
    const char *want[] = {"", "file", "link", "link/_delta_log", "plain", "real"};
    const bool table[] = {false, false, false, false, false, true};
    assert_int_equal(m.n, 6);
    for (unsigned i = 0; i < 6; i++) {
        assert_string_equal(m.got[i], want[i]);
        assert_int_equal(m.table[i], table[i]);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures/delta";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_delta_dir_is_one_table, (void *)dir),
        cmocka_unit_test(test_tableset),
        cmocka_unit_test(test_walk_marks_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
