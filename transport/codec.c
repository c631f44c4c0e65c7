/* Frames and the bounded msgpack decoder (wire format: transport/codec.h).
 *
 * Why a pre-pass instead of our own msgpack decoder: msgpack-c is well kept and does the decoding
 * (house style: no hand-written parsers where a library exists); what it lacks is distrust of
 * counts. The pre-pass below only walks headers and lengths, allocates nothing, and tells us the
 * exact zone size, so msgpack-c then runs on bytes already known to be sane. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <msgpack/unpack_define.h> /* MSGPACK_EMBED_STACK_SIZE */

#include "transport/codec.h"

/* The limits codec.h draws (and docs/wire.md repeats) are these. */
_Static_assert(TRANSPORT_MSGPACK_DEPTH_MAX == MSGPACK_EMBED_STACK_SIZE, "msgpack-c's stack");
_Static_assert(TRANSPORT_MAX_FRAME_DEFAULT == 4194304u, "4 MiB");
_Static_assert(TRANSPORT_MSGPACK_OBJECTS_DEFAULT == 262144u, "262144 values");

void transport__errf(char *buf, size_t cap, const char *fmt, ...)
{
    if (!buf || cap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    if (n < 0)
        buf[0] = '\0';
}

void transport_codec_limits_default(struct transport_codec_limits *lim)
{
    lim->max_frame = TRANSPORT_MAX_FRAME_DEFAULT;
    lim->max_depth = TRANSPORT_MSGPACK_DEPTH_MAX;
    lim->max_objects = TRANSPORT_MSGPACK_OBJECTS_DEFAULT;
}

void transport__limits_resolve(const struct transport_codec_limits *in,
                               struct transport_codec_limits *out)
{
    transport_codec_limits_default(out);
    if (!in)
        return;
    if (in->max_frame)
        out->max_frame = in->max_frame;
    /* Never above msgpack-c's stack: past it msgpack-c fails anyway, and the pre-pass is what
     * should say no, with a message. */
    if (in->max_depth && in->max_depth < TRANSPORT_MSGPACK_DEPTH_MAX)
        out->max_depth = in->max_depth;
    if (in->max_objects)
        out->max_objects = in->max_objects;
}

/* ---- frames -------------------------------------------------------------------------------- */

void transport_frame_decoder_init(struct transport_frame_decoder *d, size_t max_frame)
{
    memset(d, 0, sizeof *d);
    /* The buffer's own bound is the feed rule (drain before feeding again), not this number; it
     * only keeps size arithmetic away from overflow. */
    shir_buf_init(&d->buf, SIZE_MAX / 4);
    d->max_frame = max_frame ? max_frame : TRANSPORT_MAX_FRAME_DEFAULT;
    if (d->max_frame > UINT32_MAX)
        d->max_frame = UINT32_MAX;
}

void transport_frame_decoder_free(struct transport_frame_decoder *d)
{
    shir_buf_free(&d->buf);
    d->start = 0;
    d->scanned = 0;
}

static int decoder_fail(struct transport_frame_decoder *d, int err)
{
    d->err = err;
    /* Drop the partial frame: nothing after a bad header can be trusted. */
    d->buf.len = d->scanned;
    return err;
}

/* The 4th header byte has arrived: judge the announced length before any payload is kept. */
static int decoder_check_header(struct transport_frame_decoder *d, size_t flen)
{
    if (flen == 0) {
        transport__errf(d->errmsg, sizeof d->errmsg, "zero-length frame");
        return decoder_fail(d, SHIR_E_MALFORMED);
    }
    if (flen > d->max_frame) {
        transport__errf(d->errmsg, sizeof d->errmsg, "frame of %zu bytes exceeds the limit %zu",
                        flen, d->max_frame);
        return decoder_fail(d, SHIR_E_TOOBIG);
    }
    return 0;
}

int transport_frame_decoder_feed(struct transport_frame_decoder *d, const void *p, size_t n)
{
    const unsigned char *in = p;
    if (d->err)
        return d->err;
    if (d->start < d->scanned)
        return SHIR_E_BUSY;
    if (d->start > 0) {
        /* Everything before `start` was returned by _next and its borrow ended with this call. */
        shir_buf_consume(&d->buf, d->start);
        d->scanned -= d->start;
        d->start = 0;
        /* One 4 MiB frame must not pin 4 MiB per idle connection: give back a big, empty
         * buffer (64 KiB, one socket read, is kept). */
        if (d->buf.len == 0 && d->buf.cap > 65536)
            shir_buf_free(&d->buf);
    }
    while (n > 0) {
        size_t partial = d->buf.len - d->scanned;
        size_t want;
        if (partial < TRANSPORT_FRAME_HEADER)
            want = TRANSPORT_FRAME_HEADER - partial;
        else
            want = TRANSPORT_FRAME_HEADER + shir_get_be32(d->buf.data + d->scanned) - partial;
        size_t take = want < n ? want : n;
        int rv = shir_buf_append(&d->buf, in, take);
        if (rv != 0) {
            transport__errf(d->errmsg, sizeof d->errmsg, "buffering a frame: %s",
                            shir_strerror(rv));
            return decoder_fail(d, rv);
        }
        in += take;
        n -= take;
        partial += take;
        if (partial < TRANSPORT_FRAME_HEADER)
            continue;
        size_t flen = shir_get_be32(d->buf.data + d->scanned);
        if (partial == TRANSPORT_FRAME_HEADER) {
            rv = decoder_check_header(d, flen);
            if (rv != 0)
                return rv;
        }
        if (partial == TRANSPORT_FRAME_HEADER + flen)
            d->scanned = d->buf.len;
    }
    return 0;
}

size_t transport_frame_decoder_partial(const struct transport_frame_decoder *d)
{
    return d->buf.len - d->scanned;
}

int transport_frame_decoder_next(struct transport_frame_decoder *d, struct transport_frame *f)
{
    if (d->start < d->scanned) {
        size_t flen = shir_get_be32(d->buf.data + d->start);
        f->payload = d->buf.data + d->start + TRANSPORT_FRAME_HEADER;
        f->len = flen;
        d->start += TRANSPORT_FRAME_HEADER + flen;
        return 1;
    }
    f->payload = NULL;
    f->len = 0;
    return d->err ? d->err : 0;
}

int transport_frame_decoder_finish(struct transport_frame_decoder *d)
{
    if (d->err)
        return d->err;
    size_t partial = d->buf.len - d->scanned;
    if (partial == 0)
        return 0;
    if (partial < TRANSPORT_FRAME_HEADER)
        transport__errf(d->errmsg, sizeof d->errmsg,
                        "stream ended inside a frame header (%zu of 4 bytes)", partial);
    else
        transport__errf(d->errmsg, sizeof d->errmsg,
                        "stream ended inside a frame (%zu of %zu bytes)",
                        partial - TRANSPORT_FRAME_HEADER,
                        (size_t)shir_get_be32(d->buf.data + d->scanned));
    d->err = SHIR_E_TRUNC;
    return d->err;
}

const char *transport_frame_decoder_errmsg(const struct transport_frame_decoder *d)
{
    return d->errmsg;
}

int transport__frame_open(struct shir_buf *out, size_t *mark)
{
    *mark = out->len;
    static const unsigned char zero[TRANSPORT_FRAME_HEADER];
    return shir_buf_append(out, zero, sizeof zero);
}

int transport__frame_close(struct shir_buf *out, size_t mark, size_t max_frame)
{
    size_t plen = out->len - mark - TRANSPORT_FRAME_HEADER;
    if (max_frame == 0 || max_frame > UINT32_MAX)
        max_frame = max_frame ? UINT32_MAX : TRANSPORT_MAX_FRAME_DEFAULT;
    if (plen == 0) {
        out->len = mark;
        return SHIR_E_MALFORMED;
    }
    if (plen > max_frame) {
        out->len = mark;
        return SHIR_E_TOOBIG;
    }
    shir_put_be32(out->data + mark, (uint32_t)plen);
    return 0;
}

int transport_frame_encode(struct shir_buf *out, const void *payload, size_t len,
                           size_t max_frame)
{
    size_t lim = max_frame ? max_frame : TRANSPORT_MAX_FRAME_DEFAULT;
    if (len == 0)
        return SHIR_E_MALFORMED;
    if (len > lim || len > UINT32_MAX)
        return SHIR_E_TOOBIG;
    /* Reserve once so that a failure leaves `out` as it was. */
    int rv = shir_buf_reserve(out, TRANSPORT_FRAME_HEADER + len);
    if (rv != 0)
        return rv;
    shir_buf_append_be32(out, (uint32_t)len);
    shir_buf_append(out, payload, len);
    return 0;
}

/* ---- packer into a shir_buf ---------------------------------------------------------------- */

static int pack_sink_write(void *data, const char *buf, size_t len)
{
    struct transport__pack_sink *s = data;
    if (s->err)
        return -1;
    if (s->limit && (len > s->limit || s->buf->len > s->limit - len)) {
        s->err = SHIR_E_TOOBIG;
        return -1;
    }
    int rv = shir_buf_append(s->buf, buf, len);
    if (rv != 0) {
        s->err = rv;
        return -1;
    }
    return 0;
}

void transport__packer_init(msgpack_packer *pk, struct transport__pack_sink *sink,
                            struct shir_buf *buf)
{
    sink->buf = buf;
    sink->limit = 0;
    sink->err = 0;
    msgpack_packer_init(pk, sink, pack_sink_write);
}

/* ---- the validating pre-pass --------------------------------------------------------------- */

/* How one leading byte continues: bytes of a length field to read, a fixed body size, and
 * whether the length counts array items, map pairs, raw bytes or ext bytes (+1 type byte). */
enum mp_kind { MP_SCALAR, MP_ARRAY, MP_MAP, MP_RAW, MP_EXT };

struct mp_head {
    enum mp_kind kind;
    unsigned lenbytes; /* 0, 1, 2 or 4: a big-endian count follows the leading byte */
    uint64_t count;    /* the count when it is encoded in the leading byte (fix*) */
    size_t fixed;      /* body bytes of a scalar / fixext (type byte included) */
};

/* Classify the leading byte c. Returns false for 0xc1, the one byte msgpack reserves. */
static bool mp_classify(uint8_t c, struct mp_head *h)
{
    memset(h, 0, sizeof *h);
    h->kind = MP_SCALAR;
    if (c <= 0x7f || c >= 0xe0)
        return true; /* positive / negative fixint */
    if (c <= 0x8f) {
        h->kind = MP_MAP;
        h->count = c & 0x0fu;
        return true;
    }
    if (c <= 0x9f) {
        h->kind = MP_ARRAY;
        h->count = c & 0x0fu;
        return true;
    }
    if (c <= 0xbf) {
        h->kind = MP_RAW;
        h->count = c & 0x1fu;
        return true;
    }
    switch (c) {
    case 0xc0: case 0xc2: case 0xc3: return true;          /* nil, false, true */
    case 0xc1: return false;                                /* never used */
    case 0xc4: case 0xd9: h->kind = MP_RAW; h->lenbytes = 1; return true;
    case 0xc5: case 0xda: h->kind = MP_RAW; h->lenbytes = 2; return true;
    case 0xc6: case 0xdb: h->kind = MP_RAW; h->lenbytes = 4; return true;
    case 0xc7: h->kind = MP_EXT; h->lenbytes = 1; return true;
    case 0xc8: h->kind = MP_EXT; h->lenbytes = 2; return true;
    case 0xc9: h->kind = MP_EXT; h->lenbytes = 4; return true;
    case 0xca: h->fixed = 4; return true;                   /* float32 */
    case 0xcb: h->fixed = 8; return true;                   /* float64 */
    case 0xcc: case 0xd0: h->fixed = 1; return true;        /* (u)int8 */
    case 0xcd: case 0xd1: h->fixed = 2; return true;
    case 0xce: case 0xd2: h->fixed = 4; return true;
    case 0xcf: case 0xd3: h->fixed = 8; return true;
    case 0xd4: h->fixed = 2; return true;                   /* fixext 1 + type */
    case 0xd5: h->fixed = 3; return true;
    case 0xd6: h->fixed = 5; return true;
    case 0xd7: h->fixed = 9; return true;
    case 0xd8: h->fixed = 17; return true;
    case 0xdc: h->kind = MP_ARRAY; h->lenbytes = 2; return true;
    case 0xdd: h->kind = MP_ARRAY; h->lenbytes = 4; return true;
    case 0xde: h->kind = MP_MAP; h->lenbytes = 2; return true;
    case 0xdf: h->kind = MP_MAP; h->lenbytes = 4; return true;
    default: return false; /* unreachable: every byte is covered above */
    }
}

static const char *mp_kind_name(enum mp_kind k)
{
    switch (k) {
    case MP_ARRAY: return "array";
    case MP_MAP: return "map";
    case MP_RAW: return "str/bin";
    case MP_EXT: return "ext";
    default: return "scalar";
    }
}

/* Read one value's header at b[*pos]; on success *pos is past the header and any raw body, and
 * *h says whether a container with h->count items was opened. */
static int mp_read_head(const unsigned char *b, size_t n, size_t *pos, struct mp_head *h,
                        char *errbuf, size_t errcap)
{
    size_t at = *pos;
    if (at >= n) {
        transport__errf(errbuf, errcap, "value at offset %zu: input ends", at);
        return SHIR_E_TRUNC;
    }
    uint8_t c = b[at++];
    if (!mp_classify(c, h)) {
        transport__errf(errbuf, errcap, "offset %zu: reserved byte 0x%02x", at - 1, c);
        return SHIR_E_MALFORMED;
    }
    size_t rem = n - at;
    if (h->lenbytes) {
        if (rem < h->lenbytes) {
            transport__errf(errbuf, errcap, "offset %zu: %s length cut short", at - 1,
                            mp_kind_name(h->kind));
            return SHIR_E_TRUNC;
        }
        h->count = h->lenbytes == 1 ? b[at]
                   : h->lenbytes == 2 ? shir_get_be16(b + at)
                                      : shir_get_be32(b + at);
        at += h->lenbytes;
        rem -= h->lenbytes;
    }
    /* The heart of it: a count may not promise more than the bytes that are left. */
    uint64_t need;
    switch (h->kind) {
    case MP_ARRAY: need = h->count; break;              /* >= 1 byte per item */
    case MP_MAP: need = 2 * h->count; break;            /* >= 1 byte per key and value */
    case MP_RAW: need = h->count; break;
    case MP_EXT: need = h->count + 1; break;            /* + the type byte */
    default: need = h->fixed; break;
    }
    if (need > rem) {
        transport__errf(errbuf, errcap, "offset %zu: %s of %llu needs %llu bytes, %zu left",
                        *pos, mp_kind_name(h->kind), (unsigned long long)h->count,
                        (unsigned long long)need, rem);
        return SHIR_E_TRUNC;
    }
    if (h->kind == MP_RAW || h->kind == MP_EXT || h->kind == MP_SCALAR)
        at += (size_t)need;
    *pos = at;
    return 0;
}

int transport__msgpack_check(const void *p, size_t n, const struct transport_codec_limits *lim,
                             struct transport__msgpack_stats *st, char *errbuf, size_t errcap)
{
    const unsigned char *b = p;
    struct transport_codec_limits l;
    transport__limits_resolve(lim, &l);
    /* Items still expected by each open container (a map's pairs count twice). */
    uint64_t left[TRANSPORT_MSGPACK_DEPTH_MAX];
    unsigned top = 0, deepest = 0;
    size_t pos = 0, objects = 0, zone = 0;

    if (n == 0) {
        transport__errf(errbuf, errcap, "empty input");
        return SHIR_E_MALFORMED;
    }
    for (;;) {
        struct mp_head h;
        size_t at = pos;
        int rv = mp_read_head(b, n, &pos, &h, errbuf, errcap);
        if (rv != 0)
            return rv;
        if (++objects > l.max_objects) {
            transport__errf(errbuf, errcap, "more than %zu values", l.max_objects);
            return SHIR_E_TOOBIG;
        }
        if (h.kind == MP_ARRAY || h.kind == MP_MAP) {
            if (top + 1 > l.max_depth) {
                transport__errf(errbuf, errcap, "offset %zu: nesting deeper than %u", at,
                                l.max_depth);
                return SHIR_E_DEPTH;
            }
            if (top + 1 > deepest)
                deepest = top + 1;
            /* msgpack-c asks the zone for count * element bytes, aligned; counts are bounded by
             * n above, so this sum stays below 48 * n and cannot overflow. */
            size_t elem = h.kind == MP_ARRAY ? sizeof(msgpack_object) : sizeof(msgpack_object_kv);
            zone += (size_t)h.count * elem + MSGPACK_ZONE_ALIGN;
            if (h.count > 0) {
                left[top++] = h.kind == MP_MAP ? 2 * h.count : h.count;
                continue;
            }
        }
        /* A value is complete: close every container it completes. */
        while (top > 0 && --left[top - 1] == 0)
            top--;
        if (top == 0)
            break;
    }
    if (pos != n) {
        transport__errf(errbuf, errcap, "%zu trailing bytes after the value", n - pos);
        return SHIR_E_MALFORMED;
    }
    if (st) {
        st->objects = objects;
        st->zone_bytes = zone;
        st->depth = deepest;
    }
    return 0;
}

/* ---- bounded decode ------------------------------------------------------------------------ */

int transport_value_decode(struct transport_value *v, const struct transport_codec_limits *lim,
                           const void *p, size_t n)
{
    struct transport__msgpack_stats st;
    memset(v, 0, sizeof *v);
    v->root.type = MSGPACK_OBJECT_NIL;
    int rv = transport__msgpack_check(p, n, lim, &st, v->errmsg, sizeof v->errmsg);
    if (rv != 0)
        return rv;
    /* One chunk of exactly what the pre-pass counted (64 bytes at least: msgpack-c's chunk
     * header rides in the same allocation and a zero-size chunk is pointless). */
    size_t chunk = st.zone_bytes < 64 ? 64 : st.zone_bytes;
    if (!msgpack_zone_init(&v->zone, chunk)) {
        transport__errf(v->errmsg, sizeof v->errmsg, "zone of %zu bytes", chunk);
        return SHIR_E_NOMEM;
    }
    v->has_zone = true;
    v->zone_bytes = chunk;
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack(p, n, &off, &v->zone, &v->root);
    if (ur != MSGPACK_UNPACK_SUCCESS) {
        /* Only if msgpack-c and the pre-pass disagree (or memory ran out). */
        rv = ur == MSGPACK_UNPACK_NOMEM_ERROR ? SHIR_E_NOMEM : SHIR_E_MALFORMED;
        transport__errf(v->errmsg, sizeof v->errmsg, "msgpack-c refused the value (%d)",
                        (int)ur);
        transport_value_free(v);
        return rv;
    }
    return 0;
}

void transport_value_free(struct transport_value *v)
{
    if (v->has_zone)
        msgpack_zone_destroy(&v->zone);
    v->has_zone = false;
    v->root.type = MSGPACK_OBJECT_NIL;
}
