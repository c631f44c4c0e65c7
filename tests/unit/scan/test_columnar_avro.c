/* Avro header reader tests on files written by avsc (tests/fixtures/columnar), with truncated
 * and corrupted variants made at run time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scan/columnar/avro.h"
#include "tests/unit/scan/test_columnar.h"

static void expect_col(struct scan_asset *a, const char *name, enum scan_type t,
                       const char *detail)
{
    struct scan_column *c = scan_asset_column(a, name);
    if (!c)
        fail_msg("no column %s", name);
    if (c->type != t || strcmp(c->type_detail, detail) != 0)
        fail_msg("%s: type %s detail %s", name, scan_type_name(c->type), c->type_detail);
}

static void check_customers(struct scan_asset *a)
{
    for (size_t i = 0; i < a->n_errors; i++)
        print_message("error: %s\n", a->errors[i]);
    assert_int_equal(a->n_errors, 0);
    assert_string_equal(a->format, "avro");
    assert_int_equal(a->row_count, 120);
    assert_int_equal(a->n_cols, 14);
    expect_col(a, "id", SCAN_TYPE_INTEGER, "long");
    expect_col(a, "email", SCAN_TYPE_STRING, "string");
    expect_col(a, "active", SCAN_TYPE_BOOLEAN, "boolean");
    expect_col(a, "balance", SCAN_TYPE_DECIMAL, "bytes/decimal(12,2)");
    expect_col(a, "birth", SCAN_TYPE_DATE, "int/date");
    expect_col(a, "created", SCAN_TYPE_TIMESTAMP, "long/timestamp-millis");
    expect_col(a, "updated", SCAN_TYPE_TIMESTAMP, "long/timestamp-micros");
    expect_col(a, "address.street", SCAN_TYPE_STRING, "string");
    expect_col(a, "address.geo.lat", SCAN_TYPE_DECIMAL, "double");
    expect_col(a, "address.geo.lon", SCAN_TYPE_DECIMAL, "double");
    expect_col(a, "phones", SCAN_TYPE_ARRAY, "array<string>");
    expect_col(a, "props", SCAN_TYPE_MAP, "map<int>");
    expect_col(a, "kind", SCAN_TYPE_STRING, "enum Kind");
    expect_col(a, "tag", SCAN_TYPE_BINARY, "fixed Tag");
}

static void test_avro_null_codec(void **state)
{
    struct scan_asset a;
    assert_int_equal(col_read_fixture(scan_read_avro, *state, "customers_null.avro", SCAN_L2, &a),
                     0);
    check_customers(&a);
    assert_null(a.compression);
    scan_asset_free(&a);
}

static void test_avro_deflate(void **state)
{
    struct scan_asset a;
    assert_int_equal(col_read_fixture(scan_read_avro, *state, "customers_deflate.avro", SCAN_L3,
                                      &a), 0);
    check_customers(&a);
    assert_string_equal(a.compression, "deflate");
    scan_asset_free(&a);
}

static void expect_samples(struct scan_asset *a, const char *name, size_t n, const char *first,
                           const char *second)
{
    struct scan_column *c = scan_asset_column(a, name);
    assert_non_null(c);
    if (c->n_samples != n)
        fail_msg("%s: %zu samples, expected %zu", name, c->n_samples, n);
    if (n > 0)
        assert_string_equal(c->samples[0], first);
    if (n > 1)
        assert_string_equal(c->samples[1], second);
}

/* L3: objects decoded from the first blocks (both codecs), rendered by logical type. */
static void test_avro_samples(void **state)
{
    static const char *const files[] = { "customers_null.avro", "customers_deflate.avro" };
    for (size_t i = 0; i < 2; i++) {
        struct scan_asset a;
        assert_int_equal(col_read_fixture(scan_read_avro, *state, files[i], SCAN_L3, &a), 0);
        check_customers(&a);
        expect_samples(&a, "id", 120, "0", "1");
        expect_samples(&a, "email", 96, "c1@example.org", "c2@example.org");   /* i % 5: null */
        expect_samples(&a, "active", 120, "true", "false");
        expect_samples(&a, "balance", 120, "0.00", "0.01");
        expect_samples(&a, "birth", 120, "1989-03-02", "1989-03-03");
        expect_samples(&a, "created", 120, "2023-11-14T22:13:20.000Z",
                       "2023-11-14T22:13:20.001Z");
        expect_samples(&a, "updated", 120, "2023-11-14T22:13:20.000000Z",
                       "2023-11-14T22:13:20.000001Z");
        expect_samples(&a, "address.street", 120, "0 Main St", "1 Main St");
        expect_samples(&a, "address.geo.lon", 120, "-2.25", "-2.25");
        expect_samples(&a, "kind", 120, "B", "A");
        expect_samples(&a, "tag", 120, "0x61626364", "0x61626364");
        expect_samples(&a, "phones", 0, NULL, NULL);   /* arrays and maps: not sampled */
        scan_asset_free(&a);
    }
}

