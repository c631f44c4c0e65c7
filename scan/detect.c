/* File type from content and name. Pure functions: the engine reads the head, we decide.
 *
 * Order: binary magic (Parquet "PAR1", Avro "Obj\x01", Arrow "ARROW1", an Arrow IPC stream's
 * start, gzip 1f 8b) wins over the name, because a mislabelled Parquet file read as CSV gives
 * garbage; then a byte-order mark sets the encoding;
 * then a known text extension wins over sniffing (a one-line CSV sniffs badly), except `.txt`,
 * the name database and spreadsheet exports also get (`mysqldump --tab`, `INTO OUTFILE`,
 * sqlite's list mode): one whose head is a table beyond doubt is read as one (txt_table); then
 * sniffing: '{' or '[' first → JSON (several lines each opening with '{' → JSON lines), a
 * delimiter that occurs the same non-zero number of times on the first lines → delimited, NUL
 * bytes → binary, anything else → text. */
#include <string.h>
#include <strings.h>

#include "scan/columnar/arrow.h"
#include "scan/engine.h"

struct ext_map {
    const char *ext;
    const char *format;
    bool table_ok; /* text by name, a table by content when its head is one (txt_table) */
};

static const struct ext_map exts[] = {
    {"csv", "csv", false},         {"tsv", "tsv", false},       {"tab", "tsv", false},
    {"psv", "psv", false},         {"ssv", "ssv", false},       {"json", "json", false},
    {"jsonl", "jsonl", false},     {"ndjson", "jsonl", false},  {"parquet", "parquet", false},
    {"parq", "parquet", false},    {"avro", "avro", false},     {"arrow", "arrow", false},
    {"feather", "arrow", false},   {"ipc", "arrow", false},     {"arrows", "arrow", false},
    {"xlsx", "xlsx", false},       {"xlsm", "xlsx", false},     {"docx", "docx", false},
    {"docm", "docx", false},       {"pptx", "pptx", false},     {"pptm", "pptx", false},
    {"txt", "text", true},         {"log", "text", false},      {"md", "text", false},
    {"text", "text", false},
};

/* The extension of name after its last '.', skipping a trailing ".gz" (noted in *gz); *table_ok
 * as the extension's entry says (NULL: not wanted). */
static const char *name_format(const char *name, bool *gz, bool *table_ok)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    size_t len = strlen(base);
    *gz = false;
    if (table_ok)
        *table_ok = false;
    if (len > 3 && strcasecmp(base + len - 3, ".gz") == 0) {
        *gz = true;
        len -= 3;
    }
    const char *dot = NULL;
    for (size_t i = len; i > 0; i--)
        if (base[i - 1] == '.') {
            dot = base + i;
            break;
        }
    if (!dot || dot == base + 1)
        return NULL; /* no extension, or a dot file */
    size_t elen = (size_t)(base + len - dot);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strlen(exts[i].ext) == elen && strncasecmp(dot, exts[i].ext, elen) == 0) {
            if (table_ok)
                *table_ok = exts[i].table_ok;
            return exts[i].format;
        }
    return NULL;
}

void scan_detect_name(const char *name, struct scan_detected *d)
{
    bool gz;
    memset(d, 0, sizeof *d);
    d->format = name_format(name, &gz, NULL);
    if (gz) {
        d->compression = "gzip";
        if (!d->format)
            d->format = "text";
    }
}

/* Count occurrences of c outside '"' quotes on each of the first lines (up to 8 complete lines).
 * Consistent: every line has the same non-zero count, or a single unended line has at least one;
 * the number of complete lines is returned then (1 for the unended line), else 0. *lead: some
 * line starts with c (an empty first field). */
