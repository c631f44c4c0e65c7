/* Unit tests for the runs of the dispatcher's replicated state (cluster/fsm/runs.c, attempts.c):
 * the names of states and outcomes; a run's life; part sizes; fencing (stale tokens, parts that do
 * not grow); attempts, failures, node losses, crashes and the skip list (by file id); cancel;
 * history and the full table; idempotency past a flood of fenced entries. Scans, capacity and
 * settings, and snapshots are in test_cluster_fsm_scans.c, _capacity.c and _runs_snapshot.c;
 * their shared helpers in fsm_runs_helpers.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/fsm.h"
#include "cluster_fsm_helpers.h"
#include "common/common.h"
#include "fsm_runs_helpers.h"

/* ---- names ------------------------------------------------------------------------------------ */

static void test_names(void **state)
{
    (void)state;
    static const char *const states[] = {"queued", "assigned", "running", "succeeded", "failed",
                                         "cancelled"};
    for (int i = 0; i < CLUSTER_RUN_STATE_COUNT; i++)
        assert_string_equal(cluster_run_state_name((enum cluster_run_state)i), states[i]);
    assert_string_equal(cluster_run_state_name((enum cluster_run_state)99), "?");
    static const char *const outcomes[] = {"", "succeeded", "failed", "crashed", "unreachable",
                                           "node-lost", "cancelled", "timeout"};
    for (int i = 0; i < CLUSTER_OUTCOME_COUNT; i++)
        assert_string_equal(cluster_run_outcome_name((enum cluster_run_outcome)i), outcomes[i]);
    assert_string_equal(cluster_run_outcome_name((enum cluster_run_outcome)8), "?");
    assert_string_equal(cluster_run_trigger_name(CLUSTER_TRIGGER_MANUAL), "manual");
    assert_string_equal(cluster_run_trigger_name(CLUSTER_TRIGGER_SCHEDULE), "schedule");
    assert_string_equal(cluster_run_trigger_name((enum cluster_run_trigger)2), "?");
}

/* ---- a run's life ----------------------------------------------------------------------------- */

