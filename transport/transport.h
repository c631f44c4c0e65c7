/* transport: everything that crosses the network.
 *
 * For: the one mutually-authenticated TLS port (listener, dialer, ALPN channels), frames and the
 * msgpack codec with limits, the typed message layer, the raft transport bridge, outbound HTTP.
 * Not for: deciding who is a member (the cluster supplies an allowlist callback) or any state.
 */
#ifndef SHIR_TRANSPORT_H
#define SHIR_TRANSPORT_H

#include "common/common.h"

/* Fill out[0..cap) with the libraries this module runs with (libuv, OpenSSL, libcurl, msgpack):
 * the versions loaded at run time, not the headers'. Returns how many were written. */
size_t transport_versions(struct shir_libversion *out, size_t cap);

/* ----- BEGIN codec section (owner: codec helper; transport/codec.c, msg.c) ----- */
/* =========================================================================================== */
/* Frames and messages. The bytes are drawn in transport/codec.h and docs/wire.md.
 *
 * Layers, bottom up:
 *   1. transport_frame_decoder: bytes from a socket in arbitrary chunks -> whole frames
 *      (4-byte big-endian length, then the payload), with the frame limit enforced on the header.
 *   2. transport_value_decode: one payload -> one msgpack_object, after a validating pre-pass
 *      that bounds every count, the nesting depth and the object count BEFORE msgpack-c
 *      allocates (msgpack-c itself trusts counts).
 *   3. transport_msg_*: the typed envelopes (request, response, error, one-way) and accessors
 *      for str-keyed map bodies, which every RPC uses.
 * Everything here is synchronous, allocates only through shir_buf and one msgpack zone per
 * decoded value, and touches no socket: the fuzz targets drive it directly. */
#include <msgpack.h>

#ifndef TRANSPORT_MAX_FRAME_DEFAULT
#define TRANSPORT_MAX_FRAME_DEFAULT (4u * 1024u * 1024u)
#endif
#define TRANSPORT_FRAME_HEADER 4u           /* the big-endian length prefix */
#define TRANSPORT_MSGPACK_DEPTH_MAX 32u     /* msgpack-c's unpack stack (MSGPACK_EMBED_STACK_SIZE) */
#define TRANSPORT_MSGPACK_OBJECTS_DEFAULT (256u * 1024u) /* 6 MiB of msgpack_object at most */
#define TRANSPORT_METHOD_MAX 64u            /* bytes of a method name */
#define TRANSPORT_ERRMSG_WIRE_MAX 1024u     /* bytes of an error response's message */
#define TRANSPORT_CODEC_ERRMSG 128u         /* our own diagnostics ("map count 65535 > 3 bytes") */

/* Limits of one connection's decoder. Zero fields mean "the default". */
struct transport_codec_limits {
    size_t max_frame;    /* payload bytes per frame; default TRANSPORT_MAX_FRAME_DEFAULT */
    unsigned max_depth;  /* container nesting, 1..TRANSPORT_MSGPACK_DEPTH_MAX (the default) */
    size_t max_objects;  /* msgpack values in one payload; default TRANSPORT_MSGPACK_OBJECTS_DEFAULT */
};
/* The defaults above. */
void transport_codec_limits_default(struct transport_codec_limits *lim);

/* ---- 1. frames ----------------------------------------------------------------------------- */

/* Incremental frame decoder (hiredis-reader style: feed bytes, then pull frames). The struct is
 * public so it can live inside a connection without an allocation; treat the fields as private.
 *
 * Memory: it holds the bytes of one feed call plus at most one partial frame (<= max_frame + 4).
 * It never reserves memory because a header announces a size: the partial frame grows only as
 * its bytes arrive, so a peer that announces 4 MiB and sends 5 bytes costs 5 bytes. */
struct transport_frame_decoder {
    struct shir_buf buf; /* unread bytes: complete frames [start, scanned), then a partial one */
    size_t start;        /* first byte not yet returned by _next */
    size_t scanned;      /* end of the last complete frame */
    size_t max_frame;
    int err;             /* sticky: once the stream is bad it stays bad */
    char errmsg[TRANSPORT_CODEC_ERRMSG];
};

/* A complete frame: payload bytes borrowed from the decoder, valid until the next _feed, _finish
 * or _free on that decoder. */
struct transport_frame {
    const unsigned char *payload;
    size_t len;
};

