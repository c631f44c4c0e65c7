/* The FSM under real consensus: libraft's in-memory fixture (raft/fixture.h, exact simulated
 * time, no sockets) with three servers, each driving its own struct cluster_fsm through the
 * version-2 adapter. Checks that every node ends with byte-identical state after ordinary
 * commands, a killed leader, snapshot install + restore, and duplicate request ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <raft.h>
#include <raft/fixture.h>

#include "cluster/fsm.h"
#include "cluster/fsm_raft.h"
#include "cluster_fsm_helpers.h"
#include "common/common.h"

#define N           3
#define STEP_MAX_MS 10000

struct fx {
    struct raft_fixture f;
    struct cluster_fsm *fsm[N];
    struct cluster_fsm_raft rf[N];
    struct raft_tracer quiet; /* the fixture traces every tick to stderr otherwise */
};

static void quiet_emit(struct raft_tracer *t, int type, const void *info)
{
    (void)t;
    (void)type;
    (void)info;
}

struct applied {
    struct raft_apply req;
    bool done;
    int status;
    struct cluster_fsm_result res; /* copied in the callback: the pointer dies after it */
};

static int fx_setup(void **state)
{
    struct fx *x = calloc(1, sizeof *x); /* zeroed, as raft_fixture_initialize expects */
    struct raft_configuration conf;
    assert_non_null(x);
    assert_int_equal(raft_fixture_initialize(&x->f), 0);
    for (unsigned i = 0; i < N; i++) {
        x->fsm[i] = cluster_fsm_new();
        assert_non_null(x->fsm[i]);
        cluster_fsm_raft_init(&x->rf[i], x->fsm[i]);
        assert_int_equal(raft_fixture_grow(&x->f, &x->rf[i].rf), 0);
    }
    x->quiet = (struct raft_tracer){.impl = NULL, .version = 2, .emit = quiet_emit};
    for (unsigned i = 0; i < N; i++)
        raft_fixture_get(&x->f, i)->tracer = &x->quiet;
    assert_int_equal(raft_fixture_configuration(&x->f, N, &conf), 0);
    assert_int_equal(raft_fixture_bootstrap(&x->f, &conf), 0);
    raft_configuration_close(&conf);
    assert_int_equal(raft_fixture_start(&x->f), 0);
    assert_true(raft_fixture_step_until_has_leader(&x->f, STEP_MAX_MS));
    *state = x;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *x = *state;
    raft_fixture_close(&x->f);
    for (unsigned i = 0; i < N; i++)
        cluster_fsm_free(x->fsm[i]);
    free(x);
    return 0;
}

static void apply_cb(struct raft_apply *req, int status, void *result)
{
    struct applied *a = req->data;
    a->done = true;
    a->status = status;
    if (status == 0 && result)
        a->res = *(const struct cluster_fsm_result *)result;
}

/* Propose `c` on the current leader and step until every live server applied it. */
static raft_index propose(struct fx *x, const struct cluster_cmd *c, struct applied *a)
{
    struct shir_buf b;
    struct raft_buffer buf;
    unsigned li = raft_fixture_leader_index(&x->f);
    assert_true(li < N);
    struct raft *r = raft_fixture_get(&x->f, li);
    shir_buf_init(&b, 1 << 16);
    assert_int_equal(cluster_cmd_encode(c, &b), 0);
    assert_int_equal(cluster_fsm_raft_entry(b.data, b.len, &buf), 0);
    assert_int_equal(buf.len % 8, 0);
    shir_buf_free(&b);
    memset(a, 0, sizeof *a);
    a->req.data = a;
    assert_int_equal(raft_apply(r, &a->req, &buf, 1, apply_cb), 0);
    raft_index index = raft_last_index(r);
    for (unsigned i = 0; i < N; i++)
        if (raft_fixture_alive(&x->f, i))
            assert_true(raft_fixture_step_until_applied(&x->f, i, index, STEP_MAX_MS));
    assert_true(a->done);
    assert_int_equal(a->status, 0);
    return index;
}

static void assert_all_equal(struct fx *x)
{
    for (unsigned i = 1; i < N; i++)
        t_assert_same_state(x->fsm[0], x->fsm[i]);
}

