/* transport/codec.h: frames, the bounded msgpack decoder and the typed message envelopes.
 *
 * Internal to transport/: the public declarations (limits, frame decoder, messages, body
 * accessors) live in the "Frames and messages" section of transport/transport.h. This header is
 * where the wire format is drawn once (docs/wire.md repeats it for people who don't read C), and
 * it declares the pieces that msg.c, the connection code and the tests share.
 *
 * ---------------------------------------------------------------------------------------------
 * Channels (ALPN, one TLS 1.3 port):
 *
 *     shir-raft/1    raft's own byte stream, bridged through a socketpair; NOT framed by us
 *     shir-rpc/1     frames carrying typed messages (below)
 *     shir-gossip/1  frames carrying typed messages (one-way)
 *     shir-join/1    frames carrying typed messages; only the join request is served
 *
 * Frame (every channel except shir-raft/1):
 *
 *      0               1               2               3
 *     +---------------+---------------+---------------+---------------+---- ... ----+
 *     |            payload length N (uint32, big-endian)              |  payload    |
 *     +---------------+---------------+---------------+---------------+---- ... ----+
 *                                                                       N bytes: exactly ONE
 *                                                                       msgpack value, no
 *                                                                       trailing bytes
 *
 *     1 <= N <= max_frame (default 4 MiB = 4194304; configurable per connection). N = 0 is
 *     malformed (no value fits in it). The receiver rejects N > max_frame as soon as it has the
 *     4 header bytes, before buffering any payload, and closes the connection: after a bad frame
 *     the stream cannot be resynchronised.
 *
 * Message envelope (the payload): a msgpack array whose element 0 is the message type; the field
 * number is the array index. Each type needs the fields below; elements a newer peer appends
 * after them are ignored, and so are unknown keys of map bodies, so a field can be added in a
 * rolling upgrade. A change older peers must not half-understand is a new channel (ALPN
 * shir-rpc/2), not a new field.
 *
 *     type 0  request   [0, id:uint64, deadline_ms:uint32, method:str, body:any]
 *     type 1  response  [1, id:uint64, body:any]
 *     type 2  error     [2, id:uint64, code:int (negative, common/common.h), message:str]
 *     type 3  one-way   [3, method:str, body:any]
 *     type >3           unknown: SHIR_E_PROTO (answered with an error, counted, never a crash)
 *
 *     id           chosen by the requester, unique among its outstanding requests on one
 *                  connection; responses and errors echo it.
 *     deadline_ms  the time the requester still waits, RELATIVE (clocks of two nodes are not
 *                  comparable); 0 = no deadline. The server drops work whose budget is spent.
 *     method       1..64 bytes of printable ASCII 0x21..0x7e ("cluster.join", "run.start").
 *     code         a negative shir error code (SHIR_E_*, or a libuv -errno); unknown negative
 *                  codes are passed through so that newer peers can add codes.
 *     message      0..1024 bytes, untrusted text: escape before logging.
 *     body         any msgpack value (usually a map with str keys; see transport_body_get_*).
 *
 * Limits of the bounded decoder (checked by a validating pre-pass over the bytes BEFORE
 * msgpack-c allocates anything, because msgpack-c trusts counts: "dd ff ff ff ff", 5 bytes, is
 * an array32 announcing 4294967295 elements, i.e. ~96 GiB of msgpack_object):
 *
 *     every array count   <= bytes remaining        (each element takes >= 1 byte)
 *     every map count     <= bytes remaining / 2    (each key and value take >= 1 byte)
 *     every str/bin size  <= bytes remaining
 *     every ext size + 1  <= bytes remaining        (the type byte)
 *     nesting depth       <= max_depth (default and hard maximum 32, msgpack-c's own stack)
 *     objects in a value  <= max_objects (default 262144)
 *     the value ends exactly at the end of the payload
 *
 * so a decode allocates at most 24 bytes of msgpack_object per payload byte, in ONE zone chunk
 * sized from the pre-pass, and nothing at all for input the pre-pass rejects.
 * ---------------------------------------------------------------------------------------------
 */
#ifndef SHIR_TRANSPORT_CODEC_H
#define SHIR_TRANSPORT_CODEC_H

#include <msgpack.h>

#include "transport/transport.h"

/* snprintf into errbuf[cap] (a no-op when errbuf is NULL); for the short diagnostics. */
void transport__errf(char *errbuf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Copy `in` (NULL = defaults) into `out` with zero fields replaced by defaults and max_depth
 * clamped to TRANSPORT_MSGPACK_DEPTH_MAX. */
void transport__limits_resolve(const struct transport_codec_limits *in,
                               struct transport_codec_limits *out);

/* What the pre-pass learned about a valid value: enough to size the zone exactly. */
struct transport__msgpack_stats {
    size_t objects;    /* msgpack values, containers included */
    size_t zone_bytes; /* bytes msgpack-c will ask the zone for (arrays, maps, alignment) */
    unsigned depth;    /* deepest container nesting seen */
};

/* Check that p[0..n) holds exactly one msgpack value within `lim` (see the table above), without
 * allocating. 0 on success (st filled when non-NULL); SHIR_E_TRUNC when a count or length runs
 * past the end, SHIR_E_DEPTH, SHIR_E_TOOBIG (max_objects), SHIR_E_MALFORMED (trailing bytes,
 * empty input, the reserved byte 0xc1). errbuf[errcap] receives a short message on failure
 * (may be NULL). */
int transport__msgpack_check(const void *p, size_t n, const struct transport_codec_limits *lim,
                             struct transport__msgpack_stats *st, char *errbuf, size_t errcap);

/* A msgpack_packer writing into a shir_buf; `err` keeps the shir code of the first failed write
 * (msgpack-c only sees -1). A write that would take buf->len past `limit` (when non-zero) fails
 * with SHIR_E_TOOBIG: an oversize body stops early without clamping buf->max, which would defeat
 * the buffer's geometric growth. */
struct transport__pack_sink {
    struct shir_buf *buf;
    size_t limit;
    int err;
};
void transport__packer_init(msgpack_packer *pk, struct transport__pack_sink *sink,
                            struct shir_buf *buf);

/* Open a frame at the end of `out`: appends a 4-byte placeholder and sets *mark to its offset. */
int transport__frame_open(struct shir_buf *out, size_t *mark);
/* Close the frame opened at `mark`: writes the length, or on failure (payload empty or above
 * max_frame: SHIR_E_MALFORMED / SHIR_E_TOOBIG) truncates `out` back to `mark`. */
int transport__frame_close(struct shir_buf *out, size_t mark, size_t max_frame);

#endif /* SHIR_TRANSPORT_CODEC_H */
