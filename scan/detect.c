/* File type from content and name. Pure functions: the engine reads the head, we decide.
 *
 * Order: binary magic (Parquet "PAR1", Avro "Obj\x01", Arrow "ARROW1", an Arrow IPC stream's
 * start, gzip 1f 8b) wins over the name, because a mislabelled Parquet file read as CSV gives
 * garbage; then a byte-order mark sets the encoding;
 * then a known text extension wins over sniffing (a one-line CSV sniffs badly); then sniffing:
 * '{' or '[' first → JSON (several lines each opening with '{' → JSON lines), a delimiter that
 * occurs the same non-zero number of times on the first lines → delimited, NUL bytes → binary,
 * anything else → text. */
#include <string.h>
#include <strings.h>

#include "scan/columnar/arrow.h"
#include "scan/engine.h"

struct ext_map {
    const char *ext;
    const char *format;
};

static const struct ext_map exts[] = {
    {"csv", "csv"},     {"tsv", "tsv"},         {"tab", "tsv"},   {"psv", "psv"},
    {"ssv", "ssv"},     {"json", "json"},       {"jsonl", "jsonl"}, {"ndjson", "jsonl"},
    {"parquet", "parquet"}, {"parq", "parquet"}, {"avro", "avro"}, {"arrow", "arrow"},
    {"feather", "arrow"}, {"ipc", "arrow"},     {"arrows", "arrow"}, {"xlsx", "xlsx"},
    {"xlsm", "xlsx"},
    {"docx", "docx"},   {"docm", "docx"},       {"pptx", "pptx"}, {"pptm", "pptx"},
    {"txt", "text"},
    {"log", "text"},    {"md", "text"},         {"text", "text"},
};

/* The extension of name after its last '.', skipping a trailing ".gz" (noted in *gz). */
static const char *name_format(const char *name, bool *gz)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    size_t len = strlen(base);
    *gz = false;
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
        if (strlen(exts[i].ext) == elen && strncasecmp(dot, exts[i].ext, elen) == 0)
            return exts[i].format;
    return NULL;
}

void scan_detect_name(const char *name, struct scan_detected *d)
{
    bool gz;
    memset(d, 0, sizeof *d);
    d->format = name_format(name, &gz);
    if (gz) {
        d->compression = "gzip";
        if (!d->format)
            d->format = "text";
    }
}

/* Count occurrences of c on each of the first lines (up to 8 complete lines); true when every
 * line has the same non-zero count, or when there is a single line with at least one. */
static bool consistent_delim(const unsigned char *p, size_t n, unsigned char c)
{
    unsigned counts[8];
    unsigned lines = 0, cur = 0;
    bool in_quote = false;
    for (size_t i = 0; i < n && lines < 8; i++) {
        if (p[i] == '"')
            in_quote = !in_quote;
        else if (p[i] == c && !in_quote)
            cur++;
        else if (p[i] == '\n' && !in_quote) {
            counts[lines++] = cur;
            cur = 0;
        }
    }
    if (lines == 0)
        return cur > 0;
    for (unsigned i = 0; i < lines; i++)
        if (counts[i] == 0 || counts[i] != counts[0])
            return false;
    return true;
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
    static const struct {
        unsigned char c;
        const char *fmt;
    } delims[] = {{'\t', "tsv"}, {',', "csv"}, {'|', "psv"}, {';', "ssv"}};
    /* Only a head with at least one full line is sniffed for delimiters: prose has commas. */
    if (memchr(p, '\n', n))
        for (size_t k = 0; k < sizeof delims / sizeof delims[0]; k++)
            if (consistent_delim(p, n, delims[k].c))
                return delims[k].fmt;
    return "text";
}

void scan_detect(const unsigned char *head, size_t n, const char *name, struct scan_detected *d)
{
    bool gz;
    const char *by_name = name_format(name, &gz);
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
        d->format = by_name;
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
