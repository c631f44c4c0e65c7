/* scan/formats/formats.h: internals shared by the text-format readers (delimited, JSON, text)
 * — internal to scan/, not part of its face.
 *
 * Layering: textdec turns raw file bytes (possibly gzip, UTF-8 with or without BOM, UTF-16 with
 * BOM, Windows-1252 or Latin-1) into a bounded UTF-8 sample; typeinfer classifies one cell's text; the readers
 * parse that sample. Every reader has a buffer entry point (`scan__*_bytes`) so fuzz targets and
 * benchmarks drive the exact code path of a file without touching the disk.
 */
#ifndef SHIR_SCAN_FORMATS_H
#define SHIR_SCAN_FORMATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "scan/model.h"

/* Files at most this large (uncompressed, byte-oriented encodings) get an exact row count at L2+
 * by a second, quote-aware pass; larger or compressed files report -1 unless the sample already
 * covered the whole file. 256 MiB at ~1 GB/s keeps the pass under a quarter second. */
#define SCAN_ROWCOUNT_MAX_BYTES (256ull << 20)

/* Where raw bytes come from: a file (pread) or memory. Exactly one of f / mem is set. */
struct scan__src {
    const struct scan_file *f;   /* borrowed */
    const unsigned char *mem;    /* borrowed */
    uint64_t size;
};

/* A decoded UTF-8 sample of a file. */
struct scan__text {
    char *data;            /* owned, NUL-terminated UTF-8 (NULs in input make it binary) */
    size_t len;
    bool complete;         /* the whole file was decoded (no byte/size limit cut it) */
    bool gzip;
    bool binary;           /* looked like binary data; data is then NULL */
    const char *encoding;  /* static: "utf-8", "utf-16le", "utf-16be", "latin-1",
                              "windows-1252" */
    uint64_t raw_consumed; /* raw (compressed) bytes read */
};

/* Decode at most `max_out` bytes of UTF-8 from `src`. Sets a->encoding, a->compression and adds
 * to a->bytes_read. Malformed input (truncated/corrupt gzip, bad UTF-16, binary data) is recorded
 * as an error in `a` and is not a failure: whatever decoded cleanly is kept in `out`. Returns 0,
 * SHIR_E_NOMEM, or a negative errno from reading. `out` must be released with scan__text_free. */
int scan__text_load(const struct scan__src *src, uint64_t max_out, struct scan_asset *a,
                    struct scan__text *out);
void scan__text_free(struct scan__text *t);

/* Cell type inference. A cell's mask is the set of types its text could be read as; a column's
 * type is the most specific type common to all its non-empty cells. */
enum {
    SCAN__T_BOOL = 1u << 0,
    SCAN__T_INT = 1u << 1,
    SCAN__T_DEC = 1u << 2,
    SCAN__T_DATE = 1u << 3,
    SCAN__T_TS = 1u << 4,
    SCAN__T_TIME = 1u << 5,
    SCAN__T_ALL = 0x3fu,
};
/* Mask of a non-empty cell (0 means "string only"). Leading/trailing blanks are ignored. */
unsigned scan__cell_mask(const char *s, size_t n);
/* A number written with group separators or a decimal comma (1,234.50, 1.234,50, 3,25): a
 * string to the column types (DuckDB reads them as VARCHAR too), but a sign that the sniffer's
 * candidate split the record where the writer did. */
bool scan__number_like(const char *s, size_t n);
/* A time of day without a date, also with a zone (hh:mm[:ss[.fraction]][zone]): a value, not a
 * column name, to header detection and the sniffer. The column type SCAN__T_TIME is narrower
 * (no zone; typeinfer.c's time_mask): DuckDB types zoned times VARCHAR. */
bool scan__time_like(const char *s, size_t n);
/* Mask of a string that must stay a string unless it is a date, a timestamp or a time of day
 * (JSON strings, XLSX text cells). */
unsigned scan__string_mask(const char *s, size_t n);
/* The column type from the intersection of its cells' masks; `seen` = number of non-empty cells. */
enum scan_type scan__mask_type(unsigned mask, uint64_t seen);

/* Quote-aware record counting for the delimited reader (rowcount.c): feed the file in chunks
 * of any size, then scan__rc_finish gives the records (blank lines are not records). `stop`
 * is the parser's table of bytes that end an unquoted field (the delimiter, CR, LF and, when
 * e != q, the backslash e); q the quote; e == q means doubled quotes. Start from {0}. */
struct scan__rowcount {
    enum { SCAN__RC_START, SCAN__RC_PLAIN, SCAN__RC_QUOTED, SCAN__RC_QUOTE_SEEN,
           SCAN__RC_ESCAPED, SCAN__RC_PLAIN_ESCAPED } st;
    bool content;
    uint64_t rows;
};
void scan__rc_feed(struct scan__rowcount *rc, const char *p, size_t n, const bool *stop, char q,
                   char e);
/* Inside a quoted field: the next quote q or escape e in p[i..n), NULL when none (the parser
 * and the counter stop at the same bytes). */
static inline const char *scan__quote_or_escape(const char *p, size_t i, size_t n, char q, char e)
{
    if (e == q)
        return memchr(p + i, q, n - i);
    while (i < n && p[i] != q && p[i] != e)
        i++;
    return i < n ? p + i : NULL;
}
uint64_t scan__rc_finish(const struct scan__rowcount *rc);

/* The delimited reader over bytes already in memory (`complete` = they are the whole file).
 * `name_hint` (may be NULL) is the file name, whose extension breaks sniffing ties. */
int scan__delimited_bytes(const unsigned char *p, size_t n, const char *name_hint,
                          enum scan_level level, const struct scan_limits *lim,
                          struct scan_asset *a);
/* What the delimited reader decided about a file, for the dialect campaign's probe
 * (tests/fixtures/formats/random/): the delimiter, quote and escape bytes (escape == quote:
 * doubled quotes; '\\': backslashes) and whether the first row was taken as the header. */
struct scan__delim_info {
    char delim, quote, escape;
    bool header;
};
/* scan__delimited_bytes, also filling *info (borrowed; zeroed when no dialect was sniffed). */
int scan__delimited_bytes_info(const unsigned char *p, size_t n, const char *name_hint,
                               enum scan_level level, const struct scan_limits *lim,
                               struct scan_asset *a, struct scan__delim_info *info);
int scan__json_bytes(const unsigned char *p, size_t n, enum scan_level level,
                     const struct scan_limits *lim, struct scan_asset *a);

#endif /* SHIR_SCAN_FORMATS_H */
