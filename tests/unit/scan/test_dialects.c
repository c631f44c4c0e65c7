/* Table-driven dialect corpus for the delimited reader (scan/formats/delimited.c, step 1 and 3):
 * every delimiter (comma, semicolon, tab, pipe) × header / no header × file name (the matching
 * extension, a misleading ".csv", none), over rows whose quoted text holds the other candidate
 * delimiters and doubled quotes — the cases issue 14 found mis-read. The files are rendered
 * below following RFC 4180 (quote a field holding the delimiter, a quote or a line break; double
 * the quotes inside); the expected reading is DuckDB's: the true delimiter, the header only when
 * there is one, headerless columns named column0, column1, ... A second table holds hand-written
 * files for the other quote/escape rules (single quotes, backslash escapes, quoted line breaks).
 * Third, test_dialect_duckdb reads tests/fixtures/formats/dialects/ (written by Python's csv
 * module and printf) and compares every file with DuckDB 1.5.6's sniff_csv answer recorded in
 * duckdb.tsv by that directory's generate.sh (DuckDB comes from the npm registry there; it has
 * no Debian package, so it is not run by the test itself). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan/formats/formats.h"
#include "test_dialects.h"

#define NROWS 14

static const char *const header[] = {"id", "label", "amount", "day", "flag"};
static const enum scan_type types[] = {SCAN_TYPE_INTEGER, SCAN_TYPE_STRING, SCAN_TYPE_DECIMAL,
                                       SCAN_TYPE_DATE, SCAN_TYPE_BOOLEAN};
#define NCOLS (sizeof header / sizeof header[0])

/* The label of row i: every few rows one holds a comma, a semicolon, a pipe or a tab, and
 * doubled quotes, like `Item, "quoted" 7`. */
static void label(size_t i, char *buf, size_t cap)
{
    switch (i % 5) {
    case 0: snprintf(buf, cap, "Item, \"quoted\" %zu", i); break;
    case 1: snprintf(buf, cap, "semi; colon %zu", i); break;
    case 2: snprintf(buf, cap, "pipe | bar %zu", i); break;
    case 3: snprintf(buf, cap, "tab\there %zu", i); break;
    default: snprintf(buf, cap, "plain %zu", i); break;
    }
}

struct out {
    char *p;
    size_t n, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->n + n + 1 > o->cap) {
        o->cap = (o->n + n + 1) * 2;
        o->p = realloc(o->p, o->cap);
        assert_non_null(o->p);
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = '\0';
}

/* RFC 4180 rendering of one field for delimiter d. */
static void put_field(struct out *o, const char *s, char d)
{
    if (!strchr(s, d) && !strchr(s, '"') && !strchr(s, '\n')) {
        put(o, s, strlen(s));
        return;
    }
    put(o, "\"", 1);
    for (; *s; s++) {
        put(o, s, 1);
        if (*s == '"')
            put(o, "\"", 1); /* doubled */
    }
    put(o, "\"", 1);
}

static void render(struct out *o, char d, bool with_header)
{
    char buf[64];
    if (with_header)
        for (size_t j = 0; j < NCOLS; j++) {
            put_field(o, header[j], d);
            put(o, j + 1 < NCOLS ? &d : "\n", 1);
        }
    for (size_t i = 0; i < NROWS; i++) {
        const char *cells[NCOLS];
        char id[16], amount[16], day[16];
        snprintf(id, sizeof id, "%zu", i + 1);
        label(i, buf, sizeof buf);
        snprintf(amount, sizeof amount, "%s%zu.%02zu", i % 3 ? "" : "-", i * 7, i * 13 % 100);
        snprintf(day, sizeof day, "2024-0%zu-%02zu", i % 9 + 1, i + 1);
        cells[0] = id;
        cells[1] = buf;
        cells[2] = amount;
        cells[3] = day;
        cells[4] = i % 2 ? "true" : "false";
        for (size_t j = 0; j < NCOLS; j++) {
            put_field(o, cells[j], d);
            put(o, j + 1 < NCOLS ? &d : "\n", 1);
        }
    }
}

