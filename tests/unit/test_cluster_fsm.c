/* Unit tests for cluster/fsm without raft: every command's effect and every refusal, idempotency
 * by request id (also across snapshot/restore and past the window), the codec's strictness
 * (truncation, hostile counts, unknown versions, forward-compatible extra fields). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc_count.h"
#include "cluster/fsm.h"
#include "cluster_fsm_helpers.h"
#include "common/common.h"

static const struct cluster_fsm_result *apply_cmd(struct cluster_fsm *f,
                                                  const struct cluster_cmd *c)
{
    struct shir_buf b;
    shir_buf_init(&b, 1 << 16);
    assert_int_equal(cluster_cmd_encode(c, &b), 0);
    const struct cluster_fsm_result *r = cluster_fsm_apply(f, b.data, b.len);
    shir_buf_free(&b);
    assert_non_null(r);
    return r;
}

static int apply_status(struct cluster_fsm *f, const struct cluster_cmd *c)
{
    return apply_cmd(f, c)->status;
}

/* A runtime with `n` scan nodes a, b, c, ... (the first by init, the rest with key1 gen 1). */
static struct cluster_fsm *runtime_with(unsigned n)
{
    static const char *names[] = {"a", "b", "c", "d", "e", "f"};
    struct cluster_cmd c;
    struct cluster_fsm *f = cluster_fsm_new();
    assert_non_null(f);
    t_cmd_init(&c, 1);
    assert_int_equal(apply_status(f, &c), 0);
    for (unsigned i = 0; i < n; i++) {
        t_cmd_node_add(&c, 100 + i, names[i], i == 0 ? CLUSTER_ROLE_VOTER : CLUSTER_ROLE_SPARE,
                       i == 0 ? 0 : 1, i == 0 ? 0 : 1);
        const struct cluster_fsm_result *r = apply_cmd(f, &c);
        assert_int_equal(r->status, 0);
        assert_int_equal(r->value, i + 1);
    }
    return f;
}

static void test_init(void **state)
{
    (void)state;
    struct cluster_fsm *f = cluster_fsm_new();
    struct cluster_cmd c;
    assert_false(cluster_fsm_runtime(f)->initialized);
    assert_int_equal(cluster_fsm_runtime(f)->settings.max_nodes, 4);
    t_cmd_init(&c, 1);
    assert_int_equal(cluster_fsm_check(f, &c, NULL), 0);
    assert_int_equal(apply_status(f, &c), 0);
    const struct cluster_runtime *rt = cluster_fsm_runtime(f);
    assert_true(rt->initialized);
    assert_string_equal(rt->name, "finance-ir");
    assert_int_equal(rt->keys[0].generation, 1);
    assert_int_equal(rt->keys[1].generation, 1);
    assert_int_equal(rt->keys[1].sealed_len, CLUSTER_SEALED_KEY_MAX);
    /* A second init with another request id is refused. */
    t_cmd_init(&c, 2);
    assert_int_equal(cluster_fsm_check(f, &c, NULL), SHIR_E_EXISTS);
    assert_int_equal(apply_status(f, &c), SHIR_E_EXISTS);
    /* Bad names and settings. */
    struct cluster_fsm *g = cluster_fsm_new();
    t_cmd_init(&c, 3);
    c.u.init.name[0] = '\0';
    assert_int_equal(apply_status(g, &c), SHIR_E_INVAL);
    t_cmd_init(&c, 4);
    c.u.init.name[2] = '\n';
    assert_int_equal(apply_status(g, &c), SHIR_E_INVAL);
    t_cmd_init(&c, 5);
    c.u.init.settings.max_nodes = 0;
    assert_int_equal(apply_status(g, &c), SHIR_E_INVAL);
    t_cmd_init(&c, 6);
    c.u.init.settings.standby_promotion_delay_ms = 10;
    assert_int_equal(apply_status(g, &c), SHIR_E_INVAL);
    assert_false(cluster_fsm_runtime(g)->initialized);
    cluster_fsm_free(g);
    cluster_fsm_free(f);
}