static void init_runtime(struct fx *x)
{
    struct cluster_cmd c;
    struct applied a;
    t_cmd_init(&c, 1);
    propose(x, &c, &a);
    assert_int_equal(a.res.status, 0);
    t_cmd_node_add(&c, 2, "a", CLUSTER_ROLE_VOTER, 0, 0);
    propose(x, &c, &a);
    assert_int_equal(a.res.status, 0);
    assert_int_equal(a.res.value, 1);
}

static void test_three_nodes_apply(void **state)
{
    struct fx *x = *state;
    struct cluster_cmd c;
    struct applied a;
    init_runtime(x);
    t_cmd_node_add(&c, 3, "b", CLUSTER_ROLE_SPARE, 1, 1);
    propose(x, &c, &a);
    assert_int_equal(a.res.value, 2);
    t_cmd_simple(&c, 4, CLUSTER_CMD_PROXY_SET);
    c.u.proxy.mode = CLUSTER_PROXY_CUSTOM;
    strcpy(c.u.proxy.host, "proxy.corp");
    c.u.proxy.port = 8080;
    propose(x, &c, &a);
    assert_int_equal(a.res.status, 0);
    /* An application error is a result, not a raft failure. */
    t_cmd_node_add(&c, 5, "b", CLUSTER_ROLE_SPARE, 1, 1);
    propose(x, &c, &a);
    assert_int_equal(a.res.status, SHIR_E_EXISTS);
    for (unsigned i = 0; i < N; i++) {
        assert_string_equal(cluster_fsm_proxy(x->fsm[i])->host, "proxy.corp");
        assert_non_null(cluster_fsm_node_by_name(x->fsm[i], "b"));
    }
    assert_all_equal(x);
}

static void test_leader_killed(void **state)
{
    struct fx *x = *state;
    struct cluster_cmd c;
    struct applied a;
    init_runtime(x);
    unsigned old = raft_fixture_leader_index(&x->f);
    raft_fixture_kill(&x->f, old);
    assert_true(raft_fixture_step_until_has_no_leader(&x->f, STEP_MAX_MS));
    assert_true(raft_fixture_step_until_has_leader(&x->f, STEP_MAX_MS));
    unsigned now = raft_fixture_leader_index(&x->f);
    assert_int_not_equal(now, old);
    /* The new leader serves writes with two of three alive. */
    t_cmd_node_add(&c, 10, "b", CLUSTER_ROLE_SPARE, 1, 1);
    raft_index idx = propose(x, &c, &a);
    assert_int_equal(a.res.status, 0);
    assert_int_equal(a.res.value, 2);
    /* The old leader comes back and catches up to the same state. */
    raft_fixture_revive(&x->f, old);
    assert_true(raft_fixture_step_until_applied(&x->f, old, idx, STEP_MAX_MS));
    assert_non_null(cluster_fsm_node_by_name(x->fsm[old], "b"));
    assert_all_equal(x);
}

static void test_snapshot_install_and_restore(void **state)
{
    struct fx *x = *state;
    struct cluster_cmd c;
    struct applied a;
    for (unsigned i = 0; i < N; i++) {
        raft_set_snapshot_threshold(raft_fixture_get(&x->f, i), 4);
        raft_set_snapshot_trailing(raft_fixture_get(&x->f, i), 1);
    }
    init_runtime(x);
    unsigned lagging = (raft_fixture_leader_index(&x->f) + 1) % N;
    raft_fixture_kill(&x->f, lagging);
    raft_index last = 0;
    for (uint32_t i = 0; i < 20; i++) {
        t_cmd_simple(&c, 100 + i, CLUSTER_CMD_NODE_SET_DRAIN);
        c.u.node_drain.node_id = 1;
        c.u.node_drain.drain = (i & 1) == 0;
        last = propose(x, &c, &a);
    }
    t_cmd_node_add(&c, 200, "b", CLUSTER_ROLE_SPARE, 2, 1);
    last = propose(x, &c, &a);
    /* The log it missed was compacted away: it can only catch up through a snapshot. */
    uint64_t before = cluster_fsm_applied(x->fsm[lagging]);
    raft_fixture_revive(&x->f, lagging);
    assert_true(raft_fixture_step_until_applied(&x->f, lagging, last, STEP_MAX_MS));
    /* restore() resets the applied counter: fewer entries applied than were committed. */
    assert_true(cluster_fsm_applied(x->fsm[lagging]) < before + 21);
    assert_non_null(cluster_fsm_node_by_name(x->fsm[lagging], "b"));
    assert_all_equal(x);
    /* Idempotency survives the restore: a replay of an old id is answered from the table. */
    t_cmd_simple(&c, 105, CLUSTER_CMD_NODE_SET_DRAIN);
    c.u.node_drain.node_id = 1;
    c.u.node_drain.drain = true;
    bool drain_before = cluster_fsm_node(x->fsm[0], 1)->drain;
    propose(x, &c, &a);
    assert_int_equal(a.res.status, 0);
    for (unsigned i = 0; i < N; i++)
        assert_int_equal(cluster_fsm_node(x->fsm[i], 1)->drain, drain_before);
    assert_all_equal(x);
}