static const char *format_of(char d)
{
    switch (d) {
    case '\t': return "tsv";
    case '|': return "psv";
    case ';': return "ssv";
    default: return "csv";
    }
}

void test_dialect_corpus(void **state)
{
    static const char delims[] = {',', ';', '\t', '|'};
    (void)state;
    struct scan_limits lim;
    scan_limits_default(&lim);
    for (size_t di = 0; di < sizeof delims; di++) {
        char d = delims[di];
        const char *match = d == ',' ? "data.csv" : d == ';' ? "data.ssv" : d == '\t' ? "data.tsv"
                                                                                  : "data.psv";
        const char *const names[] = {match, "misleading.csv", NULL, "data.txt"};
        for (int h = 0; h < 2; h++) {
            struct out o = {0};
            render(&o, d, h == 1);
            for (size_t ni = 0; ni < sizeof names / sizeof names[0]; ni++) {
                struct scan_asset a;
                char want[32];
                printf("  delimiter %s, %s, name %s\n", format_of(d), h ? "header" : "no header",
                       names[ni] ? names[ni] : "(none)");
                scan_asset_init(&a);
                assert_int_equal(scan__delimited_bytes((const unsigned char *)o.p, o.n,
                                                       names[ni], SCAN_L3, &lim, &a),
                                 0);
                for (size_t k = 0; k < a.n_errors; k++)
                    printf("    error: %s\n", a.errors[k]);
                assert_int_equal(a.n_errors, 0);
                assert_string_equal(a.format, format_of(d));
                assert_int_equal(a.n_cols, NCOLS);
                for (size_t j = 0; j < NCOLS; j++) {
                    if (h)
                        snprintf(want, sizeof want, "%s", header[j]);
                    else
                        snprintf(want, sizeof want, "column%zu", j);
                    assert_string_equal(a.cols[j].name, want);
                    if (a.cols[j].type != types[j])
                        fail_msg("column %s: %s, expected %s", want,
                                 scan_type_name(a.cols[j].type), scan_type_name(types[j]));
                }
                assert_int_equal(a.row_count, NROWS);
                /* The label's doubled quotes and delimiters come back unescaped. */
                bool found = false;
                for (size_t k = 0; k < a.cols[1].n_samples; k++)
                    found |= strcmp(a.cols[1].samples[k], "Item, \"quoted\" 5") == 0;
                assert_true(found);
                assert_int_equal(a.cols[1].n_samples, NROWS);
                scan_asset_free(&a);
            }
            free(o.p);
        }
    }
}

/* Hand-written files for the other quote and escape rules. */
struct hand_case {
    const char *what, *name, *text;
    const char *format;
    size_t ncols;
    const char *col0;        /* name of the first column */
    const char *sample1;     /* a sample column 1 must hold, unescaped */
    int64_t rows;
};

static const struct hand_case hand[] = {
    {"single quotes holding commas", "q.csv",
     "1,'a, b',2.5\n2,'c, d',3.5\n3,'e, f',4.5\n4,'g',5.5\n", "csv", 3, "column0", "a, b", 4},
    {"backslash-escaped quotes", "b.csv",
     "id,text\n1,\"say \\\"hi\\\", ok\"\n2,\"x \\\"y\\\", z\"\n3,\"plain, text\"\n", "csv", 2,
     "id", "say \"hi\", ok", 3},
    {"quoted line breaks, no header", NULL,
     "1;\"two\nlines; here\";x\n2;\"a;b\";y\n3;\"c\";z\n4;\"\"\"q\"\"\";w\n", "ssv", 3, "column0",
     "two\nlines; here", 4},
    {"header of strings over typed columns, pipes in quotes", "p.txt",
     "name|score\n\"a|b\"|1\n\"c|d\"|2\n\"e\"|3\n", "psv", 2, "name", "2", 3},
    {"semicolons with decimal commas in a .csv", "eu.csv",
     "id;price;city\n1;\"1,50\";Köln\n2;\"2,75\";Berlin, Mitte\n3;\"3,00\";Graz\n", "ssv", 3,
     "id", "2,75", 3},
};