static void test_node_add_and_queries(void **state)
{
    (void)state;
    struct cluster_fsm *f = runtime_with(3);
    size_t n;
    const struct cluster_node *nodes = cluster_fsm_nodes(f, &n);
    assert_int_equal(n, 3);
    assert_int_equal(nodes[0].id, 1);
    assert_string_equal(nodes[1].name, "b");
    assert_string_equal(nodes[2].address, "c.example:8060");
    assert_int_equal(nodes[2].state, CLUSTER_NODE_PENDING);
    assert_non_null(cluster_fsm_node(f, 2));
    assert_null(cluster_fsm_node(f, 9));
    assert_int_equal(cluster_fsm_node_by_name(f, "c")->id, 3);
    assert_null(cluster_fsm_node_by_name(f, "zz"));
    assert_true(cluster_fsm_pin_allowed(f, nodes[1].pin));
    uint8_t pin[CLUSTER_PIN_LEN] = {0};
    assert_false(cluster_fsm_pin_allowed(f, pin));
    uint8_t pins[2][CLUSTER_PIN_LEN];
    assert_int_equal(cluster_fsm_allowlist(f, pins, 2), 3);
    assert_memory_equal(pins[1], nodes[1].pin, CLUSTER_PIN_LEN);
    cluster_fsm_free(f);
}

static void test_node_add_refusals(void **state)
{
    (void)state;
    struct cluster_cmd c;
    struct cluster_fsm *f = cluster_fsm_new();
    t_cmd_node_add(&c, 10, "a", CLUSTER_ROLE_VOTER, 0, 0);
    assert_int_equal(apply_status(f, &c), SHIR_E_NOTFOUND); /* no runtime yet */
    cluster_fsm_free(f);

    f = runtime_with(2);
    t_cmd_node_add(&c, 11, "b", CLUSTER_ROLE_SPARE, 1, 1);
    assert_int_equal(apply_status(f, &c), SHIR_E_EXISTS); /* name taken */
    t_cmd_node_add(&c, 12, "x", CLUSTER_ROLE_SPARE, 1, 1);
    memcpy(c.u.node_add.node.pin, cluster_fsm_node(f, 1)->pin, CLUSTER_PIN_LEN);
    assert_int_equal(apply_status(f, &c), SHIR_E_EXISTS); /* certificate key reused */
    t_cmd_node_add(&c, 13, "x", CLUSTER_ROLE_SPARE, 0, 0);
    assert_int_equal(apply_status(f, &c), SHIR_E_DENIED); /* keyless join after the first */
    t_cmd_node_add(&c, 14, "x", CLUSTER_ROLE_SPARE, 3, 1);
    assert_int_equal(apply_status(f, &c), SHIR_E_INVAL);
    t_cmd_node_add(&c, 15, "x", CLUSTER_ROLE_SPARE, 2, 2);
    assert_int_equal(apply_status(f, &c), SHIR_E_STALE); /* generation not current */
    t_cmd_node_add(&c, 16, "bad name", CLUSTER_ROLE_SPARE, 1, 1);
    assert_int_equal(apply_status(f, &c), SHIR_E_INVAL);
    t_cmd_node_add(&c, 17, "x", CLUSTER_ROLE_SPARE, 1, 1);
    strcpy(c.u.node_add.node.address, "x.example");
    assert_int_equal(apply_status(f, &c), SHIR_E_INVAL);
    /* Up to max_nodes (4) scan nodes plus one witness. */
    t_cmd_node_add(&c, 18, "c", CLUSTER_ROLE_SPARE, 2, 1);
    assert_int_equal(apply_status(f, &c), 0);
    t_cmd_node_add(&c, 19, "d", CLUSTER_ROLE_SPARE, 1, 1);
    assert_int_equal(apply_status(f, &c), 0);
    t_cmd_node_add(&c, 20, "e", CLUSTER_ROLE_SPARE, 1, 1);
    assert_int_equal(cluster_fsm_check(f, &c, NULL), SHIR_E_FULL);
    assert_int_equal(apply_status(f, &c), SHIR_E_FULL);
    t_cmd_node_add(&c, 21, "w", CLUSTER_ROLE_WITNESS, 1, 1);
    assert_int_equal(apply_status(f, &c), 0);
    t_cmd_node_add(&c, 22, "w2", CLUSTER_ROLE_WITNESS, 1, 1);
    assert_int_equal(apply_status(f, &c), SHIR_E_FULL);
    size_t n;
    (void)cluster_fsm_nodes(f, &n);
    assert_int_equal(n, 5);
    cluster_fsm_free(f);
}