/* Initialise (allocates nothing). max_frame 0 means TRANSPORT_MAX_FRAME_DEFAULT. */
void transport_frame_decoder_init(struct transport_frame_decoder *d, size_t max_frame);
/* Release the buffer. Safe on a zeroed or already-freed decoder. */
void transport_frame_decoder_free(struct transport_frame_decoder *d);
/* Append `n` bytes (copied; p borrowed for the call) read from the stream. Headers are checked as
 * soon as their 4th byte arrives: a length above max_frame is SHIR_E_TOOBIG and a length of 0 is
 * SHIR_E_MALFORMED, before any payload byte is buffered. Errors are sticky (every later call
 * returns the same code) and complete frames that preceded the bad header are still returned by
 * _next. SHIR_E_BUSY when complete frames from an earlier feed were not drained with _next (the
 * caller's bug: that rule is what bounds the memory); SHIR_E_NOMEM. */
int transport_frame_decoder_feed(struct transport_frame_decoder *d, const void *p, size_t n);
/* Pull the next complete frame: 1 and *f filled, 0 when more bytes are needed, or the sticky
 * error once the frames before it are drained. */
int transport_frame_decoder_next(struct transport_frame_decoder *d, struct transport_frame *f);
/* The stream ended (EOF): 0 when it ended on a frame boundary, SHIR_E_TRUNC when a partial frame
 * (even a partial header) is left, or the sticky error. */
int transport_frame_decoder_finish(struct transport_frame_decoder *d);
/* A short message about the sticky error ("frame of 5000000 bytes exceeds 4194304"), "" if none.
 * Borrowed from the decoder. */
const char *transport_frame_decoder_errmsg(const struct transport_frame_decoder *d);

/* Append one frame (header + a copy of payload) to `out`. SHIR_E_TOOBIG when len > max_frame
 * (0 = default) or out's own max is reached, SHIR_E_MALFORMED for len 0, SHIR_E_NOMEM; `out` is
 * unchanged on failure. */
int transport_frame_encode(struct shir_buf *out, const void *payload, size_t len,
                           size_t max_frame);

/* ---- 2. bounded msgpack -------------------------------------------------------------------- */

/* One decoded msgpack value. `root` and everything under it live in `zone` (arrays, maps) or in
 * the INPUT bytes (str, bin and ext bodies point into them: the input must outlive the value). */
struct transport_value {
    msgpack_object root;
    msgpack_zone zone;
    bool has_zone;
    size_t zone_bytes; /* what the zone was sized to (tests check the allocation bound) */
    char errmsg[TRANSPORT_CODEC_ERRMSG];
};

/* Decode exactly one msgpack value from p[0..n) (borrowed, must outlive v) under `lim` (NULL =
 * defaults). Nothing is allocated unless the pre-pass accepts the bytes; then one zone chunk
 * sized from it. Errors: SHIR_E_TRUNC (a count or length runs past the end), SHIR_E_DEPTH,
 * SHIR_E_TOOBIG (object count), SHIR_E_MALFORMED (trailing bytes, empty input, reserved byte),
 * SHIR_E_NOMEM; v->errmsg says which and where. On failure nothing needs freeing, but calling
 * transport_value_free is harmless. */
int transport_value_decode(struct transport_value *v, const struct transport_codec_limits *lim,
                           const void *p, size_t n);
/* Release the zone. Safe twice and on a failed decode. */
void transport_value_free(struct transport_value *v);

/* ---- 3. typed messages --------------------------------------------------------------------- */

enum transport_msg_type {
    TRANSPORT_MSG_REQUEST = 0,  /* [0, id, deadline_ms, method, body] */
    TRANSPORT_MSG_RESPONSE = 1, /* [1, id, body] */
    TRANSPORT_MSG_ERROR = 2,    /* [2, id, code, message] */
    TRANSPORT_MSG_ONEWAY = 3,   /* [3, method, body] */
};

/* A decoded message. Strings are NOT NUL-terminated and, like `body`, borrow from the frame
 * bytes and from `value`: valid until transport_msg_free and while the frame bytes live. */