void test_dialect_hand_cases(void **state)
{
    (void)state;
    struct scan_limits lim;
    scan_limits_default(&lim);
    for (size_t i = 0; i < sizeof hand / sizeof hand[0]; i++) {
        const struct hand_case *c = &hand[i];
        struct scan_asset a;
        printf("  %s\n", c->what);
        scan_asset_init(&a);
        assert_int_equal(scan__delimited_bytes((const unsigned char *)c->text, strlen(c->text),
                                               c->name, SCAN_L3, &lim, &a),
                         0);
        for (size_t k = 0; k < a.n_errors; k++)
            printf("    error: %s\n", a.errors[k]);
        assert_int_equal(a.n_errors, 0);
        assert_string_equal(a.format, c->format);
        assert_int_equal(a.n_cols, c->ncols);
        assert_string_equal(a.cols[0].name, c->col0);
        bool found = false;
        for (size_t k = 0; k < a.cols[1].n_samples; k++)
            found |= strcmp(a.cols[1].samples[k], c->sample1) == 0;
        if (!found)
            fail_msg("no sample '%s' in column 1", c->sample1);
        assert_int_equal(a.row_count, c->rows);
        scan_asset_free(&a);
    }
}

/* The quote or escape decided past the sniffing window (delimited.c's sniff): 300 rows
 * `id,name,amount` under a header, no quote before line `at` but the names `early` at lines 3
 * and 10; from `at` every 10th name is `late` as written. */
struct late_case {
    const char *what;
    size_t at;
    const char *late;
    const char *early[2];
    char quote, escape;
    const char *sample; /* a name read back (NULL: the line is past the sampled rows) */
};

static const struct late_case late[] = {
    {"' opens a field at line 65", 65, "'Lee, Ann'", {NULL}, '\'', '\'', "Lee, Ann"},
    {"' around a line break at line 250", 250, "'Lee,\nAnn'", {NULL}, '\'', '\'', NULL},
    {"\" with backslash escapes at line 100", 100, "\"say \\\"hi\\\", Ann\"", {NULL}, '"',
     '\\', "say \"hi\", Ann"},
    {"' opening words, not fields", 70, "'tis Ann", {NULL}, '"', '"', "'tis Ann"},
    {"an unquoted O'Brien first: ' is data", 70, "'Lee Ann'", {"O'Brien"}, '"', '"',
     "'Lee Ann'"},
    {"the window quotes with \" (after a raw \" inside a field): a later ' does not count",
     150, "'Kim Li'", {"5\" screen", "\"Lee, Ann\""}, '"', '"', "Lee, Ann"},
    {"\" fields from line 10, the first backslash-escaped quote at line 100", 100,
     "\"say \\\"hi\\\", Ann\"", {NULL, "\"Lee, Ann\""}, '"', '\\', "say \"hi\", Ann"},
    {"\" fields from line 10, a backslash before a doubled quote at line 100 is data", 100,
     "\"5\\\"\" screen\"", {NULL, "\"Lee, Ann\""}, '"', '"', "5\\\" screen"},
    {"no quote at all", 0, NULL, {NULL}, '"', '"', NULL},
};

