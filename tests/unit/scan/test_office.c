/* Office Open XML readers (scan/formats/office.c, office_zip.c; issue 14). Fixtures from real
 * writers (tests/fixtures/office/generate.sh: exceljs, docx, pptxgenjs) and hostile archives
 * from Python's zipfile: ratio bombs in the shared strings and in a cell, and a nested zip bomb;
 * files of other writers in test_office_writers.c. The fixture directory is the first
 * command-line argument. */
#include <fcntl.h>
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

#include "scan/engine.h"
#include "scan/formats/office.h"
#include "test_office_writers.h"

static unsigned char *slurp(const char *dir, const char *name, size_t *n)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    unsigned char *b = malloc((size_t)st.st_size + 1);
    assert_non_null(b);
    assert_int_equal(read(fd, b, (size_t)st.st_size), st.st_size);
    close(fd);
    *n = (size_t)st.st_size;
    return b;
}

void office_read_file(const char *dir, const char *name, enum scan_level level,
                      struct scan_asset *a)
{
    char path[4096];
    struct stat st;
    struct scan_limits lim;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    struct scan_file f = {.fd = fd, .path = path, .size = (uint64_t)st.st_size};
    scan_limits_default(&lim);
    scan_asset_init(a);
    assert_int_equal(scan_read_office(&f, level, &lim, a), 0);
    close(fd);
    for (size_t i = 0; i < a->n_errors; i++)
        printf("  %s: error: %s\n", name, a->errors[i]);
}

static void expect(struct scan_asset *a, const char *name, enum scan_type t)
{
    struct scan_column *c = scan_asset_column(a, name);
    if (!c)
        fail_msg("no column %s", name);
    if (c->type != t)
        fail_msg("%s: %s, expected %s", name, scan_type_name(c->type), scan_type_name(t));
}

static bool has_sample(struct scan_asset *a, const char *col, const char *v)
{
    struct scan_column *c = scan_asset_column(a, col);
    for (size_t i = 0; c && i < c->n_samples; i++)
        if (strcmp(c->samples[i], v) == 0)
            return true;
    return false;
}

static void expect_people(struct scan_asset *a)
{
    assert_string_equal(a->format, "xlsx");
    assert_int_equal(a->n_cols, 8);
    expect(a, "People!id", SCAN_TYPE_INTEGER);
    expect(a, "People!name", SCAN_TYPE_STRING);
    expect(a, "People!email", SCAN_TYPE_STRING);
    expect(a, "People!joined", SCAN_TYPE_DATE);
    expect(a, "People!balance", SCAN_TYPE_DECIMAL);
    expect(a, "People!active", SCAN_TYPE_BOOLEAN);
    expect(a, "Codes!column0", SCAN_TYPE_INTEGER); /* no header: first row is numbers */
    expect(a, "Codes!column1", SCAN_TYPE_STRING);
    assert_int_equal(a->row_count, 40 + 12);
}

static void test_xlsx(void **state)
{
    struct scan_asset a;
    office_read_file(*state, "people.xlsx", SCAN_L3, &a);
    assert_int_equal(a.n_errors, 0);
    expect_people(&a);
    assert_true(has_sample(&a, "People!email", "user1@example.com"));
    assert_true(has_sample(&a, "People!joined", "2020-01-01"));
    assert_true(has_sample(&a, "People!active", "true"));
    assert_true(has_sample(&a, "People!name", "Chlo\xc3\xa9 2"));
    assert_true(has_sample(&a, "Codes!column0", "1001"));
    assert_int_equal(scan_asset_column(&a, "People!email")->n_samples, 40);
    scan_asset_free(&a);
    office_read_file(*state, "people.xlsx", SCAN_L2, &a);
    expect_people(&a);
    assert_int_equal(scan_asset_column(&a, "People!email")->n_samples, 0);
    scan_asset_free(&a);
}

static void test_docx_pptx(void **state)
{
    struct scan_asset a;
    office_read_file(*state, "memo.docx", SCAN_L3, &a);
    assert_int_equal(a.n_errors, 0);
    assert_string_equal(a.format, "docx");
    assert_non_null(a.text);
    assert_non_null(strstr(a.text, "Quarterly memo\n"));
    assert_non_null(strstr(a.text, "Contact: jane.doe@example.com for details."));
    assert_non_null(strstr(a.text, "GB82 WEST 1234 5698 7654 32"));
    scan_asset_free(&a);
    office_read_file(*state, "memo.docx", SCAN_L2, &a);
    assert_null(a.text); /* a document has no schema */
    scan_asset_free(&a);

    office_read_file(*state, "deck.pptx", SCAN_L3, &a);
    assert_int_equal(a.n_errors, 0);
    assert_string_equal(a.format, "pptx");
    assert_non_null(a.text);
    const char *r = strstr(a.text, "Roadmap 2025"),
               *q = strstr(a.text, "product.owner@example.com");
    assert_non_null(r);
    assert_non_null(q);
    assert_true(r < q); /* slide order */
    scan_asset_free(&a);
}

