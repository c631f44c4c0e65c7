/* Unit tests of cluster/rpc_client.c on its own: a real TLS listener on loopback plays the
 * leader and answers by script, so each rule of rpc_client.h is driven alone — answers paired
 * with their requests over at most RPC_CLIENT_CONNS kept connections, a sent request past its
 * deadline (UNKNOWN_OUTCOME, its connection closed so a late answer cannot be taken for the
 * next request's), an answer with another request's id, a connection lost under a request, an
 * unsent request past its deadline (TIMEOUT), an address that refuses (UNAVAILABLE), and close
 * (SHUTDOWN). The integration tests and the chaos campaigns meet these paths only mixed.
 *
 * rpc_client.c is compiled into this program; the one function it needs from the port, the
 * dialing TLS context, is the stub below (the "port" handed to it is the client's context). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/rpc_client.h"
#include "tests/unit/transport_testlib.h"

#define DEADLINE_MS 10000

struct transport_tls *cluster__port_tls(struct cluster_port *p)
{
    return (struct transport_tls *)(void *)p;
}

/* What the scripted leader does with a request. */
enum script { ANSWER, HOLD, WRONG_ID, HANG_UP };

#define MAX_SRV 16
#define MAX_CALLS 32

struct srv_conn {
    struct env *e;
    struct transport_conn *conn;
    bool closed;
};

struct call {
    bool done;
    int status;
    uint64_t value;
};

struct env {
    uv_loop_t loop;
    uv_timer_t tick;
    struct tt_ca ca;
    struct tt_node leader, follower;
    struct transport_listener *l;
    char addr[64];
    enum script script;
    struct srv_conn srv[MAX_SRV];
    unsigned accepted, requests;
    struct cluster_rpc_client *c;
    struct call calls[MAX_CALLS];
};

/* ---- the scripted leader ------------------------------------------------------------------ */

static int pack_answer(msgpack_packer *pk, void *arg)
{
    uint64_t id = *(const uint64_t *)arg;
    msgpack_pack_map(pk, 2);
    msgpack_pack_str_with_body(pk, "status", 6);
    msgpack_pack_int64(pk, 0);
    msgpack_pack_str_with_body(pk, "value", 5);
    return msgpack_pack_uint64(pk, 1000 + id); /* the answer names the request it answers */
}

static void srv_send(struct transport_conn *conn, uint64_t id)
{
    struct shir_buf f;
    shir_buf_init(&f, 64 * 1024);
    assert_int_equal(transport_msg_encode_response(&f, 0, id, pack_answer, &id), 0);
    (void)transport_conn_write(conn, f.data + 4, f.len - 4);
    shir_buf_free(&f);
}

static void srv_frame(struct transport_conn *conn, const unsigned char *p, size_t n)
{
    struct srv_conn *s = transport_conn_data(conn);
    struct transport_msg m;
    assert_int_equal(transport_msg_decode(&m, NULL, p, n), 0);
    assert_int_equal(m.type, TRANSPORT_MSG_REQUEST);
    uint64_t id = m.id;
    transport_msg_free(&m);
    s->e->requests++;
    switch (s->e->script) {
    case ANSWER: srv_send(conn, id); break;
    case HOLD: break;
    case WRONG_ID: srv_send(conn, id + 7); break;
    case HANG_UP: transport_conn_close(conn); break;
    }
}

static void srv_closed(struct transport_conn *conn, int err, const char *msg)
{
    (void)err;
    (void)msg;
    struct srv_conn *s = transport_conn_data(conn);
    s->closed = true;
    s->conn = NULL;
}

static void on_accept(struct transport_listener *l, struct transport_conn *conn)
{
    struct env *e = transport_listener_data(l);
    assert_true(e->accepted < MAX_SRV);
    struct srv_conn *s = &e->srv[e->accepted++];
    *s = (struct srv_conn){.e = e, .conn = conn};
    struct transport_conn_cbs cbs = {.frame_cb = srv_frame, .close_cb = srv_closed, .data = s};
    transport_conn_set_cbs(conn, &cbs);
}

/* ---- the client side ---------------------------------------------------------------------- */

static void on_done(void *arg, int status, uint64_t value)
{
    struct call *k = arg;
    assert_false(k->done); /* exactly once */
    k->done = true;
    k->status = status;
    k->value = value;
}

static void on_tick(uv_timer_t *t)
{
    struct env *e = t->data;
    cluster__rpc_client_tick(e->c);
}