void test_dialect_late_quotes(void **state)
{
    (void)state;
    struct scan_limits lim;
    scan_limits_default(&lim);
    for (size_t i = 0; i < sizeof late / sizeof late[0]; i++) {
        const struct late_case *c = &late[i];
        struct out o = {0};
        char line[96];
        printf("  %s\n", c->what);
        put(&o, "id,name,amount\n", 15);
        for (size_t r = 0; r < 300; r++) {
            size_t ln = r + 2;
            bool quoted = c->late && ln >= c->at && (ln - c->at) % 10 == 0;
            const char *early = ln == 3 ? c->early[0] : ln == 10 ? c->early[1] : NULL;
            int k = snprintf(line, sizeof line, "%zu,%s,%zu.5\n", r + 1,
                             quoted ? c->late : early ? early : "Name", r * 3);
            put(&o, line, (size_t)k);
        }
        struct scan_asset a;
        struct scan__delim_info in;
        scan_asset_init(&a);
        assert_int_equal(scan__delimited_bytes_info((const unsigned char *)o.p, o.n, "late.csv",
                                                    SCAN_L3, &lim, &a, &in),
                         0);
        for (size_t k = 0; k < a.n_errors; k++)
            printf("    error: %s\n", a.errors[k]);
        assert_int_equal(a.n_errors, 0);
        if (in.quote != c->quote || in.escape != c->escape)
            fail_msg("quote %c escape %c, expected %c %c", in.quote, in.escape, c->quote,
                     c->escape);
        assert_int_equal(a.n_cols, 3);
        assert_int_equal(a.cols[2].type, SCAN_TYPE_DECIMAL);
        assert_int_equal(a.row_count, 300);
        bool found = c->sample == NULL;
        for (size_t k = 0; !found && k < a.cols[1].n_samples; k++)
            found = strcmp(a.cols[1].samples[k], c->sample) == 0;
        if (!found)
            fail_msg("no sample '%s' in name", c->sample);
        scan_asset_free(&a);
        free(o.p);
    }
}

/* DuckDB type names to ours. */
static enum scan_type duck_type(const char *t, size_t n)
{
    static const struct {
        const char *duck;
        enum scan_type ours;
    } map[] = {{"BIGINT", SCAN_TYPE_INTEGER},   {"DOUBLE", SCAN_TYPE_DECIMAL},
               {"DATE", SCAN_TYPE_DATE},        {"BOOLEAN", SCAN_TYPE_BOOLEAN},
               {"VARCHAR", SCAN_TYPE_STRING},   {"TIMESTAMP", SCAN_TYPE_TIMESTAMP},
               {"TIME", SCAN_TYPE_TIME}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i].duck) == n && memcmp(map[i].duck, t, n) == 0)
            return map[i].ours;
    fail_msg("unknown DuckDB type %.*s", (int)n, t);
    return SCAN_TYPE_UNKNOWN;
}

/* A file DuckDB reads wrongly or cannot read ("error: ..." in duckdb.tsv), with the reading we
 * keep instead (same columns as duckdb.tsv; rows NULL: not checked). */
struct duck_override {
    const char *file, *delimiter, *header, *columns, *rows, *why;
};

static const struct duck_override corpus_wrong[] = {
    {"strings_noheader.txt", ";", "false", "column0:VARCHAR,column1:VARCHAR,column2:VARCHAR", NULL,
     "DuckDB splits on the commas inside the quoted fields and takes ' as the quote"},
    {"escaped_delimiter.txt", ",", "false", "column0:DATE,column1:VARCHAR,column2:BIGINT", "8",
     "Python's QUOTE_NONE + escapechar wrote the comma inside each value as \\,; DuckDB splits "
     "there"},
    {"escaped_newline.txt", "|", "true", "note:VARCHAR,id:BIGINT,day:DATE", "8",
     "each value's line break is escaped by a backslash; DuckDB splits every row in two and "
     "finds no delimiter"},
    {"escaped_quote.txt", "\\t", "true", "id:BIGINT,name:VARCHAR,note:VARCHAR", "8",
     "Python's csv with quotechar ' and an escapechar wrote O'Brien as O\\'Brien; DuckDB "
     "keeps the backslash (no escape), we read O'Brien"},
    {"escaped_apostrophe.txt", "|", "true", "id:BIGINT,name:VARCHAR,amount:DOUBLE", "8",
     "as escaped_quote.txt, without any \" in the file: DuckDB keeps O\\'Brien"},
    {"late_quote_single_end.csv.gz", ",", "true", "id:BIGINT,name:VARCHAR,amount:DOUBLE,day:DATE",
     "34800", "the first quoted field (' around a line break) is 40 lines before the end of "
     "~1 MB: past DuckDB's sample, which fails there; we look for the first quote that opens "
     "a field past the sniffing window"},
    {"late_quote_double_end.csv.gz", ",", "true", "id:BIGINT,name:VARCHAR,amount:DOUBLE,day:DATE",
     "34800", "as late_quote_single_end.csv.gz, quoted with \" and backslash escapes"},
};