static void test_max_nodes_is_a_setting(void **state)
{
    (void)state;
    struct cluster_cmd c;
    struct cluster_fsm *f = runtime_with(4);
    t_cmd_simple(&c, 50, CLUSTER_CMD_SETTINGS_SET);
    c.u.settings.max_nodes = 6;
    c.u.settings.standby_promotion_delay_ms = 5000;
    assert_int_equal(apply_status(f, &c), 0);
    assert_int_equal(cluster_fsm_runtime(f)->settings.standby_promotion_delay_ms, 5000);
    t_cmd_node_add(&c, 51, "e", CLUSTER_ROLE_SPARE, 1, 1);
    assert_int_equal(apply_status(f, &c), 0);
    t_cmd_simple(&c, 52, CLUSTER_CMD_SETTINGS_SET);
    c.u.settings.max_nodes = CLUSTER_FSM_NODES_CAP;
    c.u.settings.standby_promotion_delay_ms = 5000;
    assert_int_equal(apply_status(f, &c), SHIR_E_INVAL);
    cluster_fsm_free(f);
}

static void test_roles_remove_drain(void **state)
{
    (void)state;
    struct cluster_cmd c;
    struct cluster_fsm *f = runtime_with(3);
    t_cmd_simple(&c, 30, CLUSTER_CMD_NODE_SET_ROLE);
    c.u.node_role.node_id = 2;
    c.u.node_role.role = CLUSTER_ROLE_STANDBY;
    assert_int_equal(apply_status(f, &c), 0);
    assert_int_equal(cluster_fsm_node(f, 2)->role, CLUSTER_ROLE_STANDBY);
    assert_int_equal(cluster_fsm_node(f, 2)->state, CLUSTER_NODE_REGISTERED);
    t_cmd_simple(&c, 31, CLUSTER_CMD_NODE_SET_ROLE);
    c.u.node_role.node_id = 2;
    c.u.node_role.role = CLUSTER_ROLE_WITNESS;
    assert_int_equal(apply_status(f, &c), SHIR_E_INVAL);
    c.u.node_role.node_id = 99;
    c.u.node_role.role = CLUSTER_ROLE_VOTER;
    t_reqid(&c, 32);
    assert_int_equal(apply_status(f, &c), SHIR_E_NOTFOUND);

    t_cmd_simple(&c, 33, CLUSTER_CMD_NODE_SET_DRAIN);
    c.u.node_drain.node_id = 3;
    c.u.node_drain.drain = true;
    assert_int_equal(apply_status(f, &c), 0);
    assert_true(cluster_fsm_node(f, 3)->drain);

    uint8_t pin[CLUSTER_PIN_LEN];
    memcpy(pin, cluster_fsm_node(f, 2)->pin, sizeof pin);
    t_cmd_simple(&c, 34, CLUSTER_CMD_NODE_REMOVE);
    c.u.node_remove.node_id = 2;
    assert_int_equal(apply_status(f, &c), 0);
    assert_null(cluster_fsm_node(f, 2));
    assert_false(cluster_fsm_pin_allowed(f, pin)); /* cut off as soon as applied */
    size_t n;
    const struct cluster_node *nodes = cluster_fsm_nodes(f, &n);
    assert_int_equal(n, 2);
    assert_int_equal(nodes[1].id, 3); /* order kept */
    t_reqid(&c, 35);
    assert_int_equal(apply_status(f, &c), SHIR_E_NOTFOUND);
    /* Ids are never reused. */
    t_cmd_node_add(&c, 36, "b", CLUSTER_ROLE_SPARE, 1, 1);
    assert_int_equal(apply_cmd(f, &c)->value, 4);
    cluster_fsm_free(f);
}

/* NODE_SET_ADDRESS (issue 12, defect 1): a node's recorded address changes through the log; a
 * wildcard address, which no peer can dial, and a malformed one are refused and change nothing. */