static int env_setup(void **state)
{
    struct env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    assert_int_equal(uv_loop_init(&e->loop), 0);
    assert_int_equal(tt_ca_make(&e->ca, "runtime-ca"), 0);
    assert_int_equal(tt_node_make(&e->leader, &e->ca, 1, "leader"), 0);
    assert_int_equal(tt_node_make(&e->follower, &e->ca, 2, "follower"), 0);
    tt_node_allow(&e->leader, e->follower.pin);
    tt_node_allow(&e->follower, e->leader.pin);
    struct transport_listener_config cfg = {.tls = e->leader.tls, .host = "127.0.0.1",
                                            .accept_cb = on_accept, .data = e};
    assert_int_equal(transport_listener_new(&e->loop, &cfg, &e->l), 0);
    snprintf(e->addr, sizeof e->addr, "127.0.0.1:%u", transport_listener_port(e->l));
    assert_int_equal(cluster__rpc_client_new(&e->loop, NULL,
                                             (struct cluster_port *)(void *)e->follower.tls,
                                             &e->c),
                     0);
    assert_int_equal(uv_timer_init(&e->loop, &e->tick), 0);
    e->tick.data = e;
    assert_int_equal(uv_timer_start(&e->tick, on_tick, 20, 20), 0);
    *state = e;
    return 0;
}

static int env_teardown(void **state)
{
    struct env *e = *state;
    cluster__rpc_client_close(e->c);
    uv_close((uv_handle_t *)&e->tick, NULL);
    if (e->l)
        transport_listener_close(e->l, NULL);
    assert_true(tt_run_drain(&e->loop, DEADLINE_MS));
    cluster__rpc_client_free(e->c);
    assert_int_equal(uv_loop_close(&e->loop), 0);
    tt_node_free(&e->leader);
    tt_node_free(&e->follower);
    tt_ca_free(&e->ca);
    free(e);
    return 0;
}

static void call(struct env *e, unsigned i, unsigned timeout_ms)
{
    assert_int_equal(cluster__rpc_client_call(e->c, e->addr, "fsm.propose", NULL, NULL,
                                              timeout_ms, on_done, &e->calls[i]),
                     0);
}

struct upto {
    struct env *e;
    unsigned from, to;
};

static bool cond_done(void *arg)
{
    struct upto *u = arg;
    for (unsigned i = u->from; i < u->to; i++)
        if (!u->e->calls[i].done)
            return false;
    return true;
}

static void wait_done(struct env *e, unsigned from, unsigned to)
{
    struct upto u = {e, from, to};
    assert_true(tt_run_until(&e->loop, cond_done, &u, DEADLINE_MS));
}

static bool cond_all_held(void *arg)
{
    return ((struct env *)arg)->requests == RPC_CLIENT_CONNS;
}

/* After a request that cost its connection: request i (id i + 1) is answered, with its own
 * answer, on a second connection; the first is closed. */
static void expect_answered_on_a_new_connection(struct env *e, unsigned i)
{
    e->script = ANSWER;
    call(e, i, 5000);
    wait_done(e, i, i + 1);
    assert_int_equal(e->calls[i].status, 0);
    assert_int_equal(e->calls[i].value, 1000 + i + 1);
    assert_int_equal(e->accepted, 2);
    assert_true(e->srv[0].closed);
}

/* ---- tests -------------------------------------------------------------------------------- */

/* A dozen requests at once: every answer reaches its own request (ids 1..12 in call order),
 * over at most RPC_CLIENT_CONNS connections, which stay open for the next ones. */
static void test_answers_paired_over_kept_connections(void **state)
{
    struct env *e = *state;
    for (unsigned i = 0; i < 12; i++)
        call(e, i, 5000);
    wait_done(e, 0, 12);
    for (unsigned i = 0; i < 12; i++) {
        assert_int_equal(e->calls[i].status, 0);
        assert_int_equal(e->calls[i].value, 1000 + i + 1);
    }
    assert_true(e->accepted >= 1 && e->accepted <= RPC_CLIENT_CONNS);
    unsigned before = e->accepted;
    call(e, 12, 5000);
    wait_done(e, 12, 13);
    assert_int_equal(e->calls[12].value, 1000 + 13);
    assert_int_equal(e->accepted, before); /* a kept connection, no new dial */
}

/* Sent, never answered: UNKNOWN_OUTCOME at the deadline and the connection goes (its next frame
 * would be this request's late answer). The next request is answered on a new connection. */
static void test_sent_past_deadline_is_unknown_outcome(void **state)
{
    struct env *e = *state;
    call(e, 0, 5000); /* an answered request first: the held one goes out at once on its conn */
    wait_done(e, 0, 1);
    e->script = HOLD;
    call(e, 1, 200);
    wait_done(e, 1, 2);
    assert_int_equal(e->calls[1].status, SHIR_E_UNKNOWN_OUTCOME);
    assert_int_equal(e->requests, 2);
    expect_answered_on_a_new_connection(e, 2);
}

