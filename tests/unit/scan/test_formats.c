/* Unit tests of the text-format readers (scan/formats/delimited.c, json.c, text.c, textdec.c,
 * typeinfer.c). Well-formed fixtures come from real writers (tests/fixtures/formats/generate.sh:
 * Python's csv/json modules and gzip); malformed inputs are either cut real output or built here
 * in memory. The fixture directory is the first command-line argument (CMake passes it). */
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
#include <zlib.h>

#include "scan/formats/formats.h"
#include "test_dialects.h"

typedef int (*reader_fn)(const struct scan_file *, enum scan_level, const struct scan_limits *,
                         struct scan_asset *);

/* Read fixture `name` of directory `dir` with `fn` at `level` under `lim` (defaults if NULL). */
static void read_fixture(const char *dir, const char *name, reader_fn fn, enum scan_level level,
                         const struct scan_limits *lim, struct scan_asset *a)
{
    char path[4096];
    struct scan_limits def;
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    if (!lim) {
        scan_limits_default(&def);
        lim = &def;
    }
    struct scan_file f = {.fd = fd, .path = path, .size = (uint64_t)st.st_size};
    scan_asset_init(a);
    assert_int_equal(fn(&f, level, lim, a), 0);
    close(fd);
}

static bool has_error(const struct scan_asset *a, const char *needle)
{
    for (size_t i = 0; i < a->n_errors; i++)
        if (strstr(a->errors[i], needle))
            return true;
    return false;
}

static void print_errors(const struct scan_asset *a)
{
    for (size_t i = 0; i < a->n_errors; i++)
        printf("  error: %s\n", a->errors[i]);
}

static void expect_col(struct scan_asset *a, const char *name, enum scan_type t)
{
    struct scan_column *c = scan_asset_column(a, name);
    if (!c)
        fail_msg("no column %s", name);
    if (c->type != t)
        fail_msg("column %s: type %s, expected %s", name, scan_type_name(c->type),
                 scan_type_name(t));
}

static bool has_sample(const struct scan_column *c, const char *v)
{
    for (size_t i = 0; i < c->n_samples; i++)
        if (strcmp(c->samples[i], v) == 0)
            return true;
    return false;
}

/* The people fixtures: same data through every dialect and encoding. */
static void expect_people(struct scan_asset *a)
{
    print_errors(a);
    assert_int_equal(a->n_errors, 0);
    assert_int_equal(a->n_cols, 9);
    assert_string_equal(a->cols[0].name, "id");
    expect_col(a, "id", SCAN_TYPE_INTEGER);
    expect_col(a, "name", SCAN_TYPE_STRING);
    expect_col(a, "email", SCAN_TYPE_STRING);
    expect_col(a, "active", SCAN_TYPE_BOOLEAN);
    expect_col(a, "balance", SCAN_TYPE_DECIMAL);
    expect_col(a, "joined", SCAN_TYPE_DATE);
    expect_col(a, "last_login", SCAN_TYPE_TIMESTAMP);
    expect_col(a, "city", SCAN_TYPE_STRING);
    expect_col(a, "notes", SCAN_TYPE_STRING);
    assert_int_equal(a->row_count, 40);
}

static void test_csv_people(void **state)
{
    struct scan_asset a;
    read_fixture(*state, "people.csv", scan_read_delimited, SCAN_L3, NULL, &a);
    expect_people(&a);
    assert_string_equal(a.format, "csv");
    assert_string_equal(a.encoding, "utf-8");
    assert_null(a.compression);
    struct scan_column *email = scan_asset_column(&a, "email");
    assert_int_equal(email->n_samples, 40);
    assert_true(has_sample(email, "ana.0@example.org"));
    /* RFC 4180: embedded newline, delimiter and doubled quotes come back unescaped. */
    struct scan_column *notes = scan_asset_column(&a, "notes");
    assert_true(has_sample(notes, "two\nlines"));
    assert_true(has_sample(notes, "likes, commas"));
    assert_true(has_sample(notes, "said \"hi\""));
    for (size_t i = 0; i < notes->n_samples; i++)
        assert_true(notes->samples[i][0] != '\0'); /* empty cells are nulls, not samples */
    scan_asset_free(&a);
}