static void test_avro_hostile_values(void **state)
{
    (void)state;
    struct scan_limits lim;
    struct scan_asset a;
    struct scan_avro_prog *p;
    const char *why = NULL;
    int64_t done;
    scan_limits_default(&lim);
    const char *schema = "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                         "{\"name\":\"xs\",\"type\":{\"type\":\"array\",\"items\":\"null\"}},"
                         "{\"name\":\"s\",\"type\":\"string\"}]}";
    scan_asset_init(&a);
    assert_int_equal(scan_avro_schema_fill((const unsigned char *)schema, strlen(schema), &lim,
                                           &a), 0);
    assert_int_equal(scan_avro_prog_new((const unsigned char *)schema, strlen(schema), &a, &p,
                                        &why), 0);
    /* An array of 2^62 nulls in 10 bytes: stopped by the per-block allowance. */
    const unsigned char nulls[] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00 };
    assert_int_equal(scan_avro_sample_block(p, nulls, sizeof nulls, 1, &lim, &a, &done, &why),
                     SHIR_E_MALFORMED);
    assert_string_equal(why, "block too costly to decode");
    /* A string longer than the block. */
    const unsigned char lng[] = { 0x00, 0xfe, 0x01, 'a' };
    assert_int_equal(scan_avro_sample_block(p, lng, sizeof lng, 1, &lim, &a, &done, &why),
                     SHIR_E_MALFORMED);
    /* Two good objects, then a count that lies. */
    const unsigned char ok[] = { 0x00, 0x02, 'h', 0x00, 0x02, 'i' };
    assert_int_equal(scan_avro_sample_block(p, ok, sizeof ok, 1000, &lim, &a, &done, &why),
                     SHIR_E_MALFORMED);
    assert_int_equal(done, 2);
    assert_int_equal(a.cols[1].n_samples, 2);
    assert_string_equal(a.cols[1].samples[1], "i");
    scan_avro_prog_free(p);
    /* A recursive type whose data nests without end. */
    const char *rec = "{\"type\":\"record\",\"name\":\"N\",\"fields\":[{\"name\":\"n\","
                      "\"type\":[\"null\",\"N\"]}]}";
    assert_int_equal(scan_avro_prog_new((const unsigned char *)rec, strlen(rec), &a, &p, &why),
                     0);
    unsigned char deep[1000];
    memset(deep, 0x02, sizeof deep);   /* union branch 1 (N), again and again */
    assert_int_equal(scan_avro_sample_block(p, deep, sizeof deep, 1, &lim, &a, &done, &why),
                     SHIR_E_MALFORMED);
    scan_avro_prog_free(p);
    /* Undefined references and unknown codecs. */
    const char *undef = "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"x\","
                        "\"type\":\"Nope\"}]}";
    assert_int_equal(scan_avro_prog_new((const unsigned char *)undef, strlen(undef), &a, &p,
                                        &why), SHIR_E_MALFORMED);
    unsigned char *out;
    size_t on;
    assert_int_equal(scan_avro_decompress("bzip2", ok, sizeof ok, &out, &on, &why),
                     SHIR_E_UNSUPPORTED);
    assert_int_equal(scan_avro_decompress("snappy", ok, sizeof ok, &out, &on, &why),
                     SHIR_E_MALFORMED);
    assert_int_equal(scan_avro_decompress("deflate", ok, sizeof ok, &out, &on, &why),
                     SHIR_E_MALFORMED);
    scan_asset_free(&a);
}

static void test_avro_truncated(void **state)
{
    size_t n;
    unsigned char *b = col_fixture(*state, "customers_deflate.avro", &n);
    for (size_t cut = 0; cut < n; cut += cut < 1200 ? 1 : 97) {
        struct scan_asset a;
        assert_int_equal(col_read_bytes(scan_read_avro, b, cut, SCAN_L3, &a), 0);
        /* Inside the header or a block: an error and no row count. A cut exactly at a block
         * boundary is a valid shorter file: fewer rows, no error. */
        if (a.n_errors == 0)
            assert_true(a.row_count >= 0 && a.row_count < 120);
        else
            assert_int_equal(a.row_count, -1);
        scan_asset_free(&a);
    }
    free(b);
}

