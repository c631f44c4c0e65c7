/* Unit tests for cluster/abandon: which pending join the leader gives up on, from a table of
 * node tables and silences, with an injected liveness view and clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/abandon.h"
#include "common/common.h"

#define BOUND CLUSTER_JOIN_ABANDON_MS
#define NOW   10000000ull
#define ON    UINT64_MAX /* heard now */

/* A row: node states (R registered, P pending), how long each has been silent (ON: online),
 * the id expected (0: none). */
struct row {
    const char *name;
    const char *states;
    uint64_t silent[4];
    uint64_t want;
};

struct view {
    struct cluster_liveness live;
    const uint64_t *silent;
    size_t n;
    unsigned asked_registered; /* the view is asked about pending nodes only */
    const struct cluster_node *nodes;
};

static bool fake_online(const struct cluster_liveness *v, uint64_t id, uint64_t *since)
{
    struct view *w = (struct view *)v->data;
    if (id == 0 || id > w->n)
        return true;
    if (w->nodes[id - 1].state == CLUSTER_NODE_REGISTERED)
        w->asked_registered++;
    if (w->silent[id - 1] == ON)
        return true;
    *since = NOW - w->silent[id - 1];
    return false;
}

static const struct row rows[] = {
    {"nothing pending", "RRR", {BOUND * 9, 0, 0}, 0},
    {"pending and heard", "RP", {0, ON}, 0},
    {"pending, silent less than the bound", "RP", {0, BOUND - 1}, 0},
    {"pending, silent exactly the bound", "RP", {0, BOUND}, 2},
    {"pending, silent long ago", "RP", {0, BOUND * 10}, 2},
    {"the first of two abandoned", "RPRP", {0, BOUND + 5, 0, BOUND * 3}, 2},
    {"a heard pending node does not shield a silent one", "RPP", {0, ON, BOUND}, 3},
    {"a silent registered node is the planner's business", "RRP", {0, BOUND * 5, 1}, 0},
    {"a clock that ran backwards (since in the future) abandons nothing",
     "RP",
     {0, (uint64_t)0 - 1000},
     0},
};

static size_t build(const char *states, struct cluster_node *nodes)
{
    size_t n = strlen(states);
    for (size_t i = 0; i < n; i++) {
        memset(&nodes[i], 0, sizeof nodes[i]);
        nodes[i].id = i + 1;
        nodes[i].role = CLUSTER_ROLE_SPARE;
        nodes[i].state = states[i] == 'R' ? CLUSTER_NODE_REGISTERED : CLUSTER_NODE_PENDING;
    }
    return n;
}

static void test_table(void **state)
{
    (void)state;
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        struct cluster_node nodes[4];
        size_t n = build(rows[r].states, nodes);
        struct view w = {.silent = rows[r].silent, .n = n, .nodes = nodes};
        w.live = (struct cluster_liveness){.online = fake_online, .data = &w};
        uint64_t got = cluster_join_abandoned(nodes, n, &w.live, NOW, BOUND);
        if (got != rows[r].want)
            fail_msg("%s: got %llu, want %llu", rows[r].name, (unsigned long long)got,
                     (unsigned long long)rows[r].want);
        assert_int_equal(w.asked_registered, 0);
    }
}

static void test_bad_input(void **state)
{
    (void)state;
    struct cluster_node nodes[2];
    size_t n = build("RP", nodes);
    uint64_t silent[2] = {0, BOUND * 2};
    struct view w = {.silent = silent, .n = n, .nodes = nodes};
    w.live = (struct cluster_liveness){.online = fake_online, .data = &w};
    assert_int_equal(cluster_join_abandoned(NULL, 2, &w.live, NOW, BOUND), 0);
    assert_int_equal(cluster_join_abandoned(nodes, n, NULL, NOW, BOUND), 0);
    struct cluster_liveness blind = {0};
    assert_int_equal(cluster_join_abandoned(nodes, n, &blind, NOW, BOUND), 0);
    assert_int_equal(cluster_join_abandoned(nodes, n, &w.live, NOW, BOUND), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