static void test_run_lifecycle(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    uint64_t v;
    struct cluster_cmd c;
    const struct cluster_fsm_result *res = create(f, "nope");
    assert_int_equal(res->status, SHIR_E_NOTFOUND);
    uint64_t id = create_ok(f, "s1");
    assert_int_equal(id, 1);
    const struct cluster_run *r = run_of(f, id);
    assert_int_equal(r->state, CLUSTER_RUN_QUEUED);
    assert_int_equal(r->part_size, 500);
    assert_false(r->has_crash);
    assert_int_equal(r->created_ms, 5000);
    assert_int_equal(r->attempt, 0);
    /* One active run per scan: BUSY with its id, from check and from apply. */
    cmd(&c, CLUSTER_CMD_RUN_CREATE);
    strcpy(c.u.run_create.scan, "s1");
    assert_int_equal(cluster_fsm_check(f, &c, &v), SHIR_E_BUSY);
    assert_int_equal(v, id);
    res = ap(f, &c);
    assert_int_equal(res->status, SHIR_E_BUSY);
    assert_int_equal(res->value, id);
    /* Assigned, started, reported, succeeded. */
    assert_int_equal(assign(f, id, N_A), 1);
    r = run_of(f, id);
    assert_int_equal(r->state, CLUSTER_RUN_ASSIGNED);
    assert_int_equal(r->attempt, 1);
    assert_int_equal(r->node, N_A);
    assert_int_equal(r->n_attempts, 1);
    assert_int_equal(r->attempts[0].attempt, 1);
    assert_int_equal(r->attempts[0].node, N_A);
    assert_int_equal(cluster_fsm_node_load(f, N_A), 1);
    assert_int_equal(assign(f, id, N_B), 0); /* not queued any more */
    assert_int_equal(start(f, id, 1, 6000), 0);
    assert_int_equal(r->state, CLUSTER_RUN_RUNNING);
    assert_int_equal(r->started_ms, 6000);
    assert_int_equal(r->attempts[0].started_ms, 6000);
    assert_int_equal(start(f, id, 1, 6500), 0); /* a retried start keeps the first stamp */
    assert_int_equal(r->attempts[0].started_ms, 6000);
    assert_int_equal(report(f, id, 1, false, 0, 10), 0);
    assert_false(r->has_checkpoint);
    assert_int_equal(r->files, 10);
    assert_int_equal(report(f, id, 1, true, 0, 20), 0);
    assert_true(r->has_checkpoint);
    assert_int_equal(r->cp_part, 0);
    assert_int_equal(r->cp_files, 20);
    assert_int_equal(r->cp_assets, 10); /* the counters at the checkpoint, for a resume */
    assert_int_equal(r->cp_bytes, 20000);
    assert_int_equal(r->cp_key_len, 6); /* and its last entry's key */
    assert_memory_equal(r->cp_key, "key-20", 6);
    /* A part that does not grow: STALE, and its progress is ignored too. */
    assert_int_equal(report(f, id, 1, true, 0, 30), SHIR_E_STALE);
    assert_int_equal(r->files, 20);
    assert_memory_equal(r->cp_key, "key-20", 6);
    assert_int_equal(report(f, id, 1, true, 2, 50), 0);
    assert_int_equal(report(f, id, 1, true, 1, 60), SHIR_E_STALE);
    assert_int_equal(r->cp_part, 2);
    assert_memory_equal(r->cp_key, "key-50", 6);
    /* Progress never goes down. */
    assert_int_equal(report(f, id, 1, false, 0, 5), 0);
    assert_int_equal(r->files, 50);
    assert_int_equal(r->cp_assets, 25); /* a report without a part leaves the checkpoint */
    assert_int_equal(r->cp_key_len, 6);
    assert_memory_equal(r->cp_key, "key-50", 6);
    assert_int_equal(r->bytes, 50000);
    res = finish(f, id, 1, CLUSTER_OUTCOME_SUCCEEDED, UINT64_MAX, "");
    assert_int_equal(res->status, 0);
    assert_int_equal(res->value, CLUSTER_RUN_SUCCEEDED);
    assert_int_equal(r->state, CLUSTER_RUN_SUCCEEDED);
    assert_int_equal(r->finished_ms, 9001);
    assert_int_equal(r->cp_key_len, 0); /* nothing resumes an ended run: its key is dropped */
    assert_int_equal(r->cp_files, 50);  /* the rest of the checkpoint stays, for `scan runs` */
    assert_true(r->has_summary);
    assert_int_equal(r->summary.files, 42);
    assert_int_equal(r->attempts[0].outcome, CLUSTER_OUTCOME_SUCCEEDED);
    assert_int_equal(r->node, N_A); /* the last node */
    assert_int_equal(cluster_fsm_node_load(f, N_A), 0);
    /* Ended: a new run may start. */
    assert_int_equal(create_ok(f, "s1"), 2);
    size_t n;
    const struct cluster_run *const *runs = cluster_fsm_runs(f, &n);
    assert_int_equal(n, 2);
    assert_int_equal(runs[0]->id, 1);
    assert_int_equal(runs[1]->id, 2);
    cluster_fsm_free(f);
}

/* A definition without a part size gives its runs the level's default, fixed in the run: a later
 * change of the definition does not move a run's part boundaries. */
static void test_default_part_size(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    struct cluster_cmd c;
    for (uint8_t level = 1; level <= 3; level++) {
        char name[8];
        snprintf(name, sizeof name, "d%u", (unsigned)level);
        t_cmd_scan_put(&c, next_rid++, name, true);
        c.u.scan_put.def.part_size = 0;
        c.u.scan_put.def.level = level;
        assert_int_equal(ap(f, &c)->status, 0);
        uint64_t id = create_ok(f, name);
        assert_int_equal(run_of(f, id)->part_size,
                         level == 1 ? CLUSTER_RUN_PART_SIZE_L1 : CLUSTER_RUN_PART_SIZE_L23);
        t_cmd_scan_put(&c, next_rid++, name, false);
        c.u.scan_put.def.part_size = 7;
        c.u.scan_put.def.level = level;
        assert_int_equal(ap(f, &c)->status, 0);
        assert_int_equal(run_of(f, id)->part_size,
                         level == 1 ? CLUSTER_RUN_PART_SIZE_L1 : CLUSTER_RUN_PART_SIZE_L23);
    }
    cluster_fsm_free(f);
}

/* Reports of another token (attempt, run, or a run that is not on a node) are STALE and change
 * nothing. */
