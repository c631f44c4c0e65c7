/* Allocation-failure injection for the text-format, Office, Arrow and Delta readers: fail the 1st, 2nd, ... allocation
 * made by our code (malloc/calloc/realloc are wrapped at link time; jansson's own allocations are
 * not) and check that every reader returns 0 or SHIR_E_NOMEM and leaks nothing (run under
 * ASan's leak checker). The fixture directory is the first command-line argument. */
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

#include "scan/columnar/delta.h"
#include "scan/formats/formats.h"
#include "tests/unit/alloc_fail.h"

typedef int (*reader_fn)(const struct scan_file *, enum scan_level, const struct scan_limits *,
                         struct scan_asset *);

/* Fail each allocation in turn until a run completes without an injected failure. */
static void sweep(const char *dir, const char *name, reader_fn fn, uint64_t max_struct_bytes)
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
    lim.max_struct_bytes = max_struct_bytes;
    for (long k = 0;; k++) {
        struct scan_asset a;
        scan_asset_init(&a);
        alloc_fail_arm(k);
        int rv = fn(&f, SCAN_L3, &lim, &a);
        bool injected = alloc_fail_disarm();
        if (rv != 0 && rv != SHIR_E_NOMEM)
            fail_msg("%s: allocation %ld failed: rv %d", name, k, rv);
        scan_asset_free(&a);
        if (!injected) {
            assert_int_equal(rv, 0);
            /* A sweep that injected nothing proves nothing (a reader that no longer allocates
             * through these wrappers, or a broken countdown): it must have failed at least one. */
            if (k == 0)
                fail_msg("%s: no allocation was failed: the sweep injected nothing", name);
            printf("  %s: each of %ld allocations failed in turn\n", name, k);
            break;
        }
    }
    close(fd);
}

static void test_nomem_delimited(void **state)
{
    sweep(*state, "people.csv", scan_read_delimited, 1u << 20);
    sweep(*state, "people.csv", scan_read_delimited, 700); /* whole-file row count path */
    sweep(*state, "people.csv.gz", scan_read_delimited, 1u << 20);
    sweep(*state, "utf16le.csv", scan_read_delimited, 1u << 20);
    sweep(*state, "latin1.csv", scan_read_delimited, 1u << 20);
    sweep(*state, "cp1252.csv", scan_read_delimited, 1u << 20);
    /* Other writers: backslash escapes outside quotes, an empty header cell, psql's footer. */
    sweep(*state, "writers/mariadb_outfile.txt", scan_read_delimited, 1u << 20);
    sweep(*state, "writers/pandas_index.csv", scan_read_delimited, 1u << 20);
    sweep(*state, "writers/psql_unaligned.txt", scan_read_delimited, 900);
    /* The quote judged again past the sniffing window (a backslash escape at line 200). */
    sweep(*state, "dialects/late_quote_double_200.txt", scan_read_delimited, 1u << 20);
}

static void test_nomem_json(void **state)
{
    sweep(*state, "records.json", scan_read_json, 1u << 20);
    sweep(*state, "records.jsonl", scan_read_json, 1u << 20);
    sweep(*state, "records.jsonl", scan_read_json, 2000);
    sweep(*state, "bad.jsonl", scan_read_json, 1u << 20);
}

/* The Office readers (fixtures of tests/fixtures/office, next to this directory). */
static void test_nomem_office(void **state)
{
    sweep(*state, "../office/people.xlsx", scan_read_office, 1u << 20);
    sweep(*state, "../office/memo.docx", scan_read_office, 1u << 20);
    sweep(*state, "../office/deck.pptx", scan_read_office, 1u << 20);
    /* Other writers: headers, footers, notes, comments; inline strings; a chart sheet. */
    sweep(*state, "../office/writers/libreoffice.docx", scan_read_office, 1u << 20);
    sweep(*state, "../office/writers/libreoffice.pptx", scan_read_office, 1u << 20);
    sweep(*state, "../office/writers/moved.pptx", scan_read_office, 1u << 20);
    sweep(*state, "../office/writers/openpyxl.xlsx", scan_read_office, 1u << 20);
    sweep(*state, "../office/writers/pandas_chart.xlsx", scan_read_office, 1u << 20);
    sweep(*state, "../office/writers/formats_gnumeric.xlsx", scan_read_office, 1u << 20);
}

/* The Arrow reader (tests/fixtures/columnar): IPC streams in both framings, with replaced
 * dictionaries, and the file format. */
static void test_nomem_arrow(void **state)
{
    sweep(*state, "../columnar/events.arrows", scan_read_arrow, 1u << 20);
    sweep(*state, "../columnar/events_dicts.arrows", scan_read_arrow, 1u << 20);
    sweep(*state, "../columnar/events_legacy.arrows", scan_read_arrow, 1u << 20);
    sweep(*state, "../columnar/events.arrow", scan_read_arrow, 1u << 20);
}

/* The Delta tables (tests/fixtures/delta, next to this directory): every checkpoint layout,
 * and deletion vectors. */
static void test_nomem_delta(void **state)
{
    static const char *const tables[] = {"sales", "sales_multipart", "sales_v2", "sales_v2json",
                                         "sales_dv"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char dir[4096];
        struct scan_limits lim;
        snprintf(dir, sizeof dir, "%s/../delta/%s", (const char *)*state, tables[i]);
        scan_limits_default(&lim);
        for (long k = 0;; k++) {
            struct scan_asset a;
            scan_asset_init(&a);
            alloc_fail_arm(k);
            int rv = scan_read_delta(dir, SCAN_L2, &lim, &a);
            bool injected = alloc_fail_disarm();
            if (rv != 0 && rv != SHIR_E_NOMEM)
                fail_msg("%s: allocation %ld failed: rv %d", tables[i], k, rv);
            if (!injected) {
                assert_int_equal(rv, 0);
                assert_int_equal(a.n_errors, 0);
                assert_int_equal(a.live_files, 3);
                if (k == 0)
                    fail_msg("%s: the sweep injected nothing", tables[i]);
                printf("  %s: each of %ld allocations failed in turn\n", tables[i], k);
            }
            scan_asset_free(&a);
            if (!injected)
                break;
        }
    }
}

static void test_nomem_text(void **state)
{
    sweep(*state, "app.log", scan_read_text, 1u << 20);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
        return 2;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_nomem_delimited, argv[1]),
        cmocka_unit_test_prestate(test_nomem_json, argv[1]),
        cmocka_unit_test_prestate(test_nomem_text, argv[1]),
        cmocka_unit_test_prestate(test_nomem_office, argv[1]),
        cmocka_unit_test_prestate(test_nomem_arrow, argv[1]),
        cmocka_unit_test_prestate(test_nomem_delta, argv[1]),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
