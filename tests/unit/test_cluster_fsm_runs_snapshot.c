/* Unit tests over the whole of the dispatcher's replicated state (scans, runs, capacity,
 * settings) at once, on a history with runs in every state: snapshots (byte-exact round trip,
 * invariants a command could not break); check agrees with apply and changes nothing; no
 * allocation in apply; and the attempts commands' wire bytes, frozen. Shared helpers in
 * fsm_runs_helpers.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc_count.h"
#include "cluster/fsm.h"
#include "cluster_fsm_helpers.h"
#include "common/common.h"
#include "fsm_runs_helpers.h"

/* ---- snapshots -------------------------------------------------------------------------------- */

/* A state with runs in every state, checkpoints, skip lists, summaries and errors. */
static void rich_history(struct cluster_fsm *f)
{
    put_scan(f, "crashy", CLUSTER_RUN_ATTEMPTS_CAP);
    put_scan(f, "s2", 3);
    put_scan(f, "s3", 3);
    assert_int_equal(set_capacity(f, N_B, 5, true), 0);
    uint64_t a = create_ok(f, "s1");
    assert_int_equal(assign(f, a, N_A), 1);
    assert_int_equal(start(f, a, 1, 10), 0);
    assert_int_equal(report(f, a, 1, true, 3, 300), 0);
    (void)finish(f, a, 1, CLUSTER_OUTCOME_SUCCEEDED, UINT64_MAX, "");
    uint64_t b = create_ok(f, "crashy");
    for (uint32_t k = 1; k <= 3; k++) {
        assert_int_equal(assign(f, b, N_B), 1);
        (void)finish(f, b, k, CLUSTER_OUTCOME_CRASHED, 77, "signal 11");
    }
    assert_int_equal(assign(f, b, N_A), 1);
    assert_int_equal(start(f, b, 4, 50), 0);
    assert_int_equal(report(f, b, 4, true, 0, 5), 0);
    uint64_t c = create_ok(f, "s2");
    assert_int_equal(assign(f, c, N_B), 1);
    (void)finish(f, c, 1, CLUSTER_OUTCOME_TIMEOUT, UINT64_MAX, "too slow");
    (void)create_ok(f, "s2");
    uint64_t d = create_ok(f, "s3");
    assert_int_equal(cancel(f, d), 0);
}

static void test_snapshot_roundtrip(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    rich_history(f);
    struct shir_buf s1, s2;
    t_snapshot_of(f, &s1);
    t_snapshot_of(f, &s2);
    assert_int_equal(s1.len, s2.len); /* deterministic */
    assert_memory_equal(s1.data, s2.data, s1.len);
    struct cluster_fsm *g = cluster_fsm_new();
    assert_int_equal(cluster_fsm_restore(g, s1.data, s1.len), 0);
    t_assert_same_state(f, g);
    /* And the restored replica goes on exactly like the original. */
    struct cluster_fsm *both[2] = {f, g};
    for (int k = 0; k < 2; k++) {
        uint32_t rid = next_rid;
        next_rid = 900000; /* the same request ids on both */
        uint64_t e = create_ok(both[k], "s1");
        assert_int_equal(assign(both[k], e, N_A), 1);
        assert_int_equal(finish(both[k], e, 1, CLUSTER_OUTCOME_FAILED, UINT64_MAX, "x")->value,
                         CLUSTER_RUN_QUEUED);
        next_rid = rid;
    }
    t_assert_same_state(f, g);
    const struct cluster_run *crashy = NULL;
    size_t n;
    const struct cluster_run *const *runs = cluster_fsm_runs(g, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(runs[i]->scan, "crashy") == 0)
            crashy = runs[i];
    assert_non_null(crashy);
    uint8_t id77[CLUSTER_RUN_FILE_ID_LEN];
    file_id(77, id77);
    assert_int_equal(crashy->n_skip, 1);
    assert_memory_equal(crashy->skip[0], id77, sizeof id77);
    assert_true(crashy->has_crash);
    assert_memory_equal(crashy->crash_id, id77, sizeof id77);
    shir_buf_free(&s1);
    shir_buf_free(&s2);
    cluster_fsm_free(g);
    cluster_fsm_free(f);
}

