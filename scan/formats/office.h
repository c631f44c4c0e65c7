/* scan/formats/office.h: Office Open XML (XLSX, DOCX, PPTX) internals shared by the zip member
 * loader (office_zip.c) and the readers (office.c) — internal to scan/.
 *
 * An OOXML file is a zip archive of XML parts. We never extract the archive: one pass over its
 * central directory (libarchive's seekable zip reader, over pread or memory) inflates only the
 * parts a reader names, each into a buffer bounded by the limit the reader gives for it, and all
 * together by OFFICE_MAX_TOTAL. A part that inflates past its limit is cut there (the reader
 * parses the prefix and records an error); nothing else in the archive is inflated, so a nested
 * archive or a bomb in a part nobody reads costs nothing. */
#ifndef SHIR_SCAN_OFFICE_H
#define SHIR_SCAN_OFFICE_H

#include <expat.h>
#include <stdbool.h>
#include <stddef.h>

#include "scan/formats/formats.h"

/* Decompressed bytes of all parts of one file together: 96 MiB. */
#define OFFICE_MAX_TOTAL (96u << 20)
/* Archive entries looked at: a zip of a million empty entries is refused after 20 000. */
#define OFFICE_MAX_ENTRIES 20000

struct scan__zpart {
    char *name;            /* owned: the part's path in the archive ("xl/workbook.xml") */
    unsigned char *data;   /* owned, NUL-terminated */
    size_t len;
    bool cut;              /* inflated past its limit: data holds the first `limit` bytes */
};

/* Which parts to inflate: return true and set *limit (bytes) for a wanted part name. */
typedef bool scan__zwant_cb(void *ud, const char *name, size_t *limit);

/* Inflate the wanted parts of the zip in `src` into *parts (*n of them, in archive order). A
 * file that is not a readable zip, an entry limit reached or a total past OFFICE_MAX_TOTAL is
 * recorded as an error in `a` (whatever was inflated is kept) and is not a failure. 0,
 * SHIR_E_NOMEM, or a negative errno from reading. Free with scan__zparts_free. */
int scan__zip_load(const struct scan__src *src, scan__zwant_cb *want, void *ud,
                   struct scan_asset *a, struct scan__zpart **parts, size_t *n);
void scan__zparts_free(struct scan__zpart *parts, size_t n);

/* office_xml.c: a part as XML. */
/* An element's or attribute's name without its prefix ("p:sldId" -> "sldId"). */
const char *scan__xml_local(const char *name);
/* The value of the attribute whose local name is lname, or NULL. */
const char *scan__xml_attr(const char **atts, const char *lname);
/* A prefixed relationship id ("r:id"), or NULL: the unprefixed "id" beside it is another one. */
const char *scan__xml_rel_id(const char **atts);
/* Parse p with expat and the handlers (NULL for none); a part cut by its bound ends wherever its
 * prefix ends. XML broken before the cut is recorded as an error in `a` (parsing stops there),
 * not a failure: 0, SHIR_E_NOMEM, or what recording the error returned. */
int scan__office_parse(const struct scan__zpart *p, void *ud, XML_StartElementHandler st,
                       XML_EndElementHandler en, XML_CharacterDataHandler cd,
                       struct scan_asset *a);
/* The part named so among p[0..n), or NULL. */
const struct scan__zpart *scan__office_find(const struct scan__zpart *p, size_t n,
                                            const char *name);
/* The number before ".xml" in a part's name ("ppt/slides/slide12.xml" -> 12), 0 without. */
long scan__office_part_number(const char *name);
/* The part a relationship of source_part names with `target` (relative to source_part's folder,
 * or absolute from the root; dot segments applied): *out owned by the caller, or NULL when the
 * target names no part of the package (external, above the root, a folder). 0 or SHIR_E_NOMEM. */
int scan__opc_target(const char *source_part, const char *target, char **out);

/* office_deck.c: a deck's text parts in the order a viewer shows them. */
/* Whether a PPTX part is inflated, and its bound: slides, notes pages, the presentation and the
 * relationships that order them. */
bool scan__deck_wants(const char *name, size_t *limit);
/* Sorts parts (what scan__deck_wants took): the slides in ppt/presentation.xml's order, each
 * followed by its notes page, then slides the list does not name by part number; *n_text: how
 * many parts, at the front, hold text. The other parts' broken XML is recorded in `a`. 0 or
 * SHIR_E_NOMEM. */
int scan__deck_order(struct scan__zpart *parts, size_t n, struct scan_asset *a, size_t *n_text);

/* What an XLSX number format shows (office.c decides it from a cell style's numFmtId and, for
 * a custom one, its format code): the value as stored, an ISO date or timestamp, a time of day
 * ("09:30:00"), an elapsed time ("25:00:00"). */
enum scan__xlsx_fmt { SCAN__FMT_NUMBER, SCAN__FMT_DATE, SCAN__FMT_TIME, SCAN__FMT_ELAPSED };
enum scan__xlsx_fmt scan__xlsx_builtin_fmt(int num_fmt_id);
enum scan__xlsx_fmt scan__xlsx_code_fmt(const char *format_code);

/* The cell texts of office_cells.c, written into out[0..n) (n >= 32). serial_text: an Excel
 * serial (days since 1899-12-30, or 1904-01-01 when d1904) as "yyyy-mm-dd" or
 * "yyyy-mm-ddThh:mm:ss", returning its type mask (SCAN__T_DATE | SCAN__T_TS, or SCAN__T_TS), 0
 * when out of range (negative, past 9999). time_text: "hh:mm:ss" of the day's fraction, or of
 * the whole value when elapsed ("25:00:00"); false out of range. short_number: `v` itself, or
 * for a non-integer longer than 17 characters the shortest %g text that reads back as `d`
 * (written into out). */
unsigned scan__xlsx_serial_text(double v, bool d1904, char *out, size_t n);
bool scan__xlsx_time_text(double v, bool elapsed, char *out, size_t n);
const char *scan__xlsx_short_number(const char *v, size_t len, double d, char *out, size_t n);

/* The OOXML reader over bytes in memory (fuzz targets, tests): `name_hint` gives the kind
 * (".xlsx", ".docx", ".pptx"). */
int scan__office_bytes(const unsigned char *p, size_t n, const char *name_hint,
                       enum scan_level level, const struct scan_limits *lim,
                       struct scan_asset *a);

#endif /* SHIR_SCAN_OFFICE_H */
