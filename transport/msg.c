/* The typed message layer: envelopes (request, response, error, one-way) on top of frames and
 * the bounded decoder, and the accessors for str-keyed map bodies. Wire format: codec.h. */
#include <string.h>

#include "transport/codec.h"

/* ---- encoding ------------------------------------------------------------------------------ */

static bool method_valid(const char *method)
{
    if (!method)
        return false;
    size_t n = strlen(method);
    if (n == 0 || n > TRANSPORT_METHOD_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)method[i];
        if (c < 0x21 || c > 0x7e)
            return false;
    }
    return true;
}

/* What varies between the four envelopes; fields unused by a type are ignored. */
struct envelope {
    enum transport_msg_type type;
    uint64_t id;
    uint32_t deadline_ms;
    const char *method;
    int code;
    const char *message;
    transport_body_pack_cb body_cb;
    void *arg;
};

static int pack_body(msgpack_packer *pk, const struct envelope *e)
{
    return e->body_cb ? e->body_cb(pk, e->arg) : msgpack_pack_nil(pk);
}

static int pack_envelope(msgpack_packer *pk, const struct envelope *e)
{
    int rv;
    switch (e->type) {
    case TRANSPORT_MSG_REQUEST:
        if ((rv = msgpack_pack_array(pk, 5)) || (rv = msgpack_pack_uint8(pk, 0)) ||
            (rv = msgpack_pack_uint64(pk, e->id)) ||
            (rv = msgpack_pack_uint32(pk, e->deadline_ms)) ||
            (rv = transport_pack_cstr(pk, e->method)))
            return rv;
        return pack_body(pk, e);
    case TRANSPORT_MSG_RESPONSE:
        if ((rv = msgpack_pack_array(pk, 3)) || (rv = msgpack_pack_uint8(pk, 1)) ||
            (rv = msgpack_pack_uint64(pk, e->id)))
            return rv;
        return pack_body(pk, e);
    case TRANSPORT_MSG_ERROR:
        if ((rv = msgpack_pack_array(pk, 4)) || (rv = msgpack_pack_uint8(pk, 2)) ||
            (rv = msgpack_pack_uint64(pk, e->id)) || (rv = msgpack_pack_int32(pk, e->code)))
            return rv;
        return transport_pack_cstr(pk, e->message);
    case TRANSPORT_MSG_ONEWAY:
        if ((rv = msgpack_pack_array(pk, 3)) || (rv = msgpack_pack_uint8(pk, 3)) ||
            (rv = transport_pack_cstr(pk, e->method)))
            return rv;
        return pack_body(pk, e);
    }
    return SHIR_E_INVAL;
}

/* Append one framed envelope to out, or leave out as it was. */
static int encode(struct shir_buf *out, size_t max_frame, const struct envelope *e)
{
    size_t lim = max_frame ? max_frame : TRANSPORT_MAX_FRAME_DEFAULT;
    if (lim > UINT32_MAX)
        lim = UINT32_MAX; /* the header's range; also keeps out->len + lim from overflowing */
    size_t mark = 0;
    struct transport__pack_sink sink;
    msgpack_packer pk;

    int rv = transport__frame_open(out, &mark);
    if (rv != 0)
        return rv;
    /* Stop a body that outgrows the frame instead of packing megabytes only to throw them
     * away. */
    transport__packer_init(&pk, &sink, out);
    sink.limit = out->len + lim;
    rv = pack_envelope(&pk, e);
    if (sink.err)
        rv = sink.err; /* msgpack-c only saw -1; the buffer knows why */
    else if (rv > 0 || rv == -1)
        rv = SHIR_E_NOMEM; /* a packer failure without a sink error: not expected */
    if (rv == 0) {
        /* A body_cb that packed zero or two values would send a frame every peer rejects; the
         * header walk is cheap next to the packing (it skips str/bin bodies), so refuse here. */
        rv = transport__msgpack_check(out->data + mark + TRANSPORT_FRAME_HEADER,
                                      out->len - mark - TRANSPORT_FRAME_HEADER, NULL, NULL, NULL,
                                      0);
        if (rv != 0)
            rv = SHIR_E_INVAL;
    }
    if (rv != 0) {
        out->len = mark;
        return rv;
    }
    return transport__frame_close(out, mark, lim);
}

int transport_msg_encode_request(struct shir_buf *out, size_t max_frame, uint64_t id,
                                 uint32_t deadline_ms, const char *method,
                                 transport_body_pack_cb body_cb, void *arg)
{
    if (!method_valid(method))
        return SHIR_E_INVAL;
    struct envelope e = {.type = TRANSPORT_MSG_REQUEST, .id = id, .deadline_ms = deadline_ms,
                         .method = method, .body_cb = body_cb, .arg = arg};
    return encode(out, max_frame, &e);
}

