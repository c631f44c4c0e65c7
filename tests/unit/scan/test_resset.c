/* Unit tests of resource-set patterns (scan/resset.c) beyond the walk's own: hex-like runs that
 * mix letters and digits are one token, so siblings differing only by a short hash group, and a
 * hash that drew only digits or only letters can be read as one (scan_resset_pattern_hexrun,
 * scan_resset_pattern_hexword); and the groups those make after the merges (scan/groups.c), from
 * a table of small trees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scan/engine.h"
#include "scan/groups.h"

struct pattern_case {
    const char *rel, *want;
    unsigned tokens;
};

static const struct pattern_case cases[] = {
    /* issue 14: one set, not abc{N}e{N} and abc{N}f{N} */
    {"part-00000-abc7e7.parquet", "part-{N}-{Hex}.parquet", 2},
    {"part-00001-abc7f8.parquet", "part-{N}-{Hex}.parquet", 2},
    {"part-00002-1a2b3c.parquet", "part-{N}-{Hex}.parquet", 2},
    {"out/run-9f3c2e1/data.json", "out/run-{Hex}/data.json", 1},
    {"blobs/deadbeef0123.bin", "blobs/{Hex}.bin", 1},
    {"x/A1B2.csv", "x/{Hex}.csv", 1},
    /* too short, letters only, digits only, or inside a longer word: not a hash */
    {"v2/data.csv", "v{N}/data.csv", 1},
    {"enc/b64.txt", "enc/b{N}.txt", 1},
    {"e2e/run.log", "e{N}e/run.log", 1},
    {"facade/readme.md", "facade/readme.md", 0},
    {"part-00000.csv", "part-{N}.csv", 1},
    {"report2025x/a.csv", "report{N}x/a.csv", 1},
    {"abc7e7x/a.csv", "abc{N}e{N}x/a.csv", 2},
    {"k=abc7e7/a.csv", "k={Hex}/a.csv", 1},
    /* a word of hex letters is written as it is (scan_resset_pattern_hexword reads it) */
    {"part-00002-abcdef.parquet", "part-{N}-abcdef.parquet", 1},
    {"chunk-fedcba.csv", "chunk-fedcba.csv", 0},
    {"k=abcdef/a.csv", "k={*}/a.csv", 1},
};

static void test_resset_hex_runs(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct shir_buf b;
        unsigned tokens = 99;
        shir_buf_init(&b, 4096);
        assert_int_equal(scan_resset_pattern(cases[i].rel, &b, &tokens), 0);
        if (strcmp((const char *)b.data, cases[i].want) != 0 || tokens != cases[i].tokens)
            fail_msg("%s: got %s (%u tokens), expected %s (%u)", cases[i].rel,
                     (const char *)b.data, tokens, cases[i].want, cases[i].tokens);
        shir_buf_free(&b);
    }
}

/* A run of >= 4 digits standing alone as a word read as a hash: the k-th such run is {Hex}. */
struct hexrun_case {
    const char *rel;
    unsigned k;
    bool found;
    const char *want;
};

static const struct hexrun_case hexrun_cases[] = {
    {"mixhash/chunk-123456.csv", 0, true, "mixhash/chunk-{Hex}.csv"},
    {"mixhash/chunk-123456.csv", 1, false, "mixhash/chunk-{N}.csv"},
    {"part-00003-123456.parquet", 0, true, "part-{Hex}-{N}.parquet"},
    {"part-00003-123456.parquet", 1, true, "part-{N}-{Hex}.parquet"},
    {"part-00003-123456.parquet", 2, false, "part-{N}-{N}.parquet"},
    /* directories count too, and a key=value value that is one run */
    {"run-4711/data-1.json", 0, true, "run-{Hex}/data-{N}.json"},
    {"k=123456/a.csv", 0, true, "k={Hex}/a.csv"},
    /* not a word of its own, or too short: never a hash */
    {"log_12.csv", 0, false, "log_{N}.csv"},
    {"v1234/a.csv", 0, false, "v{N}/a.csv"},
    {"1234x/a.csv", 0, false, "{N}x/a.csv"},
    /* a date or a GUID stays what it is */
    {"sales_2024-01-31.csv", 0, false, "sales_{Date}.csv"},
    {"abc7e7-123456.csv", 0, true, "{Hex}-{Hex}.csv"},
};

static void test_resset_hexrun(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof hexrun_cases / sizeof hexrun_cases[0]; i++) {
        const struct hexrun_case *c = &hexrun_cases[i];
        struct shir_buf b;
        bool found = !c->found;
        shir_buf_init(&b, 4096);
        assert_int_equal(scan_resset_pattern_hexrun(c->rel, c->k, &b, &found), 0);
        if (strcmp((const char *)b.data, c->want) != 0 || found != c->found)
            fail_msg("%s #%u: got %s (found %d), expected %s (%d)", c->rel, c->k,
                     (const char *)b.data, found, c->want, c->found);
        shir_buf_free(&b);
    }
}

