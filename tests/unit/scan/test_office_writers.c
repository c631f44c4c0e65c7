/* Office Open XML files from other real writers (tests/fixtures/office/writers/generate.sh):
 * openpyxl (inline strings, absolute relationship targets, 1904 dates, a formula without a cached
 * value, a hidden and an empty sheet; also rewritten without r attributes, with ns0: prefixes
 * and without docProps), LibreOffice Calc and gnumeric (the same workbook re-exported), xlsxwriter
 * (rich-text shared strings, formula results of every type, built-in and custom date formats) also
 * in constant_memory mode (inline strings); python-docx and LibreOffice Writer (tables, headers and
 * footers, a text box, a footnote, tracked changes) and LibreOffice Impress (speaker notes). Run by
 * test_scan_office; the fixture directory is the state. */
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

/* A writer's file (writers/NAME) read at L3, without errors. */
static void read_writer(const char *dir, const char *name, struct scan_asset *a)
{
    char rel[256];
    snprintf(rel, sizeof rel, "writers/%s", name);
    office_read_file(dir, rel, SCAN_L3, a);
    assert_int_equal(a->n_errors, 0);
}

static void column(struct scan_asset *a, const char *file, const char *name, enum scan_type t,
                   const char *sample)
{
    struct scan_column *c = scan_asset_column(a, name);
    if (!c)
        fail_msg("%s: no column %s", file, name);
    if (c->type != t)
        fail_msg("%s: %s is %s, expected %s", file, name, scan_type_name(c->type),
                 scan_type_name(t));
    for (size_t i = 0; sample && i < c->n_samples; i++)
        if (strcmp(c->samples[i], sample) == 0)
            return;
    if (sample)
        fail_msg("%s: %s has no sample '%s'", file, name, sample);
}

/* One workbook (sheets Data, hidden Secret, Empty; 1904 date system) as three writers wrote it,
 * and openpyxl's rewritten as an OpenXML SDK program may write it (no r attributes). */
void test_office_writers_workbook(void **state)
{
    static const struct {
        const char *file;
        enum scan_type formula; /* openpyxl stores no cached value for =A2*2 */
    } files[] = {{"openpyxl.xlsx", SCAN_TYPE_NULL},
                 {"libreoffice.xlsx", SCAN_TYPE_INTEGER},
                 {"gnumeric.xlsx", SCAN_TYPE_INTEGER},
                 {"norefs.xlsx", SCAN_TYPE_NULL}}; /* openpyxl's, without r attributes */
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        const char *f = files[i].file;
        struct scan_asset a;
        printf("  %s\n", f);
        read_writer(*state, f, &a);
        assert_string_equal(a.format, "xlsx");
        assert_int_equal(a.n_cols, 7); /* 6 of Data, 1 of Secret, none of Empty */
        column(&a, f, "Data!id", SCAN_TYPE_INTEGER, "12");
        column(&a, f, "Data!email", SCAN_TYPE_STRING, "chloe@example.net");
        column(&a, f, "Data!joined", SCAN_TYPE_DATE, "2021-02-01"); /* dd/mm/yyyy, 1904 */
        column(&a, f, "Data!last_seen", SCAN_TYPE_TIMESTAMP, "2022-05-03T08:30:03");
        column(&a, f, "Data!active", SCAN_TYPE_BOOLEAN, "false");
        column(&a, f, "Data!double", files[i].formula,
               files[i].formula == SCAN_TYPE_NULL ? NULL : "24");
        column(&a, f, "Secret!iban", SCAN_TYPE_STRING, "DE89370400440532013000");
        assert_int_equal(scan_asset_column(&a, "Data!email")->n_samples, 11); /* B8 is empty */
        assert_int_equal(a.row_count, 12 + 2);
        scan_asset_free(&a);
    }
}