static void test_node_set_address(void **state)
{
    (void)state;
    struct cluster_cmd c;
    struct cluster_fsm *f = runtime_with(2);
    static const struct {
        uint64_t node_id;
        const char *address;
        int want;
    } cases[] = {
        {2, "10.0.0.12:8060", 0},
        {2, "[fd00::12]:9000", 0},
        {2, "0.0.0.0:8060", SHIR_E_INVAL},
        {2, "[::]:8060", SHIR_E_INVAL},
        {2, "10.0.0.12", SHIR_E_INVAL},
        {2, "", SHIR_E_INVAL},
        {99, "10.0.0.99:8060", SHIR_E_NOTFOUND},
        {1, "127.0.0.1:18060", 0}, /* loopback: a one-machine runtime, allowed */
    };
    const char *want2 = cluster_fsm_node(f, 2)->address;
    char last2[CLUSTER_ADDR_MAX + 1];
    strcpy(last2, want2);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        t_cmd_simple(&c, (uint32_t)(60 + i), CLUSTER_CMD_NODE_SET_ADDRESS);
        c.u.node_address.node_id = cases[i].node_id;
        strcpy(c.u.node_address.address, cases[i].address);
        assert_int_equal(apply_status(f, &c), cases[i].want);
        if (cases[i].want == 0 && cases[i].node_id == 2)
            strcpy(last2, cases[i].address);
        assert_string_equal(cluster_fsm_node(f, 2)->address, last2);
    }
    assert_string_equal(cluster_fsm_node(f, 1)->address, "127.0.0.1:18060");
    cluster_fsm_free(f);
}

static void test_key_regenerate(void **state)
{
    (void)state;
    struct cluster_cmd c;
    struct cluster_verifier v, v_old;
    struct cluster_fsm *f = runtime_with(1);
    assert_int_equal(cluster_fsm_key_check(f, 1, 1, &v_old), 0);
    assert_int_equal(cluster_fsm_key_check(f, 3, 1, &v), SHIR_E_INVAL);
    t_cmd_simple(&c, 40, CLUSTER_CMD_KEY_REGENERATE);
    c.u.key_regen.slot = 1;
    uint8_t s[CLUSTER_KEY_SECRET_LEN];
    t_secret(s, 9);
    assert_int_equal(cluster_verifier_derive(s, &c.u.key_regen.verifier), 0);
    c.u.key_regen.sealed_len = 10;
    const struct cluster_fsm_result *r = apply_cmd(f, &c);
    assert_int_equal(r->status, 0);
    assert_int_equal(r->value, 2);
    /* The old key is refused as soon as this is applied; key2 is untouched. */
    assert_int_equal(cluster_fsm_key_check(f, 1, 1, &v), SHIR_E_STALE);
    assert_int_equal(cluster_fsm_key_check(f, 1, 2, &v), 0);
    assert_memory_equal(&v, &c.u.key_regen.verifier, sizeof v);
    assert_memory_not_equal(&v, &v_old, sizeof v);
    assert_int_equal(cluster_fsm_key_check(f, 2, 1, &v), 0);
    /* A join proved with the old generation is refused even if it was checked before. */
    t_cmd_node_add(&c, 41, "b", CLUSTER_ROLE_SPARE, 1, 1);
    assert_int_equal(apply_status(f, &c), SHIR_E_STALE);
    t_cmd_node_add(&c, 42, "b", CLUSTER_ROLE_SPARE, 1, 2);
    assert_int_equal(apply_status(f, &c), 0);
    /* Registered nodes are unaffected. */
    assert_non_null(cluster_fsm_node(f, 1));
    t_cmd_simple(&c, 43, CLUSTER_CMD_KEY_REGENERATE);
    c.u.key_regen.slot = 0;
    assert_int_equal(apply_status(f, &c), SHIR_E_INVAL);
    struct cluster_fsm *g = cluster_fsm_new();
    assert_int_equal(cluster_fsm_key_check(g, 1, 1, &v), SHIR_E_NOTFOUND);
    cluster_fsm_free(g);
    cluster_fsm_free(f);
}

