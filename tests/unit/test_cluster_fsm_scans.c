/* Unit tests for the scans table of the dispatcher's replicated state (cluster/fsm/scans.c):
 * SCAN_PUT's order, update and limit; every definition shape from a table of cases, refused in one
 * place (encode, check, apply) and round-tripped when accepted; the other commands' shapes; an
 * assign batch too big on the wire; SCAN_DELETE with an active run, with and without force.
 * Helpers shared with the other test_cluster_fsm_* programs of the dispatcher's tables are in
 * fsm_runs_helpers.h. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_put_update_order_full),
        cmocka_unit_test(test_scan_shape_table),
        cmocka_unit_test(test_assign_batch_too_big_on_the_wire),
        cmocka_unit_test(test_scan_delete_busy_and_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
