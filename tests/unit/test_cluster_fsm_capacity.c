/* Unit tests for the capacity and settings parts of the dispatcher's replicated state (nodes.c,
 * runtime.c): a node's capacity (operator's, automatic, in a snapshot); capacity never exceeded
 * under concurrent assignments, draining; SETTINGS_SET's merge and ranges, and the older forms of
 * SETTINGS_SET, INIT and the runtime section. Shared helpers in fsm_runs_helpers.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/fsm.h"
#include "cluster/fsm/fsm_int.h"
#include "cluster_fsm_helpers.h"
#include "common/common.h"
#include "fsm_runs_helpers.h"

/* ---- capacity --------------------------------------------------------------------------------- */

static void test_node_capacity(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    assert_int_equal(cluster_fsm_node_capacity(f, N_A), 4); /* the operator's, from NODE_ADD */
    assert_int_equal(cluster_fsm_node_capacity(f, N_W), 0); /* a witness runs nothing */
    assert_int_equal(cluster_fsm_node_capacity(f, N_P), 0); /* pending */
    assert_int_equal(cluster_fsm_node_capacity(f, 99), 0);  /* unknown */
    assert_int_equal(set_capacity(f, N_A, 0, false), 0);    /* back to auto: none proposed */
    assert_int_equal(cluster_fsm_node_capacity(f, N_A), 1);
    assert_int_equal(set_capacity(f, N_A, 6, true), 0);
    assert_int_equal(cluster_fsm_node_capacity(f, N_A), 6);
    assert_int_equal(cluster_fsm_node(f, N_A)->capacity_auto, 6);
    assert_int_equal(set_capacity(f, N_A, 2, false), 0); /* the operator's wins */
    assert_int_equal(cluster_fsm_node_capacity(f, N_A), 2);
    assert_int_equal(set_capacity(f, N_A, CLUSTER_NODE_CAPACITY_MAX, false), 0);
    assert_int_equal(cluster_fsm_node_capacity(f, N_A), CLUSTER_NODE_CAPACITY_MAX);
    assert_int_equal(set_capacity(f, 99, 2, false), SHIR_E_NOTFOUND);
    /* capacity_auto survives a snapshot (it is in the section, not in NODE_ADD). */
    struct shir_buf b;
    t_snapshot_of(f, &b);
    struct cluster_fsm *g = cluster_fsm_new();
    assert_int_equal(cluster_fsm_restore(g, b.data, b.len), 0);
    assert_int_equal(cluster_fsm_node(g, N_A)->capacity_auto, 6);
    t_assert_same_state(f, g);
    shir_buf_free(&b);
    cluster_fsm_free(g);
    cluster_fsm_free(f);
}

/* ---- capacity under concurrent proposals ------------------------------------------------------ */

/* Several RUN_ASSIGN entries, each decided on the same view (node A idle, capacity 3), commit
 * one after another: apply admits exactly 3. Items for a draining node, the witness, a pending
 * node, an unknown node, and a run twice in one batch are skipped. */
