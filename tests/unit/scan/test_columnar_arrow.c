/* Arrow IPC files and Feather v2 (scan/columnar/arrow.c; issue 14). Fixtures written by the
 * Arrow project's JavaScript implementation (tests/fixtures/columnar/generate-arrow.sh); hostile
 * variants made here by cutting and flipping their bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scan/columnar/arrow.h"
#include "scan/engine.h"
#include "tests/unit/scan/test_columnar.h"

static void expect(struct scan_asset *a, const char *name, enum scan_type t, const char *detail)
{
    struct scan_column *c = scan_asset_column(a, name);
    if (!c)
        fail_msg("no column %s", name);
    if (c->type != t || !c->type_detail || strcmp(c->type_detail, detail) != 0)
        fail_msg("%s: %s %s, expected %s %s", name, scan_type_name(c->type),
                 c->type_detail ? c->type_detail : "(none)", scan_type_name(t), detail);
}

static void expect_events(struct scan_asset *a, int64_t rows)
{
    for (size_t i = 0; i < a->n_errors; i++)
        printf("  error: %s\n", a->errors[i]);
    assert_int_equal(a->n_errors, 0);
    assert_string_equal(a->format, "arrow");
    assert_int_equal(a->row_count, rows);
    assert_int_equal(a->n_cols, 12);
    assert_string_equal(a->cols[0].name, "id");
    expect(a, "id", SCAN_TYPE_INTEGER, "Int(32,signed)");
    expect(a, "big", SCAN_TYPE_INTEGER, "Int(64,signed)");
    expect(a, "ratio", SCAN_TYPE_DECIMAL, "FloatingPoint(DOUBLE)");
    expect(a, "email", SCAN_TYPE_STRING, "Utf8");
    expect(a, "flag", SCAN_TYPE_BOOLEAN, "Bool");
    expect(a, "day", SCAN_TYPE_DATE, "Date(DAY)");
    expect(a, "ts", SCAN_TYPE_TIMESTAMP, "Timestamp(MILLISECOND,UTC)");
    expect(a, "tags", SCAN_TYPE_ARRAY, "List");
    expect(a, "addr", SCAN_TYPE_STRUCT, "Struct");
    expect(a, "addr.city", SCAN_TYPE_STRING, "Utf8");
    expect(a, "addr.zip", SCAN_TYPE_INTEGER, "Int(32,signed)");
    expect(a, "colour", SCAN_TYPE_STRING, "Utf8 dictionary");
}

static void test_arrow_file(void **state)
{
    static const char *const files[] = {"events.arrow", "events.feather"};
    for (size_t i = 0; i < 2; i++) {
        struct scan_asset a;
        /* Three record batches: the row count is the sum of their lengths. */
        assert_int_equal(col_read_fixture(scan_read_arrow, *state, files[i], SCAN_L3, &a), 0);
        expect_events(&a, 250);
        assert_int_equal(a.cols[0].n_samples, 0); /* metadata only */
        assert_true(a.bytes_read < 4096);          /* footer and three message headers */
        scan_asset_free(&a);
    }
    struct scan_asset a;
    assert_int_equal(col_read_fixture(scan_read_arrow, *state, "empty.arrow", SCAN_L2, &a), 0);
    expect_events(&a, 0);
    scan_asset_free(&a);
}

static void test_arrow_detect(void **state)
{
    size_t n;
    unsigned char *b = col_fixture(*state, "events.arrow", &n);
    struct scan_detected d;
    scan_detect(b, 64, "no-extension", &d);
    assert_string_equal(d.format, "arrow");
    scan_detect_name("x/table.feather", &d);
    assert_string_equal(d.format, "arrow");
    scan_detect_name("x/table.arrow", &d);
    assert_string_equal(d.format, "arrow");
    free(b);
}

/* Every cut of the file is a per-file error (or, for cuts that keep the footer, a reading);
 * every flipped footer byte is handled without a crash (ASan run). */
static void test_arrow_hostile(void **state)
{
    size_t n;
    unsigned char *b = col_fixture(*state, "events.arrow", &n);
    for (size_t cut = 0; cut < n; cut += (cut < 64 || cut > n - 2048) ? 1 : 97) {
        struct scan_asset a;
        assert_int_equal(col_read_bytes(scan_read_arrow, b, cut, SCAN_L2, &a), 0);
        assert_true(a.n_errors >= 1);
        scan_asset_free(&a);
    }
    uint32_t flen = (uint32_t)b[n - 10] | (uint32_t)b[n - 9] << 8 | (uint32_t)b[n - 8] << 16 |
                    (uint32_t)b[n - 7] << 24;
    assert_true(flen < n);
    size_t fstart = n - 10 - flen;
    for (size_t i = fstart; i < n - 10; i++) {
        unsigned char orig = b[i];
        for (unsigned k = 0; k < 2; k++) {
            b[i] = (unsigned char)(k == 0 ? orig ^ 0xff : orig ^ 0x01);
            struct scan_asset a;
            assert_int_equal(col_read_bytes(scan_read_arrow, b, n, SCAN_L2, &a), 0);
            scan_asset_free(&a);
        }
        b[i] = orig;
    }
    /* Footer lengths out of range, bad magic at either end. */
    unsigned char save[10];
    memcpy(save, b + n - 10, 10);
    b[n - 7] = 0x7f;
    struct scan_asset a;
    assert_int_equal(col_read_bytes(scan_read_arrow, b, n, SCAN_L2, &a), 0);
    assert_true(a.n_errors == 1 && strstr(a.errors[0], "footer length"));
    scan_asset_free(&a);
    memcpy(b + n - 10, save, 10);
    b[n - 1] = 'X';
    assert_int_equal(col_read_bytes(scan_read_arrow, b, n, SCAN_L2, &a), 0);
    assert_true(a.n_errors == 1 && strstr(a.errors[0], "magic at the end"));
    scan_asset_free(&a);
    free(b);
}

/* Hand-built flatbuffers: a table whose vtable lies outside the buffer, a self-referencing
 * struct field (the walk is bounded by depth and the visit cap), an empty buffer. */
static void test_arrow_flatbuffer_edges(void **state)
{
    (void)state;
    struct scan_limits lim;
    struct scan_arrow_block *bl;
    size_t nb;
    const char *why;
    struct scan_asset a;
    scan_limits_default(&lim);
    scan_asset_init(&a);
    static const unsigned char empty[1] = {0};
    assert_int_equal(scan_arrow_footer_fill(empty, 0, &lim, &a, &bl, &nb, &why),
                     SHIR_E_MALFORMED);
    /* root -> table at 4 whose soffset points 1 GiB back. */
    static const unsigned char far[8] = {4, 0, 0, 0, 0, 0, 0, 0x40};
    assert_int_equal(scan_arrow_footer_fill(far, sizeof far, &lim, &a, &bl, &nb, &why),
                     SHIR_E_MALFORMED);
    int64_t rows;
    assert_int_equal(scan_arrow_message_rows(far, 3, &rows, &why), SHIR_E_MALFORMED);
    assert_int_equal(scan_arrow_message_rows(far, sizeof far, &rows, &why), SHIR_E_MALFORMED);
    scan_asset_free(&a);
}

int col_run_arrow_tests(const char *dir)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_arrow_file, (void *)dir),
        cmocka_unit_test_prestate(test_arrow_detect, (void *)dir),
        cmocka_unit_test_prestate(test_arrow_hostile, (void *)dir),
        cmocka_unit_test(test_arrow_flatbuffer_edges),
    };
    return cmocka_run_group_tests_name("scan_arrow", tests, NULL, NULL);
}