static void test_stale_tokens(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    uint64_t id = create_ok(f, "s1");
    struct shir_buf before;
    runs_bytes(f, &before);
    /* Queued: no token is current. */
    assert_int_equal(start(f, id, 0, 1), SHIR_E_STALE);
    assert_int_equal(report(f, id, 0, true, 1, 1), SHIR_E_STALE);
    assert_int_equal(finish(f, id, 0, CLUSTER_OUTCOME_FAILED, UINT64_MAX, "x")->status,
                     SHIR_E_STALE);
    assert_runs_same(f, &before);
    shir_buf_free(&before);
    assert_int_equal(assign(f, id, N_A), 1);
    assert_int_equal(start(f, id, 1, 100), 0);
    runs_bytes(f, &before);
    assert_int_equal(start(f, id, 2, 1), SHIR_E_STALE);
    assert_int_equal(report(f, id, 2, true, 1, 1), SHIR_E_STALE);
    assert_int_equal(report(f, id + 1, 1, true, 1, 1), SHIR_E_STALE);
    assert_int_equal(finish(f, id, 2, CLUSTER_OUTCOME_SUCCEEDED, UINT64_MAX, "")->status,
                     SHIR_E_STALE);
    assert_runs_same(f, &before);
    shir_buf_free(&before);
    /* The node is lost: the run is queued again with the same attempt number, and the old
     * worker's late reports are stale although their attempt matches. */
    assert_int_equal(finish(f, id, 1, CLUSTER_OUTCOME_NODE_LOST, UINT64_MAX, "")->value,
                     CLUSTER_RUN_QUEUED);
    runs_bytes(f, &before);
    assert_int_equal(report(f, id, 1, true, 5, 5), SHIR_E_STALE);
    assert_int_equal(finish(f, id, 1, CLUSTER_OUTCOME_SUCCEEDED, UINT64_MAX, "")->status,
                     SHIR_E_STALE);
    assert_runs_same(f, &before);
    shir_buf_free(&before);
    /* The next attempt's token works, the first one's does not. */
    assert_int_equal(assign(f, id, N_B), 1);
    assert_int_equal(run_of(f, id)->attempt, 2);
    assert_int_equal(start(f, id, 1, 1), SHIR_E_STALE);
    assert_int_equal(start(f, id, 2, 200), 0);
    assert_int_equal(run_of(f, id)->started_ms, 100); /* the first start of any attempt */
    assert_true(run_of(f, id)->attempts[1].resumed);
    assert_int_equal(run_of(f, id)->attempts[1].resumed_files, 200);
    cluster_fsm_free(f);
}

/* Failures re-queue until max_attempts, then the run fails with the error; node losses do not
 * count. */
static void test_failures_then_failed(void **state)
{
    (void)state;
    struct cluster_fsm *f = world(); /* s1: max_attempts 3 */
    uint64_t id = create_ok(f, "s1");
    const struct cluster_run *r;
    /* A node loss first (after a checkpoint): queued again, no failure counted, and the
     * checkpoint with its key kept for the next attempt to resume from. */
    assert_int_equal(assign(f, id, N_A), 1);
    assert_int_equal(report(f, id, 1, true, 0, 7), 0);
    assert_int_equal(finish(f, id, 1, CLUSTER_OUTCOME_NODE_LOST, UINT64_MAX, "")->value,
                     CLUSTER_RUN_QUEUED);
    r = run_of(f, id);
    assert_int_equal(r->failures, 0);
    assert_int_equal(r->node, 0);
    assert_true(r->has_checkpoint);
    assert_int_equal(r->cp_key_len, 5);
    assert_memory_equal(r->cp_key, "key-7", 5);
    const enum cluster_run_outcome fails[] = {CLUSTER_OUTCOME_FAILED, CLUSTER_OUTCOME_CRASHED,
                                              CLUSTER_OUTCOME_UNREACHABLE};
    for (uint32_t k = 0; k < 3; k++) {
        uint32_t attempt = k + 2;
        assert_int_equal(assign(f, id, k % 2 ? N_A : N_B), 1);
        assert_int_equal(start(f, id, attempt, 100 * attempt), 0);
        const struct cluster_fsm_result *res =
            finish(f, id, attempt, fails[k], UINT64_MAX, "source unreadable: EACCES");
        assert_int_equal(res->status, 0);
        assert_int_equal(res->value, k < 2 ? CLUSTER_RUN_QUEUED : CLUSTER_RUN_FAILED);
        assert_int_equal(r->failures, k + 1);
        assert_int_equal(r->attempts[attempt - 1].outcome, fails[k]);
        assert_int_equal(r->attempts[attempt - 1].finished_ms, 9000 + attempt);
    }
    assert_int_equal(r->state, CLUSTER_RUN_FAILED);
    assert_string_equal(r->error, "source unreadable: EACCES");
    assert_int_equal(r->n_attempts, 4);
    assert_int_equal(r->finished_ms, 9004);
    assert_int_equal(r->started_ms, 200);
    /* A timeout is final whatever is left; without a message the FSM writes one. */
    uint64_t id2 = create_ok(f, "s1");
    assert_int_equal(assign(f, id2, N_A), 1);
    assert_int_equal(finish(f, id2, 1, CLUSTER_OUTCOME_TIMEOUT, UINT64_MAX, "")->value,
                     CLUSTER_RUN_FAILED);
    assert_string_equal(run_of(f, id2)->error, "the run's timeout passed");
    cluster_fsm_free(f);
}