static void test_csv_level2_has_no_samples(void **state)
{
    struct scan_asset a;
    read_fixture(*state, "people.csv", scan_read_delimited, SCAN_L2, NULL, &a);
    expect_people(&a);
    for (size_t i = 0; i < a.n_cols; i++)
        assert_int_equal(a.cols[i].n_samples, 0);
    scan_asset_free(&a);
}

static void test_dialects(void **state)
{
    static const char *const files[][2] = {{"people.tsv", "tsv"}, {"people.psv", "psv"},
                                           {"people.ssv", "ssv"}, {"quoted_all.csv", "csv"}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        struct scan_asset a;
        read_fixture(*state, files[i][0], scan_read_delimited, SCAN_L3, NULL, &a);
        printf("  %s\n", files[i][0]);
        expect_people(&a);
        assert_string_equal(a.format, files[i][1]);
        assert_true(has_sample(scan_asset_column(&a, "notes"), "a|b;c\td"));
        scan_asset_free(&a);
    }
}

/* Reads within scan_file.head are served from memory: with an invalid descriptor, a file whose
 * head holds all of it reads as from the disk, and a read past the head reaches pread (EBADF). */
static void test_head_served_from_memory(void **state)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/people.csv", (const char *)*state);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    assert_true(n > 0 && n < sizeof buf);
    struct scan_limits lim;
    scan_limits_default(&lim);
    struct scan_file f = {.fd = -1, .path = path, .size = n, .head = buf, .head_len = n};
    struct scan_asset a;
    scan_asset_init(&a);
    assert_int_equal(scan_read_delimited(&f, SCAN_L3, &lim, &a), 0);
    expect_people(&a);
    scan_asset_free(&a);
    unsigned char out[64];
    size_t got;
    f.head_len = 16;
    assert_int_equal(scan_file_read_at(&f, 8, out, 8, &got), 0);
    assert_int_equal(got, 8);
    assert_memory_equal(out, buf + 8, 8);
    assert_true(scan_file_read_at(&f, 8, out, 16, &got) < 0); /* 8 from memory, then pread */
}

/* Headerless with 11 columns: DuckDB pads the generated names to the last index's width. */
static void test_csv_no_header_wide(void **state)
{
    (void)state;
    static char buf[4096];
    size_t n = 0;
    for (unsigned r = 0; r < 20; r++)
        for (unsigned c = 0; c < 11; c++)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%u%c", r * 100 + c, c < 10 ? ',' : '\n');
    struct scan_limits lim;
    scan_limits_default(&lim);
    struct scan_file f = {.fd = -1, .path = "wide.csv", .size = n, .head = (unsigned char *)buf,
                          .head_len = n};
    struct scan_asset a;
    scan_asset_init(&a);
    assert_int_equal(scan_read_delimited(&f, SCAN_L2, &lim, &a), 0);
    assert_int_equal(a.n_cols, 11);
    expect_col(&a, "column00", SCAN_TYPE_INTEGER);
    expect_col(&a, "column09", SCAN_TYPE_INTEGER);
    expect_col(&a, "column10", SCAN_TYPE_INTEGER);
    assert_int_equal(a.row_count, 20);
    scan_asset_free(&a);
}

static void test_csv_no_header(void **state)
{
    struct scan_asset a;
    read_fixture(*state, "noheader.csv", scan_read_delimited, SCAN_L2, NULL, &a);
    assert_int_equal(a.n_errors, 0);
    assert_int_equal(a.n_cols, 4);
    expect_col(&a, "column0", SCAN_TYPE_INTEGER);
    expect_col(&a, "column1", SCAN_TYPE_DECIMAL);
    expect_col(&a, "column2", SCAN_TYPE_DATE);
    expect_col(&a, "column3", SCAN_TYPE_BOOLEAN);
    assert_int_equal(a.row_count, 40);
    scan_asset_free(&a);
}

static void test_csv_all_string_header(void **state)
{
    struct scan_asset a;
    read_fixture(*state, "cities.csv", scan_read_delimited, SCAN_L3, NULL, &a);
    assert_int_equal(a.n_cols, 2);
    expect_col(&a, "city", SCAN_TYPE_STRING);
    expect_col(&a, "country", SCAN_TYPE_STRING);
    assert_int_equal(a.row_count, 5);
    assert_int_equal(a.cols[0].n_samples, 5);
    scan_asset_free(&a);
}

