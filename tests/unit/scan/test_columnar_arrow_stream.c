/* Arrow IPC streams (scan/columnar/arrow_stream.c, and the stream parts of arrow.c): fixtures
 * written by apache-arrow's stream writer (tests/fixtures/columnar/generate-arrow.sh) read as
 * their file-format twin; detection by content, strict against near misses; every cut of a
 * small stream; flipped bytes; the message cap. */
#include <inttypes.h>
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

static void print_errors(const struct scan_asset *a)
{
    for (size_t i = 0; i < a->n_errors; i++)
        printf("  error: %s\n", a->errors[i]);
}

/* Same columns (names, types, details) and rows as the file-format twin. */
static void expect_twin(struct scan_asset *s, struct scan_asset *f)
{
    print_errors(s);
    assert_int_equal(s->n_errors, 0);
    assert_int_equal(f->n_errors, 0);
    assert_string_equal(s->format, "arrow");
    assert_int_equal(s->row_count, f->row_count);
    assert_int_equal(s->n_cols, f->n_cols);
    for (size_t i = 0; i < f->n_cols; i++) {
        assert_string_equal(s->cols[i].name, f->cols[i].name);
        assert_int_equal(s->cols[i].type, f->cols[i].type);
        assert_string_equal(s->cols[i].type_detail, f->cols[i].type_detail);
        assert_int_equal(s->cols[i].n_samples, 0);
    }
}

static void test_stream_fixtures(void **state)
{
    /* A stream by tableToIPC's default, one with a dictionary batch before each record batch,
     * the pre-0.15 framing, and a stream under the .arrow name: all equal events.arrow. */
    static const char *const streams[] = {"events.arrows", "events_dicts.arrows",
                                          "events_legacy.arrows", "events_stream.arrow"};
    struct scan_asset file, empty_file;
    assert_int_equal(col_read_fixture(scan_read_arrow, *state, "events.arrow", SCAN_L3, &file), 0);
    assert_int_equal(file.row_count, 250);
    assert_int_equal(file.n_cols, 12);
    for (size_t i = 0; i < sizeof streams / sizeof streams[0]; i++) {
        struct scan_asset a;
        assert_int_equal(col_read_fixture(scan_read_arrow, *state, streams[i], SCAN_L3, &a), 0);
        printf("  %s: %" PRIu64 " bytes read\n", streams[i], a.bytes_read);
        expect_twin(&a, &file);
        /* Prefixes and metadata only: 5 to 8 messages of under 1 KiB; the file is 25 KB. */
        assert_true(a.bytes_read < 8192);
        scan_asset_free(&a);
    }
    assert_int_equal(col_read_fixture(scan_read_arrow, *state, "empty.arrow", SCAN_L2,
                                      &empty_file), 0);
    struct scan_asset a;
    assert_int_equal(col_read_fixture(scan_read_arrow, *state, "empty.arrows", SCAN_L2, &a), 0);
    expect_twin(&a, &empty_file);
    assert_int_equal(a.row_count, 0);
    scan_asset_free(&a);
    scan_asset_free(&empty_file);
    scan_asset_free(&file);
}

/* Bytes after the end-of-stream marker are not the stream's. */
static void test_stream_trailing(void **state)
{
    size_t n;
    unsigned char *b = col_fixture(*state, "small.arrows", &n);
    unsigned char *big = malloc(n + 64);
    assert_non_null(big);
    memcpy(big, b, n);
    memset(big + n, 0xab, 64);
    struct scan_asset a;
    assert_int_equal(col_read_bytes(scan_read_arrow, big, n + 64, SCAN_L2, &a), 0);
    print_errors(&a);
    assert_int_equal(a.n_errors, 0);
    assert_int_equal(a.row_count, 5);
    assert_int_equal(a.n_cols, 2);
    scan_asset_free(&a);
    free(big);
    free(b);
}

/* Position of field `id` of the Message table in a stream's first message (the test's own
 * walk, with the fixtures' layout). */