/* xlsxwriter: rich text, formula results (string, boolean, number, error), date formats. */
void test_office_writers_xlsxwriter(void **state)
{
    static const char *const files[] = {"xlsxwriter.xlsx", "xlsxwriter_inline.xlsx"};
    for (size_t i = 0; i < 2; i++) {
        const char *f = files[i];
        struct scan_asset a;
        printf("  %s\n", f);
        read_writer(*state, f, &a);
        assert_int_equal(a.n_cols, 8);
        column(&a, f, "Sheet1!name", SCAN_TYPE_STRING, "Person 7"); /* two runs, one string */
        column(&a, f, "Sheet1!email", SCAN_TYPE_STRING, "ana@example.com");
        column(&a, f, "Sheet1!born", SCAN_TYPE_DATE, "1990-10-20");  /* built-in format 14 */
        column(&a, f, "Sheet1!start", SCAN_TYPE_DATE, "2020-01-10"); /* dd/mm/yyyy */
        column(&a, f, "Sheet1!score", SCAN_TYPE_DECIMAL, "95");
        column(&a, f, "Sheet1!grade", SCAN_TYPE_STRING, "high");   /* t="str" */
        column(&a, f, "Sheet1!passed", SCAN_TYPE_BOOLEAN, "true"); /* t="b" */
        column(&a, f, "Sheet1!ratio", SCAN_TYPE_DECIMAL, "9.5");
        /* The two #DIV/0! results (t="e") are nulls, not values. */
        assert_int_equal(scan_asset_column(&a, "Sheet1!ratio")->n_samples, 8);
        assert_int_equal(a.row_count, 10);
        scan_asset_free(&a);
    }
}

/* openpyxl's iso_dates: cells of type "d" hold ISO 8601 text, not serial numbers. */
void test_office_writers_iso_dates(void **state)
{
    const char *f = "iso_dates.xlsx";
    struct scan_asset a;
    read_writer(*state, f, &a);
    assert_int_equal(a.n_cols, 3);
    column(&a, f, "Iso!day", SCAN_TYPE_DATE, "2024-01-05");
    column(&a, f, "Iso!at", SCAN_TYPE_TIMESTAMP, "2024-02-03T10:30:00");
    assert_int_equal(a.row_count, 5);
    scan_asset_free(&a);
}