static void test_encodings(void **state)
{
    struct scan_asset a;
    read_fixture(*state, "utf8bom.csv", scan_read_delimited, SCAN_L3, NULL, &a);
    expect_people(&a); /* "id" without the BOM in front */
    assert_string_equal(a.encoding, "utf-8");
    scan_asset_free(&a);

    read_fixture(*state, "utf16le.csv", scan_read_delimited, SCAN_L3, NULL, &a);
    expect_people(&a);
    assert_string_equal(a.encoding, "utf-16le");
    scan_asset_free(&a);

    read_fixture(*state, "utf16be.csv", scan_read_delimited, SCAN_L3, NULL, &a);
    assert_int_equal(a.n_errors, 0);
    assert_string_equal(a.encoding, "utf-16be");
    expect_col(&a, "id", SCAN_TYPE_INTEGER);
    assert_true(has_sample(scan_asset_column(&a, "city"), "Lima"));
    assert_int_equal(a.row_count, 10);
    scan_asset_free(&a);

    read_fixture(*state, "latin1.csv", scan_read_delimited, SCAN_L3, NULL, &a);
    assert_int_equal(a.n_errors, 0);
    assert_string_equal(a.encoding, "latin-1");
    assert_true(has_sample(scan_asset_column(&a, "name"), "Jos\xc3\xa9"));
    assert_true(has_sample(scan_asset_column(&a, "city"), "Qu\xc3\xa9" "bec"));
    scan_asset_free(&a);

    /* Windows-1252 (Python's cp1252 codec): 0x93/0x94 are curly quotes, 0x96 an en dash, 0x80
     * the euro sign — not the C1 controls Latin-1 would make of them. */
    read_fixture(*state, "cp1252.csv", scan_read_delimited, SCAN_L3, NULL, &a);
    print_errors(&a);
    assert_int_equal(a.n_errors, 0);
    assert_string_equal(a.encoding, "windows-1252");
    assert_int_equal(a.row_count, 4);
    assert_true(has_sample(scan_asset_column(&a, "note"),
                           "\xe2\x80\x9c" "best\xe2\x80\x9d \xe2\x80\x93 seller"));
    assert_true(has_sample(scan_asset_column(&a, "note"), "it\xe2\x80\x99s \xe2\x80\x98" "fine"
                                                          "\xe2\x80\x99"));
    assert_true(has_sample(scan_asset_column(&a, "price"), "\xe2\x82\xac" "3.50"));
    assert_true(has_sample(scan_asset_column(&a, "product"), "Caf\xc3\xa9 cr\xc3\xa8me"));
    scan_asset_free(&a);

    /* A byte Windows-1252 leaves undefined (0x81) keeps the file Latin-1, C1 control and all;
     * high bytes without any 0x80-0x9F byte are Latin-1 too (the two agree there). */
    static const struct {
        const char *bytes, *encoding, *cell;
    } bytewise[] = {
        {"a,b\n1,\x80x\x81\n", "latin-1", "\xc2\x80x\xc2\x81"},
        {"a,b\n1,\xe9t\xe9\n", "latin-1", "\xc3\xa9t\xc3\xa9"},
        {"a,b\n1,\x80 \x9f\n", "windows-1252", "\xe2\x82\xac \xc5\xb8"},
    };
    struct scan_limits lim;
    scan_limits_default(&lim);
    for (size_t i = 0; i < sizeof bytewise / sizeof bytewise[0]; i++) {
        scan_asset_init(&a);
        assert_int_equal(scan__delimited_bytes((const unsigned char *)bytewise[i].bytes,
                                               strlen(bytewise[i].bytes), "x.csv", SCAN_L3, &lim,
                                               &a),
                         0);
        assert_string_equal(a.encoding, bytewise[i].encoding);
        assert_true(has_sample(scan_asset_column(&a, "b"), bytewise[i].cell));
        scan_asset_free(&a);
    }
}

static void test_gzip(void **state)
{
    struct scan_asset a;
    read_fixture(*state, "people.csv.gz", scan_read_delimited, SCAN_L3, NULL, &a);
    expect_people(&a);
    assert_string_equal(a.compression, "gzip");
    assert_string_equal(a.format, "csv");
    scan_asset_free(&a);

    read_fixture(*state, "truncated.csv.gz", scan_read_delimited, SCAN_L3, NULL, &a);
    print_errors(&a);
    assert_true(has_error(&a, "truncated gzip"));
    assert_int_equal(a.row_count, -1);
    scan_asset_free(&a);
}

