/* Unit tests for the dispatcher's replicated state (cluster/fsm/scans.c, runs.c, attempts.c and the
 * capacity and settings parts of nodes.c, runtime.c): every command's effect, refusals and
 * check/apply agreement; fencing (stale tokens, parts that do not grow); attempts, failures,
 * node losses, crashes and the skip list; cancel; delete with and without force; history;
 * capacity under concurrent assignments; idempotency past a flood of fenced entries; snapshots
 * (byte-exact round trip, older forms of settings); no allocation in apply. */
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
#include "cluster/fsm/fsm_int.h"
#include "cluster_fsm_helpers.h"
#include "common/common.h"

/* Request ids for the commands below: fresh for each. */
static uint32_t next_rid = 1000;

static const struct cluster_fsm_result *ap(struct cluster_fsm *f, const struct cluster_cmd *c)
{
    struct shir_buf b;
    shir_buf_init(&b, 1 << 16);
    assert_int_equal(cluster_cmd_encode(c, &b), 0);
    const struct cluster_fsm_result *r = cluster_fsm_apply(f, b.data, b.len);
    shir_buf_free(&b);
    return r;
}

static void cmd(struct cluster_cmd *c, enum cluster_cmd_type type)
{
    t_cmd_simple(c, next_rid++, type);
}

/* Nodes: 1 "a" voter, 2 "b" voter, 3 "w" witness (registered); 4 "p" spare, pending. Each
 * has the operator's concurrency 4 (t_cmd_node_add). One scan "s1" (max_attempts 3). */
enum { N_A = 1, N_B = 2, N_W = 3, N_P = 4 };

static void put_scan(struct cluster_fsm *f, const char *name, uint32_t max_attempts)
{
    struct cluster_cmd c;
    t_cmd_scan_put(&c, next_rid++, name, true);
    c.u.scan_put.def.max_attempts = max_attempts;
    assert_int_equal(ap(f, &c)->status, 0);
}

static struct cluster_fsm *world(void)
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

static const struct cluster_fsm_result *create(struct cluster_fsm *f, const char *scan)
{
    struct cluster_cmd c;
    cmd(&c, CLUSTER_CMD_RUN_CREATE);
    snprintf(c.u.run_create.scan, sizeof c.u.run_create.scan, "%s", scan);
    c.u.run_create.now_ms = 5000;
    return ap(f, &c);
}

static uint64_t create_ok(struct cluster_fsm *f, const char *scan)
{
    const struct cluster_fsm_result *r = create(f, scan);
    assert_int_equal(r->status, 0);
    return r->value;
}

static uint64_t assign(struct cluster_fsm *f, uint64_t run, uint64_t node)
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

static int start(struct cluster_fsm *f, uint64_t run, uint32_t attempt, uint64_t now)
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

static int report(struct cluster_fsm *f, uint64_t run, uint32_t attempt, bool has_part,
                  uint32_t part, uint64_t files)
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
    return ap(f, &c)->status;
}

static const struct cluster_fsm_result *finish(struct cluster_fsm *f, uint64_t run,
                                               uint32_t attempt, enum cluster_run_outcome o,
                                               uint64_t crash, const char *error)
{
    struct cluster_cmd c;
    cmd(&c, CLUSTER_CMD_RUN_FINISH);
    c.u.run_finish.run = run;
    c.u.run_finish.attempt = attempt;
    c.u.run_finish.outcome = o;
    c.u.run_finish.now_ms = 9000 + attempt;
    c.u.run_finish.crash_index = crash;
    if (o == CLUSTER_OUTCOME_SUCCEEDED) {
        c.u.run_finish.has_summary = true;
        c.u.run_finish.summary.files = 42;
        c.u.run_finish.summary.assets = 40;
    }
    snprintf(c.u.run_finish.error, sizeof c.u.run_finish.error, "%s", error);
    return ap(f, &c);
}