static unsigned delim_lines(const unsigned char *p, size_t n, unsigned char c, bool *lead)
{
    unsigned counts[8];
    unsigned lines = 0, cur = 0;
    bool in_quote = false;
    *lead = n > 0 && p[0] == c;
    for (size_t i = 0; i < n && lines < 8; i++) {
        if (p[i] == '"')
            in_quote = !in_quote;
        else if (p[i] == c && !in_quote)
            cur++;
        else if (p[i] == '\n' && !in_quote) {
            counts[lines++] = cur;
            cur = 0;
            if (i + 1 < n && p[i + 1] == c)
                *lead = true;
        }
    }
    if (lines == 0)
        return cur > 0 ? 1 : 0;
    for (unsigned i = 0; i < lines; i++)
        if (counts[i] == 0 || counts[i] != counts[0])
            return 0;
    return lines;
}

static const struct {
    unsigned char c;
    const char *fmt;
} delims[] = {{'\t', "tsv"}, {',', "csv"}, {'|', "psv"}, {';', "ssv"}};

#define TXT_TABLE_LINES 3

/* Whether most of the first lines (up to 16 complete ones, quotes not tracked: exports of this
 * kind do not quote) hold the same non-zero count of c: at least 3 lines and more than half of
 * them, fewer than 1 in 4 starting with c. Tolerates what real `.txt` exports carry — an escaped
 * or unescaped delimiter inside a value, a value split by line breaks (the MariaDB, psql and
 * sqlite fixtures of tests/fixtures/formats/writers have 10 regular lines in their first 16),
 * a footer. */
static bool most_lines(const unsigned char *p, size_t n, unsigned char c)
{
    unsigned counts[16];
    unsigned lines = 0, cur = 0, lead = n > 0 && p[0] == c;
    for (size_t i = 0; i < n && lines < 16; i++) {
        if (p[i] == c) {
            cur++;
        } else if (p[i] == '\n') {
            counts[lines++] = cur;
            cur = 0;
            lead += i + 1 < n && p[i + 1] == c && lines < 16;
        }
    }
    unsigned best = 0;
    for (unsigned i = 0; i < lines; i++) {
        unsigned same = 0;
        for (unsigned k = 0; k < lines; k++)
            same += counts[k] == counts[i];
        if (counts[i] > 0 && same > best)
            best = same;
    }
    return best >= TXT_TABLE_LINES && best * 2 > lines && lead * 4 < lines;
}

/* Whether p[0, n) is a rule of psql's aligned output: '-' and '+' only, both present. */
static bool psql_rule(const unsigned char *p, size_t n)
{
    bool dash = false, plus = false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '-' && p[i] != '+' && !(p[i] == '\r' && i + 1 == n))
            return false;
        dash |= p[i] == '-';
        plus |= p[i] == '+';
    }
    return dash && plus;
}

/* Whether most occurrences of c outside '"' quotes on the first 16 lines are padded as a person
 * writes them: a comma or semicolon followed by a space (prose: "the budget, the plan, and"), a
 * pipe with a space either side (a log's "INFO worker-1 | job 1 done"). Exports write the
 * delimiter bare (a quoted "Lee, Ann" is a value), so the `.txt` rule reads a padded head as
 * text whatever its counts; a tab is never padded, and psql's aligned output (" id | name " over
 * a "----+------" rule) is a table as before. */
static bool padded(const unsigned char *p, size_t n, unsigned char c)
{
    if (c == '\t')
        return false;
    unsigned seen = 0, pad = 0, lines = 0;
    size_t start = 0;
    bool in_quote = false;
    for (size_t i = 0; i < n && lines < 16; i++) {
        if (p[i] == '"') {
            in_quote = !in_quote;
        } else if (in_quote) {
            continue;
        } else if (p[i] == '\n') {
            if (c == '|' && psql_rule(p + start, i - start))
                return false;
            lines++;
            start = i + 1;
        } else if (p[i] == c) {
            bool after = i + 1 < n && p[i + 1] == ' ';
            bool before = i > 0 && p[i - 1] == ' ';
            seen++;
            pad += c == '|' ? after && before : after;
        }
    }
    return pad * 2 > seen;
}