static void test_capacity_never_exceeded(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    assert_int_equal(set_capacity(f, N_A, 3, false), 0);
    char name[8];
    uint64_t runs[8];
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof name, "c%d", i);
        put_scan(f, name, 3);
        runs[i] = create_ok(f, name);
    }
    struct cluster_cmd c[4];
    for (int k = 0; k < 4; k++) {
        cmd(&c[k], CLUSTER_CMD_RUN_ASSIGN);
        c[k].u.run_assign.n = 2;
        for (int i = 0; i < 2; i++) {
            c[k].u.run_assign.items[i].run = runs[2 * k + i];
            c[k].u.run_assign.items[i].node = N_A;
        }
        uint64_t v;
        assert_int_equal(cluster_fsm_check(f, &c[k], &v), 0);
        assert_int_equal(v, 2); /* each alone fits */
    }
    uint64_t total = 0;
    for (int k = 0; k < 4; k++)
        total += ap(f, &c[k])->value;
    assert_int_equal(total, 3);
    assert_int_equal(cluster_fsm_node_load(f, N_A), 3);
    /* One batch over-assigning B (capacity 4) and the rest: check and apply agree on 4. */
    struct cluster_cmd b;
    cmd(&b, CLUSTER_CMD_RUN_ASSIGN);
    uint32_t k = 0;
    b.u.run_assign.items[k].run = runs[3];
    b.u.run_assign.items[k++].node = N_W; /* witness */
    b.u.run_assign.items[k].run = runs[3];
    b.u.run_assign.items[k++].node = N_P; /* pending */
    b.u.run_assign.items[k].run = runs[3];
    b.u.run_assign.items[k++].node = 99; /* unknown */
    b.u.run_assign.items[k].run = 999;
    b.u.run_assign.items[k++].node = N_B; /* unknown run */
    for (int i = 3; i < 8; i++) {
        b.u.run_assign.items[k].run = runs[i];
        b.u.run_assign.items[k++].node = N_B;
        b.u.run_assign.items[k].run = runs[i]; /* the same run again */
        b.u.run_assign.items[k++].node = N_B;
    }
    b.u.run_assign.n = k;
    uint64_t v;
    assert_int_equal(cluster_fsm_check(f, &b, &v), 0);
    assert_int_equal(v, 4);
    assert_int_equal(ap(f, &b)->value, 4);
    assert_int_equal(cluster_fsm_node_load(f, N_B), 4);
    for (int i = 0; i < 8; i++)
        assert_true(run_of(f, runs[i])->n_attempts <= 1);
    /* A draining node takes nothing; freed capacity is taken again. */
    uint64_t last = 0;
    for (int i = 0; i < 8; i++)
        if (run_of(f, runs[i])->state == CLUSTER_RUN_QUEUED)
            last = runs[i];
    assert_true(last != 0);
    struct cluster_cmd d;
    cmd(&d, CLUSTER_CMD_NODE_SET_DRAIN);
    d.u.node_drain.node_id = N_A;
    d.u.node_drain.drain = true;
    assert_int_equal(ap(f, &d)->status, 0);
    assert_int_equal(finish(f, runs[0], 1, CLUSTER_OUTCOME_SUCCEEDED, UINT64_MAX, "")->value,
                     CLUSTER_RUN_SUCCEEDED);
    assert_int_equal(assign(f, last, N_A), 0);
    cmd(&d, CLUSTER_CMD_NODE_SET_DRAIN);
    d.u.node_drain.node_id = N_A;
    assert_int_equal(ap(f, &d)->status, 0);
    assert_int_equal(assign(f, last, N_A), 1);
    assert_int_equal(cluster_fsm_node_load(f, N_A), 3);
    cluster_fsm_free(f);
}

/* ---- settings: merge and older forms ----------------------------------------------------------- */