static void test_proxy(void **state)
{
    (void)state;
    struct cluster_cmd c;
    struct cluster_fsm *f = runtime_with(1);
    assert_int_equal(cluster_fsm_proxy(f)->mode, CLUSTER_PROXY_NONE);
    t_cmd_proxy_custom(&c, 60);
    assert_int_equal(apply_status(f, &c), 0);
    const struct cluster_proxy *p = cluster_fsm_proxy(f);
    assert_int_equal(p->mode, CLUSTER_PROXY_CUSTOM);
    assert_string_equal(p->host, "proxy.corp");
    assert_int_equal(p->port, 3128);
    assert_int_equal(p->sealed_password_len, 40);
    assert_true(p->bypass_local);
    assert_int_equal(p->auth, CLUSTER_PROXY_AUTH_NTLM);
    /* Refusals: no port, password without user, fields on mode system, bad host. */
    struct cluster_cmd d = c;
    t_reqid(&d, 61);
    d.u.proxy.port = 0;
    assert_int_equal(apply_status(f, &d), SHIR_E_INVAL);
    d = c;
    t_reqid(&d, 62);
    d.u.proxy.user[0] = '\0';
    assert_int_equal(apply_status(f, &d), SHIR_E_INVAL);
    d = c;
    t_reqid(&d, 63);
    d.u.proxy.mode = CLUSTER_PROXY_SYSTEM;
    assert_int_equal(apply_status(f, &d), SHIR_E_INVAL);
    d = c;
    t_reqid(&d, 64);
    strcpy(d.u.proxy.host, "a b");
    assert_int_equal(apply_status(f, &d), SHIR_E_INVAL);
    assert_string_equal(cluster_fsm_proxy(f)->host, "proxy.corp"); /* unchanged */
    t_cmd_simple(&c, 65, CLUSTER_CMD_PROXY_SET);
    c.u.proxy.mode = CLUSTER_PROXY_SYSTEM;
    assert_int_equal(apply_status(f, &c), 0);
    assert_int_equal(cluster_fsm_proxy(f)->sealed_password_len, 0);
    t_cmd_simple(&c, 66, CLUSTER_CMD_PROXY_CLEAR);
    assert_int_equal(apply_status(f, &c), 0);
    assert_int_equal(cluster_fsm_proxy(f)->mode, CLUSTER_PROXY_NONE);
    cluster_fsm_free(f);
}

static void test_idempotent_by_request_id(void **state)
{
    (void)state;
    struct cluster_cmd c;
    struct cluster_fsm *f = runtime_with(1);
    t_cmd_node_add(&c, 70, "b", CLUSTER_ROLE_SPARE, 1, 1);
    const struct cluster_fsm_result *r1 = apply_cmd(f, &c);
    assert_int_equal(r1->status, 0);
    uint64_t id = r1->value;
    struct shir_buf before;
    t_snapshot_of(f, &before);
    /* The retry after RAFT_LEADERSHIPLOST: same id, same answer, no second node. */
    const struct cluster_fsm_result *r2 = apply_cmd(f, &c);
    assert_int_equal(r2->status, 0);
    assert_int_equal(r2->value, id);
    struct shir_buf after;
    t_snapshot_of(f, &after);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.data, after.data, before.len);
    /* A failed command is remembered too: its retry fails the same way even if the state
     * would now accept it. */
    t_cmd_node_add(&c, 71, "c", CLUSTER_ROLE_SPARE, 2, 5);
    assert_int_equal(apply_status(f, &c), SHIR_E_STALE);
    c.u.node_add.key_generation = 1;
    assert_int_equal(apply_status(f, &c), SHIR_E_STALE);
    assert_non_null(cluster_fsm_recent(f, c.request_id));
    shir_buf_free(&before);
    shir_buf_free(&after);
    cluster_fsm_free(f);
}

static void test_recent_window_and_snapshot(void **state)
{
    (void)state;
    struct cluster_cmd c;
    struct cluster_fsm *f = runtime_with(1);
    /* 1100 drain toggles: more than the 1024-entry window. */
    for (uint32_t i = 0; i < 1100; i++) {
        t_cmd_simple(&c, 1000 + i, CLUSTER_CMD_NODE_SET_DRAIN);
        c.u.node_drain.node_id = 1;
        c.u.node_drain.drain = (i & 1) != 0;
        assert_int_equal(apply_status(f, &c), 0);
    }
    uint8_t old[CLUSTER_REQUEST_ID_LEN];
    t_cmd_simple(&c, 1000, CLUSTER_CMD_NODE_SET_DRAIN);
    memcpy(old, c.request_id, sizeof old);
    assert_null(cluster_fsm_recent(f, old)); /* forgotten: outside the window */
    t_cmd_simple(&c, 1099, CLUSTER_CMD_NODE_SET_DRAIN);
    assert_non_null(cluster_fsm_recent(f, c.request_id));

    /* Restore into a fresh FSM: same bytes, same answers to replays. */
    struct shir_buf snap;
    t_snapshot_of(f, &snap);
    struct cluster_fsm *g = cluster_fsm_new();
    assert_int_equal(cluster_fsm_restore(g, snap.data, snap.len), 0);
    t_assert_same_state(f, g);
    c.u.node_drain.node_id = 1;
    c.u.node_drain.drain = false; /* the replay carries the original body; ignored anyway */
    assert_int_equal(apply_status(g, &c), 0);
    assert_true(cluster_fsm_node(g, 1)->drain); /* 1099 is odd: drain stayed true */
    /* Both continue identically. */
    t_cmd_node_add(&c, 5000, "b", CLUSTER_ROLE_SPARE, 1, 1);
    assert_int_equal(apply_cmd(f, &c)->value, apply_cmd(g, &c)->value);
    t_assert_same_state(f, g);
    shir_buf_free(&snap);
    cluster_fsm_free(g);
    cluster_fsm_free(f);
}