/* Format codes as the writers above and Excel write them. */
void test_office_format_codes(void **state)
{
    static const struct {
        const char *code;
        enum scan__xlsx_fmt want;
    } cases[] = {
        {"yyyy-mm-dd", SCAN__FMT_DATE},
        {"dd/mm/yyyy", SCAN__FMT_DATE},
        {"yyyy\\-mm\\-dd\\ hh:mm:ss", SCAN__FMT_DATE}, /* LibreOffice's escapes */
        {"[$-409]d-mmm-yy;@", SCAN__FMT_DATE},
        {"mmmm", SCAN__FMT_DATE}, /* m alone: a month */
        {"h:mm:ss", SCAN__FMT_TIME},
        {"h:mm AM/PM", SCAN__FMT_TIME}, /* m: minutes, A/M not a date */
        {"mm:ss.0", SCAN__FMT_TIME},
        {"[h]:mm:ss", SCAN__FMT_ELAPSED},
        {"[mm]:ss", SCAN__FMT_ELAPSED},
        {"General", SCAN__FMT_NUMBER},
        {"0.00%", SCAN__FMT_NUMBER},
        {"0.00E+00", SCAN__FMT_NUMBER},
        {"# ?/?", SCAN__FMT_NUMBER},
        {"@", SCAN__FMT_NUMBER},
        {"#,##0.00\\ [$\xe2\x82\xac-407]", SCAN__FMT_NUMBER}, /* a euro amount */
        {"[Magenta]0.00;[Red]-0.00", SCAN__FMT_NUMBER},       /* colours, not [m] */
        {"_(\"$\"* #,##0.00_);_(\"$\"* \\(#,##0.00\\);_(\"$\"* \"-\"??_);_(@_)",
         SCAN__FMT_NUMBER},               /* accounting: _x and *x skip x */
        {"0 \"days\"", SCAN__FMT_NUMBER}, /* quoted text */
        {"#,##0_s", SCAN__FMT_NUMBER},    /* _s: the width of an s */
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (scan__xlsx_code_fmt(cases[i].code) != cases[i].want)
            fail_msg("'%s': %d, expected %d", cases[i].code,
                     (int)scan__xlsx_code_fmt(cases[i].code), (int)cases[i].want);
    assert_int_equal(scan__xlsx_builtin_fmt(14), SCAN__FMT_DATE);
    assert_int_equal(scan__xlsx_builtin_fmt(22), SCAN__FMT_DATE);
    assert_int_equal(scan__xlsx_builtin_fmt(21), SCAN__FMT_TIME);
    assert_int_equal(scan__xlsx_builtin_fmt(46), SCAN__FMT_ELAPSED);
    assert_int_equal(scan__xlsx_builtin_fmt(10), SCAN__FMT_NUMBER);

    /* Cell texts of serials and numbers. */
    static const struct {
        double v;
        bool d1904;
        const char *want;
    } serials[] = {
        {45292, false, "2024-01-01"},   {45292.4375, false, "2024-01-01T10:30:00"},
        {43830, true, "2024-01-01"},    {60, false, "1900-02-28"},
        {1, false, "1900-01-01"},       {59, false, "1900-02-28"},
        {61, false, "1900-03-01"},      {0, true, "1904-01-01"},
        {2958465, false, "9999-12-31"}, {-1, false, NULL},
        {2958466, false, NULL},
    };
    char buf[48];
    for (size_t i = 0; i < sizeof serials / sizeof serials[0]; i++) {
        unsigned m = scan__xlsx_serial_text(serials[i].v, serials[i].d1904, buf, sizeof buf);
        if (!serials[i].want ? m != 0 : m == 0 || strcmp(buf, serials[i].want) != 0)
            fail_msg("serial %g: '%s' (mask %u), expected %s", serials[i].v, m ? buf : "", m,
                     serials[i].want ? serials[i].want : "none");
    }
    assert_true(scan__xlsx_time_text(0.395833333333333300003, false, buf, sizeof buf));
    assert_string_equal(buf, "09:30:00");
    assert_true(scan__xlsx_time_text(1.5, false, buf, sizeof buf));
    assert_string_equal(buf, "12:00:00"); /* a time of day shows the fraction */
    assert_true(scan__xlsx_time_text(1.5, true, buf, sizeof buf));
    assert_string_equal(buf, "36:00:00"); /* elapsed: the whole value */
    assert_false(scan__xlsx_time_text(-0.5, false, buf, sizeof buf));
    const char *g = "0.100000000000000000001";
    assert_string_equal(scan__xlsx_short_number(g, strlen(g), strtod(g, NULL), buf, sizeof buf),
                        "0.1");
    g = "0.30000000000000004"; /* 0.1 + 0.2: 17 digits are needed */
    assert_string_equal(scan__xlsx_short_number(g, strlen(g), strtod(g, NULL), buf, sizeof buf),
                        "0.30000000000000004");
    g = "123456789012345678901"; /* an integer: kept as written */
    assert_ptr_equal(scan__xlsx_short_number(g, strlen(g), strtod(g, NULL), buf, sizeof buf), g);
}

/* pandas' to_excel writes its index column with an empty header cell (the header must still be
 * one), and openpyxl adds a chart sheet (not a table, and not an error). */
void test_office_writers_pandas(void **state)
{
    const char *f = "pandas_chart.xlsx";
    struct scan_asset a;
    read_writer(*state, f, &a); /* no error for the chart sheet */
    assert_int_equal(a.n_cols, 5);
    column(&a, f, "People!column0", SCAN_TYPE_INTEGER, "9"); /* the index: no name */
    column(&a, f, "People!id", SCAN_TYPE_INTEGER, "10");
    column(&a, f, "People!email", SCAN_TYPE_STRING, "bob@example.org");
    column(&a, f, "People!joined", SCAN_TYPE_DATE, "2024-01-10");
    column(&a, f, "People!amount", SCAN_TYPE_DECIMAL, "13.5");
    assert_int_equal(a.row_count, 10);
    scan_asset_free(&a);
}

/* Number formats that are not dates: a time of day is a time and an elapsed time is text, not
 * timestamps of 1899-12-30; gnumeric's 21-digit numbers come back in a double's shortest form. */
void test_office_writers_formats(void **state)
{
    static const char *const files[] = {"formats.xlsx", "formats_gnumeric.xlsx"};
    for (size_t i = 0; i < 2; i++) {
        const char *f = files[i];
        struct scan_asset a;
        printf("  %s\n", f);
        read_writer(*state, f, &a);
        assert_int_equal(a.n_cols, 8);
        column(&a, f, "Fmt!time", SCAN_TYPE_TIME, "09:30:00");      /* h:mm:ss */
        column(&a, f, "Fmt!elapsed", SCAN_TYPE_STRING, "25:00:00"); /* [h]:mm:ss */
        column(&a, f, "Fmt!pct", SCAN_TYPE_DECIMAL, "0.3");         /* gnumeric: 0.3000...011 */
        column(&a, f, "Fmt!eur", SCAN_TYPE_DECIMAL, "1000.5");      /* [$EUR-407], a euro sign */
        column(&a, f, "Fmt!acct", SCAN_TYPE_DECIMAL, "3.25");       /* _("$"* ...) */
        column(&a, f, "Fmt!text", SCAN_TYPE_STRING, "001");
        column(&a, f, "Fmt!sci", SCAN_TYPE_INTEGER, "2000000");
        column(&a, f, "Fmt!frac", SCAN_TYPE_DECIMAL, "1.5");
        assert_int_equal(a.row_count, 5);
        scan_asset_free(&a);
    }
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static void has_text(const struct scan_asset *a, const char *file, const char *s, size_t times)
{
    if (count(a->text, s) != times)
        fail_msg("%s: '%s' %zu times in the text, expected %zu:\n%s", file, s, count(a->text, s),
                 times, a->text);
}

/* Text outside the body's runs: tables, headers, footers, footnotes, text boxes, tracked changes,
 * speaker notes. */
void test_office_writers_documents(void **state)
{
    struct scan_asset a;
    read_writer(*state, "python-docx.docx", &a);
    assert_string_equal(a.format, "docx");
    has_text(&a, "python-docx", "Questions go to jane.doe@example.com before Friday.\n", 1);
    has_text(&a, "python-docx", "DE89 3704 0044 0532 0130 00\n", 1); /* a table cell */
    has_text(&a, "python-docx", "Header: owner hr.lead@example.com\n", 1);
    has_text(&a, "python-docx", "Footer: call +44 20 7946 0958\n", 1);
    scan_asset_free(&a);

    /* The same document with its body named word/document2.xml (Word for the web). */
    read_writer(*state, "document2.docx", &a);
    has_text(&a, "document2.docx", "Questions go to jane.doe@example.com before Friday.\n", 1);
    has_text(&a, "document2.docx", "Header: owner hr.lead@example.com\n", 1);
    assert_true(strstr(a.text, "Personnel memo") < strstr(a.text, "Header:"));
    scan_asset_free(&a);

    read_writer(*state, "libreoffice.docx", &a);
    has_text(&a, "libreoffice.docx", "GB82 WEST 1234 5698 7654 32\n", 1);
    /* w:tabs in the paragraph's properties are tab stops, not text: one tab, from the run. */
    has_text(&a, "libreoffice.docx", "\nBadge\t0042\n", 1);
    has_text(&a, "libreoffice.docx", "Header: owner hr.lead@example.com\n", 1);
    has_text(&a, "libreoffice.docx", "Footer: call +44 20 7946 0958\n", 1);
    has_text(&a, "libreoffice.docx", "Footnote: payroll@example.com\n", 1);
    has_text(&a, "libreoffice.docx", "Endnote: audit@example.com\n", 1);
    has_text(&a, "libreoffice.docx", "Comment: ask dave@example.com\n", 1);
    has_text(&a, "libreoffice.docx", "jane.doe@example.com", 1);             /* inserted */
    has_text(&a, "libreoffice.docx", "deleted card 4111 1111 1111 1111", 1); /* deleted */
    /* The text box is written twice (mc:Choice and its VML mc:Fallback): read once. */
    has_text(&a, "libreoffice.docx", "Text box: badge 0042 for bob@example.org", 1);
    /* ... on a line of its own, though it is anchored inside another paragraph's run. */
    has_text(&a, "libreoffice.docx", "\nText box: badge 0042 for bob@example.org\n", 1);
    /* The body comes first, then the header, the footer, footnotes, endnotes, comments. */
    assert_true(strstr(a.text, "Personnel memo") < strstr(a.text, "Header:"));
    assert_true(strstr(a.text, "Header:") < strstr(a.text, "Footer:"));
    assert_true(strstr(a.text, "Footer:") < strstr(a.text, "Footnote:"));
    assert_true(strstr(a.text, "Footnote:") < strstr(a.text, "Endnote:"));
    assert_true(strstr(a.text, "Endnote:") < strstr(a.text, "Comment:"));
    scan_asset_free(&a);

    read_writer(*state, "libreoffice.pptx", &a);
    assert_string_equal(a.format, "pptx");
    has_text(&a, "libreoffice.pptx", "Notes: remind carol@example.com\n", 1);
    /* Each slide is followed by its notes. */
    const char *s1 = strstr(a.text, "Roadmap 2025"), *n1 = strstr(a.text, "Notes: remind"),
               *s2 = strstr(a.text, "Questions:"), *n2 = strstr(a.text, "Notes: budget line 7");
    assert_true(s1 && n1 && s2 && n2);
    assert_true(s1 < n1 && n1 < s2 && s2 < n2);
    scan_asset_free(&a);

    /* A slide moved to the front keeps its part's name: the deck's list gives the order, and
     * each notes page follows the slide its relationships name (here numbered crosswise). */
    read_writer(*state, "moved.pptx", &a);
    assert_int_equal(a.n_errors, 0);
    s2 = strstr(a.text, "Questions:");
    n2 = strstr(a.text, "Notes: budget line 7");
    s1 = strstr(a.text, "Roadmap 2025");
    n1 = strstr(a.text, "Notes: remind");
    assert_true(s1 && n1 && s2 && n2);
    assert_true(s2 < n2 && n2 < s1 && s1 < n1);
    scan_asset_free(&a);
}

/* A relationship's target, from the part that owns the relationship. */
void test_office_targets(void **state)
{
    (void)state;
    static const struct {
        const char *source, *target, *want; /* want NULL: names no part */
    } cases[] = {
        {"ppt/presentation.xml", "slides/slide1.xml", "ppt/slides/slide1.xml"},
        {"ppt/notesSlides/notesSlide2.xml", "../slides/slide7.xml", "ppt/slides/slide7.xml"},
        {"xl/workbook.xml", "worksheets/sheet1.xml", "xl/worksheets/sheet1.xml"},
        {"xl/workbook.xml", "/xl/worksheets/sheet1.xml", "xl/worksheets/sheet1.xml"},
        {"xl/workbook.xml", "./worksheets/./sheet2.xml", "xl/worksheets/sheet2.xml"},
        {"xl/workbook.xml", "../xl/worksheets/sheet3.xml", "xl/worksheets/sheet3.xml"},
        {"a/b/c.xml", "../../d.xml", "d.xml"},
        {"top.xml", "x.xml", "x.xml"},
        {"a/b/c.xml", "../../../d.xml", NULL},  /* above the root */
        {"xl/workbook.xml", "", NULL},
        {"xl/workbook.xml", "worksheets/", NULL},          /* a folder */
        {"xl/workbook.xml", "worksheets//sheet1.xml", NULL}, /* an empty segment */
        {"xl/workbook.xml", "//host/sheet1.xml", NULL},
        {"xl/workbook.xml", "https://example.com/a.xml", NULL}, /* external */
        {"xl/workbook.xml", "..\\sheet1.xml", NULL},
        {"xl/workbook.xml", "..", NULL},
        {"xl/workbook.xml", "/", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = (char *)"unset";
        assert_int_equal(scan__opc_target(cases[i].source, cases[i].target, &got), 0);
        if (!cases[i].want ? got != NULL : !got || strcmp(got, cases[i].want) != 0)
            fail_msg("%s + '%s': got %s, want %s", cases[i].source, cases[i].target,
                     got ? got : "NULL", cases[i].want ? cases[i].want : "NULL");
        free(got);
    }
}
