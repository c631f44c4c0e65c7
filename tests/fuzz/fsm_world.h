/* A small dispatcher state for the FSM fuzz target and its seed generator (gen_fsm_seeds.c):
 * a runtime, scan nodes 1 "a" and 2 "b" (registered voters, capacity 2), credential "db1",
 * scans "s1" and "s2" (a PostgreSQL source logging in with db1),
 * run 1 of s1 running on node 1 (attempt 1, checkpoint at part 0, one crash remembered) and run
 * 2 of s2 queued. Commands fuzzed against it reach the paths an empty state refuses early
 * (tokens that match, capacity, history, BUSY). Built through the real encoder and apply. */
#ifndef SHIR_TEST_FSM_WORLD_H
#define SHIR_TEST_FSM_WORLD_H

#include <stdio.h>
#include <string.h>

#include "cluster/fsm.h"
#include "common/common.h"

static inline void fsm_world_cmd(struct cluster_cmd *c, enum cluster_cmd_type type, uint32_t id)
{
    memset(c, 0, sizeof *c);
    c->type = type;
    memset(c->request_id, 0xab, sizeof c->request_id);
    shir_put_be32(c->request_id, id);
}

static inline void fsm_world_scan(struct cluster_scan_def *d, const char *name)
{
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    snprintf(d->source, sizeof d->source, "/srv/%s", name);
    d->level = 2;
    strcpy(d->sink, "jsonl:/var/out");
    strcpy(d->includes, "*.csv\n");
    d->timeout_ms = 60000;
    d->max_attempts = 2;
    d->part_size = 100;
    d->rules_len = 3;
    memcpy(d->rules, "a=b", 3);
}

/* A credential with a blob of the sealed size (the FSM never opens it). */
static inline void fsm_world_credential(struct cluster_credential *x, const char *name)
{
    memset(x, 0, sizeof *x);
    snprintf(x->name, sizeof x->name, "%s", name);
    x->kind = CLUSTER_CREDENTIAL_BASIC;
    strcpy(x->user, "scanner");
    x->sealed_password_len = CLUSTER_SEAL_OVERHEAD + 8;
    memset(x->sealed_password, 0x5a, x->sealed_password_len);
    x->created_ms = 5;
    x->updated_ms = 5;
}

/* Encode and apply; the status (the encoder's error when it refuses). */
static inline int fsm_world_apply(struct cluster_fsm *f, const struct cluster_cmd *c)
{
    struct shir_buf b;
    shir_buf_init(&b, 1 << 16);
    int rc = cluster_cmd_encode(c, &b);
    if (rc == 0)
        rc = cluster_fsm_apply(f, b.data, b.len)->status;
    shir_buf_free(&b);
    return rc;
}

/* 0, or how many steps failed. */
static inline int fsm_world_build(struct cluster_fsm *f)
{
    static struct cluster_cmd c; /* ~22 KiB: not on a fuzzer's stack */
    int bad = 0;
    uint32_t id = 1;
    fsm_world_cmd(&c, CLUSTER_CMD_INIT, id++);
    strcpy(c.u.init.name, "fuzz");
    c.u.init.settings.max_nodes = 4;
    c.u.init.settings.standby_promotion_delay_ms = 30000;
    c.u.init.settings.run_history = 2;
    bad += fsm_world_apply(f, &c) != 0;
    for (int i = 0; i < 2; i++) {
        fsm_world_cmd(&c, CLUSTER_CMD_NODE_ADD, id++);
        struct cluster_node *n = &c.u.node_add.node;
        snprintf(n->name, sizeof n->name, "%c", 'a' + i);
        snprintf(n->address, sizeof n->address, "%c.example:8060", 'a' + i);
        memset(n->pin, 0x10 + i, sizeof n->pin);
        n->concurrency = 2;
        c.u.node_add.key_slot = (uint8_t)i;
        c.u.node_add.key_generation = (uint32_t)i;
        bad += fsm_world_apply(f, &c) != 0;
        fsm_world_cmd(&c, CLUSTER_CMD_NODE_SET_ROLE, id++);
        c.u.node_role.node_id = (uint64_t)i + 1;
        c.u.node_role.role = CLUSTER_ROLE_VOTER;
        bad += fsm_world_apply(f, &c) != 0;
    }
    fsm_world_cmd(&c, CLUSTER_CMD_CRED_SET, id++);
    fsm_world_credential(&c.u.cred_set, "db1");
    bad += fsm_world_apply(f, &c) != 0;
    for (int i = 0; i < 2; i++) {
        fsm_world_cmd(&c, CLUSTER_CMD_SCAN_PUT, id++);
        fsm_world_scan(&c.u.scan_put.def, i ? "s2" : "s1");
        if (i) {
            strcpy(c.u.scan_put.def.source, "postgres://db.corp:5433/sales");
            strcpy(c.u.scan_put.def.credential, "db1");
        }
        c.u.scan_put.create = true;
        bad += fsm_world_apply(f, &c) != 0;
        fsm_world_cmd(&c, CLUSTER_CMD_RUN_CREATE, id++);
        strcpy(c.u.run_create.scan, i ? "s2" : "s1");
        bad += fsm_world_apply(f, &c) != 0;
    }
    fsm_world_cmd(&c, CLUSTER_CMD_RUN_ASSIGN, id++);
    c.u.run_assign.n = 1;
    c.u.run_assign.items[0].run = 1;
    c.u.run_assign.items[0].node = 1;
    bad += fsm_world_apply(f, &c) != 0;
    fsm_world_cmd(&c, CLUSTER_CMD_RUN_FINISH, id++);
    c.u.run_finish.run = 1;
    c.u.run_finish.attempt = 1;
    c.u.run_finish.outcome = CLUSTER_OUTCOME_CRASHED;
    c.u.run_finish.crash_index = 7;
    c.u.run_finish.crash_id_len = CLUSTER_RUN_FILE_ID_LEN;
    memset(c.u.run_finish.crash_id, 0x5a, CLUSTER_RUN_FILE_ID_LEN);
    bad += fsm_world_apply(f, &c) != 0;
    fsm_world_cmd(&c, CLUSTER_CMD_RUN_ASSIGN, id++);
    c.u.run_assign.n = 1;
    c.u.run_assign.items[0].run = 1;
    c.u.run_assign.items[0].node = 1;
    bad += fsm_world_apply(f, &c) != 0;
    fsm_world_cmd(&c, CLUSTER_CMD_RUN_START, id++);
    c.u.run_start.run = 1;
    c.u.run_start.attempt = 2;
    bad += fsm_world_apply(f, &c) != 0;
    fsm_world_cmd(&c, CLUSTER_CMD_RUN_REPORT, id++);
    c.u.run_report.run = 1;
    c.u.run_report.attempt = 2;
    c.u.run_report.has_part = true;
    bad += fsm_world_apply(f, &c) != 0;
    return bad;
}

#endif