int transport_msg_encode_response(struct shir_buf *out, size_t max_frame, uint64_t id,
                                  transport_body_pack_cb body_cb, void *arg)
{
    struct envelope e = {.type = TRANSPORT_MSG_RESPONSE, .id = id, .body_cb = body_cb,
                         .arg = arg};
    return encode(out, max_frame, &e);
}

int transport_msg_encode_error(struct shir_buf *out, size_t max_frame, uint64_t id, int code,
                               const char *message)
{
    if (code >= 0 || !message || strlen(message) > TRANSPORT_ERRMSG_WIRE_MAX)
        return SHIR_E_INVAL;
    struct envelope e = {.type = TRANSPORT_MSG_ERROR, .id = id, .code = code,
                         .message = message};
    return encode(out, max_frame, &e);
}

int transport_msg_encode_oneway(struct shir_buf *out, size_t max_frame, const char *method,
                                transport_body_pack_cb body_cb, void *arg)
{
    if (!method_valid(method))
        return SHIR_E_INVAL;
    struct envelope e = {.type = TRANSPORT_MSG_ONEWAY, .method = method, .body_cb = body_cb,
                         .arg = arg};
    return encode(out, max_frame, &e);
}

int transport_pack_cstr(msgpack_packer *pk, const char *s)
{
    return msgpack_pack_str_with_body(pk, s, strlen(s));
}

int transport_pack_kv_bin(msgpack_packer *pk, const char *key, const void *p, size_t n)
{
    int rv = transport_pack_cstr(pk, key);
    if (rv == 0)
        rv = msgpack_pack_bin_with_body(pk, p, n);
    return rv;
}

/* ---- decoding ------------------------------------------------------------------------------ */

static const char *type_name(msgpack_object_type t)
{
    switch (t) {
    case MSGPACK_OBJECT_NIL: return "nil";
    case MSGPACK_OBJECT_BOOLEAN: return "bool";
    case MSGPACK_OBJECT_POSITIVE_INTEGER: return "uint";
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "negative int";
    case MSGPACK_OBJECT_FLOAT32: return "float32";
    case MSGPACK_OBJECT_FLOAT64: return "float64";
    case MSGPACK_OBJECT_STR: return "str";
    case MSGPACK_OBJECT_ARRAY: return "array";
    case MSGPACK_OBJECT_MAP: return "map";
    case MSGPACK_OBJECT_BIN: return "bin";
    case MSGPACK_OBJECT_EXT: return "ext";
    }
    return "unknown";
}

static const char *const msg_names[] = {"request", "response", "error", "one-way"};
/* The fields each type needs; a newer peer may append more, which are ignored (codec.h). */
static const uint32_t msg_arity[] = {5, 3, 4, 3};

/* Field i of the envelope must have type t. */
static int want(struct transport_msg *m, const msgpack_object *f, unsigned i, const char *what,
                msgpack_object_type t)
{
    if (f->type == t)
        return 0;
    transport__errf(m->value.errmsg, sizeof m->value.errmsg, "%s field %u (%s): want %s, got %s",
                    msg_names[m->type], i, what, type_name(t), type_name(f->type));
    return SHIR_E_MALFORMED;
}

static int bad(struct transport_msg *m, unsigned i, const char *what, const char *why)
{
    transport__errf(m->value.errmsg, sizeof m->value.errmsg, "%s field %u (%s): %s",
                    msg_names[m->type], i, what, why);
    return SHIR_E_MALFORMED;
}

/* The refusals below spell the limits out. */
_Static_assert(TRANSPORT_METHOD_MAX == 64, "\"length not in 1..64\"");
_Static_assert(TRANSPORT_ERRMSG_WIRE_MAX == 1024, "\"longer than 1024 bytes\"");

static int take_method(struct transport_msg *m, const msgpack_object *f, unsigned i)
{
    int rv = want(m, f, i, "method", MSGPACK_OBJECT_STR);
    if (rv != 0)
        return rv;
    if (f->via.str.size == 0 || f->via.str.size > TRANSPORT_METHOD_MAX)
        return bad(m, i, "method", "length not in 1..64");
    for (uint32_t k = 0; k < f->via.str.size; k++) {
        unsigned char c = (unsigned char)f->via.str.ptr[k];
        if (c < 0x21 || c > 0x7e)
            return bad(m, i, "method", "not printable ASCII");
    }
    m->method = f->via.str.ptr;
    m->method_len = f->via.str.size;
    return 0;
}