static const struct duck_override writers_wrong[] = {
    {"mariadb_outfile.txt", "\\t", "false",
     "column0:BIGINT,column1:VARCHAR,column2:DOUBLE,column3:DATE,column4:TIMESTAMP,"
     "column5:BIGINT,column6:VARCHAR", "20",
     "DuckDB cannot sniff it: a tab inside a value is written as a backslash and a tab"},
    {"py_escapechar.csv", ",", "true",
     "id:BIGINT,label:VARCHAR,amount:DOUBLE,day:DATE,seen_at:TIMESTAMP,active:BOOLEAN,"
     "note:VARCHAR", "20",
     "DuckDB cannot sniff it: no quotes, delimiters and quotes escaped by backslashes"},
    {"psql_unaligned.txt", "|", "true",
     "id:BIGINT,label:VARCHAR,amount:DOUBLE,day:DATE,seen_at:TIMESTAMP,active:BOOLEAN,"
     "note:VARCHAR", "22",
     "DuckDB cannot sniff it: psql -A quotes nothing (a '|' or a line break inside a value "
     "splits it: 2 more rows) and ends with a \"(20 rows)\" footer, which is not a row"},
    {"sqlite_list.txt", "|", "true",
     "id:BIGINT,label:VARCHAR,amount:DOUBLE,day:DATE,seen_at:TIMESTAMP,active:BIGINT,"
     "note:VARCHAR", "22",
     "DuckDB cannot sniff it: sqlite3's list mode quotes nothing (a '|' or a line break inside "
     "a value splits it: 2 more rows)"},
    {"sqlite_tabs.tsv", "\\t", "true",
     "id:BIGINT,label:VARCHAR,amount:DOUBLE,day:DATE,seen_at:TIMESTAMP,active:BIGINT,"
     "note:VARCHAR", "22",
     "DuckDB cannot sniff it: sqlite3 writes a tab or a line break inside a value as it is, so "
     "rows split (we report them and type the columns without them)"},
};

static char *slurp(const char *path, size_t *n)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    char *b = malloc((size_t)st.st_size + 1);
    assert_non_null(b);
    assert_int_equal(read(fd, b, (size_t)st.st_size), st.st_size);
    close(fd);
    b[st.st_size] = '\0';
    *n = (size_t)st.st_size;
    return b;
}

/* Whether our quote and escape agree with DuckDB's (its "(empty)" quote: nothing quoted, any
 * quote of ours reads the same; its "(empty)" or doubled escape: ours doubles too). */
static bool same_quoting(const struct scan__delim_info *in, const char *quote, const char *esc)
{
    if (strcmp(quote, "(empty)") != 0 && (strlen(quote) != 1 || quote[0] != in->quote))
        return false;
    if (strcmp(esc, "\\") == 0)
        return in->escape == '\\';
    return in->escape == in->quote;
}

/* Compare our reading of every file of `dir`/`sub` with duckdb.tsv there: delimiter, quote and
 * escape, header, column names and types, and (a 7th field, when recorded) the row count. */
