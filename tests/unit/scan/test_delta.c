/* Delta Lake tables (scan/columnar/delta.c; issue 14). The fixture (tests/fixtures/delta/
 * generate.sh) has DuckDB-written data files and a log written per the Delta protocol with a
 * DuckDB-written checkpoint at v2, commits 2 and 3 after it, and commits 0 and 1 removed as log
 * cleanup removes them; its directory is the first command-line argument. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
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
#include "scan/columnar/parquet.h"

static void expect(struct scan_asset *a, const char *name, enum scan_type t, const char *detail)
{
    struct scan_column *c = scan_asset_column(a, name);
    if (!c)
        fail_msg("no column %s", name);
    if (c->type != t || strcmp(c->type_detail, detail) != 0)
        fail_msg("%s: %s %s, expected %s %s", name, scan_type_name(c->type), c->type_detail,
                 scan_type_name(t), detail);
}

static void print_errors(const struct scan_asset *a)
{
    for (size_t i = 0; i < a->n_errors; i++)
        printf("  error: %s\n", a->errors[i]);
}

/* The state every fixture table has at v3, whatever its checkpoint's layout. */
static void check_sales(const char *dir, struct scan_asset *a)
{
    struct stat st;
    assert_string_equal(a->format, "delta");
    assert_int_equal(a->type, SCAN_ASSET_TABLE);
    assert_string_equal(scan_asset_type_name(a->type), "table");
    assert_int_equal(a->table_version, 3);
    /* Live at v3: the checkpoint's three adds, minus part-00001 (removed in v3), plus
     * part-00004 (added in v3); part-00000 was removed in v1, before the checkpoint. */
    assert_int_equal(a->live_files, 3);
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
    assert_int_equal(a->size, size);
    assert_int_equal(a->row_count, 30);
    assert_int_equal(a->n_cols, 7);
    expect(a, "id", SCAN_TYPE_INTEGER, "long");
    expect(a, "amount", SCAN_TYPE_DECIMAL, "decimal(10,2)");
    expect(a, "day", SCAN_TYPE_DATE, "date");
    expect(a, "customer", SCAN_TYPE_STRUCT, "struct");
    expect(a, "customer.email", SCAN_TYPE_STRING, "string");
    expect(a, "region", SCAN_TYPE_STRING, "string partition");
}

static void read_table(const char *dir, struct scan_asset *a)
{
    struct scan_limits lim;
    scan_limits_default(&lim);
    scan_asset_init(a);
    assert_int_equal(scan_read_delta(dir, SCAN_L3, &lim, a), 0);
    print_errors(a);
}

static void test_delta_table(void **state)
{
    char dir[4096];
    struct scan_asset a;
    snprintf(dir, sizeof dir, "%s/sales", (const char *)*state);
    read_table(dir, &a);
    assert_int_equal(a.n_errors, 0);
    check_sales(dir, &a);
    scan_asset_free(&a);
}

/* The same table with its checkpoint as 3 parts (and a newer incomplete 3-part set to skip),
 * as a V2 checkpoint with a Parquet or a JSON top-level file and two sidecars. Every
 * checkpoint Parquet file holds one action per row group. */
static void test_delta_checkpoint_kinds(void **state)
{
    static const char *const kinds[] = {"sales_multipart", "sales_v2", "sales_v2json"};
    for (size_t k = 0; k < 3; k++) {
        char dir[4096];
        struct scan_asset a;
        snprintf(dir, sizeof dir, "%s/%s", (const char *)*state, kinds[k]);
        printf("  %s\n", kinds[k]);
        read_table(dir, &a);
        assert_int_equal(a.n_errors, 0);
        check_sales(dir, &a);
        scan_asset_free(&a);
    }
}

/* The fixture's checkpoint parts do have several row groups (what test_delta_checkpoint_kinds
 * relies on to prove that every row group is read). */