static void test_csv_unbalanced_quote(void **state)
{
    struct scan_asset a;
    read_fixture(*state, "unbalanced.csv", scan_read_delimited, SCAN_L3, NULL, &a);
    print_errors(&a);
    assert_true(has_error(&a, "unterminated quoted field"));
    assert_true(has_error(&a, "line 2"));
    scan_asset_free(&a);
}

/* A sample smaller than the file: the row count comes from the whole-file pass. */
static void test_csv_rowcount_beyond_sample(void **state)
{
    struct scan_limits lim;
    struct scan_asset a;
    scan_limits_default(&lim);
    lim.max_rows = 5;
    lim.max_struct_bytes = 700;
    read_fixture(*state, "people.csv", scan_read_delimited, SCAN_L3, &lim, &a);
    print_errors(&a);
    assert_int_equal(a.n_errors, 0);
    assert_int_equal(a.row_count, 40);
    assert_true(a.cols[0].n_samples <= 5 && a.cols[0].n_samples > 0);
    expect_col(&a, "id", SCAN_TYPE_INTEGER);
    scan_asset_free(&a);
}

static void test_csv_long_line(void **state)
{
    struct scan_limits lim;
    struct scan_asset a;
    size_t n = 2u << 20;
    unsigned char *buf = malloc(n);
    assert_non_null(buf);
    memset(buf, 'a', n);
    scan_limits_default(&lim);
    scan_asset_init(&a);
    assert_int_equal(scan__delimited_bytes(buf, n, "x.csv", SCAN_L3, &lim, &a), 0);
    print_errors(&a);
    assert_true(has_error(&a, "no complete record"));
    assert_int_equal(a.n_cols, 0);
    scan_asset_free(&a);
    free(buf);
}

static void test_csv_many_columns(void **state)
{
    struct scan_limits lim;
    struct scan_asset a;
    size_t cols = 100000, n = 0;
    char *buf = malloc(cols * 2 * 2 + 2);
    assert_non_null(buf);
    for (int row = 0; row < 2; row++) {
        for (size_t j = 0; j < cols; j++) {
            buf[n++] = row == 0 ? 'h' : '1';
            buf[n++] = j + 1 < cols ? ',' : '\n';
        }
    }
    scan_limits_default(&lim);
    scan_asset_init(&a);
    assert_int_equal(scan__delimited_bytes((unsigned char *)buf, n, NULL, SCAN_L3, &lim, &a), 0);
    assert_int_equal(a.n_cols, lim.max_columns);
    assert_true(a.columns_overflowed);
    assert_true(has_error(&a, "more than 4096 columns"));
    scan_asset_free(&a);
    free(buf);
}

static void test_binary_and_bad_utf16(void **state)
{
    struct scan_limits lim;
    struct scan_asset a;
    unsigned char bin[4096];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (unsigned char)(i * 7919u >> 3);
    scan_limits_default(&lim);
    scan_asset_init(&a);
    assert_int_equal(scan__delimited_bytes(bin, sizeof bin, "x.csv", SCAN_L3, &lim, &a), 0);
    assert_true(has_error(&a, "binary content"));
    assert_int_equal(a.n_cols, 0);
    scan_asset_free(&a);

    /* BOM, "a,b\n", a lone high surrogate, then "1,2\n" (UTF-16LE). */
    static const unsigned char u16[] = {0xFF, 0xFE, 'a', 0, ',', 0, 'b', 0, '\n', 0, 0x00, 0xD8,
                                        '1', 0, ',', 0, '2', 0, '\n', 0, 'x'};
    scan_asset_init(&a);
    assert_int_equal(scan__delimited_bytes(u16, sizeof u16, NULL, SCAN_L3, &lim, &a), 0);
    print_errors(&a);
    assert_true(has_error(&a, "invalid UTF-16 surrogate"));
    assert_true(has_error(&a, "odd byte"));
    assert_string_equal(a.encoding, "utf-16le");
    assert_int_equal(a.n_cols, 2);
    scan_asset_free(&a);
}