static void test_restore_refuses_garbage_atomically(void **state)
{
    (void)state;
    struct cluster_fsm *f = runtime_with(2);
    struct shir_buf snap, now;
    t_snapshot_of(f, &snap);
    struct cluster_fsm *g = runtime_with(3);
    struct shir_buf g_before;
    t_snapshot_of(g, &g_before);
    /* Every truncation fails and leaves g as it was. */
    for (size_t cut = 0; cut < snap.len; cut += 7)
        assert_int_not_equal(cluster_fsm_restore(g, snap.data, cut), 0);
    /* Trailing garbage. */
    uint8_t *longer = malloc(snap.len + 1);
    memcpy(longer, snap.data, snap.len);
    longer[snap.len] = 0xc0;
    assert_int_equal(cluster_fsm_restore(g, longer, snap.len + 1), SHIR_E_MALFORMED);
    free(longer);
    static const uint8_t bomb[] = {0xdd, 0xff, 0xff, 0xff, 0xff}; /* array of 4 G elements */
    assert_int_equal(cluster_fsm_restore(g, bomb, sizeof bomb), SHIR_E_TRUNC);
    t_snapshot_of(g, &now);
    assert_int_equal(now.len, g_before.len);
    assert_memory_equal(now.data, g_before.data, now.len);
    shir_buf_free(&now);
    shir_buf_free(&g_before);
    shir_buf_free(&snap);
    cluster_fsm_free(g);
    cluster_fsm_free(f);
}

/* Every command type survives encode/decode unchanged, and decodes to the same command with a
 * field appended by a newer version (of any msgpack type: skipped). */
static void test_codec_roundtrip_all_types(void **state)
{
    (void)state;
    struct cluster_cmd in[T_CMD_TYPES], out;
    t_cmd_samples(in);
    for (int i = 0; i < T_CMD_TYPES; i++) {
        struct shir_buf b;
        shir_buf_init(&b, 1 << 16);
        assert_int_equal(cluster_cmd_encode(&in[i], &b), 0);
        assert_int_equal(cluster_cmd_decode(b.data, b.len, &out), 0);
        assert_memory_equal(&in[i], &out, sizeof out);
        /* Every strict prefix is refused without a crash. */
        for (size_t cut = 0; cut < b.len; cut++)
            assert_int_not_equal(cluster_cmd_decode(b.data, cut, &out), 0);
        /* The top array's count (a fixarray below 15 elements, an array16 for SCAN_PUT's 18)
         * bumped by one for {"load": 7, "scans": [1.5]}. Bytes after the command stay
         * refused. */
        if (b.data[0] == 0xdc) {
            assert_true(b.data[2] < 0xff);
            b.data[2]++;
        } else {
            assert_int_equal(b.data[0] & 0xf0, 0x90);
            assert_true((b.data[0] & 0x0f) < 15);
            b.data[0]++;
        }
        assert_int_equal(shir_buf_append(&b, "\x82\xa4load\x07\xa5scans\x91\xcb", 15), 0);
        assert_int_equal(shir_buf_append(&b, "\x3f\xf8\0\0\0\0\0\0", 8), 0);
        assert_int_equal(cluster_cmd_decode(b.data, b.len, &out), 0);
        assert_memory_equal(&in[i], &out, sizeof out);
        assert_int_equal(shir_buf_append_u8(&b, 0xc0), 0);
        assert_int_equal(cluster_cmd_decode(b.data, b.len, &out), SHIR_E_MALFORMED);
        shir_buf_free(&b);
    }
}