static size_t compare_duckdb(const char *dir, const char *sub, const struct duck_override *wrong,
                             size_t nwrong)
{
    char path[4096];
    size_t tn, files = 0;
    struct scan_limits lim;
    scan_limits_default(&lim);
    snprintf(path, sizeof path, "%s/%s/duckdb.tsv", dir, sub);
    char *tsv = slurp(path, &tn);
    char *save = NULL;
    for (char *line = strtok_r(tsv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        char *f[7], *sv = NULL;
        size_t nf = 0;
        for (char *t = strtok_r(line, "\t", &sv); t && nf < 7; t = strtok_r(NULL, "\t", &sv))
            f[nf++] = t;
        const char *delim = nf > 1 ? f[1] : "", *hdr = nf > 4 ? f[4] : "",
                   *columns = nf > 5 ? f[5] : "", *rows = nf > 6 ? f[6] : NULL;
        bool overridden = false;
        for (size_t i = 0; i < nwrong; i++)
            if (strcmp(wrong[i].file, f[0]) == 0) {
                printf("  %s: DuckDB says %s%s%s%s%s; we keep '%s', %s, %s (%s)\n", f[0], delim,
                       nf > 4 ? ", header " : "", hdr, nf > 5 ? ", " : "", columns,
                       wrong[i].delimiter, wrong[i].header, wrong[i].columns, wrong[i].why);
                delim = wrong[i].delimiter;
                hdr = wrong[i].header;
                columns = wrong[i].columns;
                rows = wrong[i].rows;
                overridden = true;
            }
        if (!overridden && nf < 6)
            fail_msg("%s: DuckDB could not read it (%s) and no reading of ours is listed", f[0],
                     nf > 1 ? f[1] : "?");
        size_t n;
        snprintf(path, sizeof path, "%s/%s/%s", dir, sub, f[0]);
        char *text = slurp(path, &n);
        struct scan_asset a;
        struct scan__delim_info in;
        scan_asset_init(&a);
        assert_int_equal(scan__delimited_bytes_info((const unsigned char *)text, n, f[0],
                                                    SCAN_L2, &lim, &a, &in),
                         0);
        char d = strcmp(delim, "\\t") == 0 ? '\t' : delim[0];
        if (strcmp(a.format, format_of(d)) != 0)
            fail_msg("%s: format %s, DuckDB's delimiter '%s'", f[0], a.format, delim);
        if (!overridden && !same_quoting(&in, f[2], f[3]))
            fail_msg("%s: quote %c escape %c, DuckDB's %s and %s", f[0], in.quote, in.escape,
                     f[2], f[3]);
        size_t j = 0;
        for (const char *c = columns; *c; j++) {
            /* A name may hold a comma (not a colon): the type ends at the next comma. */
            const char *colon = strchr(c, ':');
            assert_non_null(colon);
            const char *end = strchr(colon, ',');
            if (!end)
                end = c + strlen(c);
            if (j >= a.n_cols)
                fail_msg("%s: %zu columns, DuckDB has more", f[0], a.n_cols);
            if (strlen(a.cols[j].name) != (size_t)(colon - c) ||
                memcmp(a.cols[j].name, c, (size_t)(colon - c)) != 0)
                fail_msg("%s: column %zu is %s, DuckDB's %.*s (header %s)", f[0], j,
                         a.cols[j].name, (int)(colon - c), c, hdr);
            enum scan_type want = duck_type(colon + 1, (size_t)(end - colon - 1));
            if (a.cols[j].type != want)
                fail_msg("%s: column %s is %s, DuckDB's %s", f[0], a.cols[j].name,
                         scan_type_name(a.cols[j].type), scan_type_name(want));
            c = *end ? end + 1 : end;
        }
        if (j != a.n_cols)
            fail_msg("%s: %zu columns, DuckDB %zu", f[0], a.n_cols, j);
        if (rows && a.row_count != strtoll(rows, NULL, 10))
            fail_msg("%s: %lld rows, DuckDB %s", f[0], (long long)a.row_count, rows);
        scan_asset_free(&a);
        free(text);
        files++;
    }
    free(tsv);
    printf("  %zu files of %s/ read as DuckDB reads them (or better, listed above)\n", files, sub);
    return files;
}

/* A value of `column` in `dir`/`sub`/`file`, read at L3, must be among its samples. */
static void expect_sample(const char *dir, const char *sub, const char *file, const char *column,
                          const char *sample)
{
    char path[4096];
    size_t n;
    struct scan_limits lim;
    struct scan_asset a;
    scan_limits_default(&lim);
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, file);
    char *text = slurp(path, &n);
    scan_asset_init(&a);
    assert_int_equal(
        scan__delimited_bytes((const unsigned char *)text, n, file, SCAN_L3, &lim, &a), 0);
    struct scan_column *c = scan_asset_column(&a, column);
    bool found = false;
    for (size_t k = 0; c && k < c->n_samples; k++)
        found |= strcmp(c->samples[k], sample) == 0;
    if (!found)
        fail_msg("%s: no sample '%s' in %s", file, sample, column);
    scan_asset_free(&a);
    free(text);
}