/* Snapshots a command could not have made are refused whole: a run of an undefined scan, two
 * active runs of one scan, ids out of order, a definition of a bad shape. */
static void test_snapshot_invariants(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    put_scan(f, "s2", 3);
    uint64_t a = create_ok(f, "s1");
    uint64_t b = create_ok(f, "s2");
    assert_int_equal(assign(f, b, N_A), 1);
    struct shir_buf snap;
    t_snapshot_of(f, &snap);
    struct cluster_fsm *g = cluster_fsm_new();
    assert_int_equal(cluster_fsm_restore(g, snap.data, snap.len), 0);
    /* Patch the bytes: rename run b's scan "s2" -> "s1" (two active runs of s1); then "s9". */
    const char *runs_sec = NULL;
    for (size_t i = snap.len - 1; i > 3; i--)
        if (memcmp(snap.data + i - 2, "\xa2s2", 3) == 0) {
            runs_sec = (const char *)snap.data + i;
            break;
        }
    assert_non_null(runs_sec);
    char *p = (char *)(uintptr_t)runs_sec;
    *p = '1';
    assert_int_equal(cluster_fsm_restore(g, snap.data, snap.len), SHIR_E_MALFORMED);
    *p = '9';
    assert_int_equal(cluster_fsm_restore(g, snap.data, snap.len), SHIR_E_MALFORMED);
    *p = '2';
    assert_int_equal(cluster_fsm_restore(g, snap.data, snap.len), 0);
    /* A definition's level patched to 9: "...\xa3/srv/share/s1" is followed by the level. */
    const char src[] = "/srv/share/s1";
    uint8_t *q = NULL;
    for (size_t i = 0; i + sizeof src < snap.len; i++)
        if (memcmp(snap.data + i, src, sizeof src - 1) == 0) {
            q = snap.data + i + sizeof src - 1;
            break;
        }
    assert_non_null(q);
    assert_int_equal(*q, 2);
    *q = 9;
    assert_int_equal(cluster_fsm_restore(g, snap.data, snap.len), SHIR_E_MALFORMED);
    *q = 2;
    t_assert_same_state(f, g);
    (void)a;
    shir_buf_free(&snap);
    cluster_fsm_free(g);
    cluster_fsm_free(f);
}

/* ---- check agrees with apply ------------------------------------------------------------------ */

/* For a sequence of the new commands against a state with runs everywhere: cluster_fsm_check
 * changes nothing and answers what apply then answers (status and value). */
