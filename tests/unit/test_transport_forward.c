/* Unit tests for messages from a newer peer (transport/codec.h, "Message envelope"): elements
 * appended to an envelope and unknown keys in a map body are ignored, so a field can be added in
 * a rolling upgrade; bytes after the top-level value stay refused. The bodies are shaped like
 * join.hello (cluster/join.c) and the fsm.propose request and its answer (cluster/rpc.c), read
 * with the same accessors those use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "transport/transport.h"

/* A payload built by hand: msgpack-c's packer into an sbuffer. */
struct payload {
    msgpack_sbuffer sb;
    msgpack_packer pk;
};

static void payload_init(struct payload *p)
{
    msgpack_sbuffer_init(&p->sb);
    msgpack_packer_init(&p->pk, &p->sb, msgpack_sbuffer_write);
}

/* A fresh payload opening an envelope of `fields` elements of `type`. */
static void envelope(struct payload *p, uint32_t fields, uint8_t type)
{
    payload_init(p);
    assert_int_equal(msgpack_pack_array(&p->pk, fields), 0);
    assert_int_equal(msgpack_pack_uint8(&p->pk, type), 0);
}

static void u(struct payload *p, uint64_t v)
{
    assert_int_equal(msgpack_pack_uint64(&p->pk, v), 0);
}

static void str(struct payload *p, const char *s)
{
    assert_int_equal(msgpack_pack_str_with_body(&p->pk, s, strlen(s)), 0);
}

static void bin(struct payload *p, uint8_t fill, size_t n)
{
    uint8_t b[64];
    memset(b, fill, sizeof b);
    assert_int_equal(msgpack_pack_bin_with_body(&p->pk, b, n), 0);
}

/* What a newer version might append or add: {"load": [250, {"cpu": 1.5}]}. */
static void future(struct payload *p)
{
    assert_int_equal(msgpack_pack_map(&p->pk, 1), 0);
    str(p, "load");
    assert_int_equal(msgpack_pack_array(&p->pk, 2), 0);
    assert_int_equal(msgpack_pack_uint32(&p->pk, 250), 0);
    assert_int_equal(msgpack_pack_map(&p->pk, 1), 0);
    str(p, "cpu");
    assert_int_equal(msgpack_pack_double(&p->pk, 1.5), 0);
}

/* join.hello's body, with one key a newer joiner adds. */
static void hello_body(struct payload *p)
{
    assert_int_equal(msgpack_pack_map(&p->pk, 5), 0);
    str(p, "runtime_id");
    bin(p, 0x42, 16);
    str(p, "features");
    future(p);
    str(p, "slot");
    u(p, 1);
    str(p, "generation");
    u(p, 3);
    str(p, "client_nonce");
    bin(p, 0x07, 32);
}

static int decode(struct transport_msg *m, const struct payload *p)
{
    return transport_msg_decode(m, NULL, p->sb.data, p->sb.size);
}

/* A request with two appended elements, its body with an unknown key: read as join.c reads
 * join.hello. */
static void test_request_from_a_newer_joiner(void **state)
{
    (void)state;
    struct payload p;
    struct transport_msg m;
    envelope(&p, 5 + 2, 0);
    u(&p, 9);
    u(&p, 1500);
    str(&p, "join.hello");
    hello_body(&p);
    future(&p);
    str(&p, "trace-id");
    assert_int_equal(decode(&m, &p), 0);
    assert_int_equal(m.type, TRANSPORT_MSG_REQUEST);
    assert_int_equal(m.id, 9);
    assert_int_equal(m.deadline_ms, 1500);
    assert_true(transport_msg_method_is(&m, "join.hello"));
    const void *rid, *cn;
    size_t rid_len, cn_len;
    uint64_t slot, gen;
    assert_int_equal(transport_body_get_bin(&m.body, "runtime_id", &rid, &rid_len), 0);
    assert_int_equal(transport_body_get_bin(&m.body, "client_nonce", &cn, &cn_len), 0);
    assert_int_equal(transport_body_get_u64(&m.body, "slot", &slot), 0);
    assert_int_equal(transport_body_get_u64(&m.body, "generation", &gen), 0);
    assert_int_equal(rid_len, 16);
    assert_int_equal(cn_len, 32);
    assert_int_equal(slot, 1);
    assert_int_equal(gen, 3);
    transport_msg_free(&m);

    /* Bytes after the top-level value stay refused, appended elements or not. */
    assert_int_equal(msgpack_pack_nil(&p.pk), 0);
    assert_int_equal(decode(&m, &p), SHIR_E_MALFORMED);
    msgpack_sbuffer_destroy(&p.sb);
}

