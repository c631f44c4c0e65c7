/* Test helpers shared by the FSM unit tests: command builders, an encode+apply shortcut, state
 * comparison. Include after <cmocka.h>. */
#ifndef SHIR_TEST_CLUSTER_FSM_HELPERS_H
#define SHIR_TEST_CLUSTER_FSM_HELPERS_H

#include <stdio.h>
#include <string.h>

#include "cluster/fsm.h"
#include "cluster/proof.h"

/* Request ids: a counter in the first bytes, so tests can replay one on purpose. */
static inline void t_reqid(struct cluster_cmd *c, uint32_t n)
{
    memset(c->request_id, 0xee, sizeof c->request_id);
    shir_put_be32(c->request_id, n);
}

static inline void t_secret(uint8_t s[CLUSTER_KEY_SECRET_LEN], uint8_t seed)
{
    for (unsigned i = 0; i < CLUSTER_KEY_SECRET_LEN; i++)
        s[i] = (uint8_t)(seed * 31 + i);
}

static inline void t_cmd_init(struct cluster_cmd *c, uint32_t id)
{
    uint8_t s[CLUSTER_KEY_SECRET_LEN];
    memset(c, 0, sizeof *c);
    c->type = CLUSTER_CMD_INIT;
    t_reqid(c, id);
    memset(c->u.init.runtime_id, 0x42, CLUSTER_RUNTIME_ID_LEN);
    strcpy(c->u.init.name, "finance-ir");
    strcpy(c->u.init.description, "scans the finance shares");
    for (int k = 0; k < 2; k++) {
        t_secret(s, (uint8_t)(k + 1));
        (void)cluster_verifier_derive(s, &c->u.init.verifiers[k]);
        c->u.init.sealed_len[k] = CLUSTER_SEALED_KEY_MAX;
        memset(c->u.init.sealed[k], 0x60 + k, CLUSTER_SEALED_KEY_MAX);
    }
    c->u.init.settings.max_nodes = CLUSTER_MAX_NODES_DEFAULT;
    c->u.init.settings.standby_promotion_delay_ms = CLUSTER_STANDBY_DELAY_DEFAULT_MS;
}

static inline void t_cmd_node_add(struct cluster_cmd *c, uint32_t id, const char *name,
                                  enum cluster_role role, uint8_t slot, uint32_t gen)
{
    memset(c, 0, sizeof *c);
    c->type = CLUSTER_CMD_NODE_ADD;
    t_reqid(c, id);
    struct cluster_node *n = &c->u.node_add.node;
    strcpy(n->name, name);
    snprintf(n->address, sizeof n->address, "%s.example:8060", name);
    /* A distinct pin per name: FNV-1a of the name, then a counter. */
    uint32_t h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    for (unsigned i = 0; i < CLUSTER_PIN_LEN; i++)
        n->pin[i] = (uint8_t)((h >> (8 * (i % 4))) + i / 4);
    n->role = role;
    n->state = CLUSTER_NODE_PENDING;
    strcpy(n->version, "0.1.0");
    n->concurrency = 4;
    n->registered_ms = 1764067200000ull + id;
    c->u.node_add.key_slot = slot;
    c->u.node_add.key_generation = gen;
}

static inline void t_cmd_simple(struct cluster_cmd *c, uint32_t id, enum cluster_cmd_type type)
{
    memset(c, 0, sizeof *c);
    c->type = type;
    t_reqid(c, id);
}

/* A scan definition with every field set; `name` must fit CLUSTER_SCAN_NAME_MAX. */
static inline void t_scan_def(struct cluster_scan_def *d, const char *name)
{
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    snprintf(d->source, sizeof d->source, "/srv/share/%s", name);
    d->level = 2;
    strcpy(d->sink, "jsonl:/var/lib/shir/out");
    strcpy(d->host_name, "fileserver-1.corp");
    strcpy(d->includes, "*.csv\n*.parquet\n");
    strcpy(d->excludes, "tmp/**\n");
    d->flags = CLUSTER_SCAN_FOLLOW_SYMLINKS;
    d->timeout_ms = 3600000;
    d->max_attempts = CLUSTER_SCAN_ATTEMPTS_DEFAULT;
    d->part_size = 500;
    d->created_ms = 1764067200000ull;
    d->updated_ms = 1764067200000ull;
    d->rules_len = 40;
    memset(d->rules, 'r', d->rules_len);
}

static inline void t_cmd_scan_put(struct cluster_cmd *c, uint32_t id, const char *name,
                                  bool create)
{
    memset(c, 0, sizeof *c);
    c->type = CLUSTER_CMD_SCAN_PUT;
    t_reqid(c, id);
    t_scan_def(&c->u.scan_put.def, name);
    c->u.scan_put.create = create;
}