static void test_check_agrees_with_apply(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    rich_history(f); /* runs 1 s1 succeeded, 2 crashy running on A, 3 s2 failed, 4 s2 queued,
                      * 5 s3 cancelled; the first command below creates run 6 */
    static struct cluster_cmd seq[24];
    int k = 0;
    cmd(&seq[k], CLUSTER_CMD_RUN_CREATE);
    strcpy(seq[k++].u.run_create.scan, "s1");
    cmd(&seq[k], CLUSTER_CMD_RUN_CREATE);
    strcpy(seq[k++].u.run_create.scan, "crashy"); /* BUSY */
    cmd(&seq[k], CLUSTER_CMD_RUN_ASSIGN);
    seq[k].u.run_assign.n = 3;
    seq[k].u.run_assign.items[0].run = 4;
    seq[k].u.run_assign.items[0].node = N_A;
    seq[k].u.run_assign.items[1].run = 6;
    seq[k].u.run_assign.items[1].node = N_A;
    seq[k].u.run_assign.items[2].run = 6;
    seq[k++].u.run_assign.items[2].node = N_B;
    cmd(&seq[k], CLUSTER_CMD_RUN_START);
    seq[k].u.run_start.run = 6;
    seq[k++].u.run_start.attempt = 1;
    cmd(&seq[k], CLUSTER_CMD_RUN_REPORT);
    seq[k].u.run_report.run = 2;
    seq[k].u.run_report.attempt = 4;
    seq[k++].u.run_report.has_part = true; /* part 0 again: STALE */
    cmd(&seq[k], CLUSTER_CMD_RUN_REPORT);
    seq[k].u.run_report.run = 2;
    seq[k].u.run_report.attempt = 4;
    seq[k].u.run_report.has_part = true;
    seq[k++].u.run_report.part = 1;
    cmd(&seq[k], CLUSTER_CMD_RUN_FINISH);
    seq[k].u.run_finish.run = 2;
    seq[k].u.run_finish.attempt = 4;
    seq[k].u.run_finish.outcome = CLUSTER_OUTCOME_CRASHED;
    seq[k].u.run_finish.crash_index = 77;
    seq[k].u.run_finish.crash_id_len = CLUSTER_RUN_FILE_ID_LEN;
    file_id(77, seq[k++].u.run_finish.crash_id);
    cmd(&seq[k], CLUSTER_CMD_RUN_FINISH);
    seq[k].u.run_finish.run = 2;
    seq[k].u.run_finish.attempt = 4; /* STALE now */
    seq[k++].u.run_finish.outcome = CLUSTER_OUTCOME_SUCCEEDED;
    cmd(&seq[k], CLUSTER_CMD_RUN_REQUEUE);
    seq[k++].u.run_requeue.node_id = N_A;
    cmd(&seq[k], CLUSTER_CMD_RUN_CANCEL);
    seq[k++].u.run_cancel.run = 4;
    cmd(&seq[k], CLUSTER_CMD_RUN_CANCEL);
    seq[k++].u.run_cancel.run = 4; /* STALE */
    cmd(&seq[k], CLUSTER_CMD_SCAN_DELETE);
    strcpy(seq[k++].u.scan_delete.name, "s1"); /* BUSY: run 6 */
    cmd(&seq[k], CLUSTER_CMD_SCAN_DELETE);
    strcpy(seq[k].u.scan_delete.name, "s1");
    seq[k++].u.scan_delete.force = true;
    cmd(&seq[k], CLUSTER_CMD_NODE_SET_CAPACITY);
    seq[k].u.node_capacity.node_id = N_A;
    seq[k++].u.node_capacity.capacity = 1;
    t_cmd_scan_put(&seq[k++], next_rid++, "s2", false);
    t_cmd_scan_put(&seq[k++], next_rid++, "s2", true); /* EXISTS */
    cmd(&seq[k], CLUSTER_CMD_SETTINGS_SET);
    seq[k++].u.settings.run_history = 1;
    cmd(&seq[k], CLUSTER_CMD_RUN_CREATE);
    strcpy(seq[k++].u.run_create.scan, "s2"); /* s2's runs have ended: history trimmed to 1 */
    int refused = 0;
    for (int i = 0; i < k; i++) {
        struct shir_buf before, after;
        uint64_t v = 12345;
        t_snapshot_of(f, &before);
        int st = cluster_fsm_check(f, &seq[i], &v);
        t_snapshot_of(f, &after);
        assert_int_equal(before.len, after.len);
        assert_memory_equal(before.data, after.data, before.len);
        const struct cluster_fsm_result *r = ap(f, &seq[i]);
        if (r->status != st || r->value != v)
            print_error("step %d (type %d): check %d/%llu, apply %d/%llu\n", i,
                        (int)seq[i].type, st, (unsigned long long)v, r->status,
                        (unsigned long long)r->value);
        assert_int_equal(r->status, st);
        assert_int_equal(r->value, v);
        refused += st != 0;
        shir_buf_free(&before);
        shir_buf_free(&after);
    }
    assert_true(refused >= 6); /* the sequence does exercise refusals */
    cluster_fsm_free(f);
}

/* ---- allocation --------------------------------------------------------------------------------- */

