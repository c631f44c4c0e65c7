/* Three real raft servers (raft_uv with data directories) in one process and one loop, talking
 * only through the TLS raft bridge on loopback: election, replication, a killed TLS connection, a
 * killed leader, clean shutdown. Every wait is a condition with a deadline. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <raft.h>
#include <raft/uv.h>

#include "tests/unit/transport_testlib.h"

#define N 3
#define DEADLINE_MS 30000u

struct server {
    struct cluster *cl;
    unsigned idx;
    bool alive;
    char dir[64];
    char address[64];
    struct tt_node node;
    struct transport_listener *l;
    struct raft_uv_transport transport;
    struct raft_io io;
    struct raft_fsm fsm;
    struct raft raft;
    uint64_t count; /* entries applied */
    bool raft_closed;
    bool listener_closed;
};

struct cluster {
    uv_loop_t loop;
    struct tt_ca ca;
    struct server s[N];
    unsigned applied_ok;
    uint64_t want;
};

/* ------------------------------------------------------------------------------------------- */
/* A counting FSM: snapshots are never taken (threshold set high), but raft wants the methods. */

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
    struct server *s = fsm->data;
    (void)buf;
    s->count++;
    *result = NULL;
    return 0;
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n)
{
    struct server *s = fsm->data;
    *bufs = raft_malloc(sizeof **bufs);
    if (!*bufs)
        return RAFT_NOMEM;
    (*bufs)[0].base = raft_malloc(8);
    (*bufs)[0].len = 8;
    if (!(*bufs)[0].base)
        return RAFT_NOMEM;
    shir_put_be64((*bufs)[0].base, s->count);
    *n = 1;
    return 0;
}

static int fsm_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n)
{
    (void)fsm;
    if (*bufs) {
        for (unsigned i = 0; i < *n; i++)
            raft_free((*bufs)[i].base);
        raft_free(*bufs);
    }
    *bufs = NULL;
    *n = 0;
    return 0;
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    struct server *s = fsm->data;
    if (buf->len == 8)
        s->count = shir_get_be64(buf->base);
    raft_free(buf->base);
    return 0;
}

/* ------------------------------------------------------------------------------------------- */

static int address_of(void *data, uint64_t id, char *buf, size_t cap)
{
    struct cluster *cl = data;
    if (id < 1 || id > N)
        return SHIR_E_NOTFOUND;
    return shir_str_copy(buf, cap, cl->s[id - 1].address);
}

static void on_accept(struct transport_listener *l, struct transport_conn *c)
{
    struct server *s = transport_listener_data(l);
    if (transport_conn_channel(c) == TRANSPORT_CH_RAFT && s->alive)
        transport_raft_accept(&s->transport, c);
    else
        transport_conn_close(c);
}

static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (shir_str_fmt(path, sizeof path, "%s/%s", dir, e->d_name) == 0)
            (void)unlink(path);
    }
    closedir(d);
    (void)rmdir(dir);
}

static void server_setup(struct cluster *cl, unsigned i)
{
    struct server *s = &cl->s[i];
    s->cl = cl;
    s->idx = i;
    char name[16];
    (void)shir_str_fmt(name, sizeof name, "node-%u", i + 1);
    assert_int_equal(tt_node_make(&s->node, &cl->ca, i + 1, name), 0);
    (void)shir_str_copy(s->dir, sizeof s->dir, "/tmp/shir-raft-XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    struct transport_listener_config lc = {
        .tls = s->node.tls, .host = "127.0.0.1", .accept_cb = on_accept, .data = s};
    assert_int_equal(transport_listener_new(&cl->loop, &lc, &s->l), 0);
    (void)shir_str_fmt(s->address, sizeof s->address, "127.0.0.1:%u",
                       transport_listener_port(s->l));
}

