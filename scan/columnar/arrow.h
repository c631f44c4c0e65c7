/* scan/columnar/arrow.h: Arrow IPC files and Feather v2 (internal to scan/).
 *
 * Layout (Arrow columnar format, "IPC File Format"; Feather v2 is the same file):
 *
 *   "ARROW1" 00 00 | stream: schema message, dictionary and record batch messages ...
 *   | footer (flatbuffer Footer) | int32 LE footer length | "ARROW1"
 *
 *   Footer   { version: short; schema: Schema; dictionaries: [Block]; recordBatches: [Block] }
 *   Block    struct { offset: long; metaDataLength: int; (pad 4) bodyLength: long }  24 bytes
 *   Schema   { endianness: short; fields: [Field] }
 *   Field    { name: string; nullable: bool; type_type: ubyte; type: union; dictionary: table;
 *              children: [Field] }
 *   message  at Block.offset: [FF FF FF FF] int32 LE length, flatbuffer Message
 *            { version: short; header_type: ubyte; header: union; bodyLength: long },
 *            RecordBatch header { length: long (rows); ... }
 *
 * Debian ships no C flatbuffers reader (flatcc is not packaged; libflatbuffers is C++), so the
 * few tables above are read by a small bounds-checked reader in arrow.c: every offset is checked
 * against the buffer before it is followed, nesting is bounded and the number of fields visited
 * is capped (shared subtables cannot blow up a walk).
 */
#ifndef SHIR_SCAN_ARROW_H
#define SHIR_SCAN_ARROW_H

#include <stddef.h>
#include <stdint.h>

#include "scan/model.h"

/* Footers above 64 MiB are refused (schemas of thousands of columns are a few MB). */
#define SCAN_ARROW_MAX_FOOTER (64u << 20)
/* Struct nesting followed; deeper children are not listed. */
#define SCAN_ARROW_MAX_DEPTH 32
/* Fields visited in one schema, whatever the nesting: 200 000. */
#define SCAN_ARROW_MAX_FIELDS 200000
/* Record batches whose metadata is read for the row count (one pread each); past this the row
 * count stays -1. */
#define SCAN_ARROW_MAX_BATCHES 10000
/* A record batch message's metadata above 16 MiB is refused. */
#define SCAN_ARROW_MAX_MESSAGE (16u << 20)

struct scan_arrow_block {
    int64_t offset;
    int32_t meta_len;
};

/* Decode a footer (the flatbuffer bytes, without the length and magic): the schema's fields
 * become columns of `a`, the record batch blocks are returned in *blocks (malloc'd, *nb of them;
 * the caller frees). 0, SHIR_E_MALFORMED with *why, SHIR_E_NOMEM. */
int scan_arrow_footer_fill(const unsigned char *fb, size_t n, const struct scan_limits *lim,
                           struct scan_asset *a, struct scan_arrow_block **blocks, size_t *nb,
                           const char **why);
/* The row count of one record batch message (with or without its continuation marker and
 * length prefix). 0, SHIR_E_MALFORMED with *why. */
int scan_arrow_message_rows(const unsigned char *m, size_t n, int64_t *rows, const char **why);

#endif /* SHIR_SCAN_ARROW_H */
