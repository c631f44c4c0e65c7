/* LZ4 and Brotli in the columnar readers (scan/columnar/codecs.c; issue 14). Fixtures from real
 * writers (tests/fixtures/columnar/generate-codecs.sh): DuckDB's LZ4_RAW and BROTLI Parquet
 * pages, parquet-wasm's LZ4 pages with Hadoop framing, avsc + lz4js for Avro's "lz4" blocks.
 * The LZ4 fallbacks nobody we can run still writes (a raw block or an LZ4 frame under the
 * deprecated LZ4 codec) are made here by liblz4 itself, and every decoder gets corrupt and
 * oversized input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lz4.h>
#include <lz4frame.h>

#include "scan/columnar/codecs.h"
#include "tests/unit/scan/test_columnar.h"

static struct scan_column *col(struct scan_asset *a, const char *name)
{
    struct scan_column *c = scan_asset_column(a, name);
    if (!c)
        fail_msg("no column %s", name);
    return c;
}

static void dump_errors(const struct scan_asset *a)
{
    for (size_t i = 0; i < a->n_errors; i++)
        printf("  error: %s\n", a->errors[i]);
}

/* The same first values as the other flat_*.parquet files (test_columnar.c). */
static void test_duckdb_lz4_raw_and_brotli(void **state)
{
    static const char *const files[] = {"flat_lz4_raw.parquet", "flat_brotli.parquet"};
    for (size_t i = 0; i < 2; i++) {
        struct scan_asset a;
        printf("  %s\n", files[i]);
        assert_int_equal(col_read_fixture(scan_read_parquet, *state, files[i], SCAN_L3, &a), 0);
        dump_errors(&a);
        assert_int_equal(a.n_errors, 0);
        assert_int_equal(a.row_count, 250);
        struct scan_column *e = col(&a, "email"), *id = col(&a, "id");
        assert_int_equal(id->n_samples, 128);
        assert_string_equal(id->samples[0], "1");
        assert_string_equal(id->samples[127], "128");
        assert_int_equal(e->n_samples, 128);
        assert_string_equal(e->samples[0], "user1@example.com");
        assert_string_equal(e->samples[6], "user8@example.com");
        assert_string_equal(col(&a, "amount")->samples[0], "12345.6789");
        assert_string_equal(col(&a, "tstz")->samples[0], "2022-01-01T00:00:01.000000Z");
        scan_asset_free(&a);
    }
}

static void test_wasm_lz4_hadoop(void **state)
{
    struct scan_asset a;
    assert_int_equal(col_read_fixture(scan_read_parquet, *state, "wasm_lz4_hadoop.parquet",
                                      SCAN_L3, &a),
                     0);
    dump_errors(&a);
    assert_int_equal(a.n_errors, 0);
    assert_int_equal(a.row_count, 250);
    assert_int_equal(col(&a, "id")->n_samples, 128);
    assert_string_equal(col(&a, "id")->samples[1], "2");
    assert_string_equal(col(&a, "email")->samples[0], "user1@example.com");
    assert_string_equal(col(&a, "ratio")->samples[0], "0.25");
    scan_asset_free(&a);
}

static void test_avro_lz4(void **state)
{
    struct scan_asset a;
    assert_int_equal(col_read_fixture(scan_read_avro, *state, "events_lz4.avro", SCAN_L3, &a), 0);
    dump_errors(&a);
    assert_int_equal(a.n_errors, 0);
    assert_string_equal(a.compression, "lz4");
    assert_int_equal(a.row_count, 80);
    assert_int_equal(col(&a, "id")->n_samples, 80);
    assert_string_equal(col(&a, "id")->samples[1], "1");
    assert_int_equal(col(&a, "email")->n_samples, 60); /* i % 4 == 0: null */
    assert_string_equal(col(&a, "email")->samples[0], "e1@example.org");
    scan_asset_free(&a);
}