static void test_codec_versions_and_extras(void **state)
{
    (void)state;
    struct cluster_cmd c, out;
    struct shir_buf b;
    shir_buf_init(&b, 1 << 16);
    t_cmd_simple(&c, 1, CLUSTER_CMD_NODE_REMOVE);
    c.u.node_remove.node_id = 5;
    assert_int_equal(cluster_cmd_encode(&c, &b), 0);
    /* fixarray(4) [1, 4, bin16, 5] -> add a trailing field a newer version might send. */
    assert_int_equal(b.data[0], 0x94);
    b.data[0] = 0x95;
    assert_int_equal(shir_buf_append(&b, "\xa3xyz", 4), 0);
    assert_int_equal(cluster_cmd_decode(b.data, b.len, &out), 0);
    assert_int_equal(out.u.node_remove.node_id, 5);
    /* Version 2 of the command envelope is refused as unsupported, not malformed. */
    b.data[1] = 2;
    assert_int_equal(cluster_cmd_decode(b.data, b.len, &out), SHIR_E_UNSUPPORTED);
    b.data[1] = 1;
    b.data[2] = 42; /* unknown command type */
    assert_int_equal(cluster_cmd_decode(b.data, b.len, &out), SHIR_E_UNSUPPORTED);
    /* Too few fields for the type. */
    b.data[2] = CLUSTER_CMD_NODE_SET_ROLE;
    assert_int_not_equal(cluster_cmd_decode(b.data, b.len, &out), 0);
    shir_buf_free(&b);

    /* A string longer than its field is refused, not truncated. */
    t_cmd_init(&c, 2);
    shir_buf_init(&b, 1 << 16);
    assert_int_equal(cluster_cmd_encode(&c, &b), 0);
    shir_buf_free(&b);
    /* An unterminated name array is refused by the encoder instead of over-read. */
    t_cmd_node_add(&c, 3, "x", CLUSTER_ROLE_SPARE, 1, 1);
    memset(c.u.node_add.node.name, 'n', sizeof c.u.node_add.node.name);
    shir_buf_init(&b, 1 << 16);
    assert_int_equal(cluster_cmd_encode(&c, &b), SHIR_E_INVAL);
    assert_int_equal(b.len, 0);
    shir_buf_free(&b);
    static const uint8_t huge_str[] = {0x93, 0x01, 0x01, 0xdb, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(cluster_cmd_decode(huge_str, sizeof huge_str, &out), SHIR_E_MALFORMED);
}

/* Fields a newer version appends may be of any msgpack type: all are skipped, with a depth
 * limit against hostile nesting. */
static void test_codec_skips_any_extra_type(void **state)
{
    (void)state;
    struct cluster_cmd out;
    uint8_t b[128];
    size_t n = 0;
    b[n++] = 0x95; /* [1, NODE_REMOVE, id, 5, extra] */
    b[n++] = 0x01;
    b[n++] = CLUSTER_CMD_NODE_REMOVE;
    b[n++] = 0xc4;
    b[n++] = 0x10;
    memset(b + n, 0xab, 16);
    n += 16;
    b[n++] = 0x05;
    size_t head = n;
    static const uint8_t extra[] = {0x81, 0xa1, 'a',  0x96,                   /* {"a": [ */
                                    0xcb, 0x3f, 0xf8, 0,    0,    0, 0, 0, 0, /* 1.5, */
                                    0xc7, 0x02, 0x01, 0xaa, 0xbb,             /* ext8, */
                                    0xc0, 0xff, 0xd1, 0x00, 0x01,             /* nil, -1, i16 */
                                    0xde, 0x00, 0x00};                        /* {} ]} */
    memcpy(b + n, extra, sizeof extra);
    n += sizeof extra;
    assert_int_equal(cluster_cmd_decode(b, n, &out), 0);
    assert_int_equal(out.u.node_remove.node_id, 5);
    /* The same extra field nested 20 deep is refused. */
    n = head;
    for (int i = 0; i < 20; i++)
        b[n++] = 0x91;
    b[n++] = 0x00;
    assert_int_equal(cluster_cmd_decode(b, n, &out), SHIR_E_DEPTH);
}

static void test_apply_malformed_changes_nothing(void **state)
{
    (void)state;
    struct cluster_fsm *f = runtime_with(1);
    struct shir_buf before, after;
    t_snapshot_of(f, &before);
    static const uint8_t junk[] = {0xc1, 0x00, 0x01};
    const struct cluster_fsm_result *r = cluster_fsm_apply(f, junk, sizeof junk);
    assert_int_equal(r->status, SHIR_E_MALFORMED);
    r = cluster_fsm_apply(f, NULL, 0);
    assert_int_not_equal(r->status, 0);
    t_snapshot_of(f, &after);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.data, after.data, before.len);
    assert_int_equal(cluster_fsm_applied(f), 2 + 2);
    shir_buf_free(&before);
    shir_buf_free(&after);
    cluster_fsm_free(f);
    cluster_fsm_free(NULL);
}

