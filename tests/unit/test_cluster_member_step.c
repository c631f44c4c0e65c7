/* Unit tests for cluster/member_step: what the head of the leader's membership queue does next,
 * from a table of (op, replicated record, raft configuration, time at the head). The first rows
 * are the two situations of chaos seed 18 (issue 10): before the fix, both ran a raft change that
 * raft refuses (a voter made a voter: RAFT_BADROLE), one for 20 s, the other for ever. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/member_step.h"
#include "common/common.h"

#define T     20000u
#define HEAD  1000000u /* when the op reached the head */
#define NONE  'N'      /* no record / not in raft */
#define JOIN  CLUSTER_MEMBER_JOIN
#define RM    CLUSTER_MEMBER_REMOVE
#define PLAN  CLUSTER_MEMBER_ASSIGN
#define ABAND CLUSTER_MEMBER_ABANDON
#define ADD   CLUSTER_MEMBER_ADD
#define SET   CLUSTER_MEMBER_SET
#define REC   CLUSTER_MEMBER_RECORD_ROLE
#define REMR  CLUSTER_MEMBER_REMOVE_RAFT
#define RECR  CLUSTER_MEMBER_RECORD_REMOVE
#define VOTER CLUSTER_ROLE_VOTER
#define STBY  CLUSTER_ROLE_STANDBY
#define SPARE CLUSTER_ROLE_SPARE
#define WIT   CLUSTER_ROLE_WITNESS
#define RUN   CLUSTER_MEMBER_RUN
#define DROP  CLUSTER_MEMBER_DROP
#define EXP   CLUSTER_MEMBER_EXPIRE

/* A row: the op (kind, stored phase, wanted role); the node's record ('P' pending, 'R'
 * registered, NONE); in raft with raft_role, or not (raft NONE); ms since it reached the head;
 * the action and phase expected (phase checked only for RUN). */
struct row {
    const char *name;
    enum cluster_member_kind kind;
    enum cluster_member_phase phase;
    enum cluster_role role;
    char record;
    char raft; /* 'V' voter, 'S' standby, 'p' spare, NONE */
    uint64_t held_ms;
    enum cluster_member_action want;
    enum cluster_member_phase want_phase;
};

static const struct row rows[] = {
    /* Seed 18, node 1: its join was queued between the init's NODE_ADD and NODE_SET_ROLE; the
     * node is registered now and a raft voter. Before: ADD -> EXISTS -> SET -> BADROLE for 20 s. */
    {"seed 18: the first node's join after its NODE_SET_ROLE", JOIN, SET, VOTER, 'R', 'V', 0, DROP,
     SET},
    {"seed 18: the same op still at ADD", JOIN, ADD, VOTER, 'R', 'V', 0, DROP, ADD},
    /* Seed 18, node 2: promoted to voter in raft, deadline struck before NODE_SET_ROLE; the join
     * queued again starts at ADD. Before: ADD -> EXISTS -> SET -> BADROLE for ever. */
    {"seed 18: promoted, not recorded, retried from ADD", JOIN, ADD, VOTER, 'P', 'V', 0, RUN, REC},
    {"seed 18: promoted, not recorded, at SET", JOIN, SET, VOTER, 'P', 'V', 0, RUN, REC},
    {"join, not in raft yet", JOIN, ADD, VOTER, 'P', NONE, 0, RUN, ADD},
    {"join, added as spare", JOIN, ADD, VOTER, 'P', 'p', 0, RUN, SET},
    {"join, spare, standby wanted", JOIN, SET, STBY, 'P', 'p', 0, RUN, SET},
    {"join, a voter in raft where standby is wanted now", JOIN, SET, STBY, 'P', 'V', 0, RUN, SET},
    {"join of a witness: a raft voter holds it", JOIN, SET, WIT, 'P', 'V', 0, RUN, REC},
    {"join, taken out of raft meanwhile", JOIN, REC, VOTER, 'P', NONE, 0, RUN, ADD},
    {"join of a node removed from the record", JOIN, ADD, VOTER, NONE, NONE, 0, DROP, ADD},
    /* The deadline counts from the head, and only for ops with something left to do. */
    {"join at the head just now", JOIN, ADD, VOTER, 'P', NONE, 0, RUN, ADD},
    {"join at the head one ms short of the deadline", JOIN, ADD, VOTER, 'P', NONE, T - 1, RUN, ADD},
    {"join at the head for the deadline", JOIN, ADD, VOTER, 'P', NONE, T, EXP, ADD},
    {"a join with nothing to do is dropped, not expired", JOIN, SET, VOTER, 'R', 'V', T * 3, DROP,
     SET},
    /* The planner's role changes. */
    {"plan: promote a standby", PLAN, SET, VOTER, 'R', 'S', 0, RUN, SET},
    {"plan: already done in raft, record it", PLAN, SET, VOTER, 'R', 'V', 0, RUN, REC},
    {"plan: node gone from raft", PLAN, SET, VOTER, 'R', NONE, 0, DROP, SET},
    {"plan: node not registered", PLAN, SET, VOTER, 'P', 'S', 0, DROP, SET},
    {"plan: expired", PLAN, SET, SPARE, 'R', 'V', T + 5, EXP, SET},
    /* Removals. */
    {"remove a voter: demote first", RM, SET, SPARE, 'R', 'V', 0, RUN, SET},
    {"remove a spare: out of raft", RM, SET, SPARE, 'R', 'p', 0, RUN, REMR},
    {"remove, out of raft already: record", RM, REMR, SPARE, 'R', NONE, 0, RUN, RECR},
    {"remove, gone from both: done", RM, RECR, SPARE, NONE, NONE, 0, DROP, RECR},
    {"remove, unrecorded but in raft", RM, SET, SPARE, NONE, 'p', 0, RUN, REMR},
    /* Abandoned joins. */
    {"abandon, registered meanwhile", ABAND, SET, SPARE, 'R', 'V', 0, DROP, SET},
    {"abandon a node promoted but not recorded", ABAND, SET, SPARE, 'P', 'V', 0, RUN, SET},
    {"abandon a spare", ABAND, SET, SPARE, 'P', 'p', 0, RUN, REMR},
    {"abandon a node never added", ABAND, SET, SPARE, 'P', NONE, 0, RUN, RECR},
    {"abandon, recorded removal went through", ABAND, RECR, SPARE, NONE, NONE, 0, DROP, RECR},
};