void test_dialect_duckdb(void **state)
{
    /* Values the quoting or escaping of the campaign's files (generate.sh) must give back. */
    static const struct {
        const char *file, *column, *sample;
    } samples[] = {
        {"single_quote_text.txt", "label", "O'Brien"},       /* 'O''Brien' */
        {"single_quote_text.txt", "label", "\"Ana\" 0"},     /* " unquoted is data */
        {"single_quote_doubled.txt", "name", "O'Brien"},      /* 'O''Brien' */
        {"single_quote_lines.txt", "column1", "Ana\nline 0"}, /* quoted line break */
        {"escaped_delimiter.txt", "column1", "1,000.50"},    /* 1\,000.50 */
        {"escaped_newline.txt", "note", "Ana\nline 0"},      /* Ana\<LF>line 0 */
        {"escaped_quote.txt", "name", "O'Brien"},            /* O\'Brien */
        {"escaped_quote.txt", "note", "say \"hi\""},
        {"escaped_apostrophe.txt", "name", "O'Brien"},       /* O\'Brien */
        /* The first quoted field past the sniffing window (line 65 and 200). */
        {"late_quote_single_65.txt", "name", "O'Brien, Jr. 63"},
        {"late_quote_double_65.txt", "name", "Ana, \"Jr.\" 63"},
        {"late_escape_80.txt", "name", "say \"hi\", Ann 78\nsecond line"},
        {"late_escape_80.txt", "name", "say \"hi\", Ann 87"},
        {"times_header.txt", "at", "00:00:00.000"},
    };
    assert_true(compare_duckdb(*state, "dialects", corpus_wrong,
                               sizeof corpus_wrong / sizeof corpus_wrong[0]) >= 34);
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
        expect_sample(*state, "dialects", samples[i].file, samples[i].column, samples[i].sample);
}

/* Files of other writers (writers/generate.sh): pandas, LibreOffice, PostgreSQL COPY (csv and
 * text, psql --csv and -A), MariaDB INTO OUTFILE (default and enclosed) and mariadb -B, sqlite3
 * (csv, tabs, list, quote), jq (@csv, @tsv), LibreOffice (comma; semicolon, text quoted) and
 * gnumeric CSV exports, Python's csv
 * module (QUOTE_ALL, QUOTE_NONNUMERIC, QUOTE_NONE with an escapechar, excel-tab). Then the
 * values of the escaping dialects come back unescaped. */