/* No run ever has more than CLUSTER_RUN_ATTEMPTS_CAP attempts: node losses (which do not count
 * as failures) end it failed at the cap, and RUN_REQUEUE does the same. */
static void test_attempts_cap(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    struct cluster_cmd c;
    uint64_t id = create_ok(f, "s1");
    for (uint32_t a = 1; a <= CLUSTER_RUN_ATTEMPTS_CAP; a++) {
        assert_int_equal(assign(f, id, a % 2 ? N_A : N_B), 1);
        assert_int_equal(start(f, id, a, a), 0);
        cmd(&c, CLUSTER_CMD_RUN_REQUEUE);
        c.u.run_requeue.node_id = a % 2 ? N_A : N_B;
        c.u.run_requeue.now_ms = 100 + a;
        uint64_t v = 99;
        assert_int_equal(cluster_fsm_check(f, &c, &v), 0);
        assert_int_equal(v, a < CLUSTER_RUN_ATTEMPTS_CAP ? 1 : 0);
        const struct cluster_fsm_result *res = ap(f, &c);
        assert_int_equal(res->status, 0);
        assert_int_equal(res->value, v);
        assert_true(run_of(f, id)->n_attempts <= CLUSTER_RUN_ATTEMPTS_CAP);
        assert_int_equal(run_of(f, id)->attempts[a - 1].outcome, CLUSTER_OUTCOME_NODE_LOST);
    }
    const struct cluster_run *r = run_of(f, id);
    assert_int_equal(r->state, CLUSTER_RUN_FAILED);
    assert_int_equal(r->failures, 0);
    assert_int_equal(r->n_attempts, CLUSTER_RUN_ATTEMPTS_CAP);
    assert_string_equal(r->error, "10 attempts made, the last node-lost");
    assert_int_equal(assign(f, id, N_A), 0);
    /* A requeue of a node with nothing on it, or with runs of several scans. */
    put_scan(f, "s2", 3);
    put_scan(f, "s3", 3);
    uint64_t r2 = create_ok(f, "s2"), r3 = create_ok(f, "s3");
    assert_int_equal(assign(f, r2, N_B), 1);
    assert_int_equal(assign(f, r3, N_B), 1);
    assert_int_equal(start(f, r3, 1, 1), 0);
    cmd(&c, CLUSTER_CMD_RUN_REQUEUE);
    c.u.run_requeue.node_id = N_A;
    assert_int_equal(ap(f, &c)->value, 0);
    cmd(&c, CLUSTER_CMD_RUN_REQUEUE);
    c.u.run_requeue.node_id = N_B;
    assert_int_equal(ap(f, &c)->value, 2);
    assert_int_equal(run_of(f, r2)->state, CLUSTER_RUN_QUEUED);
    assert_int_equal(run_of(f, r3)->state, CLUSTER_RUN_QUEUED);
    assert_int_equal(cluster_fsm_node_load(f, N_B), 0);
    cluster_fsm_free(f);
}

/* The crash bookkeeping names a file by its id, never by its walk index: after a resume by key
 * the same index can be another file, and the same file another index. A crash whose entry
 * carries no id (an older agent's, or no file known) remembers nothing. Each row is one
 * attempt's CRASHED finish: (index, id: 0 none, else file_id(id)) and what the run then holds. */