static int cancel(struct cluster_fsm *f, uint64_t run)
{
    struct cluster_cmd c;
    cmd(&c, CLUSTER_CMD_RUN_CANCEL);
    c.u.run_cancel.run = run;
    c.u.run_cancel.now_ms = 7777;
    return ap(f, &c)->status;
}

static const struct cluster_run *run_of(const struct cluster_fsm *f, uint64_t id)
{
    const struct cluster_run *r = cluster_fsm_run(f, id);
    assert_non_null(r);
    return r;
}

/* The runs as bytes (each struct), to show that a refused or stale command changed none. */
static void runs_bytes(const struct cluster_fsm *f, struct shir_buf *out)
{
    size_t n;
    const struct cluster_run *const *runs = cluster_fsm_runs(f, &n);
    shir_buf_init(out, 1 << 24);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(shir_buf_append(out, runs[i], sizeof *runs[i]), 0);
}

static void assert_runs_same(const struct cluster_fsm *f, const struct shir_buf *before)
{
    struct shir_buf now;
    runs_bytes(f, &now);
    assert_int_equal(now.len, before->len);
    assert_memory_equal(now.data, before->data, now.len);
    shir_buf_free(&now);
}

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

/* ---- scans ------------------------------------------------------------------------------------ */

static void test_scan_put_update_order_full(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    struct cluster_cmd c;
    size_t n;
    /* Name order whatever the order of creation. */
    put_scan(f, "c", 3);
    put_scan(f, "a-b", 3);
    put_scan(f, "B.x_1", 3);
    const struct cluster_scan_def *const *defs = cluster_fsm_scans(f, &n);
    assert_int_equal(n, 4);
    assert_string_equal(defs[0]->name, "B.x_1");
    assert_string_equal(defs[1]->name, "a-b");
    assert_string_equal(defs[2]->name, "c");
    assert_string_equal(defs[3]->name, "s1");
    /* EXISTS on create; update keeps created_ms, takes the rest. */
    t_cmd_scan_put(&c, next_rid++, "c", true);
    assert_int_equal(cluster_fsm_check(f, &c, NULL), SHIR_E_EXISTS);
    assert_int_equal(ap(f, &c)->status, SHIR_E_EXISTS);
    t_cmd_scan_put(&c, next_rid++, "c", false);
    c.u.scan_put.def.created_ms = 1;
    c.u.scan_put.def.updated_ms = 2;
    c.u.scan_put.def.level = 3;
    assert_int_equal(cluster_fsm_check(f, &c, NULL), 0);
    assert_int_equal(ap(f, &c)->status, 0);
    const struct cluster_scan_def *d = cluster_fsm_scan(f, "c");
    assert_non_null(d);
    assert_int_equal(d->created_ms, 1764067200000ull);
    assert_int_equal(d->updated_ms, 2);
    assert_int_equal(d->level, 3);
    assert_int_equal(d->rules_len, 40);
    assert_null(cluster_fsm_scan(f, "nope"));
    t_cmd_scan_put(&c, next_rid++, "nope", false);
    assert_int_equal(ap(f, &c)->status, SHIR_E_NOTFOUND);
    /* FULL at CLUSTER_FSM_SCANS_CAP. */
    char name[16];
    for (unsigned i = 4; i < CLUSTER_FSM_SCANS_CAP; i++) {
        snprintf(name, sizeof name, "z%03u", i);
        put_scan(f, name, 1);
    }
    t_cmd_scan_put(&c, next_rid++, "zz", true);
    assert_int_equal(cluster_fsm_check(f, &c, NULL), SHIR_E_FULL);
    assert_int_equal(ap(f, &c)->status, SHIR_E_FULL);
    (void)cluster_fsm_scans(f, &n);
    assert_int_equal(n, CLUSTER_FSM_SCANS_CAP);
    /* Deleting one makes room; its slot is reused. */
    cmd(&c, CLUSTER_CMD_SCAN_DELETE);
    strcpy(c.u.scan_delete.name, "a-b");
    assert_int_equal(ap(f, &c)->status, 0);
    assert_int_equal(ap(f, &c)->status, 0); /* a replay: the first result */
    cmd(&c, CLUSTER_CMD_SCAN_DELETE);
    strcpy(c.u.scan_delete.name, "a-b");
    assert_int_equal(ap(f, &c)->status, SHIR_E_NOTFOUND);
    t_cmd_scan_put(&c, next_rid++, "zz", true);
    assert_int_equal(ap(f, &c)->status, 0);
    defs = cluster_fsm_scans(f, &n);
    assert_string_equal(defs[n - 1]->name, "zz");
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(defs[i - 1]->name, defs[i]->name) < 0);
    cluster_fsm_free(f);
}

