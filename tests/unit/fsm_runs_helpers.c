/* The shared part of the dispatcher-table FSM tests (fsm_runs_helpers.h): one world, command
 * shortcuts that encode and apply, and the runs as bytes. */
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

uint32_t next_rid = 1000;

const struct cluster_fsm_result *ap(struct cluster_fsm *f, const struct cluster_cmd *c)
{
    struct shir_buf b;
    shir_buf_init(&b, 1 << 16);
    assert_int_equal(cluster_cmd_encode(c, &b), 0);
    const struct cluster_fsm_result *r = cluster_fsm_apply(f, b.data, b.len);
    shir_buf_free(&b);
    return r;
}

void cmd(struct cluster_cmd *c, enum cluster_cmd_type type)
{
    t_cmd_simple(c, next_rid++, type);
}

void put_scan(struct cluster_fsm *f, const char *name, uint32_t max_attempts)
{
    struct cluster_cmd c;
    t_cmd_scan_put(&c, next_rid++, name, true);
    c.u.scan_put.def.max_attempts = max_attempts;
    assert_int_equal(ap(f, &c)->status, 0);
}

struct cluster_fsm *world(void)
{
    struct cluster_fsm *f = cluster_fsm_new();
    struct cluster_cmd c;
    assert_non_null(f);
    t_cmd_init(&c, next_rid++);
    assert_int_equal(ap(f, &c)->status, 0);
    t_cmd_node_add(&c, next_rid++, "a", CLUSTER_ROLE_VOTER, 0, 0);
    assert_int_equal(ap(f, &c)->value, N_A);
    t_cmd_node_add(&c, next_rid++, "b", CLUSTER_ROLE_SPARE, 1, 1);
    assert_int_equal(ap(f, &c)->value, N_B);
    t_cmd_node_add(&c, next_rid++, "w", CLUSTER_ROLE_WITNESS, 1, 1);
    assert_int_equal(ap(f, &c)->value, N_W);
    t_cmd_node_add(&c, next_rid++, "p", CLUSTER_ROLE_SPARE, 1, 1);
    assert_int_equal(ap(f, &c)->value, N_P);
    const uint64_t ids[] = {N_A, N_B, N_W};
    const enum cluster_role roles[] = {CLUSTER_ROLE_VOTER, CLUSTER_ROLE_VOTER,
                                       CLUSTER_ROLE_WITNESS};
    for (int i = 0; i < 3; i++) {
        cmd(&c, CLUSTER_CMD_NODE_SET_ROLE);
        c.u.node_role.node_id = ids[i];
        c.u.node_role.role = roles[i];
        assert_int_equal(ap(f, &c)->status, 0);
    }
    put_scan(f, "s1", 3);
    return f;
}

const struct cluster_fsm_result *create(struct cluster_fsm *f, const char *scan)
{
    struct cluster_cmd c;
    cmd(&c, CLUSTER_CMD_RUN_CREATE);
    snprintf(c.u.run_create.scan, sizeof c.u.run_create.scan, "%s", scan);
    c.u.run_create.now_ms = 5000;
    return ap(f, &c);
}

uint64_t create_ok(struct cluster_fsm *f, const char *scan)
{
    const struct cluster_fsm_result *r = create(f, scan);
    assert_int_equal(r->status, 0);
    return r->value;
}

uint64_t assign(struct cluster_fsm *f, uint64_t run, uint64_t node)
{
    struct cluster_cmd c;
    cmd(&c, CLUSTER_CMD_RUN_ASSIGN);
    c.u.run_assign.n = 1;
    c.u.run_assign.items[0].run = run;
    c.u.run_assign.items[0].node = node;
    const struct cluster_fsm_result *r = ap(f, &c);
    assert_int_equal(r->status, 0);
    return r->value;
}

int start(struct cluster_fsm *f, uint64_t run, uint32_t attempt, uint64_t now)
{
    struct cluster_cmd c;
    cmd(&c, CLUSTER_CMD_RUN_START);
    c.u.run_start.run = run;
    c.u.run_start.attempt = attempt;
    c.u.run_start.now_ms = now;
    c.u.run_start.resumed = attempt > 1;
    c.u.run_start.resumed_files = attempt * 100u;
    return ap(f, &c)->status;
}