static void test_avro_corrupt(void **state)
{
    size_t n;
    unsigned char *b = col_fixture(*state, "customers_null.avro", &n);
    struct scan_asset a;
    b[0] = 'X';
    assert_int_equal(col_read_bytes(scan_read_avro, b, n, SCAN_L2, &a), 0);
    assert_int_equal(a.n_errors, 1);
    assert_non_null(strstr(a.errors[0], "bad magic"));
    scan_asset_free(&a);
    b[0] = 'O';
    /* The last sync marker damaged: the schema is still there, the row count is not. */
    b[n - 3] ^= 0xff;
    assert_int_equal(col_read_bytes(scan_read_avro, b, n, SCAN_L2, &a), 0);
    assert_int_equal(a.n_cols, 14);
    assert_int_equal(a.row_count, -1);
    assert_non_null(strstr(a.errors[0], "sync marker"));
    scan_asset_free(&a);
    b[n - 3] ^= 0xff;
    /* Every byte of the header flipped in turn, then every 7th byte of the blocks. */
    for (size_t i = 4; i < n; i += i < 1100 ? 1 : 7) {
        b[i] ^= 0xff;
        assert_int_equal(col_read_bytes(scan_read_avro, b, n, SCAN_L3, &a), 0);
        scan_asset_free(&a);
        b[i] ^= 0xff;
    }
    free(b);
}

static void test_avro_hostile_header(void **state)
{
    (void)state;
    struct scan_avro_header h;
    const char *why;
    /* A map block claiming 2^62 entries. */
    const unsigned char huge[] = { 'O', 'b', 'j', 1, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0x7f, 0x00 };
    assert_int_not_equal(scan_avro_header_decode(huge, sizeof huge, &h, &why), 0);
    /* Negative count with INT64_MIN. */
    const unsigned char minv[] = { 'O', 'b', 'j', 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0x01 };
    assert_int_equal(scan_avro_header_decode(minv, sizeof minv, &h, &why), SHIR_E_MALFORMED);
    /* A key longer than the input. */
    const unsigned char key[] = { 'O', 'b', 'j', 1, 0x02, 0xfe, 0x0f, 'a' };
    assert_int_equal(scan_avro_header_decode(key, sizeof key, &h, &why), SHIR_E_TRUNC);
    /* No schema at all. */
    unsigned char nos[4 + 1 + 16] = { 'O', 'b', 'j', 1, 0 };
    assert_int_equal(scan_avro_header_decode(nos, sizeof nos, &h, &why), SHIR_E_MALFORMED);
    assert_string_equal(why, "no avro.schema in the header");
    /* Schemas: not JSON, deeply nested records, a self-referencing record. */
    struct scan_limits lim;
    struct scan_asset a;
    scan_limits_default(&lim);
    scan_asset_init(&a);
    const char *bad = "{\"type\":";
    assert_int_equal(scan_avro_schema_fill((const unsigned char *)bad, strlen(bad), &lim, &a),
                     SHIR_E_MALFORMED);
    assert_int_equal(a.n_errors, 1);
    scan_asset_free(&a);
    char deep[8192];
    size_t k = 0;
    for (int i = 0; i < 100; i++)
        k += (size_t)snprintf(deep + k, sizeof deep - k,
                              "{\"type\":\"record\",\"name\":\"r%d\",\"fields\":[{\"name\":\"f\","
                              "\"type\":", i);
    k += (size_t)snprintf(deep + k, sizeof deep - k, "\"int\"");
    for (int i = 0; i < 100; i++)
        k += (size_t)snprintf(deep + k, sizeof deep - k, "}]}");
    scan_asset_init(&a);
    assert_int_equal(scan_avro_schema_fill((const unsigned char *)deep, k, &lim, &a), 0);
    assert_int_equal(a.n_cols, 1);   /* cut at SCAN_AVRO_MAX_DEPTH into one struct column */
    assert_int_equal(a.cols[0].type, SCAN_TYPE_STRUCT);
    scan_asset_free(&a);
    const char *self = "{\"type\":\"record\",\"name\":\"Node\",\"fields\":[{\"name\":\"v\","
                       "\"type\":\"int\"},{\"name\":\"next\",\"type\":[\"null\",\"Node\"]}]}";
    scan_asset_init(&a);
    assert_int_equal(scan_avro_schema_fill((const unsigned char *)self, strlen(self), &lim, &a),
                     0);
    assert_int_equal(a.n_cols, 2);
    assert_string_equal(a.cols[1].name, "next");
    assert_int_equal(a.cols[1].type, SCAN_TYPE_STRUCT);
    scan_asset_free(&a);
}

int col_run_avro_tests(const char *dir)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_avro_null_codec, (void *)dir),
        cmocka_unit_test_prestate(test_avro_deflate, (void *)dir),
        cmocka_unit_test_prestate(test_avro_samples, (void *)dir),
        cmocka_unit_test(test_avro_hostile_values),
        cmocka_unit_test_prestate(test_avro_truncated, (void *)dir),
        cmocka_unit_test_prestate(test_avro_corrupt, (void *)dir),
        cmocka_unit_test(test_avro_hostile_header),
    };
    return cmocka_run_group_tests_name("scan_avro", tests, NULL, NULL);
}