static enum cluster_role raft_role(char c)
{
    return c == 'V' ? CLUSTER_ROLE_VOTER : c == 'S' ? CLUSTER_ROLE_STANDBY : CLUSTER_ROLE_SPARE;
}

static void test_table(void **state)
{
    (void)state;
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        const struct row *w = &rows[r];
        struct cluster_node node;
        memset(&node, 0, sizeof node);
        node.id = 7;
        node.state = w->record == 'R' ? CLUSTER_NODE_REGISTERED : CLUSTER_NODE_PENDING;
        struct cluster_member_facts f = {.kind = w->kind,
                                         .phase = w->phase,
                                         .role = w->role,
                                         .node = w->record == NONE ? NULL : &node,
                                         .in_raft = w->raft != NONE,
                                         .raft_role = raft_role(w->raft),
                                         .head_ms = HEAD,
                                         .now_ms = HEAD + w->held_ms,
                                         .timeout_ms = T};
        enum cluster_member_phase phase = (enum cluster_member_phase)99;
        enum cluster_member_action got = cluster_member_step(&f, &phase);
        if (got != w->want)
            fail_msg("%s: action %d, want %d", w->name, (int)got, (int)w->want);
        if (got == RUN && phase != w->want_phase)
            fail_msg("%s: phase %d, want %d", w->name, (int)phase, (int)w->want_phase);
    }
}

/* A clock behind the head stamp (it cannot go backwards, but the decision must not wrap). */
static void test_clock_behind(void **state)
{
    (void)state;
    struct cluster_member_facts f = {.kind = JOIN,
                                     .phase = ADD,
                                     .role = VOTER,
                                     .node = &(struct cluster_node){.id = 2},
                                     .head_ms = HEAD,
                                     .now_ms = HEAD - 1,
                                     .timeout_ms = T};
    enum cluster_member_phase phase;
    assert_int_equal(cluster_member_step(&f, &phase), RUN);
    assert_int_equal(phase, ADD);
}

static void test_role_held(void **state)
{
    (void)state;
    assert_true(cluster_member_role_held(WIT, VOTER));
    assert_true(cluster_member_role_held(STBY, STBY));
    assert_false(cluster_member_role_held(STBY, VOTER));
    assert_false(cluster_member_role_held(VOTER, SPARE));
    assert_false(cluster_member_role_held(WIT, STBY));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_clock_behind),
        cmocka_unit_test(test_role_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