/* One mutation of a valid definition and whether the result is accepted. */
struct shape_case {
    const char *what;
    void (*mutate)(struct cluster_scan_def *d);
    bool ok;
};

#define MUT(fn, body)                                                                              \
    static void fn(struct cluster_scan_def *d)                                                     \
    {                                                                                              \
        body;                                                                                      \
    }
MUT(m_none, (void)d)
MUT(m_name_empty, d->name[0] = '\0')
MUT(m_name_space, strcpy(d->name, "a b"))
MUT(m_name_slash, strcpy(d->name, "a/b"))
MUT(m_name_unterminated, memset(d->name, 'a', sizeof d->name))
MUT(m_name_63, memset(d->name, 'a', 63); d->name[63] = '\0')
MUT(m_source_relative, strcpy(d->source, "srv/x"))
MUT(m_source_empty, d->source[0] = '\0')
MUT(m_source_ctl, strcpy(d->source, "/srv/\x01x"))
MUT(m_level_0, d->level = 0)
MUT(m_level_4, d->level = 4)
MUT(m_level_1, d->level = 1)
MUT(m_level_3, d->level = 3)
MUT(m_sink_file, strcpy(d->sink, "file:/x"))
MUT(m_sink_jsonl_rel, strcpy(d->sink, "jsonl:out"))
MUT(m_sink_jsonl_root, strcpy(d->sink, "jsonl:/"))
MUT(m_sink_atlas_ftp, strcpy(d->sink, "atlas:ftp://h"))
MUT(m_sink_atlas_bare, strcpy(d->sink, "atlas:https://"))
MUT(m_sink_atlas_space, strcpy(d->sink, "atlas:https://a b"))
MUT(m_sink_atlas_http, strcpy(d->sink, "atlas:http://atlas.corp:21000/api"))
MUT(m_sink_atlas_https, strcpy(d->sink, "atlas:https://atlas.corp"))
MUT(m_host_empty, d->host_name[0] = '\0')
MUT(m_host_underscore, strcpy(d->host_name, "a_b"))
MUT(m_host_space, strcpy(d->host_name, "a b"))
MUT(m_glob_unended, strcpy(d->includes, "*.csv"))
MUT(m_glob_empty_line, strcpy(d->includes, "*.csv\n\n"))
MUT(m_glob_lone_newline, strcpy(d->excludes, "\n"))
MUT(m_glob_tab, strcpy(d->excludes, "a\tb\n"))
MUT(m_glob_none, d->includes[0] = d->excludes[0] = '\0')
MUT(m_attempts_0, d->max_attempts = 0)
MUT(m_attempts_cap, d->max_attempts = CLUSTER_RUN_ATTEMPTS_CAP)
MUT(m_attempts_over, d->max_attempts = CLUSTER_RUN_ATTEMPTS_CAP + 1)
MUT(m_timeout_low, d->timeout_ms = 999)
MUT(m_timeout_min, d->timeout_ms = 1000)
MUT(m_timeout_max, d->timeout_ms = 30ull * 24 * 3600 * 1000)
MUT(m_timeout_high, d->timeout_ms = 30ull * 24 * 3600 * 1000 + 1)
MUT(m_part_0, d->part_size = 0)
MUT(m_part_max, d->part_size = 1000000)
MUT(m_part_over, d->part_size = 1000001)
MUT(m_rules_max, d->rules_len = CLUSTER_SCAN_RULES_MAX)
MUT(m_rules_over, d->rules_len = CLUSTER_SCAN_RULES_MAX + 1)
MUT(m_flags_unknown, d->flags = 0xffffffffu)