int report(struct cluster_fsm *f, uint64_t run, uint32_t attempt, bool has_part, uint32_t part,
           uint64_t files)
{
    struct cluster_cmd c;
    cmd(&c, CLUSTER_CMD_RUN_REPORT);
    c.u.run_report.run = run;
    c.u.run_report.attempt = attempt;
    c.u.run_report.has_part = has_part;
    c.u.run_report.part = part;
    c.u.run_report.files = files;
    c.u.run_report.assets = files / 2;
    c.u.run_report.bytes = files * 1000;
    if (has_part) /* a checkpoint names its last entry: "key-<files>" */
        c.u.run_report.key_len =
            (uint16_t)snprintf((char *)c.u.run_report.key, sizeof c.u.run_report.key, "key-%llu",
                               (unsigned long long)files);
    return ap(f, &c)->status;
}

void file_id(uint64_t n, uint8_t out[CLUSTER_RUN_FILE_ID_LEN])
{
    memset(out, 0xa5, CLUSTER_RUN_FILE_ID_LEN);
    memcpy(out, &n, sizeof n);
}

const struct cluster_fsm_result *finish(struct cluster_fsm *f, uint64_t run, uint32_t attempt,
                                        enum cluster_run_outcome o, uint64_t crash,
                                        const char *error)
{
    uint8_t id[CLUSTER_RUN_FILE_ID_LEN];
    file_id(crash, id);
    return finish_id(f, run, attempt, o, crash, crash == UINT64_MAX ? NULL : id, error);
}

const struct cluster_fsm_result *finish_id(struct cluster_fsm *f, uint64_t run, uint32_t attempt,
                                           enum cluster_run_outcome o, uint64_t crash,
                                           const uint8_t *id, const char *error)
{
    struct cluster_cmd c;
    cmd(&c, CLUSTER_CMD_RUN_FINISH);
    c.u.run_finish.run = run;
    c.u.run_finish.attempt = attempt;
    c.u.run_finish.outcome = o;
    c.u.run_finish.now_ms = 9000 + attempt;
    c.u.run_finish.crash_index = crash;
    if (id) {
        c.u.run_finish.crash_id_len = CLUSTER_RUN_FILE_ID_LEN;
        memcpy(c.u.run_finish.crash_id, id, CLUSTER_RUN_FILE_ID_LEN);
    }
    if (o == CLUSTER_OUTCOME_SUCCEEDED) {
        c.u.run_finish.has_summary = true;
        c.u.run_finish.summary.files = 42;
        c.u.run_finish.summary.assets = 40;
    }
    snprintf(c.u.run_finish.error, sizeof c.u.run_finish.error, "%s", error);
    return ap(f, &c);
}

int cancel(struct cluster_fsm *f, uint64_t run)
{
    struct cluster_cmd c;
    cmd(&c, CLUSTER_CMD_RUN_CANCEL);
    c.u.run_cancel.run = run;
    c.u.run_cancel.now_ms = 7777;
    return ap(f, &c)->status;
}

const struct cluster_run *run_of(const struct cluster_fsm *f, uint64_t id)
{
    const struct cluster_run *r = cluster_fsm_run(f, id);
    assert_non_null(r);
    return r;
}

/* The runs as bytes (each struct), to show that a refused or stale command changed none. */
void runs_bytes(const struct cluster_fsm *f, struct shir_buf *out)
{
    size_t n;
    const struct cluster_run *const *runs = cluster_fsm_runs(f, &n);
    shir_buf_init(out, 1 << 24);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(shir_buf_append(out, runs[i], sizeof *runs[i]), 0);
}

void assert_runs_same(const struct cluster_fsm *f, const struct shir_buf *before)
{
    struct shir_buf now;
    runs_bytes(f, &now);
    assert_int_equal(now.len, before->len);
    assert_memory_equal(now.data, before->data, now.len);
    shir_buf_free(&now);
}

int set_capacity(struct cluster_fsm *f, uint64_t node, uint32_t cap, bool is_auto)
{
    struct cluster_cmd c;
    cmd(&c, CLUSTER_CMD_NODE_SET_CAPACITY);
    c.u.node_capacity.node_id = node;
    c.u.node_capacity.capacity = cap;
    c.u.node_capacity.is_auto = is_auto;
    return ap(f, &c)->status;
}

int set_history(struct cluster_fsm *f, uint32_t h)
{
    struct cluster_cmd c;
    cmd(&c, CLUSTER_CMD_SETTINGS_SET);
    c.u.settings.run_history = h;
    return ap(f, &c)->status;
}
