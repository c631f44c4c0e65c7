/* Delta Lake tables (scan/columnar/delta.c; issue 14). The fixture (tests/fixtures/delta/
 * generate.sh) has DuckDB-written data files and a log written per the Delta protocol with a
 * DuckDB-written checkpoint at v2, commits 2 and 3 after it, and commits 0 and 1 removed as log
 * cleanup removes them; its directory is the first command-line argument. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "scan/columnar/delta.h"

static void expect(struct scan_asset *a, const char *name, enum scan_type t, const char *detail)
{
    struct scan_column *c = scan_asset_column(a, name);
    if (!c)
        fail_msg("no column %s", name);
    if (c->type != t || strcmp(c->type_detail, detail) != 0)
        fail_msg("%s: %s %s, expected %s %s", name, scan_type_name(c->type), c->type_detail,
                 scan_type_name(t), detail);
}

static void test_delta_table(void **state)
{
    char dir[4096];
    struct scan_limits lim;
    struct scan_asset a;
    struct stat st;
    snprintf(dir, sizeof dir, "%s/sales", (const char *)*state);
    scan_limits_default(&lim);
    scan_asset_init(&a);
    assert_int_equal(scan_read_delta(dir, SCAN_L3, &lim, &a), 0);
    for (size_t i = 0; i < a.n_errors; i++)
        printf("  error: %s\n", a.errors[i]);
    assert_int_equal(a.n_errors, 0);
    assert_string_equal(a.format, "delta");
    assert_int_equal(a.type, SCAN_ASSET_TABLE);
    assert_string_equal(scan_asset_type_name(a.type), "table");
    assert_int_equal(a.table_version, 3);
    /* Live at v3: the checkpoint's three adds, minus part-00001 (removed in v3), plus
     * part-00004 (added in v3); part-00000 was removed in v1, before the checkpoint. */
    assert_int_equal(a.live_files, 3);
    uint64_t size = 0;
    static const char *const live[] = {"region=eu/part-00002.parquet",
                                       "region=us/part-00003.parquet",
                                       "region=eu/part-00004.parquet"};
    for (size_t i = 0; i < 3; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", dir, live[i]);
        assert_int_equal(stat(p, &st), 0);
        size += (uint64_t)st.st_size;
    }
    assert_int_equal(a.size, size);
    assert_int_equal(a.row_count, 30);
    assert_int_equal(a.n_cols, 7);
    expect(&a, "id", SCAN_TYPE_INTEGER, "long");
    expect(&a, "amount", SCAN_TYPE_DECIMAL, "decimal(10,2)");
    expect(&a, "day", SCAN_TYPE_DATE, "date");
    expect(&a, "customer", SCAN_TYPE_STRUCT, "struct");
    expect(&a, "customer.email", SCAN_TYPE_STRING, "string");
    expect(&a, "region", SCAN_TYPE_STRING, "string partition");
    scan_asset_free(&a);
}

/* Commit replay on its own: adds, removes, re-adds, a newer metaData, malformed lines. */
static void test_delta_replay(void **state)
{
    (void)state;
    struct scan_delta_state *s;
    struct scan_limits lim;
    struct scan_asset a;
    size_t bad = 0;
    scan_limits_default(&lim);
    assert_int_equal(scan_delta_state_new(&s), 0);
    static const char c0[] =
        "{\"metaData\":{\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\""
        ":\\\"a\\\",\\\"type\\\":\\\"string\\\"}]}\",\"partitionColumns\":[]}}\n"
        "{\"add\":{\"path\":\"x\",\"size\":10,\"stats\":\"{\\\"numRecords\\\":5}\"}}\n"
        "{\"add\":{\"path\":\"y\",\"size\":20}}\n"
        "not json\n"
        "{\"add\":{\"path\":\"z\",\"size\":-1}}\n"
        "\n";
    assert_int_equal(scan_delta_apply_json(s, c0, sizeof c0 - 1, &bad), 0);
    assert_int_equal(bad, 2);
    static const char c1[] = "{\"remove\":{\"path\":\"y\"}}\n{\"add\":{\"path\":\"x\",\"size\":"
                             "11,\"stats\":\"{\\\"numRecords\\\":6}\"}}\n{\"commitInfo\":{}}";
    assert_int_equal(scan_delta_apply_json(s, c1, sizeof c1 - 1, &bad), 0);
    scan_asset_init(&a);
    assert_int_equal(scan_delta_fill(s, &lim, &a), 0);
    assert_int_equal(a.live_files, 1);
    assert_int_equal(a.size, 11);
    assert_int_equal(a.row_count, 6);
    assert_int_equal(a.n_cols, 1);
    scan_asset_free(&a);
    /* A live file without stats: the row count is unknown. */
    static const char c2[] = "{\"add\":{\"path\":\"w\",\"size\":1}}";
    assert_int_equal(scan_delta_apply_json(s, c2, sizeof c2 - 1, &bad), 0);
    scan_asset_init(&a);
    assert_int_equal(scan_delta_fill(s, &lim, &a), 0);
    assert_int_equal(a.row_count, -1);
    assert_int_equal(a.live_files, 2);
    scan_asset_free(&a);
    scan_delta_state_free(s);
}

static void test_delta_broken(void **state)
{
    (void)state;
    struct scan_limits lim;
    struct scan_asset a;
    scan_limits_default(&lim);
    scan_asset_init(&a);
    /* No _delta_log: an error in the asset, not a failure. */
    assert_int_equal(scan_read_delta("/", SCAN_L2, &lim, &a), 0);
    assert_true(a.n_errors == 1 && strstr(a.errors[0], "_delta_log"));
    scan_asset_free(&a);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures/delta";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_delta_table, (void *)dir),
        cmocka_unit_test(test_delta_replay),
        cmocka_unit_test(test_delta_broken),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