/* A word of >= 4 hex letters of one case standing alone read as a hash: the k-th is {Hex}. */
static const struct hexrun_case hexword_cases[] = {
    {"part-00002-abcdef.parquet", 0, true, "part-{N}-{Hex}.parquet"},
    {"part-00002-abcdef.parquet", 1, false, "part-{N}-abcdef.parquet"},
    {"chunk-fedcba.csv", 0, true, "chunk-{Hex}.csv"},
    {"report-cafe.csv", 0, true, "report-{Hex}.csv"},
    /* upper case is a hash's too; mixed case is a word's */
    {"x/ABCDEF.csv", 0, true, "x/{Hex}.csv"},
    {"x/Face.csv", 0, false, "x/Face.csv"},
    {"x/aBcD.csv", 0, false, "x/aBcD.csv"},
    /* several words, counted from the left, directories too */
    {"cafe-beef.csv", 0, true, "{Hex}-beef.csv"},
    {"cafe-beef.csv", 1, true, "cafe-{Hex}.csv"},
    {"cafe-beef.csv", 2, false, "cafe-beef.csv"},
    {"decade/part-1.csv", 0, true, "{Hex}/part-{N}.csv"},
    {"beef_1.csv", 0, true, "{Hex}_{N}.csv"},
    /* a key=value value that is one word */
    {"k=abcdef/a.csv", 0, true, "k={Hex}/a.csv"},
    /* too short, inside a longer word, after a digit, digits: never a word */
    {"x/abc.csv", 0, false, "x/abc.csv"},
    {"x/facades.csv", 0, false, "x/facades.csv"},
    {"v2abcd.csv", 0, false, "v{N}abcd.csv"},
    {"abcd2x.csv", 0, false, "abcd{N}x.csv"},
    {"chunk-123456.csv", 0, false, "chunk-{N}.csv"},
    {"abc7e7-abcdef.csv", 0, true, "{Hex}-{Hex}.csv"},
};

static void test_resset_hexword(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof hexword_cases / sizeof hexword_cases[0]; i++) {
        const struct hexrun_case *c = &hexword_cases[i];
        struct shir_buf b;
        bool found = !c->found;
        shir_buf_init(&b, 4096);
        assert_int_equal(scan_resset_pattern_hexword(c->rel, c->k, &b, &found), 0);
        if (strcmp((const char *)b.data, c->want) != 0 || found != c->found)
            fail_msg("%s #%u: got %s (found %d), expected %s (%d)", c->rel, c->k,
                     (const char *)b.data, found, c->want, c->found);
        shir_buf_free(&b);
    }
}

/* How many words scan_resset_pattern_hexword finds in rel. */
static unsigned hexwords(const char *rel)
{
    unsigned k = 0;
    for (bool found = true; found; k++) {
        struct shir_buf b;
        shir_buf_init(&b, 4096);
        assert_int_equal(scan_resset_pattern_hexword(rel, k, &b, &found), 0);
        shir_buf_free(&b);
    }
    return k - 1;
}

/* Paths in the orders a walk and a resume hand them out, and out of them: directories that
 * change to one of the same length, to a prefix of the last, to none (a file at the root),
 * key=value components, tokens in directory and file parts. */
static const char *const memo_paths[] = {
    "a.csv",
    "sales/year=2025/month=01/part-0001.csv",
    "sales/year=2025/month=01/part-0002.csv",
    "sales/year=2025/month=02/part-0001.csv",
    "sales/year=2025/month=0x/part-0001.csv",
    "sales/year=2025/month=0/part-0001.csv",
    "sales/year=2025/month=01/sub/part-0001.csv",
    "sales/year=2025/month=01/part-0003.csv",
    "b.csv",
    "run-9f3c2e1/data.json",
    "run-9f3c2e2/data.json",
    "run-9f3c2e2/",
    "x/2025-01-31/3f2504e0-4f89-11d3-9a0c-0305e82c3301.parquet",
    "x/2025-01-31/readme",
    "y/2025-01-31/readme",
    "readme",
    "/abs/path/f1.csv",
    "//f2.csv",
    "cafe/part-1.csv",
    "cafe/abcdef",
    "cafe/Face.csv",
    "k=abcdef/beef.csv",
    "",
};

static void test_resset_memo_same(void **state)
{
    (void)state;
    struct scan_resset_memo m;
    scan_resset_memo_init(&m);
    size_t n = sizeof memo_paths / sizeof memo_paths[0];
    /* In order, then every pair both ways (each call after every other call). */
    for (size_t k = 0; k < n + n * n * 2; k++) {
        size_t i = k < n ? k : ((k - n) / 2) / n;
        if (k >= n && (k - n) % 2 == 1)
            i = ((k - n) / 2) % n;
        const char *rel = memo_paths[i];
        struct shir_buf a, b;
        unsigned ta = 99, tb = 77, wb = 55, wa = hexwords(rel);
        shir_buf_init(&a, 4096);
        shir_buf_init(&b, 4096);
        assert_int_equal(scan_resset_pattern(rel, &a, &ta), 0);
        assert_int_equal(scan_resset_pattern_memo(&m, rel, &b, &tb, &wb), 0);
        if (a.len != b.len || memcmp(a.data, b.data, a.len + 1) != 0 || ta != tb || wa != wb)
            fail_msg("%s: memo %s (%u tokens, %u words), plain %s (%u, %u)", rel,
                     (const char *)b.data, tb, wb, (const char *)a.data, ta, wa);
        shir_buf_free(&a);
        shir_buf_free(&b);
    }
    scan_resset_memo_free(&m);
}