void test_dialect_writers(void **state)
{
    static const struct {
        const char *file, *column, *sample;
    } samples[] = {
        {"mariadb_outfile.txt", "column1", "tab\there 3"},      /* backslash + tab */
        {"mariadb_outfile.txt", "column1", "back\\slash 4"},   /* doubled backslash */
        {"mariadb_outfile.txt", "column1", "line\nbreak 7"},   /* backslash + line feed */
        {"py_escapechar.csv", "label", "line\nbreak 14"},
        {"pandas.csv", "label", "line\nbreak 7"},              /* quoted line break */
        {"sqlite_quote.csv", "label", "line\nbreak 7"},
        {"mariadb_enclosed.csv", "column1", "Ana, \"the\" first 1"},
        {"py_escapechar.csv", "label", "Ana, \"the\" first 1"}, /* \, and \" unquoted */
        {"pg_copy_text.tsv", "column1", "back\\\\slash 4"},  /* read as doubled quotes: raw */
        {"pandas_index.csv", "column0", "19"},
        {"pg_copy.csv", "active", "t"},
    };
    const char *dir = *state;
    char path[4096];
    struct scan_limits lim;
    assert_true(compare_duckdb(dir, "writers", writers_wrong,
                               sizeof writers_wrong / sizeof writers_wrong[0]) >= 23);
    scan_limits_default(&lim);
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        size_t n;
        struct scan_asset a;
        snprintf(path, sizeof path, "%s/writers/%s", dir, samples[i].file);
        char *text = slurp(path, &n);
        scan_asset_init(&a);
        assert_int_equal(scan__delimited_bytes((const unsigned char *)text, n, samples[i].file,
                                               SCAN_L3, &lim, &a),
                         0);
        struct scan_column *c = scan_asset_column(&a, samples[i].column);
        bool found = false;
        for (size_t k = 0; c && k < c->n_samples; k++)
            found |= strcmp(c->samples[k], samples[i].sample) == 0;
        if (!found)
            fail_msg("%s: no sample '%s' in %s", samples[i].file, samples[i].sample,
                     samples[i].column);
        scan_asset_free(&a);
        free(text);
    }
    /* A sample smaller than the file: the row count's pass over the file skips escaped line
     * breaks and psql's footer as the sampled reading does. */
    static const struct {
        const char *file;
        int64_t rows;
    } big[] = {{"mariadb_outfile.txt", 20}, {"psql_unaligned.txt", 22}};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        struct stat st;
        struct scan_limits small;
        struct scan_asset a;
        scan_limits_default(&small);
        small.max_struct_bytes = 900;
        snprintf(path, sizeof path, "%s/writers/%s", dir, big[i].file);
        int fd = open(path, O_RDONLY);
        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        assert_true(st.st_size > 900);
        struct scan_file f = {.fd = fd, .path = path, .size = (uint64_t)st.st_size};
        scan_asset_init(&a);
        assert_int_equal(scan_read_delimited(&f, SCAN_L2, &small, &a), 0);
        if (a.row_count != big[i].rows)
            fail_msg("%s, 900-byte sample: %lld rows, expected %lld", big[i].file,
                     (long long)a.row_count, (long long)big[i].rows);
        scan_asset_free(&a);
        close(fd);
    }
    /* More rows than are sampled: the row count's own pass must skip escaped line breaks and
     * tabs as the parser does (MariaDB writes a line feed inside a value as \ and the byte). */
    struct out o = {0};
    char line[64];
    for (int i = 0; i < 300; i++) {
        int k = snprintf(line, sizeof line, "%d\tline\\\none %d\ttab\\\there\t\\N\n", i, i);
        put(&o, line, (size_t)k);
    }
    struct scan_asset a;
    scan_asset_init(&a);
    assert_int_equal(scan__delimited_bytes((const unsigned char *)o.p, o.n, "t.txt", SCAN_L3,
                                           &lim, &a),
                     0);
    assert_int_equal(a.n_errors, 0);
    assert_string_equal(a.format, "tsv");
    assert_int_equal(a.n_cols, 4);
    assert_int_equal(a.cols[0].type, SCAN_TYPE_INTEGER);
    assert_int_equal(a.cols[3].type, SCAN_TYPE_NULL); /* \N */
    assert_string_equal(a.cols[1].samples[0], "line\none 0");
    assert_string_equal(a.cols[2].samples[0], "tab\there");
    assert_int_equal(a.row_count, 300);
    scan_asset_free(&a);
    /* psql -A's footer after more rows than are sampled: not counted either. */
    o.n = 0;
    put(&o, "id|name\n", 8);
    for (int i = 0; i < 300; i++) {
        int k = snprintf(line, sizeof line, "%d|name %d\n", i, i);
        put(&o, line, (size_t)k);
    }
    put(&o, "(300 rows)\n\n", 12);
    scan_asset_init(&a);
    assert_int_equal(scan__delimited_bytes((const unsigned char *)o.p, o.n, "q.txt", SCAN_L2,
                                           &lim, &a),
                     0);
    assert_string_equal(a.format, "psv");
    assert_int_equal(a.row_count, 300);
    scan_asset_free(&a);
    free(o.p);
}