static void test_detect(void **state)
{
    (void)state;
    struct scan_detected d;
    scan_detect_name("a/b.xlsx", &d);
    assert_string_equal(d.format, "xlsx");
    scan_detect_name("a/b.docx", &d);
    assert_string_equal(d.format, "docx");
    scan_detect_name("a/b.pptx", &d);
    assert_string_equal(d.format, "pptx");
}

/* 64 MiB of shared strings in ~180 KB: inflated up to 16 MiB, then cut with an error. */
static void test_ratio_bomb(void **state)
{
    struct scan_asset a;
    office_read_file(*state, "bomb.xlsx", SCAN_L3, &a);
    bool found = false;
    for (size_t i = 0; i < a.n_errors; i++)
        found |= strstr(a.errors[i], "sharedStrings.xml inflates past 16 MiB") != NULL;
    assert_true(found);
    assert_string_equal(a.format, "xlsx");
    assert_true(a.n_cols >= 6); /* the sheets are still read */
    scan_asset_free(&a);
}

/* 8 MiB of text in one cell of row 3: the sheet is cut at its 1 MiB bound inside that cell, so
 * its later rows are lost: an error says so; the header, row 2 and the other sheet are read.
 * (A sheet cut after its first max_rows + 1 rows loses nothing and is no error.) */
static void test_sheet_bomb(void **state)
{
    struct scan_asset a;
    office_read_file(*state, "sheetbomb.xlsx", SCAN_L3, &a);
    bool found = false;
    for (size_t i = 0; i < a.n_errors; i++)
        found |= strstr(a.errors[i], "xl/worksheets/sheet1.xml inflates past its 1048576-byte "
                                     "bound: read up to its row 3, where it is cut") != NULL;
    assert_true(found);
    assert_int_equal(a.n_errors, 1);
    assert_non_null(scan_asset_column(&a, "People!email"));
    assert_non_null(scan_asset_column(&a, "Codes!column0"));
    scan_asset_free(&a);
}

/* An embedded zip holding a 100 MiB bomb: never opened, never inflated, barely read. */
static void test_nested_archive(void **state)
{
    struct scan_asset a;
    size_t n;
    unsigned char *b = slurp(*state, "nested.xlsx", &n);
    office_read_file(*state, "nested.xlsx", SCAN_L3, &a);
    assert_int_equal(a.n_errors, 0);
    expect_people(&a);
    printf("  nested.xlsx: %llu of %zu bytes read\n", (unsigned long long)a.bytes_read, n);
    /* The embedded zip is ~100 KB of the file's 111 KB: reading it at all would pass 100 KB. */
    assert_true(a.bytes_read < 80000);
    scan_asset_free(&a);
    free(b);
}

/* Every cut and flipped bytes of a real file: a reading or a per-file error, never a failure. */
static void test_hostile(void **state)
{
    static const char *const files[] = {"people.xlsx", "memo.docx"};
    struct scan_limits lim;
    scan_limits_default(&lim);
    for (size_t fi = 0; fi < 2; fi++) {
        size_t n;
        unsigned char *b = slurp(*state, files[fi], &n);
        for (size_t cut = 0; cut < n; cut += cut < 64 || cut > n - 256 ? 1 : 61) {
            struct scan_asset a;
            scan_asset_init(&a);
            assert_int_equal(scan__office_bytes(b, cut, files[fi], SCAN_L3, &lim, &a), 0);
            assert_true(a.n_errors >= 1);
            scan_asset_free(&a);
        }
        for (size_t i = 0; i < n; i += 7) {
            unsigned char orig = b[i];
            b[i] = (unsigned char)(orig ^ 0x5a);
            struct scan_asset a;
            scan_asset_init(&a);
            assert_int_equal(scan__office_bytes(b, n, files[fi], SCAN_L3, &lim, &a), 0);
            scan_asset_free(&a);
            b[i] = orig;
        }
        free(b);
    }
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures/office";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_xlsx, (void *)dir),
        cmocka_unit_test_prestate(test_docx_pptx, (void *)dir),
        cmocka_unit_test(test_detect),
        cmocka_unit_test_prestate(test_ratio_bomb, (void *)dir),
        cmocka_unit_test_prestate(test_sheet_bomb, (void *)dir),
        cmocka_unit_test_prestate(test_nested_archive, (void *)dir),
        cmocka_unit_test_prestate(test_hostile, (void *)dir),
        cmocka_unit_test_prestate(test_office_writers_workbook, (void *)dir),
        cmocka_unit_test_prestate(test_office_writers_xlsxwriter, (void *)dir),
        cmocka_unit_test_prestate(test_office_writers_formats, (void *)dir),
        cmocka_unit_test_prestate(test_office_writers_pandas, (void *)dir),
        cmocka_unit_test(test_office_format_codes),
        cmocka_unit_test_prestate(test_office_writers_iso_dates, (void *)dir),
        cmocka_unit_test_prestate(test_office_writers_documents, (void *)dir),
        cmocka_unit_test(test_office_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