/* Paths in walk order, grouped as the engine does (a token or a hex word: held), both merges
 * run: the groups left with files, as "pattern=count" in group order. */
struct merge_case {
    const char *rels[6];
    const char *want;
};

static const struct merge_case merge_cases[] = {
    /* a letters-only hash beside a {N}, with no other token, in a directory, a value */
    {{"part-00000-abc7e7.csv", "part-00001-abcdef.csv", "part-00002-9f8e7d.csv"},
     "part-{N}-{Hex}.csv=3"},
    {{"chunk-fedcba.csv", "chunk-1a2b3c.csv", "chunk-4d5e6f.csv"}, "chunk-{Hex}.csv=3"},
    {{"9f8e7d/data.csv", "a1b2c3/data.csv", "decade/data.csv"}, "{Hex}/data.csv=3"},
    {{"k=a1b2c3/a.csv", "k=abcdef/a.csv", "k=d4e5f6/a.csv"}, "k={Hex}/a.csv=3"},
    {{"blob-A1B2C3.csv", "blob-ABCDEF.csv", "blob-D4E5F6.csv"}, "blob-{Hex}.csv=3"},
    /* the set the digit merge made counts */
    {{"c-123456.csv", "c-a1b2c3.csv", "c-fedcba.csv"}, "c-{Hex}.csv=3"},
    /* nothing to join, or only a lone {Hex} file: stays */
    {{"report-cafe.csv", "report-final.csv"}, "report-cafe.csv=1"},
    {{"other-a1b2.csv", "other-c3d4.csv", "report-a1b2.csv", "report-cafe.csv"},
     "other-{Hex}.csv=2 report-{Hex}.csv=1 report-cafe.csv=1"},
    /* a shared word is a literal; mixed case is a word (the pattern's lenient read finds the
     * set, the path's word does not) */
    {{"run-1-face.csv", "run-2-face.csv", "run-3-a1b2.csv", "run-4-c3d4.csv"},
     "run-{N}-face.csv=2 run-{N}-{Hex}.csv=2"},
    {{"img-1-Face.csv", "img-2-a1b2.csv", "img-3-c3d4.csv"},
     "img-{N}-Face.csv=1 img-{N}-{Hex}.csv=2"},
    {{"img-Face.csv", "img-a1b2.csv", "img-c3d4.csv"}, "img-{Hex}.csv=2"}, /* not held */
    /* several words: the one whose reading names a set */
    {{"x-a1b2-beef.csv", "x-c3d4-beef.csv", "x-cafe-beef.csv"}, "x-{Hex}-beef.csv=3"},
};

static void test_resset_merge_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof merge_cases / sizeof merge_cases[0]; i++) {
        const struct merge_case *c = &merge_cases[i];
        struct scan_groups gs = {0};
        struct scan_resset_memo m;
        scan_resset_memo_init(&m);
        for (size_t k = 0; k < 6 && c->rels[k]; k++) {
            struct shir_buf b;
            unsigned tokens, words;
            shir_buf_init(&b, 4096);
            assert_int_equal(scan_resset_pattern_memo(&m, c->rels[k], &b, &tokens, &words), 0);
            struct scan_member mb = {.path = strdup(c->rels[k]), .index = k};
            assert_non_null(mb.path);
            if (tokens || words)
                assert_int_equal(scan_groups_add(&gs, (const char *)b.data, &mb), 0);
            else
                free(mb.path);
            shir_buf_free(&b);
        }
        scan_resset_memo_free(&m);
        assert_int_equal(scan_groups_merge_digit_hashes(&gs), 0);
        assert_int_equal(scan_groups_merge_letter_hashes(&gs), 0);
        char got[512] = "";
        for (size_t g = 0; g < gs.n; g++)
            if (gs.v[g].n)
                snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s=%zu",
                         got[0] ? " " : "", gs.v[g].pattern, gs.v[g].n);
        if (strcmp(got, c->want) != 0)
            fail_msg("case %zu: got \"%s\", expected \"%s\"", i, got, c->want);
        scan_groups_free(&gs);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resset_hex_runs),
        cmocka_unit_test(test_resset_hexrun),
        cmocka_unit_test(test_resset_hexword),
        cmocka_unit_test(test_resset_merge_cases),
        cmocka_unit_test(test_resset_memo_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