static const struct shape_case shape_cases[] = {
    {"valid", m_none, true},
    {"name empty", m_name_empty, false},
    {"name space", m_name_space, false},
    {"name slash", m_name_slash, false},
    {"name unterminated", m_name_unterminated, false},
    {"name 63", m_name_63, true},
    {"source relative", m_source_relative, false},
    {"source empty", m_source_empty, false},
    {"source control", m_source_ctl, false},
    {"level 0", m_level_0, false},
    {"level 4", m_level_4, false},
    {"level 1", m_level_1, true},
    {"level 3", m_level_3, true},
    {"sink file", m_sink_file, false},
    {"sink jsonl relative", m_sink_jsonl_rel, false},
    {"sink jsonl root", m_sink_jsonl_root, true},
    {"sink atlas ftp", m_sink_atlas_ftp, false},
    {"sink atlas no host", m_sink_atlas_bare, false},
    {"sink atlas space", m_sink_atlas_space, false},
    {"sink atlas http", m_sink_atlas_http, true},
    {"sink atlas https", m_sink_atlas_https, true},
    {"host empty", m_host_empty, true},
    {"host underscore", m_host_underscore, false},
    {"host space", m_host_space, false},
    {"glob unended", m_glob_unended, false},
    {"glob empty line", m_glob_empty_line, false},
    {"glob lone newline", m_glob_lone_newline, false},
    {"glob tab", m_glob_tab, false},
    {"no globs", m_glob_none, true},
    {"attempts 0", m_attempts_0, false},
    {"attempts cap", m_attempts_cap, true},
    {"attempts over", m_attempts_over, false},
    {"timeout low", m_timeout_low, false},
    {"timeout min", m_timeout_min, true},
    {"timeout max", m_timeout_max, true},
    {"timeout high", m_timeout_high, false},
    {"part 0", m_part_0, true},
    {"part max", m_part_max, true},
    {"part over", m_part_over, false},
    {"rules max", m_rules_max, true},
    {"rules over", m_rules_over, false},
    {"flags unknown kept", m_flags_unknown, true},
};

/* Each shape is refused INVAL in one place: by encode, by check, and by apply (the same
 * function), and an accepted one round-trips through the codec. */