static int take_fields(struct transport_msg *m, const msgpack_object *f)
{
    int rv;
    switch (m->type) {
    case TRANSPORT_MSG_REQUEST:
        if ((rv = want(m, &f[1], 1, "id", MSGPACK_OBJECT_POSITIVE_INTEGER)) ||
            (rv = want(m, &f[2], 2, "deadline_ms", MSGPACK_OBJECT_POSITIVE_INTEGER)))
            return rv;
        if (f[2].via.u64 > UINT32_MAX)
            return bad(m, 2, "deadline_ms", "above 2^32-1");
        m->id = f[1].via.u64;
        m->deadline_ms = (uint32_t)f[2].via.u64;
        if ((rv = take_method(m, &f[3], 3)))
            return rv;
        m->body = f[4];
        return 0;
    case TRANSPORT_MSG_RESPONSE:
        if ((rv = want(m, &f[1], 1, "id", MSGPACK_OBJECT_POSITIVE_INTEGER)))
            return rv;
        m->id = f[1].via.u64;
        m->body = f[2];
        return 0;
    case TRANSPORT_MSG_ERROR:
        if ((rv = want(m, &f[1], 1, "id", MSGPACK_OBJECT_POSITIVE_INTEGER)))
            return rv;
        if (f[2].type != MSGPACK_OBJECT_NEGATIVE_INTEGER)
            return bad(m, 2, "code", "want a negative int");
        if (f[2].via.i64 < INT32_MIN)
            return bad(m, 2, "code", "below -2^31");
        if ((rv = want(m, &f[3], 3, "message", MSGPACK_OBJECT_STR)))
            return rv;
        if (f[3].via.str.size > TRANSPORT_ERRMSG_WIRE_MAX)
            return bad(m, 3, "message", "longer than 1024 bytes");
        m->id = f[1].via.u64;
        m->code = (int)f[2].via.i64;
        m->message_len = f[3].via.str.size;
        m->message = m->message_len ? f[3].via.str.ptr : ""; /* never NULL for an error */
        return 0;
    case TRANSPORT_MSG_ONEWAY:
        if ((rv = take_method(m, &f[1], 1)))
            return rv;
        m->body = f[2];
        return 0;
    }
    return SHIR_E_PROTO;
}