/* Every new command applies without allocating. */
static void test_apply_never_allocates(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    rich_history(f); /* warm: every path once */
    static struct cluster_cmd c[12];
    struct shir_buf b[12];
    size_t n;
    const struct cluster_run *const *runs = cluster_fsm_runs(f, &n);
    const uint64_t id = runs[n - 1]->id + 1; /* the next run's */
    int k = 0;
    t_cmd_scan_put(&c[k++], next_rid++, "s4", true);
    cmd(&c[k], CLUSTER_CMD_RUN_CREATE);
    strcpy(c[k++].u.run_create.scan, "s4");
    cmd(&c[k], CLUSTER_CMD_RUN_ASSIGN);
    c[k].u.run_assign.n = 1;
    c[k].u.run_assign.items[0].run = id;
    c[k++].u.run_assign.items[0].node = N_A;
    cmd(&c[k], CLUSTER_CMD_RUN_START);
    c[k].u.run_start.run = id;
    c[k++].u.run_start.attempt = 1;
    cmd(&c[k], CLUSTER_CMD_RUN_REPORT);
    c[k].u.run_report.run = id;
    c[k].u.run_report.attempt = 1;
    c[k++].u.run_report.has_part = true;
    cmd(&c[k], CLUSTER_CMD_RUN_FINISH);
    c[k].u.run_finish.run = id;
    c[k].u.run_finish.attempt = 1;
    c[k++].u.run_finish.outcome = CLUSTER_OUTCOME_SUCCEEDED;
    cmd(&c[k], CLUSTER_CMD_RUN_CREATE);
    strcpy(c[k++].u.run_create.scan, "s4");
    cmd(&c[k], CLUSTER_CMD_RUN_CANCEL);
    c[k++].u.run_cancel.run = id + 1;
    cmd(&c[k], CLUSTER_CMD_RUN_REQUEUE);
    c[k++].u.run_requeue.node_id = N_A;
    cmd(&c[k], CLUSTER_CMD_NODE_SET_CAPACITY);
    c[k].u.node_capacity.node_id = N_A;
    c[k++].u.node_capacity.capacity = 8;
    cmd(&c[k], CLUSTER_CMD_SCAN_DELETE);
    strcpy(c[k].u.scan_delete.name, "s4");
    c[k++].u.scan_delete.force = true;
    cmd(&c[k], CLUSTER_CMD_SETTINGS_SET);
    c[k++].u.settings.run_history = 2;
    for (int i = 0; i < k; i++) {
        shir_buf_init(&b[i], 1 << 16);
        assert_int_equal(cluster_cmd_encode(&c[i], &b[i]), 0);
    }
    int status[12];
    uint64_t value[12];
    unsigned long before = t_allocs;
    for (int i = 0; i < k; i++) {
        const struct cluster_fsm_result *r = cluster_fsm_apply(f, b[i].data, b[i].len);
        status[i] = r->status;
        value[i] = r->value;
    }
    assert_int_equal(t_allocs, before);
    for (int i = 0; i < k; i++)
        assert_int_equal(status[i], 0);
    assert_int_equal(value[1], id);
    assert_int_equal(value[2], 1);
    assert_int_equal(value[5], CLUSTER_RUN_SUCCEEDED);
    assert_int_equal(value[6], id + 1);
    assert_null(cluster_fsm_scan(f, "s4"));
    for (int i = 0; i < k; i++)
        shir_buf_free(&b[i]);
    cluster_fsm_free(f);
}

/* ---- the attempts commands' wire form, frozen ------------------------------------------------- */

/* Each command, with a distinct value in every field, encodes to bytes written out by hand from
 * the msgpack spec, and those bytes decode to the same values: a field moved, dropped or read
 * as another in fsm/attempts.c's codec would break a rolling upgrade, and round trips alone
 * cannot see it (two fields swapped in both directions round-trip fine). */
#define RID 0xc4, 0x10, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,     \
            0xac, 0xad, 0xae, 0xaf