static void test_duplicate_request_ids_applied_once(void **state)
{
    struct fx *x = *state;
    struct cluster_cmd c;
    struct applied a1, a2;
    init_runtime(x);
    t_cmd_node_add(&c, 300, "b", CLUSTER_ROLE_SPARE, 1, 1);
    propose(x, &c, &a1);
    /* The client saw RAFT_LEADERSHIPLOST (unknown outcome) and retries the same command. */
    propose(x, &c, &a2);
    assert_int_equal(a1.res.status, 0);
    assert_int_equal(a2.res.status, 0);
    assert_int_equal(a2.res.value, a1.res.value);
    assert_memory_equal(a2.res.request_id, c.request_id, CLUSTER_REQUEST_ID_LEN);
    for (unsigned i = 0; i < N; i++) {
        size_t n;
        (void)cluster_fsm_nodes(x->fsm[i], &n);
        assert_int_equal(n, 2);
    }
    /* Also across a leader change. */
    unsigned old = raft_fixture_leader_index(&x->f);
    raft_fixture_kill(&x->f, old);
    assert_true(raft_fixture_step_until_has_no_leader(&x->f, STEP_MAX_MS));
    assert_true(raft_fixture_step_until_has_leader(&x->f, STEP_MAX_MS));
    raft_index idx = propose(x, &c, &a2);
    assert_int_equal(a2.res.value, a1.res.value);
    raft_fixture_revive(&x->f, old);
    assert_true(raft_fixture_step_until_applied(&x->f, old, idx, STEP_MAX_MS));
    assert_all_equal(x);
}

/* The adapter alone: snapshot + finalize free what they allocate (ASan checks), restore of a
 * bad buffer fails without taking it and without touching the state. */
static void test_adapter_snapshot_restore_ownership(void **state)
{
    (void)state;
    struct cluster_fsm *f = cluster_fsm_new(), *g = cluster_fsm_new();
    struct cluster_fsm_raft ra, ga;
    struct raft_buffer *bufs = NULL;
    unsigned n = 0;
    struct cluster_cmd c;
    struct shir_buf b;
    cluster_fsm_raft_init(&ra, f);
    cluster_fsm_raft_init(&ga, g);
    struct raft_fsm rf = ra.rf, rg = ga.rf; /* copies: data still points at the adapters */
    assert_int_equal(rf.version, 2);
    t_cmd_init(&c, 1);
    shir_buf_init(&b, 1 << 16);
    assert_int_equal(cluster_cmd_encode(&c, &b), 0);
    struct raft_buffer entry;
    assert_int_equal(cluster_fsm_raft_entry(b.data, b.len, &entry), 0);
    void *result = NULL;
    assert_int_equal(rf.apply(&rf, &entry, &result), 0);
    assert_int_equal(((const struct cluster_fsm_result *)result)->status, 0);
    raft_free(entry.base);
    /* A frame whose length runs past the buffer is applied as undecodable, harmlessly. */
    struct raft_buffer bad = {.base = raft_malloc(8), .len = 8};
    memcpy(bad.base, "\0\0\0\x09\x95\x01\x02\x03", 8);
    assert_int_equal(rf.apply(&rf, &bad, &result), 0);
    assert_int_not_equal(((const struct cluster_fsm_result *)result)->status, 0);
    raft_free(bad.base);
    shir_buf_free(&b);

    assert_int_equal(rf.snapshot(&rf, &bufs, &n), 0);
    assert_int_equal(n, 1);
    /* restore takes ownership of base on success: hand it a copy. */
    struct raft_buffer copy = {.base = raft_malloc(bufs[0].len), .len = bufs[0].len};
    memcpy(copy.base, bufs[0].base, copy.len);
    assert_int_equal(rf.snapshot_finalize(&rf, &bufs, &n), 0);
    assert_null(bufs);
    /* The next snapshot reuses the FSM's buffer: the same bytes as cluster_fsm_snapshot. */
    assert_int_equal(rf.snapshot(&rf, &bufs, &n), 0);
    t_snapshot_of(f, &b);
    assert_int_equal(bufs[0].len, b.len);
    assert_memory_equal(bufs[0].base, b.data, b.len);
    shir_buf_free(&b);
    assert_int_equal(rf.snapshot_finalize(&rf, &bufs, &n), 0);
    assert_int_equal(rg.restore(&rg, &copy), 0);
    assert_true(cluster_fsm_runtime(g)->initialized);

    struct raft_buffer junk = {.base = raft_malloc(3), .len = 3};
    memcpy(junk.base, "\x93\x01\x02", 3);
    assert_int_equal(rg.restore(&rg, &junk), RAFT_MALFORMED);
    raft_free(junk.base); /* still ours after a failed restore */
    assert_true(cluster_fsm_runtime(g)->initialized);
    cluster_fsm_free(f);
    cluster_fsm_free(g);
}