static size_t msg_field(const unsigned char *b, unsigned id)
{
    uint32_t root = 8 + ((uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 |
                         (uint32_t)b[11] << 24);
    int32_t so = (int32_t)((uint32_t)b[root] | (uint32_t)b[root + 1] << 8 |
                           (uint32_t)b[root + 2] << 16 | (uint32_t)b[root + 3] << 24);
    size_t vt = (size_t)((int64_t)root - so);
    uint16_t vtn = (uint16_t)(b[vt] | b[vt + 1] << 8);
    if (4 + 2 * (size_t)id + 2 > vtn)
        return 0;
    uint16_t fo = (uint16_t)(b[vt + 4 + 2 * id] | b[vt + 5 + 2 * id] << 8);
    return fo ? root + fo : 0;
}

static const char *detect_as(const unsigned char *b, size_t n, const char *name)
{
    struct scan_detected d;
    scan_detect(b, n, name, &d);
    return d.format;
}

/* A stream is "arrow" by content whatever its name; near misses stay "binary". */
static void test_stream_detect(void **state)
{
    size_t n, nl, nf;
    unsigned char *b = col_fixture(*state, "events.arrows", &n);
    unsigned char *legacy = col_fixture(*state, "events_legacy.arrows", &nl);
    unsigned char *file = col_fixture(*state, "events.arrow", &nf);
    unsigned char h[SCAN_DETECT_HEAD];
    assert_true(n > sizeof h);
    assert_string_equal(detect_as(b, sizeof h, "no-extension"), "arrow");
    assert_string_equal(detect_as(b, sizeof h, "x/data.bin"), "arrow");
    assert_string_equal(detect_as(b, sizeof h, "x/data.csv"), "arrow"); /* content wins */
    /* The schema's root table (at 24 here) must be in the head; 64 bytes hold it. */
    assert_string_equal(detect_as(b, 64, "no-extension"), "arrow");
    assert_string_equal(detect_as(file, 64, "no-extension"), "arrow");
    struct scan_detected d;
    scan_detect_name("x/table.arrows", &d);
    assert_string_equal(d.format, "arrow");
    scan_detect_name("x/TABLE.ARROWS", &d);
    assert_string_equal(d.format, "arrow");
    /* Pre-0.15 streams are recognised by name only (no marker to be strict about). */
    assert_string_equal(detect_as(legacy, sizeof h, "no-extension"), "binary");
    assert_string_equal(detect_as(legacy, sizeof h, "x/t.arrows"), "arrow");
    /* Later messages (a dictionary batch at 800, a record batch at 1016) do not start a stream. */
    assert_string_equal(detect_as(b + 800, sizeof h, "no-extension"), "binary");
    assert_string_equal(detect_as(b + 1016, sizeof h, "no-extension"), "binary");
    /* Near misses of the first message, one change each. */
    size_t version = msg_field(b, 0), type = msg_field(b, 1), header = msg_field(b, 2);
    assert_true(version && type && header && !msg_field(b, 3)); /* bodyLength: absent, 0 */
    static const struct {
        size_t at;      /* 0: the marker */
        int which;      /* 0 absolute offset, 1 version, 2 type, 3 header offset */
        unsigned char v[4];
        size_t len;
    } misses[] = {
        {0, 0, {0xff, 0xff, 0xff, 0x7f}, 4},   /* not the marker (FE FF would be a BOM) */
        {4, 0, {0, 0, 0, 0}, 4},               /* the end marker: no message */
        {4, 0, {0x1c, 3, 0, 0}, 4},            /* length not a multiple of 8 */
        {4, 0, {0, 0, 0, 0x80}, 4},            /* negative length */
        {4, 0, {0, 0, 0, 0x7f}, 4},            /* longer than SCAN_ARROW_MAX_FOOTER */
        {4, 0, {4, 0, 0, 0}, 4},               /* too short for a table */
        {8, 0, {0xf0, 0xff, 0, 0}, 4},         /* root offset outside */
        {8, 0, {0, 0, 0, 0}, 4},               /* root at the root offset itself */
        {0, 1, {9, 0}, 2},                     /* metadata version V10 */
        {0, 1, {0xff, 0xff}, 2},               /* negative version */
        {0, 2, {3}, 1},                        /* a record batch first */
        {0, 2, {0}, 1},                        /* header type NONE */
        {0, 3, {0, 0, 0, 0}, 4},               /* no header */
        {0, 3, {0, 0, 1, 0}, 4},               /* header past the metadata */
    };
    for (size_t i = 0; i < sizeof misses / sizeof misses[0]; i++) {
        memcpy(h, b, sizeof h);
        size_t at = misses[i].which == 0 ? misses[i].at
                    : misses[i].which == 1 ? version
                    : misses[i].which == 2 ? type : header;
        memcpy(h + at, misses[i].v, misses[i].len);
        const char *got = detect_as(h, sizeof h, "no-extension");
        if (strcmp(got, "binary") != 0)
            fail_msg("near miss %zu detected as %s", i, got);
    }
    /* A head too short to hold a table. */
    assert_string_equal(detect_as(b, 15, "no-extension"), "binary");
    /* Random bytes after a valid marker and length (a deterministic generator). */
    uint64_t x = 88172645463325252ull;
    size_t hits = 0;
    for (unsigned k = 0; k < 20000; k++) {
        memcpy(h, b, 8);
        for (size_t i = 8; i < 256; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            h[i] = (unsigned char)x;
        }
        hits += scan_arrow_stream_start(h, 256);
    }
    printf("  random Message tables taken for a stream start: %zu of 20000\n", hits);
    assert_int_equal(hits, 0);
    free(file);
    free(legacy);
    free(b);
}

/* small.arrows: schema at 0, then dictionary/record batch pairs at 232, 440 (2 rows), 648, 856
 * (2 rows), 1064, 1264 (1 row), the end marker at 1472, 1480 bytes (generate-arrow.sh writes
 * the same bytes each time; the walk is checked by test_stream_fixtures' counts). A cut at a
 * message boundary is a shorter valid stream (the format allows the end of the file for the end
 * marker); every other cut is an error, with the rows of the whole batches before it. */
static void test_stream_cut_everywhere(void **state)
{
    static const struct {
        size_t at;
        int64_t rows;
    } clean[] = {{232, 0}, {440, 0}, {648, 2}, {856, 2}, {1064, 4}, {1264, 4}, {1472, 5}};
    size_t n;
    unsigned char *b = col_fixture(*state, "small.arrows", &n);
    assert_int_equal(n, 1480);
    size_t k = 0;
    for (size_t cut = 0; cut < n; cut++) {
        struct scan_asset a;
        assert_int_equal(col_read_bytes(scan_read_arrow, b, cut, SCAN_L2, &a), 0);
        bool boundary = k < sizeof clean / sizeof clean[0] && clean[k].at == cut;
        if (boundary) {
            print_errors(&a);
            assert_int_equal(a.n_errors, 0);
            assert_int_equal(a.row_count, clean[k].rows);
            k++;
        } else {
            if (a.n_errors == 0)
                fail_msg("cut at %zu: no error", cut);
            /* Cut inside the schema: no row count; later: the whole batches before the cut. */
            int64_t before = k == 0 ? -1 : clean[k - 1].rows;
            if (a.row_count != before)
                fail_msg("cut at %zu: %lld rows, expected %lld", cut, (long long)a.row_count,
                         (long long)before);
        }
        scan_asset_free(&a);
    }
    assert_int_equal(k, sizeof clean / sizeof clean[0]);
    free(b);
}

/* Every byte flipped two ways, in the small stream and the head of the legacy one: no crash,
 * no leak (ASan run). */
static void test_stream_flipped(void **state)
{
    static const char *const names[] = {"small.arrows", "events_legacy.arrows"};
    for (size_t f = 0; f < 2; f++) {
        size_t n;
        unsigned char *b = col_fixture(*state, names[f], &n);
        size_t upto = n < 2048 ? n : 2048;
        for (size_t i = 0; i < upto; i++) {
            unsigned char orig = b[i];
            for (unsigned k = 0; k < 2; k++) {
                b[i] = (unsigned char)(k == 0 ? orig ^ 0xff : orig ^ 0x01);
                struct scan_asset a;
                assert_int_equal(col_read_bytes(scan_read_arrow, b, n, SCAN_L2, &a), 0);
                assert_true(a.row_count >= -1); /* a flipped length may count more rows */
                scan_asset_free(&a);
            }
            b[i] = orig;
        }
        free(b);
    }
}

/* A schema message, then `copies` times small.arrows' first record batch (at 440, 208 bytes:
 * 8 + 184 metadata + 16 body), then the end marker. */
static unsigned char *many_batches(const unsigned char *b, size_t copies, size_t *out)
{
    size_t n = 232 + copies * 208 + 8;
    unsigned char *m = malloc(n);
    assert_non_null(m);
    memcpy(m, b, 232);
    for (size_t i = 0; i < copies; i++)
        memcpy(m + 232 + i * 208, b + 440, 208);
    memcpy(m + n - 8, b + 1472, 8);
    *out = n;
    return m;
}

/* Past SCAN_ARROW_MAX_MESSAGES messages the row count is unknown (-1), as past the file
 * reader's batch cap; one under it, the count is exact. Damage: a later message with a metadata
 * length over SCAN_ARROW_MAX_MESSAGE, a second schema, an unknown message type. */
static void test_stream_caps_and_damage(void **state)
{
    size_t n, m;
    unsigned char *b = col_fixture(*state, "small.arrows", &n);
    struct scan_asset a;
    unsigned char *x = many_batches(b, SCAN_ARROW_MAX_MESSAGES - 1, &m);
    assert_int_equal(col_read_bytes(scan_read_arrow, x, m, SCAN_L2, &a), 0);
    assert_int_equal(a.n_errors, 0);
    assert_int_equal(a.row_count, 2 * (SCAN_ARROW_MAX_MESSAGES - 1));
    scan_asset_free(&a);
    free(x);
    x = many_batches(b, SCAN_ARROW_MAX_MESSAGES, &m);
    assert_int_equal(col_read_bytes(scan_read_arrow, x, m, SCAN_L2, &a), 0);
    assert_int_equal(a.n_errors, 0);
    assert_int_equal(a.row_count, -1);
    assert_int_equal(a.n_cols, 2);
    scan_asset_free(&a);
    free(x);

    x = many_batches(b, 3, &m);
    memcpy(x + 232 + 208 + 4, (const unsigned char[]){0, 0, 0, 0x10}, 4); /* 256 MiB */
    assert_int_equal(col_read_bytes(scan_read_arrow, x, m, SCAN_L2, &a), 0);
    assert_true(a.n_errors == 1 && strstr(a.errors[0], "out of range"));
    assert_int_equal(a.row_count, 2);
    scan_asset_free(&a);
    free(x);

    x = many_batches(b, 1, &m);
    unsigned char *y = malloc(m + 232);
    assert_non_null(y);
    memcpy(y, x, 232 + 208);
    memcpy(y + 232 + 208, b, 232); /* a second schema */
    memcpy(y + 232 + 208 + 232, b + 1472, 8);
    assert_int_equal(col_read_bytes(scan_read_arrow, y, m + 232, SCAN_L2, &a), 0);
    assert_true(a.n_errors == 1 && strstr(a.errors[0], "second schema"));
    assert_int_equal(a.row_count, 2);
    scan_asset_free(&a);
    free(y);
    free(x);

    /* The first message is a record batch: not a stream. */
    assert_int_equal(col_read_bytes(scan_read_arrow, b + 440, 208, SCAN_L2, &a), 0);
    assert_true(a.n_errors == 1 && strstr(a.errors[0], "not a readable IPC stream"));
    assert_int_equal(a.row_count, -1);
    scan_asset_free(&a);
    free(b);
}

/* The pure parts on hand-built bytes. */
static void test_stream_frames(void **state)
{
    (void)state;
    struct scan_arrow_frame fr;
    struct scan_arrow_message m;
    const char *why = NULL;
    static const unsigned char cont[8] = {0xff, 0xff, 0xff, 0xff, 0x18, 0, 0, 0};
    static const unsigned char legacy[4] = {0x18, 0, 0, 0};
    static const unsigned char eos[8] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    assert_int_equal(scan_arrow_frame_parse(cont, 8, &fr, &why), 0);
    assert_true(fr.prefix == 8 && fr.meta_len == 0x18);
    assert_int_equal(scan_arrow_frame_parse(legacy, 4, &fr, &why), 0);
    assert_true(fr.prefix == 4 && fr.meta_len == 0x18);
    assert_int_equal(scan_arrow_frame_parse(eos, 8, &fr, &why), 0);
    assert_true(fr.prefix == 8 && fr.meta_len == 0);
    static const unsigned char eos_legacy[4] = {0, 0, 0, 0};
    assert_int_equal(scan_arrow_frame_parse(eos_legacy, 4, &fr, &why), 0);
    assert_true(fr.prefix == 4 && fr.meta_len == 0);
    assert_int_equal(scan_arrow_frame_parse(cont, 7, &fr, &why), SHIR_E_MALFORMED);
    assert_int_equal(scan_arrow_frame_parse(cont, 3, &fr, &why), SHIR_E_MALFORMED);
    static const unsigned char neg[8] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x80};
    assert_int_equal(scan_arrow_frame_parse(neg, 8, &fr, &why), SHIR_E_MALFORMED);
    assert_int_equal(scan_arrow_message_decode(legacy, 0, &m, &why), SHIR_E_MALFORMED);
    assert_int_equal(scan_arrow_message_decode(legacy, 4, &m, &why), SHIR_E_MALFORMED);
    assert_false(scan_arrow_stream_start(eos, 8));
}

int col_run_arrow_stream_tests(const char *dir)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_stream_fixtures, (void *)dir),
        cmocka_unit_test_prestate(test_stream_trailing, (void *)dir),
        cmocka_unit_test_prestate(test_stream_detect, (void *)dir),
        cmocka_unit_test_prestate(test_stream_cut_everywhere, (void *)dir),
        cmocka_unit_test_prestate(test_stream_flipped, (void *)dir),
        cmocka_unit_test_prestate(test_stream_caps_and_damage, (void *)dir),
        cmocka_unit_test(test_stream_frames),
    };
    return cmocka_run_group_tests_name("scan_arrow_stream", tests, NULL, NULL);
}