static void test_scan_shape_table(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    static struct cluster_cmd c, out;
    for (size_t i = 0; i < sizeof shape_cases / sizeof shape_cases[0]; i++) {
        const struct shape_case *k = &shape_cases[i];
        t_cmd_scan_put(&c, next_rid++, "shape", true);
        k->mutate(&c.u.scan_put.def);
        struct shir_buf b;
        shir_buf_init(&b, 1 << 16);
        int enc = cluster_cmd_encode(&c, &b);
        int chk = cluster_fsm_check(f, &c, NULL);
        if (enc != (k->ok ? 0 : SHIR_E_INVAL) || chk != enc)
            print_error("case \"%s\": encode %d check %d\n", k->what, enc, chk);
        assert_int_equal(enc, k->ok ? 0 : SHIR_E_INVAL);
        assert_int_equal(chk, k->ok ? 0 : SHIR_E_INVAL);
        assert_int_equal(cluster__scan_def_shape(&c.u.scan_put.def), k->ok ? 0 : SHIR_E_INVAL);
        if (k->ok) { /* the same bytes again (a mutated string leaves bytes after its NUL) */
            struct shir_buf again;
            shir_buf_init(&again, 1 << 16);
            assert_int_equal(cluster_cmd_decode(b.data, b.len, &out), 0);
            assert_int_equal(cluster_cmd_encode(&out, &again), 0);
            assert_int_equal(again.len, b.len);
            assert_memory_equal(again.data, b.data, b.len);
            shir_buf_free(&again);
        }
        shir_buf_free(&b);
    }
    /* The other commands' shapes. */
    cmd(&c, CLUSTER_CMD_SCAN_DELETE);
    strcpy(c.u.scan_delete.name, "bad name");
    assert_int_equal(cluster_fsm_check(f, &c, NULL), SHIR_E_INVAL);
    cmd(&c, CLUSTER_CMD_RUN_CREATE);
    strcpy(c.u.run_create.scan, "s1");
    c.u.run_create.trigger = (enum cluster_run_trigger)2;
    assert_int_equal(cluster_fsm_check(f, &c, NULL), SHIR_E_INVAL);
    cmd(&c, CLUSTER_CMD_RUN_ASSIGN);
    assert_int_equal(cluster_fsm_check(f, &c, NULL), SHIR_E_INVAL); /* empty batch */
    c.u.run_assign.n = CLUSTER_RUN_ASSIGN_BATCH + 1;
    assert_int_equal(cluster_fsm_check(f, &c, NULL), SHIR_E_INVAL);
    cmd(&c, CLUSTER_CMD_RUN_FINISH);
    c.u.run_finish.outcome = CLUSTER_OUTCOME_NONE;
    assert_int_equal(cluster_fsm_check(f, &c, NULL), SHIR_E_INVAL);
    c.u.run_finish.outcome = (enum cluster_run_outcome)CLUSTER_OUTCOME_COUNT;
    assert_int_equal(cluster_fsm_check(f, &c, NULL), SHIR_E_INVAL);
    c.u.run_finish.outcome = CLUSTER_OUTCOME_FAILED;
    strcpy(c.u.run_finish.error, "two\nlines");
    assert_int_equal(cluster_fsm_check(f, &c, NULL), SHIR_E_INVAL);
    cmd(&c, CLUSTER_CMD_NODE_SET_CAPACITY);
    c.u.node_capacity.node_id = N_A;
    c.u.node_capacity.capacity = CLUSTER_NODE_CAPACITY_MAX + 1;
    assert_int_equal(cluster_fsm_check(f, &c, NULL), SHIR_E_INVAL);
    cluster_fsm_free(f);
}

/* A RUN_ASSIGN batch bigger than CLUSTER_RUN_ASSIGN_BATCH on the wire is refused by decode. */
static void test_assign_batch_too_big_on_the_wire(void **state)
{
    (void)state;
    struct shir_buf b;
    struct cluster__mpw w;
    static struct cluster_cmd out;
    uint8_t rid[CLUSTER_REQUEST_ID_LEN] = {0};
    shir_buf_init(&b, 1 << 16);
    cluster__mpw_init(&w, &b);
    cluster__mpw_array(&w, 4);
    cluster__mpw_uint(&w, 1);
    cluster__mpw_uint(&w, CLUSTER_CMD_RUN_ASSIGN);
    cluster__mpw_bin(&w, rid, sizeof rid);
    cluster__mpw_array(&w, CLUSTER_RUN_ASSIGN_BATCH + 1);
    for (int i = 0; i < CLUSTER_RUN_ASSIGN_BATCH + 1; i++) {
        cluster__mpw_array(&w, 2);
        cluster__mpw_uint(&w, 1);
        cluster__mpw_uint(&w, 1);
    }
    assert_int_equal(w.err, 0);
    assert_int_equal(cluster_cmd_decode(b.data, b.len, &out), SHIR_E_TOOBIG);
    shir_buf_free(&b);
}

/* ---- capacity --------------------------------------------------------------------------------- */