/* 64 MiB of CSV compressed to ~100 KiB must not be inflated past the 1 MiB sample. */
static void test_gzip_bomb_is_bounded(void **state)
{
    struct scan_limits lim;
    struct scan_asset a;
    z_stream zs;
    size_t out_cap = 1u << 20, chunk = 1u << 16;
    unsigned char *out = malloc(out_cap), *line = malloc(chunk);
    assert_non_null(out);
    assert_non_null(line);
    for (size_t i = 0; i < chunk; i += 8)
        memcpy(line + i, "1,2,3,4\n", 8);
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY),
                     Z_OK);
    zs.next_out = out;
    zs.avail_out = (uInt)out_cap;
    for (int i = 0; i < 1024; i++) {
        zs.next_in = line;
        zs.avail_in = (uInt)chunk;
        assert_int_equal(deflate(&zs, i == 1023 ? Z_FINISH : Z_NO_FLUSH),
                         i == 1023 ? Z_STREAM_END : Z_OK);
    }
    size_t n = out_cap - zs.avail_out;
    deflateEnd(&zs);
    scan_limits_default(&lim);
    scan_asset_init(&a);
    assert_int_equal(scan__delimited_bytes(out, n, "bomb.csv", SCAN_L3, &lim, &a), 0);
    assert_int_equal(a.n_errors, 0);
    assert_string_equal(a.compression, "gzip");
    assert_int_equal(a.n_cols, 4);
    assert_int_equal(a.row_count, -1); /* compressed and not fully read */
    assert_true(a.bytes_read < n);
    scan_asset_free(&a);
    free(out);
    free(line);
}