static void test_crash_by_id(void **state)
{
    (void)state;
    static const struct {
        uint64_t index, id;
        uint64_t want_crash; /* 0: none */
        uint8_t want_skips;
    } rows[] = {
        {4, 100, 100, 0}, /* file 100 at index 4 */
        {4, 200, 200, 0}, /* index 4 again, another file (files added before the key): no skip */
        {9, 200, 0, 1},   /* file 200 again at another index: its second crash, skipped */
        {6, 0, 0, 1},     /* index without id (an older agent): not remembered */
        {6, 0, 0, 1},     /* ... nor a second time: index 6 is not skipped */
        {7, 300, 300, 1}, {UINT64_MAX, 0, 300, 1}, /* a crash in no known file changes nothing */
        {8, 300, 0, 2},
    };
    struct cluster_fsm *f = world();
    put_scan(f, "crashy", CLUSTER_RUN_ATTEMPTS_CAP);
    uint64_t run = create_ok(f, "crashy");
    const struct cluster_run *r = run_of(f, run);
    uint8_t id[CLUSTER_RUN_FILE_ID_LEN], want[CLUSTER_RUN_FILE_ID_LEN];
    for (uint32_t a = 1; a <= sizeof rows / sizeof rows[0]; a++) {
        assert_int_equal(assign(f, run, N_A), 1);
        file_id(rows[a - 1].id, id);
        assert_int_equal(finish_id(f, run, a, CLUSTER_OUTCOME_CRASHED, rows[a - 1].index,
                                   rows[a - 1].id ? id : NULL, "")
                             ->value,
                         CLUSTER_RUN_QUEUED);
        assert_int_equal(r->has_crash, rows[a - 1].want_crash != 0);
        file_id(rows[a - 1].want_crash, want);
        if (r->has_crash)
            assert_memory_equal(r->crash_id, want, sizeof want);
        assert_int_equal(r->n_skip, rows[a - 1].want_skips);
    }
    file_id(200, want);
    assert_memory_equal(r->skip[0], want, sizeof want);
    file_id(300, want);
    assert_memory_equal(r->skip[1], want, sizeof want);
    /* An id of another length is refused by the shape check. */
    struct cluster_cmd c;
    cmd(&c, CLUSTER_CMD_RUN_FINISH);
    c.u.run_finish.run = run;
    c.u.run_finish.attempt = r->attempt;
    c.u.run_finish.outcome = CLUSTER_OUTCOME_CRASHED;
    c.u.run_finish.crash_id_len = 31;
    struct shir_buf b;
    shir_buf_init(&b, 1 << 16);
    assert_int_equal(cluster_cmd_encode(&c, &b), SHIR_E_INVAL);
    shir_buf_free(&b);
    cluster_fsm_free(f);
}

/* A crash remembers the file; a second crash on the same file puts it on the skip list (once,
 * at most CLUSTER_RUN_SKIP_CAP). */
static void test_crash_skip_list(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    put_scan(f, "crashy", CLUSTER_RUN_ATTEMPTS_CAP);
    uint64_t id = create_ok(f, "crashy");
    const uint64_t crashes[] = {5, 5, 7, 9, 9, UINT64_MAX, 9, 9};
    const uint64_t want_file[] = {5, UINT64_MAX, 7, 9, UINT64_MAX, UINT64_MAX, 9, UINT64_MAX};
    const uint8_t want_skips[] = {0, 1, 1, 1, 2, 2, 2, 2};
    const struct cluster_run *r = run_of(f, id);
    uint8_t want[CLUSTER_RUN_FILE_ID_LEN];
    for (uint32_t a = 1; a <= 8; a++) {
        assert_int_equal(assign(f, id, N_A), 1);
        assert_int_equal(finish(f, id, a, CLUSTER_OUTCOME_CRASHED, crashes[a - 1], "")->value,
                         CLUSTER_RUN_QUEUED);
        assert_int_equal(r->has_crash, want_file[a - 1] != UINT64_MAX);
        file_id(want_file[a - 1], want);
        if (r->has_crash)
            assert_memory_equal(r->crash_id, want, sizeof want);
        assert_int_equal(r->n_skip, want_skips[a - 1]);
    }
    file_id(5, want);
    assert_memory_equal(r->skip[0], want, sizeof want);
    file_id(9, want);
    assert_memory_equal(r->skip[1], want, sizeof want);
    /* A failure that is not a crash leaves the crash bookkeeping alone. */
    assert_int_equal(assign(f, id, N_A), 1);
    assert_int_equal(finish(f, id, 9, CLUSTER_OUTCOME_FAILED, 3, "")->value, CLUSTER_RUN_QUEUED);
    assert_false(r->has_crash);
    assert_int_equal(r->failures, 9);
    assert_int_equal(assign(f, id, N_A), 1);
    assert_int_equal(finish(f, id, 10, CLUSTER_OUTCOME_CRASHED, 11, "")->value,
                     CLUSTER_RUN_FAILED);
    assert_string_equal(r->error, "10 attempts made, the last crashed");
    cluster_fsm_free(f);
}