static int set_capacity(struct cluster_fsm *f, uint64_t node, uint32_t cap, bool is_auto)
{
    struct cluster_cmd c;
    cmd(&c, CLUSTER_CMD_NODE_SET_CAPACITY);
    c.u.node_capacity.node_id = node;
    c.u.node_capacity.capacity = cap;
    c.u.node_capacity.is_auto = is_auto;
    return ap(f, &c)->status;
}

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
    assert_int_equal(r->crash_index, UINT64_MAX);
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
    /* A part that does not grow: STALE, and its progress is ignored too. */
    assert_int_equal(report(f, id, 1, true, 0, 30), SHIR_E_STALE);
    assert_int_equal(r->files, 20);
    assert_int_equal(report(f, id, 1, true, 2, 50), 0);
    assert_int_equal(report(f, id, 1, true, 1, 60), SHIR_E_STALE);
    assert_int_equal(r->cp_part, 2);
    /* Progress never goes down. */
    assert_int_equal(report(f, id, 1, false, 0, 5), 0);
    assert_int_equal(r->files, 50);
    assert_int_equal(r->cp_assets, 25); /* a report without a part leaves the checkpoint */
    assert_int_equal(r->bytes, 50000);
    res = finish(f, id, 1, CLUSTER_OUTCOME_SUCCEEDED, UINT64_MAX, "");
    assert_int_equal(res->status, 0);
    assert_int_equal(res->value, CLUSTER_RUN_SUCCEEDED);
    assert_int_equal(r->state, CLUSTER_RUN_SUCCEEDED);
    assert_int_equal(r->finished_ms, 9001);
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

/* Reports of another token (attempt, run, or a run that is not on a node) are STALE and change
 * nothing. */
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
    /* A node loss first: queued again, no failure counted. */
    assert_int_equal(assign(f, id, N_A), 1);
    assert_int_equal(finish(f, id, 1, CLUSTER_OUTCOME_NODE_LOST, UINT64_MAX, "")->value,
                     CLUSTER_RUN_QUEUED);
    r = run_of(f, id);
    assert_int_equal(r->failures, 0);
    assert_int_equal(r->node, 0);
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

/* A crash remembers the file; a second crash on the same file puts it on the skip list (once,
 * at most CLUSTER_RUN_SKIP_CAP). */
