/* Time-of-day columns of the columnar formats (fixtures from tests/fixtures/columnar/
 * generate-times.sh: DuckDB's Parquet TIME, apache-arrow's Time32/Time64, avsc's time-millis and
 * time-micros) are typed `time`, as the delimited reader types h:mm:ss cells, and a timestamp
 * beside them stays a timestamp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "scan/model.h"
#include "tests/unit/scan/test_columnar.h"

struct want {
    const char *name;
    enum scan_type type;
    const char *detail;
};

static void expect_cols(scan_test_reader_fn *reader, const char *dir, const char *file,
                        const struct want *w, size_t n)
{
    struct scan_asset a;
    scan_asset_init(&a);
    assert_int_equal(col_read_fixture(reader, dir, file, SCAN_L3, &a), 0);
    assert_int_equal(a.n_errors, 0);
    assert_int_equal(a.row_count, 20);
    assert_int_equal(a.n_cols, n);
    for (size_t i = 0; i < n; i++) {
        struct scan_column *c = scan_asset_column(&a, w[i].name);
        if (!c)
            fail_msg("%s: no column %s", file, w[i].name);
        if (c->type != w[i].type || strcmp(c->type_detail, w[i].detail) != 0)
            fail_msg("%s: %s is %s (%s), want %s (%s)", file, w[i].name, scan_type_name(c->type),
                     c->type_detail, scan_type_name(w[i].type), w[i].detail);
    }
    scan_asset_free(&a);
}

static void test_parquet_time(void **state)
{
    static const struct want w[] = {
        {"id", SCAN_TYPE_INTEGER, "INT32/INT(32,signed)"},
        {"opens", SCAN_TYPE_TIME, "INT64/TIME(MICROS,LOCAL)"},
        {"seen", SCAN_TYPE_TIMESTAMP, "INT64/TIMESTAMP(MICROS,LOCAL)"},
    };
    expect_cols(scan_read_parquet, *state, "times.parquet", w, sizeof w / sizeof w[0]);
}

static void test_arrow_time(void **state)
{
    static const struct want w[] = {
        {"id", SCAN_TYPE_INTEGER, "Int(32,signed)"},
        {"opens_ms", SCAN_TYPE_TIME, "Time(MILLISECOND)"},
        {"opens_us", SCAN_TYPE_TIME, "Time(MICROSECOND)"},
        {"seen", SCAN_TYPE_TIMESTAMP, "Timestamp(MILLISECOND)"},
    };
    expect_cols(scan_read_arrow, *state, "times.arrow", w, sizeof w / sizeof w[0]);
}

static void test_avro_time(void **state)
{
    static const struct want w[] = {
        {"id", SCAN_TYPE_INTEGER, "int"},
        {"opens_ms", SCAN_TYPE_TIME, "int/time-millis"},
        {"opens_us", SCAN_TYPE_TIME, "long/time-micros"},
        {"seen", SCAN_TYPE_TIMESTAMP, "long/timestamp-millis"},
    };
    expect_cols(scan_read_avro, *state, "times.avro", w, sizeof w / sizeof w[0]);
}

int col_run_times_tests(const char *dir)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_parquet_time, (void *)dir),
        cmocka_unit_test_prestate(test_arrow_time, (void *)dir),
        cmocka_unit_test_prestate(test_avro_time, (void *)dir),
    };
    return cmocka_run_group_tests_name("scan_columnar_times", tests, NULL, NULL);
}