/* fsm.propose and its answer, as rpc.c reads them, each with an appended element and an unknown
 * key. */
static void test_rpc_from_a_newer_peer(void **state)
{
    (void)state;
    struct payload p;
    struct transport_msg m;
    const void *cmd;
    size_t cmd_len;
    envelope(&p, 6, 0);
    u(&p, 10);
    u(&p, 0);
    str(&p, "fsm.propose");
    assert_int_equal(msgpack_pack_map(&p.pk, 2), 0);
    str(&p, "priority");
    u(&p, 5);
    str(&p, "cmd");
    bin(&p, 0x93, 20);
    future(&p);
    assert_int_equal(decode(&m, &p), 0);
    assert_int_equal(transport_body_get_bin(&m.body, "cmd", &cmd, &cmd_len), 0);
    assert_int_equal(cmd_len, 20);
    transport_msg_free(&m);
    msgpack_sbuffer_destroy(&p.sb);

    envelope(&p, 4, 1);
    u(&p, 10);
    assert_int_equal(msgpack_pack_map(&p.pk, 3), 0);
    str(&p, "status");
    assert_int_equal(msgpack_pack_int32(&p.pk, SHIR_E_FULL), 0);
    str(&p, "took_ms");
    future(&p);
    str(&p, "value");
    u(&p, 7);
    str(&p, "trace-id");
    assert_int_equal(decode(&m, &p), 0);
    int64_t status;
    uint64_t value;
    assert_int_equal(transport_body_get_i64(&m.body, "status", &status), 0);
    assert_int_equal(transport_body_get_u64(&m.body, "value", &value), 0);
    assert_int_equal(status, SHIR_E_FULL);
    assert_int_equal(value, 7);
    transport_msg_free(&m);
    msgpack_sbuffer_destroy(&p.sb);

}

/* The other two envelopes, with appended elements. */
static void test_error_and_oneway_from_a_newer_peer(void **state)
{
    (void)state;
    struct payload p;
    struct transport_msg m;
    envelope(&p, 5, 2); /* error */
    u(&p, 11);
    assert_int_equal(msgpack_pack_int32(&p.pk, SHIR_E_BUSY), 0);
    str(&p, "busy");
    future(&p);
    assert_int_equal(decode(&m, &p), 0);
    assert_int_equal(m.code, SHIR_E_BUSY);
    assert_int_equal(m.message_len, 4);
    transport_msg_free(&m);
    msgpack_sbuffer_destroy(&p.sb);

    envelope(&p, 4, 3); /* one-way, as gossip sends */
    str(&p, "gossip");
    bin(&p, 0x90, 1);
    future(&p);
    assert_int_equal(decode(&m, &p), 0);
    assert_true(transport_msg_method_is(&m, "gossip"));
    assert_int_equal(m.body.type, MSGPACK_OBJECT_BIN);
    transport_msg_free(&m);
    msgpack_sbuffer_destroy(&p.sb);
}

/* What the pre-pass refuses is still refused inside an appended element: a count bomb, nesting
 * past the limit. */
static void test_appended_elements_still_bounded(void **state)
{
    (void)state;
    struct transport_msg m;
    static const uint8_t bomb[] = {0x94, 0x01, 0x01, 0xc0, 0xdd, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(transport_msg_decode(&m, NULL, bomb, sizeof bomb), SHIR_E_TRUNC);
    uint8_t deep[4 + 40];
    memcpy(deep, "\x94\x01\x01\xc0", 4);
    memset(deep + 4, 0x91, 39);
    deep[43] = 0x00;
    assert_int_equal(transport_msg_decode(&m, NULL, deep, sizeof deep), SHIR_E_DEPTH);
    /* Too few fields is still malformed, with the reason. */
    assert_int_equal(transport_msg_decode(&m, NULL, "\x92\x01\x01", 3), SHIR_E_MALFORMED);
    assert_non_null(strstr(transport_msg_errmsg(&m), "want at least 3 fields, got 2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_from_a_newer_joiner),
        cmocka_unit_test(test_rpc_from_a_newer_peer),
        cmocka_unit_test(test_error_and_oneway_from_a_newer_peer),
        cmocka_unit_test(test_appended_elements_still_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