static void server_start(struct cluster *cl, unsigned i)
{
    struct server *s = &cl->s[i];
    for (unsigned j = 0; j < N; j++)
        if (j != i)
            tt_node_allow(&s->node, cl->s[j].node.pin);
    struct transport_raft_config rc = {
        .tls = s->node.tls, .address_cb = address_of, .data = cl, .connect_timeout_ms = 2000};
    assert_int_equal(transport_raft_init(&s->transport, &cl->loop, &rc), 0);
    assert_int_equal(raft_uv_init(&s->io, &cl->loop, s->dir, &s->transport), 0);
    raft_uv_set_connect_retry_delay(&s->io, 100);
    s->fsm = (struct raft_fsm){.version = 2, .data = s, .apply = fsm_apply,
                               .snapshot = fsm_snapshot, .restore = fsm_restore,
                               .snapshot_finalize = fsm_finalize};
    assert_int_equal(raft_init(&s->raft, &s->io, &s->fsm, i + 1, s->address), 0);
    raft_set_election_timeout(&s->raft, 500);
    raft_set_heartbeat_timeout(&s->raft, 50);
    raft_set_pre_vote(&s->raft, true);
    raft_set_snapshot_threshold(&s->raft, 1u << 20);
    struct raft_configuration conf;
    raft_configuration_init(&conf);
    for (unsigned j = 0; j < N; j++)
        assert_int_equal(raft_configuration_add(&conf, j + 1, cl->s[j].address, RAFT_VOTER), 0);
    assert_int_equal(raft_bootstrap(&s->raft, &conf), 0);
    raft_configuration_close(&conf);
    assert_int_equal(raft_start(&s->raft), 0);
    s->alive = true;
}

static void on_raft_closed(struct raft *r)
{
    struct server *s = r->data;
    s->raft_closed = true;
}

static void on_listener_closed(struct transport_listener *l, void *data)
{
    (void)l;
    ((struct server *)data)->listener_closed = true;
}

static bool cond_server_down(void *arg)
{
    struct server *s = arg;
    return s->raft_closed && s->listener_closed;
}

static void server_kill(struct cluster *cl, unsigned i)
{
    struct server *s = &cl->s[i];
    s->alive = false;
    s->raft.data = s;
    raft_close(&s->raft, on_raft_closed);
    transport_listener_close(s->l, on_listener_closed);
    assert_true(tt_run_until(&cl->loop, cond_server_down, s, DEADLINE_MS));
    raft_uv_close(&s->io);
}

/* ------------------------------------------------------------------------------------------- */

static int leader_index(struct cluster *cl)
{
    int found = -1;
    for (unsigned i = 0; i < N; i++) {
        if (!cl->s[i].alive || raft_state(&cl->s[i].raft) != RAFT_LEADER)
            continue;
        if (found >= 0)
            return -1; /* two leaders of different terms: wait for it to settle */
        found = (int)i;
    }
    return found;
}

static bool cond_leader(void *arg)
{
    return leader_index(arg) >= 0;
}

static bool cond_replicated(void *arg)
{
    struct cluster *cl = arg;
    for (unsigned i = 0; i < N; i++)
        if (cl->s[i].alive && cl->s[i].count < cl->want)
            return false;
    return true;
}

struct apply_req {
    struct raft_apply req;
    struct cluster *cl;
};

static void on_applied(struct raft_apply *req, int status, void *result)
{
    (void)result;
    struct apply_req *a = req->data;
    if (status == 0)
        a->cl->applied_ok++;
    free(a);
}

/* Propose `n` entries on the current leader and wait until every live server applied them. A
 * proposal lost to a leadership change is retried (the FSM only counts). */