static void test_cancel(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    put_scan(f, "s2", 3);
    uint64_t queued = create_ok(f, "s1"), running = create_ok(f, "s2");
    assert_int_equal(cancel(f, 99), SHIR_E_NOTFOUND);
    assert_int_equal(cancel(f, queued), 0);
    const struct cluster_run *r = run_of(f, queued);
    assert_int_equal(r->state, CLUSTER_RUN_CANCELLED);
    assert_int_equal(r->finished_ms, 7777);
    assert_int_equal(r->n_attempts, 0);
    assert_int_equal(cancel(f, queued), SHIR_E_STALE);
    assert_int_equal(assign(f, running, N_A), 1);
    assert_int_equal(start(f, running, 1, 1), 0);
    assert_int_equal(cancel(f, running), 0);
    r = run_of(f, running);
    assert_int_equal(r->state, CLUSTER_RUN_CANCELLED);
    assert_int_equal(r->attempts[0].outcome, CLUSTER_OUTCOME_CANCELLED);
    assert_int_equal(r->attempts[0].finished_ms, 7777);
    assert_int_equal(cluster_fsm_node_load(f, N_A), 0);
    /* The worker's late finish is stale. */
    assert_int_equal(finish(f, running, 1, CLUSTER_OUTCOME_SUCCEEDED, UINT64_MAX, "")->status,
                     SHIR_E_STALE);
    /* A worker may report its own cancellation: as cancel. */
    uint64_t third = create_ok(f, "s1");
    assert_int_equal(assign(f, third, N_B), 1);
    assert_int_equal(finish(f, third, 1, CLUSTER_OUTCOME_CANCELLED, UINT64_MAX, "")->value,
                     CLUSTER_RUN_CANCELLED);
    cluster_fsm_free(f);
}

/* ---- history ---------------------------------------------------------------------------------- */


static void test_history_trim(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    put_scan(f, "s2", 3);
    assert_int_equal(set_history(f, 3), 0);
    uint64_t keep_other = create_ok(f, "s2");
    assert_int_equal(cancel(f, keep_other), 0);
    uint64_t ids[6];
    for (int i = 0; i < 6; i++) {
        ids[i] = create_ok(f, "s1");
        assert_int_equal(assign(f, ids[i], N_A), 1);
        (void)finish(f, ids[i], 1, i % 2 ? CLUSTER_OUTCOME_SUCCEEDED : CLUSTER_OUTCOME_TIMEOUT,
                     UINT64_MAX, "");
    }
    /* The three newest finished runs of s1 stay, and s2's. */
    size_t n;
    const struct cluster_run *const *runs = cluster_fsm_runs(f, &n);
    assert_int_equal(n, 4);
    assert_int_equal(runs[0]->id, keep_other);
    for (int i = 0; i < 3; i++)
        assert_int_equal(runs[1 + i]->id, ids[3 + i]);
    /* Lowering the history drops nothing until the scan's next create or end. */
    assert_int_equal(set_history(f, 1), 0);
    (void)cluster_fsm_runs(f, &n);
    assert_int_equal(n, 4);
    uint64_t next = create_ok(f, "s1");
    runs = cluster_fsm_runs(f, &n);
    assert_int_equal(n, 3);
    assert_int_equal(runs[1]->id, ids[5]);
    assert_int_equal(runs[2]->id, next);
    /* Active runs are never dropped. */
    assert_int_equal(run_of(f, next)->state, CLUSTER_RUN_QUEUED);
    cluster_fsm_free(f);
}

/* The table full of finished runs within every scan's history: FULL (check and apply agree,
 * nothing changes); a lower history makes room at the next create, from every scan. */
