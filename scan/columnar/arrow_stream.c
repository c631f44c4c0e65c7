/* The Arrow IPC stream format (scan/columnar/arrow.h draws it): walk the messages with bounded
 * reads (each message's prefix and metadata; bodies are skipped by their length, never read).
 * The framing and the Message table are decoded by arrow.c; this file does the I/O. */
#include <inttypes.h>
#include <stdlib.h>

#include "scan/columnar/arrow.h"

struct stream {
    const struct scan_file *f;
    struct scan_asset *a;
    uint64_t off;        /* start of the next message */
    unsigned char *meta; /* the current message's metadata (grown, owned) */
    size_t cap;
};

/* Read the message at s->off: its framing into *fr and, unless it is the end marker, its
 * metadata (at most `max` bytes) into s->meta. 0, with *why set when the bytes are bad;
 * SHIR_E_NOMEM or an I/O error. */
static int read_message(struct stream *s, uint32_t max, struct scan_arrow_frame *fr,
                        const char **why)
{
    unsigned char pre[8];
    uint64_t left = s->f->size - s->off;
    size_t want = left < 8 ? (size_t)left : 8, got;
    int rv;
    if ((rv = scan_file_read_at(s->f, s->off, pre, want, &got)) != 0)
        return rv;
    s->a->bytes_read += got;
    if (got != want || scan_arrow_frame_parse(pre, got, fr, why) != 0) {
        *why = *why ? *why : "cut short";
        return 0;
    }
    if (fr->meta_len == 0)
        return 0;
    if (fr->meta_len > max) {
        *why = "metadata length out of range";
        return 0;
    }
    if (fr->meta_len > left - fr->prefix) {
        *why = "metadata cut short";
        return 0;
    }
    if (fr->meta_len > s->cap) {
        unsigned char *n = realloc(s->meta, fr->meta_len);
        if (!n)
            return SHIR_E_NOMEM;
        s->meta = n;
        s->cap = fr->meta_len;
    }
    if ((rv = scan_file_read_at(s->f, s->off + fr->prefix, s->meta, fr->meta_len, &got)) != 0)
        return rv;
    s->a->bytes_read += got;
    if (got != fr->meta_len)
        *why = "metadata cut short";
    return 0;
}

/* The first message: the schema. 0 with *why set when it is missing or bad. */
static int read_schema(struct stream *s, const struct scan_limits *lim, const char **why)
{
    struct scan_arrow_frame fr;
    struct scan_arrow_message m;
    int rv;
    if (s->f->size == 0) {
        *why = "empty file";
        return 0;
    }
    if ((rv = read_message(s, SCAN_ARROW_MAX_FOOTER, &fr, why)) != 0 || *why)
        return rv;
    if (fr.meta_len == 0) {
        *why = "end of stream before the schema";
        return 0;
    }
    if (scan_arrow_message_decode(s->meta, fr.meta_len, &m, why) != 0)
        return 0;
    rv = scan_arrow_schema_message_fill(s->meta, fr.meta_len, lim, s->a, why);
    if (rv == SHIR_E_NOMEM)
        return rv;
    if (rv != 0 && !*why)
        *why = "bad schema";
    if (rv == 0 && (uint64_t)m.body_len > s->f->size - s->off - fr.prefix - fr.meta_len)
        *why = "schema body cut short";
    s->off += fr.prefix + fr.meta_len + (uint64_t)m.body_len;
    return 0;
}

/* Every message after the schema, to the end marker or the end of the file: the sum of the
 * record batches' lengths in *rows; dictionary batches are skipped. 0 with *why set at damage
 * (*rows then holds the rows before it), *capped when SCAN_ARROW_MAX_MESSAGES were read. */
static int count_stream_rows(struct stream *s, int64_t *rows, bool *capped, const char **why)
{
    for (size_t i = 1; s->off < s->f->size; i++) {
        struct scan_arrow_frame fr;
        struct scan_arrow_message m;
        int rv;
        if ((rv = read_message(s, SCAN_ARROW_MAX_MESSAGE, &fr, why)) != 0 || *why)
            return rv;
        if (fr.meta_len == 0)
            return 0; /* the end-of-stream marker; anything after it is not the stream's */
        if (i >= SCAN_ARROW_MAX_MESSAGES) {
            *capped = true; /* message i + 1 (the schema was the first) is one too many */
            return 0;
        }
        if (scan_arrow_message_decode(s->meta, fr.meta_len, &m, why) != 0)
            return 0;
        if (m.header_type == SCAN_ARROW_RECORD_BATCH) {
            if (m.rows > INT64_MAX - *rows) {
                *why = "row count overflows";
                return 0;
            }
            *rows += m.rows;
        } else if (m.header_type != SCAN_ARROW_DICTIONARY_BATCH) {
            *why =
                m.header_type == SCAN_ARROW_SCHEMA ? "a second schema" : "unexpected message type";
            return 0;
        }
        uint64_t after = s->f->size - s->off - fr.prefix - fr.meta_len;
        if ((uint64_t)m.body_len > after) {
            if (m.header_type == SCAN_ARROW_RECORD_BATCH)
                *rows -= m.rows; /* its body is not all there: the batch is not counted */
            *why = "message body cut short";
            return 0;
        }
        s->off += fr.prefix + fr.meta_len + (uint64_t)m.body_len;
    }
    return 0;
}

int scan_arrow_read_stream(const struct scan_file *f, const struct scan_limits *lim,
                           struct scan_asset *a)
{
    struct stream s = {.f = f, .a = a};
    const char *why = NULL;
    int64_t rows = 0;
    bool capped = false;
    int rv = read_schema(&s, lim, &why);
    if (rv != 0)
        goto out;
    if (why) {
        rv = scan_asset_add_error(a, "arrow: no ARROW1 magic, and not a readable IPC stream: %s",
                                  why);
        goto out;
    }
    if ((rv = count_stream_rows(&s, &rows, &capped, &why)) != 0)
        goto out;
    a->row_count = capped ? -1 : rows;
    if (why)
        rv = scan_asset_add_error(
            a, "arrow: stream damaged at offset %" PRIu64 " (%" PRId64 " rows before it): %s",
            s.off, rows, why);
out:
    free(s.meta);
    return rv;
}
