/* scan/columnar/arrow.h: Arrow IPC files, Feather v2 and IPC streams (internal to scan/).
 *
 * Stream layout (Arrow columnar format, "IPC Streaming Format"; what apache-arrow's
 * tableToIPC(table) and pyarrow's ipc.new_stream write, `.arrows`):
 *
 *   message*  end
 *   message = FF FF FF FF | int32 LE metadata length m | flatbuffer Message, padded to m bytes
 *             | body of Message.bodyLength bytes
 *             (before Arrow 0.15 without the FF FF FF FF: the length alone)
 *   end     = FF FF FF FF 00 00 00 00 (or 00 00 00 00 before 0.15, or the end of the file)
 *   the first message's header is the Schema; then DictionaryBatch and RecordBatch messages.
 *
 * File layout (Arrow columnar format, "IPC File Format"; Feather v2 is the same file):
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

#include <stdbool.h>
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
/* Messages a stream walk reads (two preads each: prefix, metadata; bodies are skipped); past
 * this the row count stays -1, as past SCAN_ARROW_MAX_BATCHES in a file. A stream's schema
 * message may be as large as a file's footer (SCAN_ARROW_MAX_FOOTER), the others as large as
 * SCAN_ARROW_MAX_MESSAGE. */
#define SCAN_ARROW_MAX_MESSAGES 10000

/* Message.header_type values. */
enum {
    SCAN_ARROW_SCHEMA = 1,
    SCAN_ARROW_DICTIONARY_BATCH = 2,
    SCAN_ARROW_RECORD_BATCH = 3,
};

/* The framing of one message: its prefix and metadata length (0: the end-of-stream marker). */
struct scan_arrow_frame {
    unsigned prefix;     /* 8: FF FF FF FF and the length; 4: the length alone (pre-0.15) */
    uint32_t meta_len;   /* at most INT32_MAX */
};

/* The Message table's fields this reader uses. */
struct scan_arrow_message {
    int header_type;     /* SCAN_ARROW_*, or another value (Tensor, unknown) */
    int64_t body_len;    /* >= 0 */
    int64_t rows;        /* a RecordBatch's length; -1 for other messages */
};

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
/* The framing at the start of p[n] (the first 4 or 8 bytes are looked at). 0; SHIR_E_MALFORMED
 * with *why (fewer than 4 bytes, a marker without its length, a negative length). Pure. */
int scan_arrow_frame_parse(const unsigned char *p, size_t n, struct scan_arrow_frame *fr,
                           const char **why);
/* Decode a Message flatbuffer (the metadata bytes alone, no prefix) into *m. 0;
 * SHIR_E_MALFORMED with *why. Pure. */
int scan_arrow_message_decode(const unsigned char *fb, size_t n, struct scan_arrow_message *m,
                              const char **why);
/* A Schema message's fields become columns of `a` (as scan_arrow_footer_fill does for a footer).
 * 0; SHIR_E_MALFORMED (not a Schema message, a bad field) or SHIR_E_UNSUPPORTED (big-endian)
 * with *why; SHIR_E_NOMEM. */
int scan_arrow_schema_message_fill(const unsigned char *fb, size_t n,
                                   const struct scan_limits *lim, struct scan_asset *a,
                                   const char **why);
/* True when head[n] (a file's first bytes) starts an IPC stream: the FF FF FF FF marker, a
 * metadata length that is a multiple of 8 and at most SCAN_ARROW_MAX_FOOTER, and a Message table
 * (metadata version V1..V5) whose header is a Schema and whose body is empty. Pre-0.15 streams
 * (no marker) are not recognised by content, only by name. Pure. */
bool scan_arrow_stream_start(const unsigned char *head, size_t n);
/* Read an IPC stream (scan_read_arrow calls it for a file without the ARROW1 magic): the
 * schema, and the row count summed over the record batch messages, whose bodies are skipped
 * unread. Damage (a cut, a bad message) is an error in `a`, with the rows counted before it.
 * 0, SHIR_E_NOMEM or an I/O error. (scan/columnar/arrow_stream.c.) */
int scan_arrow_read_stream(const struct scan_file *f, const struct scan_limits *lim,
                           struct scan_asset *a);

/* The row count of one record batch message (with or without its continuation marker and
 * length prefix). 0, SHIR_E_MALFORMED with *why. */
int scan_arrow_message_rows(const unsigned char *m, size_t n, int64_t *rows, const char **why);

#endif /* SHIR_SCAN_ARROW_H */