static void test_raft_err_translation(void **state)
{
    (void)state;
    assert_int_equal(cluster_raft_err(0, NULL, NULL), 0);
    assert_int_equal(cluster_raft_err(RAFT_LEADERSHIPLOST, NULL, NULL), SHIR_E_UNKNOWN_OUTCOME);
    assert_int_equal(cluster_raft_err(RAFT_NOTLEADER, NULL, NULL), SHIR_E_NOLEADER);
    assert_int_equal(cluster_raft_err(RAFT_CANTCHANGE, NULL, NULL), SHIR_E_BUSY);
    assert_int_equal(cluster_raft_err(RAFT_IOERR, NULL, NULL), SHIR_E_IO);
}

/* A raft code that becomes SHIR_E_IO (one of many, or one raft adds later) is named in the log
 * with the call, its number and raft's text; a code with a translation of its own writes
 * nothing. */
static void test_raft_err_names_the_code(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    struct shir_log_sink sink;
    struct shir_log log;
    shir_log_sink_init(&sink, out, SHIR_LOG_DEBUG);
    shir_log_init(&log, &sink, "test");
    assert_int_equal(cluster_raft_err(RAFT_NOTLEADER, &log, "barrier"), SHIR_E_NOLEADER);
    assert_int_equal(cluster_raft_err(0, &log, "barrier"), 0);
    assert_int_equal(fflush(out), 0);
    assert_int_equal(len, 0);
    assert_int_equal(cluster_raft_err(RAFT_IOERR, &log, "barrier"), SHIR_E_IO);
    assert_int_equal(cluster_raft_err(RAFT_NOSPACE, &log, NULL), SHIR_E_IO);
    assert_int_equal(cluster_raft_err(9999, &log, "proposal"), SHIR_E_IO);
    assert_int_equal(fflush(out), 0);
    char want[128];
    (void)snprintf(want, sizeof want, "barrier: raft error %d (%s), reported as SHIR_E_IO",
                   RAFT_IOERR, raft_strerror(RAFT_IOERR));
    if (!strstr(text, want))
        fail_msg("no \"%s\" in:\n%s", want, text);
    (void)snprintf(want, sizeof want, "raft: raft error %d (%s), reported as SHIR_E_IO",
                   RAFT_NOSPACE, raft_strerror(RAFT_NOSPACE));
    if (!strstr(text, want))
        fail_msg("no \"%s\" in:\n%s", want, text);
    assert_non_null(
        strstr(text, "proposal: raft error 9999 (unknown error), reported as SHIR_E_IO"));
    shir_log_sink_close(&sink);
    assert_int_equal(fclose(out), 0);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_three_nodes_apply, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_leader_killed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_install_and_restore, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_request_ids_applied_once, fx_setup,
                                        fx_teardown),
        cmocka_unit_test(test_adapter_snapshot_restore_ownership),
        cmocka_unit_test(test_raft_err_translation),
        cmocka_unit_test(test_raft_err_names_the_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