static void test_settings_merge_and_ranges(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    const struct cluster_settings *s = &cluster_fsm_runtime(f)->settings;
    assert_int_equal(s->run_history, CLUSTER_RUN_HISTORY_DEFAULT); /* INIT gave 0: default */
    assert_int_equal(s->node_loss_grace_ms, CLUSTER_NODE_LOSS_GRACE_DEFAULT_MS);
    struct cluster_cmd c;
    cmd(&c, CLUSTER_CMD_SETTINGS_SET);
    c.u.settings.node_loss_grace_ms = 2500;
    assert_int_equal(ap(f, &c)->status, 0);
    assert_int_equal(s->node_loss_grace_ms, 2500);
    assert_int_equal(s->max_nodes, CLUSTER_MAX_NODES_DEFAULT);
    assert_int_equal(s->standby_promotion_delay_ms, CLUSTER_STANDBY_DELAY_DEFAULT_MS);
    assert_int_equal(s->run_history, CLUSTER_RUN_HISTORY_DEFAULT);
    cmd(&c, CLUSTER_CMD_SETTINGS_SET);
    c.u.settings.max_nodes = 7;
    assert_int_equal(ap(f, &c)->status, 0);
    assert_int_equal(s->max_nodes, 7);
    assert_int_equal(s->node_loss_grace_ms, 2500);
    const struct cluster_settings bad[] = {
        {.run_history = CLUSTER_RUN_HISTORY_MAX + 1},
        {.node_loss_grace_ms = CLUSTER_NODE_LOSS_GRACE_MAX_MS + 1},
        {.max_nodes = CLUSTER_FSM_NODES_CAP},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cmd(&c, CLUSTER_CMD_SETTINGS_SET);
        c.u.settings = bad[i];
        assert_int_equal(cluster_fsm_check(f, &c, NULL), SHIR_E_INVAL);
        assert_int_equal(ap(f, &c)->status, SHIR_E_INVAL);
    }
    assert_int_equal(s->max_nodes, 7);
    cmd(&c, CLUSTER_CMD_SETTINGS_SET);
    c.u.settings.run_history = CLUSTER_RUN_HISTORY_MAX;
    c.u.settings.node_loss_grace_ms = CLUSTER_NODE_LOSS_GRACE_MAX_MS;
    assert_int_equal(ap(f, &c)->status, 0);
    assert_int_equal(s->run_history, CLUSTER_RUN_HISTORY_MAX);
    cluster_fsm_free(f);
}

/* SETTINGS_SET and INIT as written before the two new settings (2 settings fields), and a
 * version-2 snapshot whose runtime section has 8 fields: all decode, the new settings get their
 * defaults (INIT, the section) or keep their value (SETTINGS_SET). */