static void replicate(struct cluster *cl, unsigned n)
{
    uint64_t base = cl->want;
    cl->want = base + n;
    for (unsigned attempt = 0; attempt < 20 && !cond_replicated(cl); attempt++) {
        assert_true(tt_run_until(&cl->loop, cond_leader, cl, DEADLINE_MS));
        struct server *ld = &cl->s[leader_index(cl)];
        uint64_t have = ld->count;
        for (uint64_t k = have; k < cl->want; k++) {
            struct apply_req *a = calloc(1, sizeof *a);
            assert_non_null(a);
            a->cl = cl;
            a->req.data = a;
            struct raft_buffer buf = {.base = raft_malloc(8), .len = 8};
            assert_non_null(buf.base);
            shir_put_be64(buf.base, k);
            if (raft_apply(&ld->raft, &a->req, &buf, 1, on_applied) != 0) {
                raft_free(buf.base);
                free(a);
                break;
            }
        }
        (void)tt_run_until(&cl->loop, cond_replicated, cl, 5000);
    }
    /* An entry proposed twice (after a leadership change) is counted twice: accept >= want. */
    assert_true(cond_replicated(cl));
}

static void test_three_nodes(void **state)
{
    (void)state;
    struct cluster *cl = calloc(1, sizeof *cl);
    assert_non_null(cl);
    assert_int_equal(uv_loop_init(&cl->loop), 0);
    assert_int_equal(tt_ca_make(&cl->ca, "raft-ca"), 0);
    for (unsigned i = 0; i < N; i++)
        server_setup(cl, i);
    for (unsigned i = 0; i < N; i++)
        server_start(cl, i);

    /* Election and replication. */
    assert_true(tt_run_until(&cl->loop, cond_leader, cl, DEADLINE_MS));
    replicate(cl, 5);
    for (unsigned i = 0; i < N; i++) {
        assert_true(transport_raft_stats(&cl->s[i].transport)->outbound >= 1);
        assert_int_equal(transport_raft_stats(&cl->s[i].transport)->id_mismatch, 0);
    }

    /* Kill the TLS connections between the leader and one follower: raft reconnects. */
    int ld = leader_index(cl);
    assert_true(ld >= 0);
    unsigned f = ((unsigned)ld + 1) % N;
    uint64_t before = transport_raft_stats(&cl->s[ld].transport)->outbound;
    assert_true(transport_tls_close_peer(cl->s[ld].node.tls, cl->s[f].node.pin) >= 1);
    replicate(cl, 5);
    /* The follower caught up through a NEW connection from the leader, not an old one. */
    if (leader_index(cl) == ld)
        assert_true(transport_raft_stats(&cl->s[ld].transport)->outbound > before);

    /* Kill the leader: the other two elect a new one and keep replicating. */
    ld = leader_index(cl);
    assert_true(ld >= 0);
    server_kill(cl, (unsigned)ld);
    assert_true(tt_run_until(&cl->loop, cond_leader, cl, DEADLINE_MS));
    assert_int_not_equal(leader_index(cl), ld);
    replicate(cl, 5);

    /* Clean shutdown. */
    for (unsigned i = 0; i < N; i++)
        if (cl->s[i].alive)
            server_kill(cl, i);
    assert_true(tt_run_drain(&cl->loop, DEADLINE_MS));
    assert_int_equal(uv_loop_close(&cl->loop), 0);
    for (unsigned i = 0; i < N; i++) {
        tt_node_free(&cl->s[i].node);
        rm_dir(cl->s[i].dir);
    }
    tt_ca_free(&cl->ca);
    free(cl);
}

/* ------------------------------------------------------------------------------------------- */
/* Identity binding, without raft: the bridge's methods called directly. */

static void free_stream(uv_handle_t *h)
{
    raft_free(h);
}

struct conn_result {
    bool done;
    int status;
    uv_stream_t *stream;
};

static void on_raft_connect(struct raft_uv_connect *req, uv_stream_t *stream, int status)
{
    struct conn_result *r = req->data;
    r->done = true;
    r->status = status;
    r->stream = stream;
}

static bool cond_connect(void *arg)
{
    return ((struct conn_result *)arg)->done;
}

static bool cond_refused(void *arg)
{
    return transport_raft_stats(arg)->refused >= 1;
}