struct transport_msg {
    enum transport_msg_type type;
    uint64_t id;           /* request, response, error */
    uint32_t deadline_ms;  /* request: relative budget, 0 = none */
    const char *method;    /* request, one-way: 1..TRANSPORT_METHOD_MAX printable ASCII */
    size_t method_len;
    int code;              /* error: negative */
    const char *message;   /* error: untrusted text, escape before logging */
    size_t message_len;
    msgpack_object body;   /* request, response, one-way; nil otherwise */
    struct transport_value value; /* owns the zone */
};

/* Packs exactly ONE msgpack value (the body) with pk; return 0 or a negative code, which the
 * encoder returns as is. `arg` is the caller's. */
typedef int (*transport_body_pack_cb)(msgpack_packer *pk, void *arg);

/* Encoders: each appends ONE complete frame (header + envelope) to `out`, or leaves `out`
 * unchanged on failure. body_cb NULL packs nil. `max_frame` 0 = default. method and message are
 * borrowed NUL-terminated strings. Errors: SHIR_E_INVAL (method empty, too long or not printable
 * ASCII; code >= 0; message over TRANSPORT_ERRMSG_WIRE_MAX; body_cb packed zero or several values
 * or one the default decoder limits would refuse), SHIR_E_TOOBIG (frame over max_frame or
 * out->max), SHIR_E_NOMEM, or what body_cb returned. */
int transport_msg_encode_request(struct shir_buf *out, size_t max_frame, uint64_t id,
                                 uint32_t deadline_ms, const char *method,
                                 transport_body_pack_cb body_cb, void *arg);
int transport_msg_encode_response(struct shir_buf *out, size_t max_frame, uint64_t id,
                                  transport_body_pack_cb body_cb, void *arg);
int transport_msg_encode_error(struct shir_buf *out, size_t max_frame, uint64_t id, int code,
                               const char *message);
int transport_msg_encode_oneway(struct shir_buf *out, size_t max_frame, const char *method,
                                transport_body_pack_cb body_cb, void *arg);

/* Decode one frame payload (borrowed; must outlive m) into m under `lim` (NULL = defaults).
 * Errors: those of transport_value_decode; SHIR_E_MALFORMED for a bad shape (not an array,
 * wrong arity, wrong field type, id/deadline out of range, bad method, code >= 0, message too
 * long); SHIR_E_PROTO for an unknown message type. m->value.errmsg holds the reason. Nothing to
 * free on failure (transport_msg_free is harmless). */
int transport_msg_decode(struct transport_msg *m, const struct transport_codec_limits *lim,
                         const void *payload, size_t len);
void transport_msg_free(struct transport_msg *m);
/* The reason of the last failed decode ("field 3 (method): want str, got uint"). Borrowed. */
const char *transport_msg_errmsg(const struct transport_msg *m);
/* True when m carries a method equal to the NUL-terminated `name`. */
bool transport_msg_method_is(const struct transport_msg *m, const char *name);

/* Body accessors for maps with str keys (the shape of every RPC body). `body` is borrowed; the
 * results borrow from it. A duplicated key is SHIR_E_MALFORMED (two readers of one map must not
 * disagree about it), an absent key SHIR_E_NOTFOUND, a value of the wrong type or a body that is
 * not a map SHIR_E_MALFORMED. */
int transport_body_get(const msgpack_object *body, const char *key, const msgpack_object **out);
int transport_body_get_str(const msgpack_object *body, const char *key, const char **p,
                           size_t *len);
/* Copy a str into dst[cap] NUL-terminated: SHIR_E_TOOBIG when it does not fit, SHIR_E_MALFORMED
 * when it holds a NUL byte. */
int transport_body_copy_str(const msgpack_object *body, const char *key, char *dst, size_t cap);
int transport_body_get_bin(const msgpack_object *body, const char *key, const void **p,
                           size_t *len);
int transport_body_get_u64(const msgpack_object *body, const char *key, uint64_t *v);
int transport_body_get_i64(const msgpack_object *body, const char *key, int64_t *v);
int transport_body_get_bool(const msgpack_object *body, const char *key, bool *v);
/* An array or map value (borrowed pointer into the body). */
int transport_body_get_array(const msgpack_object *body, const char *key,
                             const msgpack_object_array **out);
int transport_body_get_map(const msgpack_object *body, const char *key,
                           const msgpack_object **out);
/* Pack a str given as a NUL-terminated C string (a helper for body_cb writers). */
int transport_pack_cstr(msgpack_packer *pk, const char *s);
/* ----- END codec section ----- */

#endif /* SHIR_TRANSPORT_H */
