/* Fuzz the message layer on one frame payload: the bounded msgpack decoder, the envelope checks
 * and the body accessors. Whatever decodes must re-encode (through msgpack-c's packer and our
 * envelope encoder) to a frame that decodes to the same message: the decoder and the encoder
 * agree about the shapes. The input also runs through a tight limit set (depth 4, 64 objects). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transport/transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int pack_object(msgpack_packer *pk, void *arg)
{
    return msgpack_pack_object(pk, *(const msgpack_object *)arg);
}

/* Poke the accessors at a few keys an RPC body would have; results do not matter, only that
 * they neither crash nor read outside the value. */
static void poke_body(const msgpack_object *body)
{
    static const char *const keys[] = {"id", "name", "pin", "ok", "list", "sub", ""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *s;
        const void *bin;
        size_t len;
        uint64_t u;
        int64_t v;
        bool b;
        char dst[16];
        const msgpack_object_array *arr;
        const msgpack_object *map;
        if (transport_body_get_str(body, keys[i], &s, &len) == 0 && len > 0)
            (void)*(volatile const char *)&s[len - 1];
        if (transport_body_get_bin(body, keys[i], &bin, &len) == 0 && len > 0)
            (void)*(volatile const char *)((const char *)bin + len - 1);
        (void)transport_body_copy_str(body, keys[i], dst, sizeof dst);
        (void)transport_body_get_u64(body, keys[i], &u);
        (void)transport_body_get_i64(body, keys[i], &v);
        (void)transport_body_get_bool(body, keys[i], &b);
        (void)transport_body_get_array(body, keys[i], &arr);
        if (transport_body_get_map(body, keys[i], &map) == 0)
            (void)transport_body_get_u64(map, "id", &u);
    }
}

static void check_roundtrip(const struct transport_msg *m)
{
    struct shir_buf b;
    struct transport_msg m2;
    char method[TRANSPORT_METHOD_MAX + 1] = "";
    char message[TRANSPORT_ERRMSG_WIRE_MAX + 1] = "";
    int rv = 0;

    shir_buf_init(&b, SIZE_MAX / 4);
    if (m->method_len > 0) {
        memcpy(method, m->method, m->method_len);
        method[m->method_len] = '\0';
    }
    if (m->message_len > 0) {
        memcpy(message, m->message, m->message_len);
        message[m->message_len] = '\0';
    }
    switch (m->type) {
    case TRANSPORT_MSG_REQUEST:
        rv = transport_msg_encode_request(&b, 0, m->id, m->deadline_ms, method, pack_object,
                                          (void *)&m->body);
        break;
    case TRANSPORT_MSG_RESPONSE:
        rv = transport_msg_encode_response(&b, 0, m->id, pack_object, (void *)&m->body);
        break;
    case TRANSPORT_MSG_ERROR:
        rv = transport_msg_encode_error(&b, 0, m->id, m->code, message);
        break;
    case TRANSPORT_MSG_ONEWAY:
        rv = transport_msg_encode_oneway(&b, 0, method, pack_object, (void *)&m->body);
        break;
    }
    if (rv != 0)
        abort(); /* a message we accept must be one we can send */
    if (shir_get_be32(b.data) != b.len - 4)
        abort();
    if (transport_msg_decode(&m2, NULL, b.data + 4, b.len - 4) != 0)
        abort();
    if (m2.type != m->type || m2.id != m->id || m2.deadline_ms != m->deadline_ms ||
        m2.code != m->code || m2.method_len != m->method_len ||
        (m->method_len > 0 && memcmp(m2.method, m->method, m->method_len) != 0) ||
        m2.body.type != m->body.type)
        abort();
    /* The message may hold a NUL, which the C-string encoder stops at. */
    if (m->message_len > 0 && memchr(m->message, '\0', m->message_len) == NULL &&
        (m2.message_len != m->message_len ||
         memcmp(m2.message, m->message, m->message_len) != 0))
        abort();
    transport_msg_free(&m2);
    shir_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct transport_msg m;
    int rv = transport_msg_decode(&m, NULL, data, size);
    if (rv == 0) {
        poke_body(&m.body);
        check_roundtrip(&m);
    } else if (rv != SHIR_E_MALFORMED && rv != SHIR_E_PROTO && rv != SHIR_E_TRUNC &&
               rv != SHIR_E_DEPTH && rv != SHIR_E_TOOBIG) {
        abort(); /* no other code is a decoder answer to bytes */
    } else if (transport_msg_errmsg(&m)[0] == '\0') {
        abort();
    }
    transport_msg_free(&m);

    /* The raw value under tight limits; whatever passes them passes the defaults too. */
    struct transport_codec_limits tight = {.max_depth = 4, .max_objects = 64};
    struct transport_value v;
    if (transport_value_decode(&v, &tight, data, size) == 0) {
        transport_value_free(&v);
        if (transport_value_decode(&v, NULL, data, size) != 0)
            abort();
        poke_body(&v.root);
    }
    transport_value_free(&v);
    return 0;
}