/* An answer carrying another request's id: the request fails UNKNOWN_OUTCOME (never takes the
 * stray answer's value), the connection is dropped, and the next request is paired right. */
static void test_wrong_id_drops_the_connection(void **state)
{
    struct env *e = *state;
    e->script = WRONG_ID;
    call(e, 0, 5000);
    wait_done(e, 0, 1);
    assert_int_equal(e->calls[0].status, SHIR_E_UNKNOWN_OUTCOME);
    assert_int_equal(e->calls[0].value, 0);
    expect_answered_on_a_new_connection(e, 1);
}

/* The leader hangs up under a sent request: UNKNOWN_OUTCOME (it may have applied it). */
static void test_hang_up_is_unknown_outcome(void **state)
{
    struct env *e = *state;
    e->script = HANG_UP;
    call(e, 0, 5000);
    wait_done(e, 0, 1);
    assert_int_equal(e->calls[0].status, SHIR_E_UNKNOWN_OUTCOME);
}

/* Every connection busy with a request that is never answered: a further request waits in the
 * queue and, never sent, ends TIMEOUT at its deadline (safe to retry), while the sent ones end
 * UNKNOWN_OUTCOME at theirs. No more than RPC_CLIENT_CONNS connections were opened. */
static void test_unsent_past_deadline_is_timeout(void **state)
{
    struct env *e = *state;
    e->script = HOLD;
    for (unsigned i = 0; i < RPC_CLIENT_CONNS; i++)
        call(e, i, 3000);
    assert_true(tt_run_until(&e->loop, cond_all_held, e, DEADLINE_MS));
    call(e, RPC_CLIENT_CONNS, 300);
    wait_done(e, RPC_CLIENT_CONNS, RPC_CLIENT_CONNS + 1);
    assert_int_equal(e->calls[RPC_CLIENT_CONNS].status, SHIR_E_TIMEOUT);
    wait_done(e, 0, RPC_CLIENT_CONNS);
    for (unsigned i = 0; i < RPC_CLIENT_CONNS; i++)
        assert_int_equal(e->calls[i].status, SHIR_E_UNKNOWN_OUTCOME);
    assert_true(e->requests <= RPC_CLIENT_CONNS);
    assert_true(e->accepted <= RPC_CLIENT_CONNS);
}

/* An address that takes no connection: UNAVAILABLE (the caller asks elsewhere), not a wait
 * to the deadline. A malformed address is refused at the call. */
static void test_refused_address_is_unavailable(void **state)
{
    struct env *e = *state;
    /* A port nothing listens on: the listener's, once it is closed. */
    transport_listener_close(e->l, NULL);
    e->l = NULL;
    call(e, 0, 8000);
    wait_done(e, 0, 1);
    assert_int_equal(e->calls[0].status, SHIR_E_UNAVAILABLE);
    assert_int_equal(cluster__rpc_client_call(e->c, "no-port", "fsm.propose", NULL, NULL, 1000,
                                              on_done, &e->calls[1]),
                     SHIR_E_NOLEADER);
    assert_false(e->calls[1].done);
}

/* close: queued and sent requests end SHUTDOWN at once; later calls are refused. */
static void test_close_ends_everything(void **state)
{
    struct env *e = *state;
    e->script = HOLD;
    for (unsigned i = 0; i < RPC_CLIENT_CONNS + 2; i++)
        call(e, i, 5000);
    /* Until the leader holds as many requests as there are connections. */
    assert_true(tt_run_until(&e->loop, cond_all_held, e, DEADLINE_MS));
    cluster__rpc_client_close(e->c);
    for (unsigned i = 0; i < RPC_CLIENT_CONNS + 2; i++) {
        assert_true(e->calls[i].done);
        assert_int_equal(e->calls[i].status, SHIR_E_SHUTDOWN);
    }
    assert_int_equal(cluster__rpc_client_call(e->c, e->addr, "fsm.propose", NULL, NULL, 1000,
                                              on_done, &e->calls[20]),
                     SHIR_E_SHUTDOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_answers_paired_over_kept_connections, env_setup,
                                        env_teardown),
        cmocka_unit_test_setup_teardown(test_sent_past_deadline_is_unknown_outcome, env_setup,
                                        env_teardown),
        cmocka_unit_test_setup_teardown(test_wrong_id_drops_the_connection, env_setup,
                                        env_teardown),
        cmocka_unit_test_setup_teardown(test_hang_up_is_unknown_outcome, env_setup,
                                        env_teardown),
        cmocka_unit_test_setup_teardown(test_unsent_past_deadline_is_timeout, env_setup,
                                        env_teardown),
        cmocka_unit_test_setup_teardown(test_refused_address_is_unavailable, env_setup,
                                        env_teardown),
        cmocka_unit_test_setup_teardown(test_close_ends_everything, env_setup, env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