static void test_delta_fixture_row_groups(void **state)
{
    char p[4096];
    static unsigned char buf[1 << 16];
    snprintf(p, sizeof p, "%s/sales_multipart/_delta_log/"
             "00000000000000000002.checkpoint.0000000002.0000000003.parquet",
             (const char *)*state);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(n > 12 && n < sizeof buf);
    uint32_t flen = shir_get_le32(buf + n - 8);
    assert_true(flen < n - 12);
    struct scan_pq_meta m;
    assert_int_equal(scan_parquet_meta_decode(buf + n - 8 - flen, flen, &m, NULL), 0);
    assert_int_equal(m.n_row_groups, 2);
    scan_parquet_meta_free(&m);
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

/* ------------------------------------------------------------------------------------------- */
/* Deletion vectors: a file is (path, DV unique id); rows are numRecords less the cardinality. */

static void test_delta_dv_id(void **state)
{
    (void)state;
    static const struct {
        const char *storage, *path;
        int64_t offset;
        const char *id; /* NULL: no id */
    } cases[] = {
        /* The protocol's examples: a relative path with a random prefix, at an offset. */
        {"u", "ab^-aqEH.-t@S}K{vb[*k^", 4, "uab^-aqEH.-t@S}K{vb[*k^@4"},
        {"u", "ab^-aqEH.-t@S}K{vb[*k^", 1, "uab^-aqEH.-t@S}K{vb[*k^@1"},
        {"u", "ab^-aqEH.-t@S}K{vb[*k^", 0, "uab^-aqEH.-t@S}K{vb[*k^@0"},
        {"u", "ab^-aqEH.-t@S}K{vb[*k^", -1, "uab^-aqEH.-t@S}K{vb[*k^"},
        {"i", "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L", -1,
         "iwi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L"},
        {"p", "s3://mybucket/path/to/file.bin", 4, "ps3://mybucket/path/to/file.bin@4"},
        {"x", "future", -1, "xfuture"}, /* an unknown storage type still makes an id */
        {"u", "", 1, NULL},
        {"", "abc", 1, NULL},
        {NULL, "abc", 1, NULL},
        {"u", NULL, -1, NULL},
        {"u", "abc", -2, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        int n = scan_delta_dv_id(cases[i].storage, cases[i].path, cases[i].offset, out,
                                 sizeof out);
        if (cases[i].id ? n != (int)strlen(cases[i].id) || strcmp(out, cases[i].id) != 0
                        : n != -1)
            fail_msg("case %zu: %d", i, n);
    }
    /* snprintf-like: the whole length, what fits written. */
    char small[5];
    assert_int_equal(scan_delta_dv_id("u", "abcdefgh", 12, small, sizeof small), 12);
    assert_string_equal(small, "uabc");
    assert_int_equal(scan_delta_dv_id("u", "abcdefgh", 12, NULL, 0), 12);
    static const struct {
        int64_t records;
        bool dv;
        int64_t card, rows;
    } rows[] = {
        {10, false, -1, 10}, {10, false, 3, 10}, {10, true, 3, 7}, {10, true, 10, 0},
        {10, true, 0, 10},   {10, true, 11, -1}, {10, true, -1, -1}, {-1, false, -1, -1},
        {-1, true, 2, -1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (scan_delta_live_rows(rows[i].records, rows[i].dv, rows[i].card) != rows[i].rows)
            fail_msg("rows case %zu", i);
}

static void fill(struct scan_delta_state *s, struct scan_asset *a)
{
    struct scan_limits lim;
    scan_limits_default(&lim);
    scan_asset_init(a);
    assert_int_equal(scan_delta_fill(s, &lim, a), 0);
}

#define DV(type, p, extra) "\"deletionVector\":{\"storageType\":\"" type "\",\"pathOrInlineDv\":\"" \
                           p "\"" extra "}"
#define STATS(n) "\"stats\":\"{\\\"numRecords\\\":" #n "}\""

/* A DELETE with DVs commits remove(X, old DV) and add(X, new DV) in either order: the state is
 * the same. The commit before gives X its first DV; Y gets one in the same commit. */
static void test_delta_dv_order(void **state)
{
    (void)state;
    static const char c0[] =
        "{\"add\":{\"path\":\"x\",\"size\":100," STATS(10) "}}\n"
        "{\"add\":{\"path\":\"y\",\"size\":200," STATS(20) "}}\n"
        "{\"remove\":{\"path\":\"x\"}}\n"
        "{\"add\":{\"path\":\"x\",\"size\":100," STATS(10) "," DV("u", "ab^-aqEH.-t@S}K{vb[*k^", ",\"offset\":1,\"sizeInBytes\":36,\"cardinality\":2") "}}\n";
    /* The same DV file at another offset: another file. */
    static const char add_x[] =
        "{\"add\":{\"path\":\"x\",\"size\":100," STATS(10) "," DV("u", "ab^-aqEH.-t@S}K{vb[*k^", ",\"offset\":45,\"sizeInBytes\":42,\"cardinality\":5") "}}\n";
    static const char rm_x[] =
        "{\"remove\":{\"path\":\"x\"," DV("u", "ab^-aqEH.-t@S}K{vb[*k^", ",\"offset\":1,\"sizeInBytes\":36,\"cardinality\":2") "}}\n";
    static const char add_y[] =
        "{\"add\":{\"path\":\"y\",\"size\":200," STATS(20) "," DV("i", "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L", ",\"sizeInBytes\":40,\"cardinality\":4") "}}\n";
    static const char rm_y[] = "{\"remove\":{\"path\":\"y\",\"deletionVector\":null}}\n";
    const char *const orders[][4] = {
        {add_x, rm_x, add_y, rm_y}, /* each add before its remove */
        {rm_x, add_x, rm_y, add_y},
        {add_x, add_y, rm_y, rm_x},
    };
    for (size_t o = 0; o < sizeof orders / sizeof orders[0]; o++) {
        struct scan_delta_state *s;
        struct scan_asset a;
        size_t bad = 0;
        char c1[2048] = "";
        for (size_t k = 0; k < 4; k++)
            strcat(c1, orders[o][k]);
        assert_int_equal(scan_delta_state_new(&s), 0);
        assert_int_equal(scan_delta_apply_json(s, c0, sizeof c0 - 1, &bad), 0);
        assert_int_equal(scan_delta_apply_json(s, c1, strlen(c1), &bad), 0);
        assert_int_equal(bad, 0);
        fill(s, &a);
        if (a.live_files != 2 || a.size != 300 || a.row_count != (10 - 5) + (20 - 4))
            fail_msg("order %zu: %" PRIu64 " files, %" PRIu64 " bytes, %" PRId64 " rows", o,
                     (uint64_t)a.live_files, (uint64_t)a.size, a.row_count);
        scan_asset_free(&a);
        /* Removing x with the DV it has now, and y without one (y has one): x goes, y stays. */
        static const char c2[] =
            "{\"remove\":{\"path\":\"x\"," DV("u", "ab^-aqEH.-t@S}K{vb[*k^", ",\"offset\":45,\"cardinality\":5") "}}\n"
            "{\"remove\":{\"path\":\"y\"}}\n";
        assert_int_equal(scan_delta_apply_json(s, c2, sizeof c2 - 1, &bad), 0);
        fill(s, &a);
        assert_int_equal(a.live_files, 1);
        assert_int_equal(a.size, 200);
        assert_int_equal(a.row_count, 16);
        scan_asset_free(&a);
        scan_delta_state_free(s);
    }
}

/* Descriptors that are not one are malformed lines; a DV without a cardinality leaves the row
 * count unknown but the file counted. */
static void test_delta_dv_malformed(void **state)
{
    (void)state;
    struct scan_delta_state *s;
    struct scan_asset a;
    size_t bad = 0;
    static const char c0[] =
        "{\"add\":{\"path\":\"a\",\"size\":1," STATS(3) ",\"deletionVector\":7}}\n"
        "{\"add\":{\"path\":\"b\",\"size\":1," STATS(3) ",\"deletionVector\":{\"storageType\":\"u\"}}}\n"
        "{\"add\":{\"path\":\"c\",\"size\":1," STATS(3) "," DV("u", "q", ",\"offset\":-3") "}}\n"
        "{\"add\":{\"path\":\"d\",\"size\":1," STATS(3) "," DV("u", "q", ",\"offset\":\"1\"") "}}\n"
        "{\"remove\":{\"path\":\"e\",\"deletionVector\":[]}}\n"
        "{\"add\":{\"path\":\"f\",\"size\":5," STATS(3) "," DV("u", "q", "") "}}\n";
    assert_int_equal(scan_delta_state_new(&s), 0);
    assert_int_equal(scan_delta_apply_json(s, c0, sizeof c0 - 1, &bad), 0);
    assert_int_equal(bad, 5);
    fill(s, &a);
    assert_int_equal(a.live_files, 1);
    assert_int_equal(a.size, 5);
    assert_int_equal(a.row_count, -1);
    scan_asset_free(&a);
    scan_delta_state_free(s);
}

/* sales_dv (generate-dv.sh): DV adds before their removes, "u" DVs sharing a file at two
 * offsets, a 790-character inline DV, a DuckDB checkpoint with add.deletionVector columns, and
 * commits after it that remove a file by the DV the checkpoint gave it. */
static void check_sales_dv(const char *dir, struct scan_asset *a)
{
    static const char *const live[] = {"region=eu/part-00000.parquet",
                                       "region=eu/part-00002.parquet",
                                       "region=us/part-00003.parquet"};
    uint64_t size = 0;
    for (size_t i = 0; i < 3; i++) {
        char p[4200];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, live[i]);
        assert_int_equal(stat(p, &st), 0);
        size += (uint64_t)st.st_size;
    }
    assert_int_equal(a->n_errors, 0);
    assert_int_equal(a->table_version, 4);
    assert_int_equal(a->live_files, 3);
    assert_int_equal(a->size, size);
    assert_int_equal(a->row_count, (10 - 5) + (10 - 1) + (10 - 4));
    assert_int_equal(a->n_cols, 3);
    expect(a, "region", SCAN_TYPE_STRING, "string partition");
}

static void test_delta_dv_table(void **state)
{
    char dir[4096];
    struct scan_asset a;
    snprintf(dir, sizeof dir, "%s/sales_dv", (const char *)*state);
    read_table(dir, &a);
    check_sales_dv(dir, &a);
    scan_asset_free(&a);
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

/* ------------------------------------------------------------------------------------------- */
/* Checkpoint names and the choice among them (pure). */

static void test_delta_cp_names(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int ok;
        int64_t version;
        enum scan_delta_cp_kind kind;
        uint32_t part, parts;
    } cases[] = {
        {"00000000000000000002.checkpoint.parquet", 0, 2, SCAN_DELTA_CP_CLASSIC, 1, 1},
        {"00000000000000000010.checkpoint.0000000002.0000000003.parquet", 0, 10,
         SCAN_DELTA_CP_MULTI, 2, 3},
        {"00000000000000000002.checkpoint.3a0d65cd-1e3b-4c8e-9f4a-7b5e2d1c0a99.parquet", 0, 2,
         SCAN_DELTA_CP_V2_PARQUET, 1, 1},
        {"00000000000000000002.checkpoint.3a0d65cd-1e3b-4c8e-9f4a-7b5e2d1c0a99.json", 0, 2,
         SCAN_DELTA_CP_V2_JSON, 1, 1},
        {"00000000000000000002.checkpoint.0000000004.0000000003.parquet", -1, 0, 0, 0, 0},
        {"00000000000000000002.checkpoint.0000000000.0000000003.parquet", -1, 0, 0, 0, 0},
        {"00000000000000000002.checkpoint.000000001.0000000003.parquet", -1, 0, 0, 0, 0},
        {"00000000000000000002.checkpoint.3a0d65cd-1e3b-4c8e-9f4a-7b5e2d1c0a9.json", -1, 0, 0, 0,
         0},
        {"00000000000000000002.checkpoint.3a0d65cd-1e3b-4c8e-9f4a-7b5e2d1c0a99.txt", -1, 0, 0, 0,
         0},
        {"0000000000000000002.checkpoint.parquet", -1, 0, 0, 0, 0},
        {"00000000000000000002.json", -1, 0, 0, 0, 0},
        {"00000000000000000002.checkpoint.parquet.crc", -1, 0, 0, 0, 0},
        {"_last_checkpoint", -1, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct scan_delta_cp cp;
        int rv = scan_delta_cp_parse(cases[i].name, &cp);
        if (rv != cases[i].ok)
            fail_msg("%s: %d", cases[i].name, rv);
        if (rv == 0 && (cp.version != cases[i].version || cp.kind != cases[i].kind ||
                        cp.part != cases[i].part || cp.parts != cases[i].parts ||
                        strcmp(cp.name, cases[i].name) != 0))
            fail_msg("%s: parsed wrong", cases[i].name);
    }
}

static size_t plan(const char *const *names, size_t n, const char *hint, struct scan_delta_cp *cp,
                   struct scan_delta_cpset *sets, bool *used)
{
    struct scan_delta_hint h = {.version = -1};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(scan_delta_cp_parse(names[i], &cp[i]), 0);
    if (hint)
        assert_int_equal(scan_delta_hint_parse(hint, strlen(hint), &h), 0);
    return scan_delta_cp_plan(cp, n, &h, sets, used);
}

static void test_delta_cp_plan(void **state)
{
    (void)state;
    struct scan_delta_cp cp[8];
    struct scan_delta_cpset sets[8];
    bool used;
    /* v5: 2 of 3 parts; v4: a 2-part set, a classic and a V2 JSON; v3: a 2-part set. */
    static const char *const names[] = {
        "00000000000000000005.checkpoint.0000000001.0000000003.parquet",
        "00000000000000000005.checkpoint.0000000003.0000000003.parquet",
        "00000000000000000004.checkpoint.0000000002.0000000002.parquet",
        "00000000000000000004.checkpoint.parquet",
        "00000000000000000004.checkpoint.0000000001.0000000002.parquet",
        "00000000000000000004.checkpoint.3a0d65cd-1e3b-4c8e-9f4a-7b5e2d1c0a99.json",
        "00000000000000000003.checkpoint.0000000002.0000000002.parquet",
        "00000000000000000003.checkpoint.0000000001.0000000002.parquet",
    };
    size_t n = plan(names, 8, NULL, cp, sets, &used);
    assert_int_equal(n, 4); /* the incomplete v5 set is not a checkpoint */
    assert_false(used);
    assert_string_equal(cp[sets[0].first].name, names[3]); /* v4 classic first */
    assert_int_equal(sets[0].count, 1);
    assert_string_equal(cp[sets[1].first].name, names[5]);
    assert_string_equal(cp[sets[2].first].name, names[4]); /* v4 parts 1, 2 in order */
    assert_int_equal(sets[2].count, 2);
    assert_string_equal(cp[sets[2].first + 1].name, names[2]);
    assert_int_equal(cp[sets[3].first].version, 3);
    /* The hint picks among the v4 ones. */
    n = plan(names, 8, "{\"version\":4,\"size\":9,\"parts\":2}", cp, sets, &used);
    assert_int_equal(n, 4);
    assert_true(used);
    assert_int_equal(cp[sets[0].first].kind, SCAN_DELTA_CP_MULTI);
    n = plan(names, 8, "{\"version\":4,\"v2Checkpoint\":{\"path\":\"00000000000000000004."
                       "checkpoint.3a0d65cd-1e3b-4c8e-9f4a-7b5e2d1c0a99.json\"}}",
             cp, sets, &used);
    assert_true(used);
    assert_int_equal(cp[sets[0].first].kind, SCAN_DELTA_CP_V2_JSON);
    /* Never past what exists: the incomplete v5 set stays out though the hint names it. */
    n = plan(names, 8, "{\"version\":5,\"parts\":3}", cp, sets, &used);
    assert_int_equal(n, 4);
    assert_false(used);
    assert_int_equal(cp[sets[0].first].version, 4);
    /* Hints that are not one. */
    struct scan_delta_hint h;
    assert_int_equal(scan_delta_hint_parse("{\"version\":-1}", 14, &h), -1);
    assert_int_equal(scan_delta_hint_parse("[1]", 3, &h), -1);
    assert_int_equal(h.version, -1);
}

static void test_delta_sidecar_names(void **state)
{
    (void)state;
    static const struct {
        const char *path, *name;
    } cases[] = {
        {"016ae953-37a9-438e-8683-9a9a4a79a395.parquet", "016ae953-37a9-438e-8683-9a9a4a79a395.parquet"},
        {"a%20b.parquet", "a b.parquet"},
        {"../00000000000000000002.json", NULL},
        {"%2E%2E", NULL},
        {"x%2Fy.parquet", NULL},
        {"/etc/passwd", NULL},
        {"s3://bucket/t/_delta_log/_sidecars/a.parquet", NULL},
        {"a%00b", NULL},
        {"a%zz", NULL},
        {"a%2", NULL},
        {".", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[256];
        int rv = scan_delta_sidecar_name(cases[i].path, out, sizeof out);
        if (cases[i].name ? rv != 0 || strcmp(out, cases[i].name) != 0 : rv != -1)
            fail_msg("%s: %d", cases[i].path, rv);
    }
}

/* ------------------------------------------------------------------------------------------- */
/* Damaged copies of the fixture tables, in a temporary directory. */

static char copy_root[64];
static size_t copy_plen;

static int copy_one(const char *src, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    char dst[4200];
    snprintf(dst, sizeof dst, "%s%s", copy_root, src + copy_plen);
    if (flag == FTW_D)
        return mkdir(dst, 0700) == 0 || errno == EEXIST ? 0 : -1;
    if (flag != FTW_F)
        return 0;
    static char buf[1 << 16];
    int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ssize_t n = 0;
    while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            n = -1;
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return in >= 0 && out >= 0 && n == 0 && st->st_size >= 0 ? 0 : -1;
}

/* Copy fixture table `name` to a new temporary directory; its path in out[64]. */
static void copy_table(const char *fixtures, const char *name, char *out)
{
    char src[4096];
    strcpy(copy_root, "/tmp/shir-delta-XXXXXX");
    assert_non_null(mkdtemp(copy_root));
    snprintf(src, sizeof src, "%s/%s", fixtures, name);
    copy_plen = strlen(src);
    assert_int_equal(nftw(src, copy_one, 16, FTW_PHYS), 0);
    strcpy(out, copy_root);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static void rm_table(const char *dir)
{
    assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void write_file(const char *dir, const char *rel, const char *text)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static bool has_error(const struct scan_asset *a, const char *part)
{
    for (size_t i = 0; i < a->n_errors; i++)
        if (strstr(a->errors[i], part))
            return true;
    return false;
}

#define LOG "_delta_log/"
#define V2_TOP "00000000000000000002.checkpoint.3a0d65cd-1e3b-4c8e-9f4a-7b5e2d1c0a99"
#define SIDECAR0 "_sidecars/016ae953-37a9-438e-8683-9a9a4a79a395.parquet"

/* A V2 checkpoint whose sidecar is a symbolic link (to the real file): not followed, the
 * checkpoint is skipped for the multi-part one of the same version that is also there. */
static void test_delta_fallback(void **state)
{
    char dir[64], p[4200], q[4200], mp[4200];
    struct scan_asset a;
    copy_table(*state, "sales_v2", dir);
    snprintf(p, sizeof p, "%s/" LOG SIDECAR0, dir);
    snprintf(q, sizeof q, "%s/" LOG "_sidecars/real.parquet", dir);
    assert_int_equal(rename(p, q), 0);
    assert_int_equal(symlink("real.parquet", p), 0);
    read_table(dir, &a);
    /* Without another checkpoint: skipped, and commits 0 and 1 are gone. */
    assert_true(has_error(&a, "skipped"));
    assert_true(has_error(&a, "commit 0 is missing"));
    assert_int_equal(a.table_version, -1);
    scan_asset_free(&a);
    /* Add the multi-part checkpoint at v2 (the data files are the same bytes). */
    for (int k = 1; k <= 3; k++) {
        char name[96];
        snprintf(name, sizeof name, LOG "00000000000000000002.checkpoint.000000000%d."
                 "0000000003.parquet", k);
        snprintf(mp, sizeof mp, "%s/sales_multipart/%s", (const char *)*state, name);
        snprintf(p, sizeof p, "%s/%s", dir, name);
        FILE *in = fopen(mp, "rb"), *out = fopen(p, "wb");
        assert_true(in && out);
        static char buf[1 << 16];
        size_t n = fread(buf, 1, sizeof buf, in);
        assert_int_equal(fwrite(buf, 1, n, out), n);
        fclose(in);
        assert_int_equal(fclose(out), 0);
    }
    read_table(dir, &a);
    assert_int_equal(a.n_errors, 1);
    assert_true(has_error(&a, "checkpoint " V2_TOP ".parquet skipped"));
    check_sales(dir, &a);
    scan_asset_free(&a);
    rm_table(dir);
}

/* A V2 JSON checkpoint whose sidecar path climbs out of _sidecars: refused, never opened. */
static void test_delta_sidecar_escape(void **state)
{
    char dir[64];
    struct scan_asset a;
    copy_table(*state, "sales_v2json", dir);
    write_file(dir, LOG V2_TOP ".json",
               "{\"checkpointMetadata\":{\"version\":2}}\n"
               "{\"sidecar\":{\"path\":\"..%2F00000000000000000002.json\",\"sizeInBytes\":1}}\n");
    read_table(dir, &a);
    assert_true(has_error(&a, "outside _delta_log/_sidecars"));
    assert_true(has_error(&a, "commit 0 is missing"));
    scan_asset_free(&a);
    rm_table(dir);
}

/* _last_checkpoint naming what is not there is said and ignored; a broken one is ignored. */
static void test_delta_hint_ignored(void **state)
{
    char dir[64];
    struct scan_asset a;
    copy_table(*state, "sales_multipart", dir);
    write_file(dir, LOG "_last_checkpoint", "{\"version\":3,\"size\":6,\"parts\":3}\n");
    read_table(dir, &a);
    assert_int_equal(a.n_errors, 1);
    assert_true(has_error(&a, "_last_checkpoint names version 3"));
    check_sales(dir, &a);
    scan_asset_free(&a);
    write_file(dir, LOG "_last_checkpoint", "{\"version\":");
    read_table(dir, &a);
    assert_int_equal(a.n_errors, 0);
    check_sales(dir, &a);
    scan_asset_free(&a);
    rm_table(dir);
}

/* The DV table without its checkpoint (every commit replayed) gives the same state; its
 * checkpoint alone (the commits after it gone) the state at v2, read from the
 * add.deletionVector columns: f0 (10 - 5 rows), f1 (1000 - 300) and f2 (10). */
static void test_delta_dv_checkpoint(void **state)
{
    char dir[64], p[4200], cp[4200];
    struct scan_asset a;
    copy_table(*state, "sales_dv", dir);
    snprintf(p, sizeof p, "%s/" LOG "_last_checkpoint", dir);
    assert_int_equal(unlink(p), 0);
    snprintf(p, sizeof p, "%s/" LOG "00000000000000000002.checkpoint.parquet", dir);
    snprintf(cp, sizeof cp, "%s/cp.parquet", dir);
    assert_int_equal(rename(p, cp), 0);
    read_table(dir, &a);
    check_sales_dv(dir, &a);
    scan_asset_free(&a);
    /* Back, and commits 0, 1, 3 and 4 gone: the checkpoint and commit 2 (before it, unread). */
    assert_int_equal(rename(cp, p), 0);
    static const char *const gone[] = {"0", "1", "3", "4"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/" LOG "0000000000000000000%s.json", dir, gone[i]);
        assert_int_equal(unlink(p), 0);
    }
    read_table(dir, &a);
    assert_int_equal(a.n_errors, 0);
    assert_int_equal(a.table_version, 2);
    assert_int_equal(a.live_files, 3);
    assert_int_equal(a.row_count, (10 - 5) + (1000 - 300) + 10);
    scan_asset_free(&a);
    rm_table(dir);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures/delta";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_delta_table, (void *)dir),
        cmocka_unit_test_prestate(test_delta_checkpoint_kinds, (void *)dir),
        cmocka_unit_test_prestate(test_delta_fixture_row_groups, (void *)dir),
        cmocka_unit_test(test_delta_cp_names),
        cmocka_unit_test(test_delta_cp_plan),
        cmocka_unit_test(test_delta_sidecar_names),
        cmocka_unit_test_prestate(test_delta_fallback, (void *)dir),
        cmocka_unit_test_prestate(test_delta_sidecar_escape, (void *)dir),
        cmocka_unit_test_prestate(test_delta_hint_ignored, (void *)dir),
        cmocka_unit_test(test_delta_replay),
        cmocka_unit_test(test_delta_broken),
        cmocka_unit_test(test_delta_dv_id),
        cmocka_unit_test(test_delta_dv_order),
        cmocka_unit_test(test_delta_dv_malformed),
        cmocka_unit_test_prestate(test_delta_dv_table, (void *)dir),
        cmocka_unit_test_prestate(test_delta_dv_checkpoint, (void *)dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