static void test_crash_skip_list(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    put_scan(f, "crashy", CLUSTER_RUN_ATTEMPTS_CAP);
    uint64_t id = create_ok(f, "crashy");
    const uint64_t crashes[] = {5, 5, 7, 9, 9, UINT64_MAX, 9, 9};
    const uint64_t want_index[] = {5, UINT64_MAX, 7, 9, UINT64_MAX, UINT64_MAX, 9, UINT64_MAX};
    const uint8_t want_skips[] = {0, 1, 1, 1, 2, 2, 2, 2};
    const struct cluster_run *r = run_of(f, id);
    for (uint32_t a = 1; a <= 8; a++) {
        assert_int_equal(assign(f, id, N_A), 1);
        assert_int_equal(finish(f, id, a, CLUSTER_OUTCOME_CRASHED, crashes[a - 1], "")->value,
                         CLUSTER_RUN_QUEUED);
        assert_int_equal(r->crash_index, want_index[a - 1]);
        assert_int_equal(r->n_skip, want_skips[a - 1]);
    }
    assert_int_equal(r->skip[0], 5);
    assert_int_equal(r->skip[1], 9);
    /* A failure that is not a crash leaves the crash bookkeeping alone. */
    assert_int_equal(assign(f, id, N_A), 1);
    assert_int_equal(finish(f, id, 9, CLUSTER_OUTCOME_FAILED, 3, "")->value, CLUSTER_RUN_QUEUED);
    assert_int_equal(r->crash_index, UINT64_MAX);
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

static void test_scan_delete_busy_and_force(void **state)
{
    (void)state;
    struct cluster_fsm *f = world();
    struct cluster_cmd c;
    uint64_t v;
    put_scan(f, "s2", 3);
    uint64_t old = create_ok(f, "s1");
    assert_int_equal(cancel(f, old), 0);
    uint64_t active = create_ok(f, "s1");
    uint64_t other = create_ok(f, "s2");
    assert_int_equal(assign(f, active, N_A), 1);
    cmd(&c, CLUSTER_CMD_SCAN_DELETE);
    strcpy(c.u.scan_delete.name, "s1");
    assert_int_equal(cluster_fsm_check(f, &c, &v), SHIR_E_BUSY);
    assert_int_equal(v, active);
    const struct cluster_fsm_result *res = ap(f, &c);
    assert_int_equal(res->status, SHIR_E_BUSY);
    assert_int_equal(res->value, active);
    assert_non_null(cluster_fsm_scan(f, "s1"));
    cmd(&c, CLUSTER_CMD_SCAN_DELETE);
    strcpy(c.u.scan_delete.name, "s1");
    c.u.scan_delete.force = true;
    assert_int_equal(cluster_fsm_check(f, &c, &v), 0);
    assert_int_equal(ap(f, &c)->status, 0);
    assert_null(cluster_fsm_scan(f, "s1"));
    assert_null(cluster_fsm_run(f, old));
    assert_null(cluster_fsm_run(f, active));
    assert_non_null(cluster_fsm_run(f, other));
    assert_int_equal(cluster_fsm_node_load(f, N_A), 0);
    /* The dropped run's worker reports: stale. */
    assert_int_equal(report(f, active, 1, false, 0, 1), SHIR_E_STALE);
    /* Without an active run, no force is needed; the history goes with it. */
    assert_int_equal(cancel(f, other), 0);
    cmd(&c, CLUSTER_CMD_SCAN_DELETE);
    strcpy(c.u.scan_delete.name, "s2");
    assert_int_equal(ap(f, &c)->status, 0);
    size_t n;
    (void)cluster_fsm_runs(f, &n);
    assert_int_equal(n, 0);
    /* Ids are never reused. */
    put_scan(f, "s1", 3);
    assert_int_equal(create_ok(f, "s1"), other + 1);
    cluster_fsm_free(f);
}

/* ---- history ---------------------------------------------------------------------------------- */

static int set_history(struct cluster_fsm *f, uint32_t h)
{
    struct cluster_cmd c;
    cmd(&c, CLUSTER_CMD_SETTINGS_SET);
    c.u.settings.run_history = h;
    return ap(f, &c)->status;
}

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
    assert_int_equal(crashy->n_skip, 1);
    assert_int_equal(crashy->skip[0], 77);
    assert_int_equal(crashy->crash_index, 77);
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
    seq[k++].u.run_finish.crash_index = 77;
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_scan_put_update_order_full),
        cmocka_unit_test(test_scan_shape_table),
        cmocka_unit_test(test_assign_batch_too_big_on_the_wire),
        cmocka_unit_test(test_node_capacity),
        cmocka_unit_test(test_run_lifecycle),
        cmocka_unit_test(test_default_part_size),
        cmocka_unit_test(test_stale_tokens),
        cmocka_unit_test(test_failures_then_failed),
        cmocka_unit_test(test_attempts_cap),
        cmocka_unit_test(test_crash_skip_list),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_scan_delete_busy_and_force),
        cmocka_unit_test(test_history_trim),
        cmocka_unit_test(test_runs_table_full),
        cmocka_unit_test(test_capacity_never_exceeded),
        cmocka_unit_test(test_create_replay_after_fenced_flood),
        cmocka_unit_test(test_snapshot_roundtrip),
        cmocka_unit_test(test_snapshot_invariants),
        cmocka_unit_test(test_check_agrees_with_apply),
        cmocka_unit_test(test_settings_merge_and_ranges),
        cmocka_unit_test(test_settings_older_forms),
        cmocka_unit_test(test_apply_never_allocates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