static void test_cell_types(void **state)
{
    static const struct {
        const char *s;
        enum scan_type t;
    } cases[] = {
        {"0", SCAN_TYPE_INTEGER},           {"-42", SCAN_TYPE_INTEGER},
        {"007", SCAN_TYPE_STRING},          {"3.14", SCAN_TYPE_DECIMAL},
        {"-1e-7", SCAN_TYPE_DECIMAL},       {".5", SCAN_TYPE_DECIMAL},
        {"1.", SCAN_TYPE_DECIMAL},          {"NaN", SCAN_TYPE_DECIMAL},
        {"-inf", SCAN_TYPE_DECIMAL},        {"1e", SCAN_TYPE_STRING},
        {"true", SCAN_TYPE_BOOLEAN},        {"FALSE", SCAN_TYPE_BOOLEAN},
        {"Yes", SCAN_TYPE_BOOLEAN},         {"t", SCAN_TYPE_BOOLEAN}, /* PostgreSQL */
        {"f", SCAN_TYPE_BOOLEAN},           {"T", SCAN_TYPE_STRING},
        {"y", SCAN_TYPE_STRING},            {"tt", SCAN_TYPE_STRING},
        {"2024-02-29", SCAN_TYPE_DATE},     {"2023-02-29", SCAN_TYPE_STRING},
        {"2024/12/31", SCAN_TYPE_DATE},     {"31/12/2024", SCAN_TYPE_DATE},
        {"12/31/2024", SCAN_TYPE_DATE},     {"31.12.2024", SCAN_TYPE_DATE},
        {"2024-13-01", SCAN_TYPE_STRING},   {"2024-01-01T10:00", SCAN_TYPE_TIMESTAMP},
        {"2024-01-01 10:00:59.123456", SCAN_TYPE_TIMESTAMP},
        {"2024-01-01T10:00:00Z", SCAN_TYPE_TIMESTAMP},
        {"2024-01-01T10:00:00+05:30", SCAN_TYPE_TIMESTAMP},
        {"2024-01-01T10:00:00-0800", SCAN_TYPE_TIMESTAMP},
        {"2024-01-01T25:00:00", SCAN_TYPE_STRING},
        {"2024-01-01T10:00:00+", SCAN_TYPE_STRING},
        {" 12 ", SCAN_TYPE_INTEGER},        {"hello", SCAN_TYPE_STRING},
        {"123-45-6789", SCAN_TYPE_STRING},
        /* Times of day (DuckDB's TIME), and what looks like one but is not. */
        {"08:30", SCAN_TYPE_TIME},          {"8:30", SCAN_TYPE_TIME},
        {"23:59:59", SCAN_TYPE_TIME},       {"0:00:00", SCAN_TYPE_TIME},
        {"14:05:00.5", SCAN_TYPE_TIME},     {"23:59:59.999999", SCAN_TYPE_TIME},
        {" 07:15 ", SCAN_TYPE_TIME},        {"25:30:00", SCAN_TYPE_STRING}, /* a duration */
        {"24:00", SCAN_TYPE_STRING},        {"3:1", SCAN_TYPE_STRING},      /* a score */
        {"10:5", SCAN_TYPE_STRING},         {"1.2.3", SCAN_TYPE_STRING},    /* a version */
        {"8h30", SCAN_TYPE_STRING},         {"12:60", SCAN_TYPE_STRING},
        {"23:59:60", SCAN_TYPE_STRING},     {"08:30:00Z", SCAN_TYPE_STRING}, /* DuckDB: text */
        {"08:30 PM", SCAN_TYPE_STRING},     {"08:30:", SCAN_TYPE_STRING},
        {"08:30:00.", SCAN_TYPE_STRING},    {"08:30:00,5", SCAN_TYPE_STRING},
        {"123:45", SCAN_TYPE_STRING},       {":30", SCAN_TYPE_STRING},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned m = scan__cell_mask(cases[i].s, strlen(cases[i].s));
        enum scan_type t = scan__mask_type(SCAN__T_ALL & m, 1);
        if (t != cases[i].t)
            fail_msg("'%s': %s, expected %s", cases[i].s, scan_type_name(t),
                     scan_type_name(cases[i].t));
    }
    /* Widening: integers and decimals make decimal; dates and timestamps make timestamp. */
    unsigned m = scan__cell_mask("1", 1) & scan__cell_mask("2.5", 3);
    assert_int_equal(scan__mask_type(m, 2), SCAN_TYPE_DECIMAL);
    m = scan__cell_mask("2024-01-01", 10) & scan__cell_mask("2024-01-01 10:00", 16);
    assert_int_equal(scan__mask_type(m, 2), SCAN_TYPE_TIMESTAMP);
    assert_int_equal(scan__mask_type(SCAN__T_ALL, 0), SCAN_TYPE_NULL);
    /* A time is no timestamp: a column of both is text. */
    m = scan__cell_mask("10:00", 5) & scan__cell_mask("2024-01-01 10:00", 16);
    assert_int_equal(scan__mask_type(m, 2), SCAN_TYPE_STRING);
    assert_string_equal(scan_type_name(SCAN_TYPE_TIME), "time");
    /* Numbers written for people: strings, but the sniffer's sign of a right split. */
    static const struct {
        const char *s;
        bool like;
    } numlike[] = {
        {"1,234", true},     {"-1,234,567.89", true}, {"1.234.567", true}, {"1.234,5", true},
        {"3,25", true},      {"-999,00", true},       {"1.234", false},    {"1234", false},
        {"12,34,56", false}, {"1,2345", true},        {"1234,567.8", false}, {"1,234.", false},
        {"a,5", false},      {",5", false},           {"5,", false},       {"1,234.5x", false},
    };
    for (size_t i = 0; i < sizeof numlike / sizeof numlike[0]; i++)
        if (scan__number_like(numlike[i].s, strlen(numlike[i].s)) != numlike[i].like)
            fail_msg("number_like('%s') != %d", numlike[i].s, numlike[i].like);
    assert_true(scan__time_like("23:59", 5));
    assert_true(scan__time_like(" 08:15:30.25 ", 13));
    assert_true(scan__time_like("08:15:30+02:00", 14));
    assert_false(scan__time_like("24:00", 5));
    assert_false(scan__time_like("8:15", 4));
    assert_false(scan__time_like("2024-01-01 08:15", 16));
    /* JSON strings: only dates, timestamps and times are recognised (DuckDB's read_json types
     * "09:30:00" TIME too). */
    assert_int_equal(scan__string_mask("123", 3), 0);
    assert_int_equal(scan__string_mask("3:1", 3), 0);
    assert_int_equal(scan__mask_type(scan__string_mask("2024-01-01", 10), 1), SCAN_TYPE_DATE);
    assert_int_equal(scan__mask_type(scan__string_mask("09:30", 5), 1), SCAN_TYPE_TIME);
    assert_int_equal(scan__mask_type(scan__string_mask("23:59:59.5", 10), 1), SCAN_TYPE_TIME);
    static const char jl[] = "{\"t\": \"09:30:00\", \"d\": \"25:30:00\"}\n"
                             "{\"t\": \"14:05\", \"d\": \"01:00:00\"}\n";
    struct scan_limits lim;
    struct scan_asset a;
    scan_limits_default(&lim);
    scan_asset_init(&a);
    assert_int_equal(scan__json_bytes((const unsigned char *)jl, sizeof jl - 1, SCAN_L2, &lim, &a),
                     0);
    expect_col(&a, "t", SCAN_TYPE_TIME);
    expect_col(&a, "d", SCAN_TYPE_STRING); /* a duration past 23 hours */
    scan_asset_free(&a);
}