int transport_msg_decode(struct transport_msg *m, const struct transport_codec_limits *lim,
                         const void *payload, size_t len)
{
    memset(m, 0, sizeof *m);
    m->body.type = MSGPACK_OBJECT_NIL;
    int rv = transport_value_decode(&m->value, lim, payload, len);
    if (rv != 0)
        return rv;
    const msgpack_object *o = &m->value.root;
    char *err = m->value.errmsg;
    if (o->type != MSGPACK_OBJECT_ARRAY) {
        transport__errf(err, sizeof m->value.errmsg, "envelope: want array, got %s",
                        type_name(o->type));
        rv = SHIR_E_MALFORMED;
        goto err;
    }
    const msgpack_object *f = o->via.array.ptr;
    if (o->via.array.size == 0 || f[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        transport__errf(err, sizeof m->value.errmsg, "envelope: field 0 (type): want uint");
        rv = SHIR_E_MALFORMED;
        goto err;
    }
    if (f[0].via.u64 > TRANSPORT_MSG_ONEWAY) {
        transport__errf(err, sizeof m->value.errmsg, "unknown message type %llu",
                        (unsigned long long)f[0].via.u64);
        rv = SHIR_E_PROTO;
        goto err;
    }
    m->type = (enum transport_msg_type)f[0].via.u64;
    if (o->via.array.size < msg_arity[m->type]) {
        transport__errf(err, sizeof m->value.errmsg, "%s: want at least %u fields, got %u",
                        msg_names[m->type], msg_arity[m->type], o->via.array.size);
        rv = SHIR_E_MALFORMED;
        goto err;
    }
    rv = take_fields(m, f);
    if (rv != 0)
        goto err;
    return 0;
err:
    transport_value_free(&m->value);
    m->method = NULL;
    m->method_len = 0;
    m->message = NULL;
    m->message_len = 0;
    m->body.type = MSGPACK_OBJECT_NIL;
    return rv;
}

void transport_msg_free(struct transport_msg *m)
{
    transport_value_free(&m->value);
    m->body.type = MSGPACK_OBJECT_NIL;
}

const char *transport_msg_errmsg(const struct transport_msg *m)
{
    return m->value.errmsg;
}

bool transport_msg_method_is(const struct transport_msg *m, const char *name)
{
    if (!m->method)
        return false;
    size_t n = strlen(name);
    return n == m->method_len && memcmp(m->method, name, n) == 0;
}

/* ---- body accessors ------------------------------------------------------------------------ */

int transport_body_get(const msgpack_object *body, const char *key, const msgpack_object **out)
{
    *out = NULL;
    if (!body || body->type != MSGPACK_OBJECT_MAP)
        return SHIR_E_MALFORMED;
    size_t klen = strlen(key);
    const msgpack_object_kv *kv = body->via.map.ptr;
    for (uint32_t i = 0; i < body->via.map.size; i++) {
        const msgpack_object *k = &kv[i].key;
        /* klen 0: msgpack-c may give an empty str a NULL ptr, and memcmp(NULL, .., 0) is UB
         * (found by fuzz_msg; corpus/msg/empty-key). */
        if (k->type != MSGPACK_OBJECT_STR || k->via.str.size != klen ||
            (klen > 0 && memcmp(k->via.str.ptr, key, klen) != 0))
            continue;
        if (*out) {
            *out = NULL;
            return SHIR_E_MALFORMED;
        }
        *out = &kv[i].val;
    }
    return *out ? 0 : SHIR_E_NOTFOUND;
}

static int get_typed(const msgpack_object *body, const char *key, msgpack_object_type t,
                     const msgpack_object **out)
{
    int rv = transport_body_get(body, key, out);
    if (rv != 0)
        return rv;
    if ((*out)->type != t) {
        *out = NULL;
        return SHIR_E_MALFORMED;
    }
    return 0;
}

int transport_body_get_str(const msgpack_object *body, const char *key, const char **p,
                           size_t *len)
{
    const msgpack_object *v;
    int rv = get_typed(body, key, MSGPACK_OBJECT_STR, &v);
    if (rv != 0)
        return rv;
    *len = v->via.str.size;
    *p = *len ? v->via.str.ptr : ""; /* never NULL, even for an empty str */
    return 0;
}

int transport_body_copy_str(const msgpack_object *body, const char *key, char *dst, size_t cap)
{
    const char *p;
    size_t len;
    int rv = transport_body_get_str(body, key, &p, &len);
    if (rv != 0)
        return rv;
    if (len > 0 && memchr(p, '\0', len))
        return SHIR_E_MALFORMED;
    if (cap == 0 || len > cap - 1)
        return SHIR_E_TOOBIG;
    if (len > 0)
        memcpy(dst, p, len);
    dst[len] = '\0';
    return 0;
}

int transport_body_get_bin(const msgpack_object *body, const char *key, const void **p,
                           size_t *len)
{
    const msgpack_object *v;
    int rv = get_typed(body, key, MSGPACK_OBJECT_BIN, &v);
    if (rv != 0)
        return rv;
    *len = v->via.bin.size;
    *p = *len ? v->via.bin.ptr : "";
    return 0;
}

int transport_body_get_u64(const msgpack_object *body, const char *key, uint64_t *v)
{
    const msgpack_object *o;
    int rv = get_typed(body, key, MSGPACK_OBJECT_POSITIVE_INTEGER, &o);
    if (rv != 0)
        return rv;
    *v = o->via.u64;
    return 0;
}

int transport_body_get_i64(const msgpack_object *body, const char *key, int64_t *v)
{
    const msgpack_object *o;
    int rv = transport_body_get(body, key, &o);
    if (rv != 0)
        return rv;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *v = o->via.i64;
        return 0;
    }
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) {
        *v = (int64_t)o->via.u64;
        return 0;
    }
    return SHIR_E_MALFORMED;
}

int transport_body_get_bool(const msgpack_object *body, const char *key, bool *v)
{
    const msgpack_object *o;
    int rv = get_typed(body, key, MSGPACK_OBJECT_BOOLEAN, &o);
    if (rv != 0)
        return rv;
    *v = o->via.boolean;
    return 0;
}

int transport_body_get_array(const msgpack_object *body, const char *key,
                             const msgpack_object_array **out)
{
    const msgpack_object *o;
    *out = NULL;
    int rv = get_typed(body, key, MSGPACK_OBJECT_ARRAY, &o);
    if (rv != 0)
        return rv;
    *out = &o->via.array;
    return 0;
}

int transport_body_get_map(const msgpack_object *body, const char *key,
                           const msgpack_object **out)
{
    return get_typed(body, key, MSGPACK_OBJECT_MAP, out);
}