/* A `.txt` head that is a table beyond doubt. Tabs and pipes, the separators of the exports
 * that are named `.txt` (`mysqldump --tab`, `INTO OUTFILE`, psql -A, sqlite's list mode), and
 * rarely in prose: most_lines. Commas and semicolons, common in prose: every one of at least
 * TXT_TABLE_LINES complete lines holds the same non-zero count, none starting with it (a note of
 * "Dear John,\nThanks, ...\nBest,\n" has one comma a line on 3 of its 4 lines). Either way not
 * when the delimiter is padded (notes whose lines hold two commas each, a log's " | "). Its
 * format, or NULL: the file stays text. */
static const char *txt_table(const unsigned char *p, size_t n)
{
    for (size_t k = 0; k < sizeof delims / sizeof delims[0]; k++) {
        unsigned char c = delims[k].c;
        bool lead;
        if ((c == '\t' || c == '|' ? most_lines(p, n, c)
                                   : delim_lines(p, n, c, &lead) >= TXT_TABLE_LINES && !lead) &&
            !padded(p, n, c))
            return delims[k].fmt;
    }
    return NULL;
}

static const char *sniff_text(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i < n && (p[i] == '{' || p[i] == '[')) {
        if (p[i] == '[')
            return "json";
        /* JSON lines: a second line that also opens an object. */
        const unsigned char *nl = memchr(p + i, '\n', n - i);
        while (nl && (size_t)(nl - p) + 1 < n && (nl[1] == '\r' || nl[1] == '\n'))
            nl++;
        if (nl && (size_t)(nl - p) + 1 < n && nl[1] == '{')
            return "jsonl";
        return "json";
    }
    /* Only a head with at least one full line is sniffed for delimiters: prose has commas. */
    if (memchr(p, '\n', n))
        for (size_t k = 0; k < sizeof delims / sizeof delims[0]; k++) {
            bool lead;
            if (delim_lines(p, n, delims[k].c, &lead) > 0)
                return delims[k].fmt;
        }
    return "text";
}

void scan_detect(const unsigned char *head, size_t n, const char *name, struct scan_detected *d)
{
    bool gz, table_ok;
    const char *by_name = name_format(name, &gz, &table_ok);
    memset(d, 0, sizeof *d);
    if (n >= 4 && memcmp(head, "PAR1", 4) == 0) {
        d->format = "parquet";
        return;
    }
    if (n >= 4 && memcmp(head, "Obj\x01", 4) == 0) {
        d->format = "avro";
        return;
    }
    if (n >= 6 && memcmp(head, "ARROW1", 6) == 0) {
        d->format = "arrow"; /* an Arrow IPC file; Feather v2 is the same format */
        return;
    }
    if (scan_arrow_stream_start(head, n)) {
        d->format = "arrow"; /* an Arrow IPC stream (no magic: its first message, strictly) */
        return;
    }
    if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b) {
        /* The inner format is known from the name only (we do not inflate to detect). */
        d->compression = "gzip";
        d->format = by_name ? by_name : "text";
        return;
    }
    size_t skip = 0;
    if (n >= 3 && head[0] == 0xef && head[1] == 0xbb && head[2] == 0xbf) {
        d->encoding = "utf-8";
        skip = 3;
    } else if (n >= 2 && head[0] == 0xff && head[1] == 0xfe) {
        d->encoding = "utf-16le";
    } else if (n >= 2 && head[0] == 0xfe && head[1] == 0xff) {
        d->encoding = "utf-16be";
    }
    if (by_name) {
        /* Includes a ".parquet" without its magic: its reader then reports the damage. */
        const char *table = NULL;
        if (table_ok && !(d->encoding && d->encoding[4] == '1') && !memchr(head, 0, n))
            table = txt_table(head + skip, n - skip);
        d->format = table ? table : by_name;
        return;
    }
    if (d->encoding && d->encoding[4] == '1') {
        d->format = "text"; /* UTF-16 text: the readers transcode; we do not sniff it */
        return;
    }
    if (memchr(head, 0, n)) {
        d->format = "binary";
        return;
    }
    d->format = sniff_text(head + skip, n - skip);
}