static void test_settings_older_forms(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    assert_int_equal(set_history(f, 33), 0);
    struct shir_buf b;
    struct cluster__mpw w;
    uint8_t rid[CLUSTER_REQUEST_ID_LEN];
    memset(rid, 0x5a, sizeof rid);
    shir_buf_init(&b, 1 << 16);
    cluster__mpw_init(&w, &b);
    cluster__mpw_array(&w, 5);
    cluster__mpw_uint(&w, 1);
    cluster__mpw_uint(&w, CLUSTER_CMD_SETTINGS_SET);
    cluster__mpw_bin(&w, rid, sizeof rid);
    cluster__mpw_uint(&w, 5);
    cluster__mpw_uint(&w, 60000);
    assert_int_equal(w.err, 0);
    static struct cluster_cmd out;
    assert_int_equal(cluster_cmd_decode(b.data, b.len, &out), 0);
    assert_int_equal(out.u.settings.max_nodes, 5);
    assert_int_equal(out.u.settings.run_history, 0);
    assert_int_equal(cluster_fsm_apply(f, b.data, b.len)->status, 0);
    const struct cluster_settings *s = &cluster_fsm_runtime(f)->settings;
    assert_int_equal(s->max_nodes, 5);
    assert_int_equal(s->standby_promotion_delay_ms, 60000);
    assert_int_equal(s->run_history, 33);
    assert_int_equal(s->node_loss_grace_ms, CLUSTER_NODE_LOSS_GRACE_DEFAULT_MS);
    /* One settings field only: refused (the old form had two). */
    shir_buf_reset(&b);
    cluster__mpw_init(&w, &b);
    cluster__mpw_array(&w, 4);
    cluster__mpw_uint(&w, 1);
    cluster__mpw_uint(&w, CLUSTER_CMD_SETTINGS_SET);
    cluster__mpw_bin(&w, rid, sizeof rid);
    cluster__mpw_uint(&w, 5);
    assert_int_equal(cluster_cmd_decode(b.data, b.len, &out), SHIR_E_MALFORMED);
    /* Three: the first optional one present. */
    shir_buf_reset(&b);
    cluster__mpw_init(&w, &b);
    cluster__mpw_array(&w, 6);
    cluster__mpw_uint(&w, 1);
    cluster__mpw_uint(&w, CLUSTER_CMD_SETTINGS_SET);
    cluster__mpw_bin(&w, rid, sizeof rid);
    cluster__mpw_uint(&w, 0);
    cluster__mpw_uint(&w, 0);
    cluster__mpw_uint(&w, 44);
    assert_int_equal(cluster_cmd_decode(b.data, b.len, &out), 0);
    assert_int_equal(out.u.settings.run_history, 44);
    assert_int_equal(out.u.settings.node_loss_grace_ms, 0);

    /* INIT in its 11-field form: the defaults. */
    struct cluster_cmd init;
    t_cmd_init(&init, 1);
    shir_buf_reset(&b);
    assert_int_equal(cluster_cmd_encode(&init, &b), 0);
    /* Drop the last two uints (run_history 0 and grace 0 encode as one byte each) from the
     * array16 of 16 elements. */
    assert_int_equal(b.data[0], 0xdc);
    assert_int_equal(b.data[2], 16);
    assert_int_equal(b.data[b.len - 1], 0);
    assert_int_equal(b.data[b.len - 2], 0);
    b.data[2] = 14;
    b.len -= 2;
    struct cluster_fsm *g = cluster_fsm_new();
    assert_int_equal(cluster_fsm_apply(g, b.data, b.len)->status, 0);
    assert_int_equal(cluster_fsm_runtime(g)->settings.run_history, CLUSTER_RUN_HISTORY_DEFAULT);
    assert_int_equal(cluster_fsm_runtime(g)->settings.node_loss_grace_ms,
                     CLUSTER_NODE_LOSS_GRACE_DEFAULT_MS);

    /* A snapshot with an 8-field runtime section (the others absent: empty). */
    const struct cluster_runtime *rt = cluster_fsm_runtime(g);
    shir_buf_reset(&b);
    cluster__mpw_init(&w, &b);
    cluster__mpw_array(&w, 3);
    cluster__mpw_str(&w, "shir-fsm", 9);
    cluster__mpw_uint(&w, 2);
    cluster__mpw_array(&w, 1);
    cluster__mpw_array(&w, 2);
    cluster__mpw_uint(&w, 1);
    cluster__mpw_array(&w, 8);
    cluster__mpw_bool(&w, true);
    cluster__mpw_bin(&w, rt->id, sizeof rt->id);
    cluster__mpw_str(&w, rt->name, sizeof rt->name);
    cluster__mpw_str(&w, rt->description, sizeof rt->description);
    for (int k = 0; k < 2; k++) {
        cluster__mpw_array(&w, 4);
        cluster__mpw_uint(&w, rt->keys[k].generation);
        cluster__mpw_bin(&w, rt->keys[k].verifier.stored_key, 32);
        cluster__mpw_bin(&w, rt->keys[k].verifier.server_key, 32);
        cluster__mpw_bin(&w, rt->keys[k].sealed, rt->keys[k].sealed_len);
    }
    cluster__mpw_uint(&w, 9);
    cluster__mpw_uint(&w, 90000);
    assert_int_equal(w.err, 0);
    assert_int_equal(cluster_fsm_restore(f, b.data, b.len), 0);
    s = &cluster_fsm_runtime(f)->settings;
    assert_int_equal(s->max_nodes, 9);
    assert_int_equal(s->run_history, CLUSTER_RUN_HISTORY_DEFAULT);
    assert_int_equal(s->node_loss_grace_ms, CLUSTER_NODE_LOSS_GRACE_DEFAULT_MS);
    size_t n;
    (void)cluster_fsm_scans(f, &n);
    assert_int_equal(n, 0);
    (void)cluster_fsm_runs(f, &n);
    assert_int_equal(n, 0);
    shir_buf_free(&b);
    cluster_fsm_free(g);
    cluster_fsm_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_capacity),
        cmocka_unit_test(test_capacity_never_exceeded),
        cmocka_unit_test(test_settings_merge_and_ranges),
        cmocka_unit_test(test_settings_older_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