/* One command of every type, every field set (request ids 1..T_CMD_TYPES). */
#define T_CMD_TYPES 22
static inline void t_cmd_samples(struct cluster_cmd in[T_CMD_TYPES])
{
    t_cmd_init(&in[0], 1);
    t_cmd_node_add(&in[1], 2, "node-1", CLUSTER_ROLE_WITNESS, 2, 77);
    in[1].u.node_add.node.drain = true;
    t_cmd_simple(&in[2], 3, CLUSTER_CMD_NODE_SET_ROLE);
    in[2].u.node_role.node_id = 12345678901ull;
    in[2].u.node_role.role = CLUSTER_ROLE_STANDBY;
    t_cmd_simple(&in[3], 4, CLUSTER_CMD_NODE_REMOVE);
    in[3].u.node_remove.node_id = 7;
    t_cmd_simple(&in[4], 5, CLUSTER_CMD_KEY_REGENERATE);
    in[4].u.key_regen.slot = 2;
    memset(&in[4].u.key_regen.verifier, 0x31, sizeof in[4].u.key_regen.verifier);
    in[4].u.key_regen.sealed_len = 61;
    memset(in[4].u.key_regen.sealed, 0x32, 61);
    t_cmd_simple(&in[5], 6, CLUSTER_CMD_PROXY_SET);
    in[5].u.proxy.mode = CLUSTER_PROXY_CUSTOM;
    strcpy(in[5].u.proxy.host, "[::1]");
    in[5].u.proxy.port = 65535;
    in[5].u.proxy.sealed_password_len = CLUSTER_SEALED_PROXY_MAX;
    memset(in[5].u.proxy.sealed_password, 0x99, CLUSTER_SEALED_PROXY_MAX);
    in[5].u.proxy.auth = CLUSTER_PROXY_AUTH_BASIC;
    t_cmd_simple(&in[6], 7, CLUSTER_CMD_PROXY_CLEAR);
    t_cmd_simple(&in[7], 8, CLUSTER_CMD_NODE_SET_DRAIN);
    in[7].u.node_drain.node_id = 3;
    in[7].u.node_drain.drain = true;
    t_cmd_simple(&in[8], 9, CLUSTER_CMD_SETTINGS_SET);
    in[8].u.settings.max_nodes = 8;
    in[8].u.settings.standby_promotion_delay_ms = 120000;
    in[8].u.settings.run_history = 50;
    in[8].u.settings.node_loss_grace_ms = 5000;
    t_cmd_simple(&in[9], 10, CLUSTER_CMD_NODE_SET_CAPACITY);
    in[9].u.node_capacity.node_id = 3;
    in[9].u.node_capacity.capacity = CLUSTER_NODE_CAPACITY_MAX;
    in[9].u.node_capacity.is_auto = true;
    t_cmd_scan_put(&in[10], 11, "finance.share_1", true);
    in[10].u.scan_put.def.rules_len = CLUSTER_SCAN_RULES_MAX;
    memset(in[10].u.scan_put.def.rules, 0xab, CLUSTER_SCAN_RULES_MAX);
    t_cmd_simple(&in[11], 12, CLUSTER_CMD_SCAN_DELETE);
    strcpy(in[11].u.scan_delete.name, "finance.share_1");
    in[11].u.scan_delete.force = true;
    t_cmd_simple(&in[12], 13, CLUSTER_CMD_RUN_CREATE);
    strcpy(in[12].u.run_create.scan, "finance.share_1");
    in[12].u.run_create.trigger = CLUSTER_TRIGGER_SCHEDULE;
    in[12].u.run_create.now_ms = 1764067200123ull;
    t_cmd_simple(&in[13], 14, CLUSTER_CMD_RUN_ASSIGN);
    in[13].u.run_assign.n = CLUSTER_RUN_ASSIGN_BATCH;
    for (uint32_t i = 0; i < CLUSTER_RUN_ASSIGN_BATCH; i++) {
        in[13].u.run_assign.items[i].run = UINT64_MAX - i;
        in[13].u.run_assign.items[i].node = i + 1;
    }
    t_cmd_simple(&in[14], 15, CLUSTER_CMD_RUN_START);
    in[14].u.run_start.run = 77;
    in[14].u.run_start.attempt = 3;
    in[14].u.run_start.now_ms = 1764067200456ull;
    in[14].u.run_start.resumed = true;
    in[14].u.run_start.resumed_files = 123456;
    t_cmd_simple(&in[15], 16, CLUSTER_CMD_RUN_REPORT);
    in[15].u.run_report.run = 77;
    in[15].u.run_report.attempt = 3;
    in[15].u.run_report.has_part = true;
    in[15].u.run_report.part = 12;
    in[15].u.run_report.files = 6000;
    in[15].u.run_report.assets = 5900;
    in[15].u.run_report.bytes = UINT64_MAX;
    t_cmd_simple(&in[16], 17, CLUSTER_CMD_RUN_FINISH);
    in[16].u.run_finish.run = 77;
    in[16].u.run_finish.attempt = 3;
    in[16].u.run_finish.outcome = CLUSTER_OUTCOME_CRASHED;
    in[16].u.run_finish.now_ms = 1764067200789ull;
    in[16].u.run_finish.crash_index = 4242;
    in[16].u.run_finish.has_summary = true;
    in[16].u.run_finish.summary = (struct cluster_run_summary){1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    strcpy(in[16].u.run_finish.error, "worker killed by signal 9 in part 13");
    t_cmd_simple(&in[17], 18, CLUSTER_CMD_RUN_CANCEL);
    in[17].u.run_cancel.run = 77;
    in[17].u.run_cancel.now_ms = 1764067200999ull;
    t_cmd_simple(&in[18], 19, CLUSTER_CMD_RUN_REQUEUE);
    in[18].u.run_requeue.node_id = 2;
    in[18].u.run_requeue.now_ms = 1764067201000ull;
    t_cmd_simple(&in[19], 20, CLUSTER_CMD_NODE_SET_ADDRESS);
    in[19].u.node_address.node_id = 2;
    strcpy(in[19].u.node_address.address, "[fd00::11]:8060");
    strcpy(in[10].u.scan_put.def.credential, "pg.finance_ro");
    t_cmd_simple(&in[20], 21, CLUSTER_CMD_CRED_SET);
    strcpy(in[20].u.cred_set.name, "pg.finance_ro");
    in[20].u.cred_set.kind = CLUSTER_CREDENTIAL_BASIC;
    memset(in[20].u.cred_set.user, 'u', CLUSTER_CREDENTIAL_USER_MAX);
    in[20].u.cred_set.sealed_password_len = CLUSTER_SEALED_CREDENTIAL_MAX;
    memset(in[20].u.cred_set.sealed_password, 0x77, CLUSTER_SEALED_CREDENTIAL_MAX);
    in[20].u.cred_set.created_ms = 1764067201001ull;
    in[20].u.cred_set.updated_ms = 1764067201002ull;
    t_cmd_simple(&in[21], 22, CLUSTER_CMD_CRED_DELETE);
    strcpy(in[21].u.cred_delete.name, "pg.finance_ro");
}

/* CRED_SET of `name` with a blob of the sealed size of an 8-byte password (the FSM never opens
 * it). */
static inline void t_cmd_cred_set(struct cluster_cmd *c, uint32_t id, const char *name,
                                  const char *user)
{
    t_cmd_simple(c, id, CLUSTER_CMD_CRED_SET);
    snprintf(c->u.cred_set.name, sizeof c->u.cred_set.name, "%s", name);
    snprintf(c->u.cred_set.user, sizeof c->u.cred_set.user, "%s", user);
    c->u.cred_set.sealed_password_len = CLUSTER_SEAL_OVERHEAD + 8;
    memset(c->u.cred_set.sealed_password, 0x5a, c->u.cred_set.sealed_password_len);
    c->u.cred_set.created_ms = 1764067200000ull + id;
    c->u.cred_set.updated_ms = 1764067200000ull + id;
}

/* A custom proxy with every field set: NTLM, a user and a sealed password, a bypass list. */
static inline void t_cmd_proxy_custom(struct cluster_cmd *c, uint32_t id)
{
    t_cmd_simple(c, id, CLUSTER_CMD_PROXY_SET);
    c->u.proxy.mode = CLUSTER_PROXY_CUSTOM;
    strcpy(c->u.proxy.host, "proxy.corp");
    c->u.proxy.port = 3128;
    strcpy(c->u.proxy.user, "svc-shir");
    c->u.proxy.sealed_password_len = 40;
    memset(c->u.proxy.sealed_password, 0x77, 40);
    strcpy(c->u.proxy.bypass, "*.corp,10.0.0.0/8");
    c->u.proxy.bypass_local = true;
    c->u.proxy.auth = CLUSTER_PROXY_AUTH_NTLM;
}

/* The snapshot of f in a fresh buffer (the caller frees it). */
static inline void t_snapshot_of(const struct cluster_fsm *f, struct shir_buf *b)
{
    shir_buf_init(b, cluster_fsm_snapshot_max(f));
    assert_int_equal(cluster_fsm_snapshot(f, b), 0);
}

/* Equal states: equal snapshot bytes. */
static inline void t_assert_same_state(const struct cluster_fsm *x, const struct cluster_fsm *y)
{
    struct shir_buf a, b;
    t_snapshot_of(x, &a);
    t_snapshot_of(y, &b);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    shir_buf_free(&a);
    shir_buf_free(&b);
}

/* Encode and apply; the result's status, or the encoder's error (negative too). */
static inline int t_apply(struct cluster_fsm *f, const struct cluster_cmd *c)
{
    struct shir_buf b;
    shir_buf_init(&b, 1 << 16);
    int rc = cluster_cmd_encode(c, &b);
    if (rc == 0)
        rc = cluster_fsm_apply(f, b.data, b.len)->status;
    shir_buf_free(&b);
    return rc;
}

/* The history behind tests/fixtures/fsm/snapshot-v1.bin (written by the version-1 encoder after
 * this ran on an empty FSM): every table filled, a removed node (so next_node_id is ahead of
 * the table), a regenerated key, a recorded refusal, a replay, an undecodable entry, and more
 * drain toggles than the recent-results window holds. Returns how many steps did not give the
 * status the history expects (0 when all did). Never change it: the fixture is frozen. */
static inline unsigned t_history_v1(struct cluster_fsm *f)
{
    struct cluster_cmd c;
    unsigned bad = 0;
    t_cmd_init(&c, 1);
    bad += t_apply(f, &c) != 0;
    t_cmd_node_add(&c, 2, "a", CLUSTER_ROLE_VOTER, 0, 0);
    bad += t_apply(f, &c) != 0;
    t_cmd_node_add(&c, 3, "b", CLUSTER_ROLE_SPARE, 1, 1);
    bad += t_apply(f, &c) != 0;
    bad += t_apply(f, &c) != 0; /* a replay: the first result, nothing changes */
    t_cmd_node_add(&c, 4, "w", CLUSTER_ROLE_WITNESS, 2, 1);
    bad += t_apply(f, &c) != 0;
    t_cmd_node_add(&c, 5, "c", CLUSTER_ROLE_SPARE, 1, 1);
    c.u.node_add.node.concurrency = 0;
    bad += t_apply(f, &c) != 0;
    t_cmd_simple(&c, 6, CLUSTER_CMD_NODE_SET_ROLE);
    c.u.node_role.node_id = 2;
    c.u.node_role.role = CLUSTER_ROLE_STANDBY;
    bad += t_apply(f, &c) != 0;
    t_cmd_simple(&c, 7, CLUSTER_CMD_NODE_SET_DRAIN);
    c.u.node_drain.node_id = 3;
    c.u.node_drain.drain = true;
    bad += t_apply(f, &c) != 0;
    t_cmd_simple(&c, 8, CLUSTER_CMD_KEY_REGENERATE);
    c.u.key_regen.slot = 2;
    memset(&c.u.key_regen.verifier, 0x31, sizeof c.u.key_regen.verifier);
    c.u.key_regen.sealed_len = 61;
    memset(c.u.key_regen.sealed, 0x32, 61);
    bad += t_apply(f, &c) != 0;
    t_cmd_node_add(&c, 9, "d", CLUSTER_ROLE_SPARE, 2, 1);
    bad += t_apply(f, &c) != SHIR_E_STALE; /* recorded refusal */
    t_cmd_proxy_custom(&c, 10);
    bad += t_apply(f, &c) != 0;
    t_cmd_simple(&c, 11, CLUSTER_CMD_NODE_REMOVE);
    c.u.node_remove.node_id = 4;
    bad += t_apply(f, &c) != 0;
    t_cmd_simple(&c, 12, CLUSTER_CMD_SETTINGS_SET);
    c.u.settings.max_nodes = 6;
    c.u.settings.standby_promotion_delay_ms = 45000;
    bad += t_apply(f, &c) != 0;
    bad += cluster_fsm_apply(f, "\xc1", 1)->status == 0; /* undecodable: not recorded */
    for (uint32_t i = 0; i < CLUSTER_FSM_RECENT + 6; i++) {
        t_cmd_simple(&c, 100 + i, CLUSTER_CMD_NODE_SET_DRAIN);
        c.u.node_drain.node_id = 1;
        c.u.node_drain.drain = (i & 1) == 0;
        bad += t_apply(f, &c) != 0;
    }
    t_cmd_node_add(&c, 20, "e", CLUSTER_ROLE_SPARE, 1, 1);
    bad += t_apply(f, &c) != 0;
    return bad;
}

#endif