static void test_runs_table_full(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    char name[8];
    assert_int_equal(set_history(f, CLUSTER_RUN_HISTORY_MAX), 0);
    /* 4 scans x 500 finished runs + 47 on a fifth + 1 active = 2048. */
    for (unsigned s = 0; s < 5; s++) {
        snprintf(name, sizeof name, "h%u", s);
        put_scan(f, name, 3);
        unsigned count = s < 4 ? CLUSTER_RUN_HISTORY_MAX : 48;
        for (unsigned i = 0; i < count; i++) {
            uint64_t id = create_ok(f, name);
            if (s < 4 || i + 1 < count)
                assert_int_equal(cancel(f, id), 0);
        }
    }
    size_t n;
    (void)cluster_fsm_runs(f, &n);
    assert_int_equal(n, CLUSTER_FSM_RUNS_CAP);
    put_scan(f, "new", 3);
    struct cluster_cmd c;
    cmd(&c, CLUSTER_CMD_RUN_CREATE);
    strcpy(c.u.run_create.scan, "new");
    assert_int_equal(cluster_fsm_check(f, &c, NULL), SHIR_E_FULL);
    struct shir_buf before;
    runs_bytes(f, &before);
    assert_int_equal(ap(f, &c)->status, SHIR_E_FULL);
    assert_runs_same(f, &before);
    shir_buf_free(&before);
    /* 499 kept per scan: h0..h3 give one each. */
    assert_int_equal(set_history(f, CLUSTER_RUN_HISTORY_MAX - 1), 0);
    cmd(&c, CLUSTER_CMD_RUN_CREATE);
    strcpy(c.u.run_create.scan, "new");
    assert_int_equal(cluster_fsm_check(f, &c, NULL), 0);
    (void)cluster_fsm_runs(f, &n);
    assert_int_equal(n, CLUSTER_FSM_RUNS_CAP); /* check changed nothing */
    assert_int_equal(ap(f, &c)->status, 0);
    const struct cluster_run *const *runs = cluster_fsm_runs(f, &n);
    assert_int_equal(n, CLUSTER_FSM_RUNS_CAP - 4 + 1);
    assert_int_equal(runs[0]->id, 2); /* h0's oldest (id 1) went */
    for (size_t i = 1; i < n; i++)
        assert_true(runs[i - 1]->id < runs[i]->id);
    cluster_fsm_free(f);
}

/* ---- idempotency ------------------------------------------------------------------------------ */

/* A RUN_CREATE, 5,000 fenced entries, then the same RUN_CREATE again: the first result, no
 * second run (fenced entries never push an operator's result out of the ring). */
static void test_create_replay_after_fenced_flood(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    struct cluster_cmd c0;
    t_cmd_simple(&c0, 424242, CLUSTER_CMD_RUN_CREATE);
    strcpy(c0.u.run_create.scan, "s1");
    const struct cluster_fsm_result *res = ap(f, &c0);
    assert_int_equal(res->status, 0);
    uint64_t id = res->value;
    assert_int_equal(assign(f, id, N_A), 1);
    assert_int_equal(start(f, id, 1, 1), 0);
    for (uint32_t i = 0; i < 5000; i++) {
        if (i % 2)
            assert_int_equal(report(f, id, 1, true, i, i), 0);
        else
            assert_int_equal(assign(f, id, N_B), 0); /* not queued: skipped */
    }
    assert_int_equal(finish(f, id, 1, CLUSTER_OUTCOME_SUCCEEDED, UINT64_MAX, "")->status, 0);
    res = ap(f, &c0);
    assert_int_equal(res->status, 0);
    assert_int_equal(res->value, id);
    size_t n;
    (void)cluster_fsm_runs(f, &n);
    assert_int_equal(n, 1);
    assert_int_equal(run_of(f, id)->cp_part, 4999);
    cluster_fsm_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_run_lifecycle),
        cmocka_unit_test(test_default_part_size),
        cmocka_unit_test(test_stale_tokens),
        cmocka_unit_test(test_failures_then_failed),
        cmocka_unit_test(test_attempts_cap),
        cmocka_unit_test(test_crash_skip_list), cmocka_unit_test(test_crash_by_id),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_history_trim),
        cmocka_unit_test(test_runs_table_full),
        cmocka_unit_test(test_create_replay_after_fenced_flood),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