static void frozen(const struct cluster_cmd *c, const uint8_t *want, size_t n,
                   struct cluster_cmd *out)
{
    struct shir_buf b;
    shir_buf_init(&b, 1 << 12);
    assert_int_equal(cluster_cmd_encode(c, &b), 0);
    assert_int_equal(b.len, n);
    assert_memory_equal(b.data, want, n);
    shir_buf_free(&b);
    assert_int_equal(cluster_cmd_decode(want, n, out), 0);
    assert_int_equal(out->type, c->type);
    assert_memory_equal(out->request_id, c->request_id, CLUSTER_REQUEST_ID_LEN);
}

static void test_attempts_wire_frozen(void **state)
{
    (void)state;
    static struct cluster_cmd c, out;
    uint8_t rid[CLUSTER_REQUEST_ID_LEN];
    for (unsigned i = 0; i < sizeof rid; i++)
        rid[i] = (uint8_t)(0xa0 + i);

    memset(&c, 0, sizeof c);
    memcpy(c.request_id, rid, sizeof rid);
    c.type = CLUSTER_CMD_RUN_START;
    c.u.run_start.run = 5;
    c.u.run_start.attempt = 6;
    c.u.run_start.now_ms = 0x1234;
    c.u.run_start.resumed = true;
    c.u.run_start.resumed_files = 8;
    static const uint8_t start_b[] = {0x98, 1, 15, RID, 5, 6, 0xcd, 0x12, 0x34, 0xc3, 8};
    frozen(&c, start_b, sizeof start_b, &out);
    assert_int_equal(out.u.run_start.run, 5);
    assert_int_equal(out.u.run_start.attempt, 6);
    assert_int_equal(out.u.run_start.now_ms, 0x1234);
    assert_true(out.u.run_start.resumed);
    assert_int_equal(out.u.run_start.resumed_files, 8);

    memset(&c.u, 0, sizeof c.u);
    c.type = CLUSTER_CMD_RUN_REPORT;
    c.u.run_report.run = 5;
    c.u.run_report.attempt = 6;
    c.u.run_report.has_part = true;
    c.u.run_report.part = 9;
    c.u.run_report.files = 10;
    c.u.run_report.assets = 11;
    c.u.run_report.bytes = 200;
    c.u.run_report.key_len = 3;
    memcpy(c.u.run_report.key, "a/b", 3);
    static const uint8_t report_b[] = {0x9b, 1,    16,  RID,  5, 6,   0xc3, 9,  10,
                                       11,   0xcc, 200, 0xc4, 3, 'a', '/',  'b'};
    frozen(&c, report_b, sizeof report_b, &out);
    assert_int_equal(out.u.run_report.key_len, 3);
    assert_memory_equal(out.u.run_report.key, "a/b", 3);
    assert_int_equal(out.u.run_report.run, 5);
    assert_int_equal(out.u.run_report.attempt, 6);
    assert_true(out.u.run_report.has_part);
    assert_int_equal(out.u.run_report.part, 9);
    assert_int_equal(out.u.run_report.files, 10);
    assert_int_equal(out.u.run_report.assets, 11);
    assert_int_equal(out.u.run_report.bytes, 200);
    /* An entry written before the key (7 fields) decodes with none: resume by index. */
    static const uint8_t report_v1[] = {0x9a, 1, 16, RID, 5, 6, 0xc3, 9, 10, 11, 0xcc, 200};
    assert_int_equal(cluster_cmd_decode(report_v1, sizeof report_v1, &out), 0);
    assert_int_equal(out.u.run_report.part, 9);
    assert_int_equal(out.u.run_report.bytes, 200);
    assert_int_equal(out.u.run_report.key_len, 0);

    memset(&c.u, 0, sizeof c.u);
    c.type = CLUSTER_CMD_RUN_FINISH;
    c.u.run_finish.run = 5;
    c.u.run_finish.attempt = 6;
    c.u.run_finish.outcome = CLUSTER_OUTCOME_CRASHED;
    c.u.run_finish.now_ms = 0x1234;
    c.u.run_finish.crash_index = 7;
    c.u.run_finish.has_summary = true;
    c.u.run_finish.summary = (struct cluster_run_summary){0x21, 0x22, 0x23, 0x24, 0x25,
                                                          0x26, 0x27, 0x28, 0x29, 0x2a};
    strcpy(c.u.run_finish.error, "ab");
    c.u.run_finish.crash_id_len = CLUSTER_RUN_FILE_ID_LEN;
    for (unsigned i = 0; i < CLUSTER_RUN_FILE_ID_LEN; i++)
        c.u.run_finish.crash_id[i] = (uint8_t)(0x40 + i);
#define ID32                                                                                       \
    0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e,      \
        0x4f, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d,  \
        0x5e, 0x5f
    static uint8_t finish_b[] = {0x9c, 1,    17,   RID,  5,    6,    3,    0xcd, 0x12, 0x34,
                                 7,    0xc3, 0x9a, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
                                 0x28, 0x29, 0x2a, 0xa2, 'a',  'b',  0xc4, 32,   ID32};
#undef ID32
    frozen(&c, finish_b, sizeof finish_b, &out);
    assert_int_equal(out.u.run_finish.crash_id_len, CLUSTER_RUN_FILE_ID_LEN);
    assert_memory_equal(out.u.run_finish.crash_id, c.u.run_finish.crash_id,
                        CLUSTER_RUN_FILE_ID_LEN);
    /* An entry written before the file's id (8 fields) decodes with none. */
    uint8_t finish_v1[sizeof finish_b - 34];
    memcpy(finish_v1, finish_b, sizeof finish_v1);
    finish_v1[0] = 0x9b;
    assert_int_equal(cluster_cmd_decode(finish_v1, sizeof finish_v1, &out), 0);
    assert_int_equal(out.u.run_finish.crash_index, 7);
    assert_int_equal(out.u.run_finish.crash_id_len, 0);
    assert_string_equal(out.u.run_finish.error, "ab");
    assert_int_equal(out.u.run_finish.run, 5);
    assert_int_equal(out.u.run_finish.attempt, 6);
    assert_int_equal(out.u.run_finish.outcome, CLUSTER_OUTCOME_CRASHED);
    assert_int_equal(out.u.run_finish.now_ms, 0x1234);
    assert_int_equal(out.u.run_finish.crash_index, 7);
    assert_true(out.u.run_finish.has_summary);
    assert_memory_equal(&out.u.run_finish.summary, &c.u.run_finish.summary,
                        sizeof c.u.run_finish.summary);
    assert_string_equal(out.u.run_finish.error, "ab");
    /* An outcome past the last one is refused, not stored. */
    finish_b[3 + 18 + 2] = CLUSTER_OUTCOME_COUNT;
    assert_int_equal(cluster_cmd_decode(finish_b, sizeof finish_b, &out), SHIR_E_MALFORMED);
    finish_b[3 + 18 + 2] = 3;

    memset(&c.u, 0, sizeof c.u);
    c.type = CLUSTER_CMD_RUN_CANCEL;
    c.u.run_cancel.run = 5;
    c.u.run_cancel.now_ms = 12;
    static const uint8_t cancel_b[] = {0x95, 1, 18, RID, 5, 12};
    frozen(&c, cancel_b, sizeof cancel_b, &out);
    assert_int_equal(out.u.run_cancel.run, 5);
    assert_int_equal(out.u.run_cancel.now_ms, 12);

    memset(&c.u, 0, sizeof c.u);
    c.type = CLUSTER_CMD_RUN_REQUEUE;
    c.u.run_requeue.node_id = 3;
    c.u.run_requeue.now_ms = 13;
    static const uint8_t requeue_b[] = {0x95, 1, 19, RID, 3, 13};
    frozen(&c, requeue_b, sizeof requeue_b, &out);
    assert_int_equal(out.u.run_requeue.node_id, 3);
    assert_int_equal(out.u.run_requeue.now_ms, 13);
}
#undef RID

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_roundtrip),
        cmocka_unit_test(test_snapshot_invariants),
        cmocka_unit_test(test_check_agrees_with_apply),
        cmocka_unit_test(test_apply_never_allocates),
        cmocka_unit_test(test_attempts_wire_frozen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