/* The deprecated LZ4 codec's other two readings, written by liblz4, and hostile input. */
static void test_lz4_fallbacks_and_corruption(void **state)
{
    (void)state;
    char plain[4096];
    for (size_t i = 0; i < sizeof plain; i++)
        plain[i] = (char)((size_t)"shir scans files "[i % 17] + i / 512);
    unsigned char comp[8192], out[4096];
    int cn = LZ4_compress_default(plain, (char *)comp, (int)sizeof plain, (int)sizeof comp);
    assert_true(cn > 0);
    /* A raw block under the LZ4 codec: Hadoop framing fails, the raw reading succeeds. */
    assert_int_equal(scan__lz4_hadoop(comp, (size_t)cn, out, sizeof out), 0);
    assert_memory_equal(out, plain, sizeof plain);
    assert_int_equal(scan__lz4_raw(comp, (size_t)cn, out, sizeof out), 0);
    /* The declared size must be met exactly. */
    assert_int_equal(scan__lz4_raw(comp, (size_t)cn, out, sizeof out - 1), SHIR_E_MALFORMED);
    /* An LZ4 frame. */
    size_t fn = LZ4F_compressFrame(comp, sizeof comp, plain, sizeof plain, NULL);
    assert_false(LZ4F_isError(fn));
    assert_int_equal(scan__lz4_hadoop(comp, fn, out, sizeof out), 0);
    assert_memory_equal(out, plain, sizeof plain);
    /* Hadoop frames, two of them. */
    unsigned char hd[8192];
    size_t hn = 0;
    for (int half = 0; half < 2; half++) {
        int c = LZ4_compress_default(plain + half * 2048, (char *)hd + hn + 8, 2048,
                                     (int)(sizeof hd - hn - 8));
        assert_true(c > 0);
        uint32_t us = 2048, cs = (uint32_t)c;
        unsigned char be[8] = {(unsigned char)(us >> 24), (unsigned char)(us >> 16),
                               (unsigned char)(us >> 8), (unsigned char)us,
                               (unsigned char)(cs >> 24), (unsigned char)(cs >> 16),
                               (unsigned char)(cs >> 8), (unsigned char)cs};
        memcpy(hd + hn, be, 8);
        hn += 8 + (size_t)c;
    }
    memset(out, 0, sizeof out);
    assert_int_equal(scan__lz4_hadoop(hd, hn, out, sizeof out), 0);
    assert_memory_equal(out, plain, sizeof plain);
    /* A frame claiming more than the page: refused, nothing written past dn. */
    hd[0] = 0x7f;
    assert_int_equal(scan__lz4_hadoop(hd, hn, out, sizeof out), SHIR_E_MALFORMED);
    /* Garbage, empty and cut input. */
    unsigned char junk[64];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 37 + 11);
    assert_int_equal(scan__lz4_hadoop(junk, sizeof junk, out, sizeof out), SHIR_E_MALFORMED);
    assert_int_equal(scan__lz4_hadoop(junk, 0, out, sizeof out), SHIR_E_MALFORMED);
    assert_int_equal(scan__lz4_hadoop(comp, fn / 2, out, sizeof out), SHIR_E_MALFORMED);
    assert_int_equal(scan__brotli(junk, sizeof junk, out, sizeof out), SHIR_E_MALFORMED);
    assert_int_equal(scan__brotli(junk, 0, out, sizeof out), SHIR_E_MALFORMED);
    /* Avro lz4: a stored size above the block limit is refused before any allocation. */
    unsigned char *o = NULL;
    size_t on = 0;
    unsigned char big[8] = {0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0};
    assert_int_equal(scan__lz4_sized(big, sizeof big, 1u << 24, &o, &on), SHIR_E_MALFORMED);
    assert_null(o);
    assert_int_equal(scan__lz4_sized(big, 3, 1u << 24, &o, &on), SHIR_E_MALFORMED);
}

int col_run_codec_tests(const char *dir)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_duckdb_lz4_raw_and_brotli, (void *)dir),
        cmocka_unit_test_prestate(test_wasm_lz4_hadoop, (void *)dir),
        cmocka_unit_test_prestate(test_avro_lz4, (void *)dir),
        cmocka_unit_test(test_lz4_fallbacks_and_corruption),
    };
    return cmocka_run_group_tests_name("scan_columnar_codecs", tests, NULL, NULL);
}