/* apply allocates nothing, for every command type, for replays and for garbage: so it cannot
 * fail out of memory, which is the raft contract. */
static void test_apply_never_allocates(void **state)
{
    (void)state;
    struct cluster_fsm *f = cluster_fsm_new();
    struct cluster_cmd c[8];
    struct shir_buf b[8];
    t_cmd_init(&c[0], 1);
    t_cmd_node_add(&c[1], 2, "a", CLUSTER_ROLE_VOTER, 0, 0);
    t_cmd_node_add(&c[2], 3, "b", CLUSTER_ROLE_SPARE, 1, 1);
    t_cmd_simple(&c[3], 4, CLUSTER_CMD_NODE_SET_ROLE);
    c[3].u.node_role.node_id = 2;
    c[3].u.node_role.role = CLUSTER_ROLE_STANDBY;
    t_cmd_simple(&c[4], 5, CLUSTER_CMD_KEY_REGENERATE);
    c[4].u.key_regen.slot = 1;
    t_cmd_simple(&c[5], 6, CLUSTER_CMD_PROXY_SET);
    c[5].u.proxy.mode = CLUSTER_PROXY_SYSTEM;
    t_cmd_simple(&c[6], 7, CLUSTER_CMD_NODE_REMOVE);
    c[6].u.node_remove.node_id = 2;
    t_cmd_simple(&c[7], 8, CLUSTER_CMD_PROXY_CLEAR);
    for (int i = 0; i < 8; i++) {
        shir_buf_init(&b[i], 1 << 16);
        assert_int_equal(cluster_cmd_encode(&c[i], &b[i]), 0);
    }
    int status[8];
    unsigned long before = t_allocs;
    for (int i = 0; i < 8; i++)
        status[i] = cluster_fsm_apply(f, b[i].data, b[i].len)->status;
    for (int i = 0; i < 8; i++)
        (void)cluster_fsm_apply(f, b[i].data, b[i].len); /* replays */
    (void)cluster_fsm_apply(f, "\xc1", 1);
    assert_int_equal(t_allocs, before);
    /* The counter works: restore does allocate (its temporary block). */
    struct shir_buf snap;
    t_snapshot_of(f, &snap);
    before = t_allocs;
    assert_int_equal(cluster_fsm_restore(f, snap.data, snap.len), 0);
    assert_true(t_allocs > before);
    shir_buf_free(&snap);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(status[i], 0);
        shir_buf_free(&b[i]);
    }
    cluster_fsm_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_node_add_and_queries),
        cmocka_unit_test(test_node_add_refusals),
        cmocka_unit_test(test_max_nodes_is_a_setting),
        cmocka_unit_test(test_roles_remove_drain),
        cmocka_unit_test(test_node_set_address),
        cmocka_unit_test(test_key_regenerate),
        cmocka_unit_test(test_proxy),
        cmocka_unit_test(test_idempotent_by_request_id),
        cmocka_unit_test(test_recent_window_and_snapshot),
        cmocka_unit_test(test_restore_refuses_garbage_atomically),
        cmocka_unit_test(test_codec_roundtrip_all_types),
        cmocka_unit_test(test_codec_versions_and_extras),
        cmocka_unit_test(test_codec_skips_any_extra_type),
        cmocka_unit_test(test_apply_malformed_changes_nothing),
        cmocka_unit_test(test_apply_never_allocates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