static void expect_records(struct scan_asset *a)
{
    print_errors(a);
    assert_int_equal(a->n_errors, 0);
    assert_int_equal(a->row_count, 25);
    expect_col(a, "id", SCAN_TYPE_INTEGER);
    expect_col(a, "name", SCAN_TYPE_STRING);
    expect_col(a, "active", SCAN_TYPE_BOOLEAN);
    expect_col(a, "balance", SCAN_TYPE_DECIMAL);
    expect_col(a, "joined", SCAN_TYPE_DATE);
    expect_col(a, "last_login", SCAN_TYPE_TIMESTAMP);
    expect_col(a, "address", SCAN_TYPE_STRUCT);
    expect_col(a, "address.city", SCAN_TYPE_STRING);
    expect_col(a, "address.geo.lat", SCAN_TYPE_DECIMAL);
    expect_col(a, "tags", SCAN_TYPE_ARRAY);
    expect_col(a, "tags[]", SCAN_TYPE_STRING);
    expect_col(a, "orders[].sku", SCAN_TYPE_STRING);
    expect_col(a, "orders[].qty", SCAN_TYPE_INTEGER);
    expect_col(a, "manager", SCAN_TYPE_NULL);
}

static void test_json(void **state)
{
    struct scan_asset a;
    read_fixture(*state, "records.json", scan_read_json, SCAN_L3, NULL, &a);
    expect_records(&a);
    assert_string_equal(a.format, "json");
    assert_true(has_sample(scan_asset_column(&a, "address.city"), "Lima"));
    assert_true(has_sample(scan_asset_column(&a, "id"), "25"));
    scan_asset_free(&a);

    read_fixture(*state, "records.jsonl", scan_read_json, SCAN_L3, NULL, &a);
    expect_records(&a);
    assert_string_equal(a.format, "jsonl");
    scan_asset_free(&a);

    read_fixture(*state, "records.jsonl.gz", scan_read_json, SCAN_L2, NULL, &a);
    expect_records(&a);
    assert_string_equal(a.format, "jsonl");
    assert_string_equal(a.compression, "gzip");
    assert_int_equal(scan_asset_column(&a, "id")->n_samples, 0);
    scan_asset_free(&a);

    read_fixture(*state, "multi.jsonl.gz", scan_read_json, SCAN_L2, NULL, &a);
    expect_records(&a); /* both gzip members were read */
    scan_asset_free(&a);

    read_fixture(*state, "single.json", scan_read_json, SCAN_L3, NULL, &a);
    assert_int_equal(a.n_errors, 0);
    assert_string_equal(a.format, "json");
    assert_int_equal(a.row_count, 1);
    expect_col(&a, "owner.email", SCAN_TYPE_STRING);
    expect_col(&a, "version", SCAN_TYPE_INTEGER);
    expect_col(&a, "enabled", SCAN_TYPE_BOOLEAN);
    scan_asset_free(&a);
}

static void test_json_malformed(void **state)
{
    struct scan_asset a;
    read_fixture(*state, "truncated.json", scan_read_json, SCAN_L3, NULL, &a);
    print_errors(&a);
    assert_true(a.n_errors >= 1);
    assert_int_equal(a.row_count, -1);
    assert_non_null(scan_asset_column(&a, "id")); /* the complete first records were read */
    scan_asset_free(&a);

    read_fixture(*state, "bad.jsonl", scan_read_json, SCAN_L3, NULL, &a);
    print_errors(&a);
    assert_string_equal(a.format, "jsonl");
    assert_int_equal(a.n_errors, 1);
    assert_true(has_error(&a, "line 4"));
    assert_int_equal(a.row_count, 6);
    expect_col(&a, "id", SCAN_TYPE_INTEGER);
    scan_asset_free(&a);
}