static bool accepted_any;
static void on_raft_accept(struct raft_uv_transport *t, raft_id id, const char *address,
                           uv_stream_t *stream)
{
    (void)t;
    (void)id;
    (void)address;
    accepted_any = true;
    uv_close((uv_handle_t *)stream, free_stream);
}

static int address_none(void *data, uint64_t id, char *buf, size_t cap)
{
    (void)data;
    (void)id;
    (void)buf;
    (void)cap;
    return SHIR_E_NOTFOUND;
}

static bool closed_t[2];
static void on_t_closed(struct raft_uv_transport *t)
{
    closed_t[t->data == NULL ? 0 : 1] = true;
}

static void test_identity_binding(void **state)
{
    (void)state;
    struct cluster *cl = calloc(1, sizeof *cl);
    assert_non_null(cl);
    assert_int_equal(uv_loop_init(&cl->loop), 0);
    assert_int_equal(tt_ca_make(&cl->ca, "raft-ca"), 0);
    server_setup(cl, 0);
    server_setup(cl, 1);
    struct server *a = &cl->s[0], *b = &cl->s[1];
    tt_node_allow(&a->node, b->node.pin);
    tt_node_allow(&b->node, a->node.pin);
    /* a knows no member addresses: every inbound raft stream must be refused. */
    struct transport_raft_config ra = {.tls = a->node.tls, .address_cb = address_none};
    struct transport_raft_config rb = {.tls = b->node.tls, .address_cb = address_of, .data = cl};
    assert_int_equal(transport_raft_init(&a->transport, &cl->loop, &ra), 0);
    assert_int_equal(transport_raft_init(&b->transport, &cl->loop, &rb), 0);
    a->transport.data = NULL;
    b->transport.data = b;
    assert_int_equal(a->transport.init(&a->transport, 1, a->address), 0);
    assert_int_equal(b->transport.init(&b->transport, 2, b->address), 0);
    assert_int_equal(a->transport.listen(&a->transport, on_raft_accept), 0);
    a->alive = true;

    /* b dials a's address but asks for raft id 3: a's certificate says 1, so it is refused. */
    struct conn_result r = {0};
    struct raft_uv_connect req = {.data = &r};
    assert_int_equal(b->transport.connect(&b->transport, &req, 3, a->address, on_raft_connect), 0);
    assert_true(tt_run_until(&cl->loop, cond_connect, &r, DEADLINE_MS));
    assert_int_equal(r.status, RAFT_NOCONNECTION);
    assert_int_equal(transport_raft_stats(&b->transport)->id_mismatch, 1);

    /* The right id connects, but a cannot place b in its configuration: refused inbound. */
    memset(&r, 0, sizeof r);
    assert_int_equal(b->transport.connect(&b->transport, &req, 1, a->address, on_raft_connect), 0);
    assert_true(tt_run_until(&cl->loop, cond_connect, &r, DEADLINE_MS));
    assert_int_equal(r.status, 0);
    assert_non_null(r.stream);
    uv_close((uv_handle_t *)r.stream, free_stream);
    assert_true(tt_run_until(&cl->loop, cond_refused, &a->transport, DEADLINE_MS));
    assert_false(accepted_any);

    a->transport.close(&a->transport, on_t_closed);
    b->transport.close(&b->transport, on_t_closed);
    transport_listener_close(a->l, NULL);
    transport_listener_close(b->l, NULL);
    assert_true(tt_run_drain(&cl->loop, DEADLINE_MS));
    assert_true(closed_t[0] && closed_t[1]);
    assert_int_equal(uv_loop_close(&cl->loop), 0);
    for (unsigned i = 0; i < 2; i++) {
        tt_node_free(&cl->s[i].node);
        rm_dir(cl->s[i].dir);
    }
    tt_ca_free(&cl->ca);
    free(cl);
}

int main(void)
{
    transport_process_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_nodes),
        cmocka_unit_test(test_identity_binding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