static void test_json_sample_cut_and_depth(void **state)
{
    struct scan_limits lim;
    struct scan_asset a;
    char *buf = malloc(1u << 21);
    size_t n = 0;
    assert_non_null(buf);
    buf[n++] = '[';
    for (int i = 0; n < (1u << 21) - 100; i++)
        n += (size_t)snprintf(buf + n, 100, "%s{\"k\": %d, \"v\": \"2024-01-0%d\"}", i ? "," : "",
                              i, 1 + i % 9);
    buf[n++] = ']';
    scan_limits_default(&lim);
    scan_asset_init(&a);
    assert_int_equal(scan__json_bytes((unsigned char *)buf, n, SCAN_L3, &lim, &a), 0);
    print_errors(&a);
    assert_int_equal(a.n_errors, 0);
    assert_int_equal(a.row_count, -1);
    expect_col(&a, "k", SCAN_TYPE_INTEGER);
    expect_col(&a, "v", SCAN_TYPE_DATE);
    assert_int_equal(a.cols[0].n_samples, lim.max_rows);
    scan_asset_free(&a);

    n = (size_t)snprintf(buf, 100, "{\"deep\": ");
    for (int i = 0; i < 200; i++)
        buf[n++] = '[';
    for (int i = 0; i < 200; i++)
        buf[n++] = ']';
    buf[n++] = '}';
    scan_asset_init(&a);
    assert_int_equal(scan__json_bytes((unsigned char *)buf, n, SCAN_L3, &lim, &a), 0);
    assert_true(has_error(&a, "nesting deeper"));
    scan_asset_free(&a);
    free(buf);
}

static void test_text(void **state)
{
    struct scan_limits lim;
    struct scan_asset a;
    read_fixture(*state, "app.log", scan_read_text, SCAN_L3, NULL, &a);
    assert_int_equal(a.n_errors, 0);
    assert_string_equal(a.format, "text");
    assert_string_equal(a.encoding, "utf-8");
    assert_non_null(a.text);
    assert_int_equal(a.text_len, a.bytes_read);
    assert_non_null(strstr(a.text, "user7@example.org"));
    scan_asset_free(&a);

    scan_limits_default(&lim);
    lim.max_doc_bytes = 100;
    read_fixture(*state, "app.log", scan_read_text, SCAN_L3, &lim, &a);
    assert_int_equal(a.text_len, 100);
    assert_int_equal(strlen(a.text), 100);
    scan_asset_free(&a);

    read_fixture(*state, "utf16le.csv", scan_read_text, SCAN_L3, NULL, &a);
    assert_string_equal(a.encoding, "utf-16le");
    assert_non_null(strstr(a.text, "ana.0@example.org"));
    scan_asset_free(&a);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
        return 2;
    }
    void *dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_csv_people, dir),
        cmocka_unit_test_prestate(test_csv_level2_has_no_samples, dir),
        cmocka_unit_test_prestate(test_dialects, dir),
        cmocka_unit_test_prestate(test_csv_no_header, dir),
        cmocka_unit_test(test_csv_no_header_wide),
        cmocka_unit_test_prestate(test_head_served_from_memory, dir),
        cmocka_unit_test_prestate(test_csv_all_string_header, dir),
        cmocka_unit_test(test_dialect_corpus),
        cmocka_unit_test(test_dialect_hand_cases),
        cmocka_unit_test(test_dialect_late_quotes),
        cmocka_unit_test_prestate(test_dialect_duckdb, dir),
        cmocka_unit_test_prestate(test_dialect_writers, dir),
        cmocka_unit_test_prestate(test_encodings, dir),
        cmocka_unit_test_prestate(test_gzip, dir),
        cmocka_unit_test_prestate(test_csv_unbalanced_quote, dir),
        cmocka_unit_test_prestate(test_csv_rowcount_beyond_sample, dir),
        cmocka_unit_test(test_csv_long_line),
        cmocka_unit_test(test_csv_many_columns),
        cmocka_unit_test(test_binary_and_bad_utf16),
        cmocka_unit_test(test_gzip_bomb_is_bounded),
        cmocka_unit_test(test_cell_types),
        cmocka_unit_test_prestate(test_json, dir),
        cmocka_unit_test_prestate(test_json_malformed, dir),
        cmocka_unit_test(test_json_sample_cut_and_depth),
        cmocka_unit_test_prestate(test_text, dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
