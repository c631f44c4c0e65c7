/* Unit tests for cluster/roles: the membership planner (table-driven over the 1/2/2+witness/3/4
 * rules and the standby promotion) and the quorum description, all with a fake clock and an
 * injected liveness view. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/roles.h"
#include "common/common.h"

#define DELAY 30000
#define NOW   1000000

/* A row: up to 6 nodes written as role letters (V voter, S standby, D draining standby, P spare,
 * W witness, p pending spare), which are offline for how long (0 = online), the leader, the
 * expected plan. */
struct row {
    const char *name;
    const char *roles;
    uint64_t down[6];
    uint64_t self;
    enum cluster_plan_kind kind;
    uint64_t node;
    enum cluster_role to;
};

struct view {
    struct cluster_liveness live;
    const uint64_t *down;
    size_t n;
    uint64_t now;
};

static bool fake_online(const struct cluster_liveness *v, uint64_t id, uint64_t *since)
{
    const struct view *w = (const struct view *)v;
    if (id == 0 || id > w->n || w->down[id - 1] == 0)
        return true;
    *since = w->now - w->down[id - 1];
    return false;
}

static size_t build(const char *roles, struct cluster_node *nodes)
{
    size_t n = strlen(roles);
    for (size_t i = 0; i < n; i++) {
        memset(&nodes[i], 0, sizeof nodes[i]);
        nodes[i].id = i + 1;
        (void)shir_str_fmt(nodes[i].name, sizeof nodes[i].name, "n%zu", i + 1);
        nodes[i].state = CLUSTER_NODE_REGISTERED;
        switch (roles[i]) {
        case 'V':
            nodes[i].role = CLUSTER_ROLE_VOTER;
            break;
        case 'S':
            nodes[i].role = CLUSTER_ROLE_STANDBY;
            break;
        case 'P':
            nodes[i].role = CLUSTER_ROLE_SPARE;
            break;
        case 'W':
            nodes[i].role = CLUSTER_ROLE_WITNESS;
            break;
        case 'p':
            nodes[i].role = CLUSTER_ROLE_SPARE;
            nodes[i].state = CLUSTER_NODE_PENDING;
            break;
        case 'D': /* a draining standby */
            nodes[i].role = CLUSTER_ROLE_STANDBY;
            nodes[i].drain = true;
            break;
        default:
            fail();
        }
    }
    return n;
}

static void test_plan_table(void **state)
{
    (void)state;
    const struct row rows[] = {
        {"1 voter: nothing to do", "V", {0}, 1, CLUSTER_PLAN_NONE, 0, 0},
        {"second node joins as spare: promote",
         "VP",
         {0},
         1,
         CLUSTER_PLAN_ASSIGN,
         2,
         CLUSTER_ROLE_VOTER},
        {"pending nodes are not in raft yet", "Vp", {0}, 1, CLUSTER_PLAN_NONE, 0, 0},
        {"2 voters: stable", "VV", {0}, 1, CLUSTER_PLAN_NONE, 0, 0},
        {"2 voters, follower briefly down: wait", "VV", {0, DELAY - 1}, 1, CLUSTER_PLAN_NONE, 0, 0},
        {"2 voters, follower gone past the delay: nothing to promote",
         "VV",
         {0, DELAY},
         1,
         CLUSTER_PLAN_NONE,
         0,
         0},
        {"a demoted member that is back is promoted again",
         "VS",
         {0},
         1,
         CLUSTER_PLAN_ASSIGN,
         2,
         CLUSTER_ROLE_VOTER},
        {"2 + witness: stable", "VVW", {0}, 1, CLUSTER_PLAN_NONE, 0, 0},
        {"2 + witness, a scan node dead: nothing can replace it",
         "VVW",
         {0, DELAY * 2},
         1,
         CLUSTER_PLAN_NONE,
         0,
         0},
        {"third node as spare: promote", "VVP", {0}, 1, CLUSTER_PLAN_ASSIGN, 3, CLUSTER_ROLE_VOTER},
        {"3 voters: stable", "VVV", {0}, 2, CLUSTER_PLAN_NONE, 0, 0},
        {"3 voters, one dead: no standby, keep 3",
         "VVV",
         {0, 0, DELAY * 9},
         1,
         CLUSTER_PLAN_NONE,
         0,
         0},
        {"fourth node as spare: standby",
         "VVVP",
         {0},
         1,
         CLUSTER_PLAN_ASSIGN,
         4,
         CLUSTER_ROLE_STANDBY},
        {"3 + standby: stable", "VVVS", {0}, 1, CLUSTER_PLAN_NONE, 0, 0},
        {"voter down less than the delay: wait",
         "VVVS",
         {0, DELAY - 1},
         1,
         CLUSTER_PLAN_NONE,
         0,
         0},
        {"voter down past the delay: promote the standby first",
         "VVVS",
         {0, DELAY},
         1,
         CLUSTER_PLAN_ASSIGN,
         4,
         CLUSTER_ROLE_VOTER},
        {"then demote the dead voter",
         "VVVV",
         {0, DELAY + 5},
         1,
         CLUSTER_PLAN_ASSIGN,
         2,
         CLUSTER_ROLE_STANDBY},
        {"second failure in sequence: no online standby, keep quorum",
         "VSVV",
         {0, DELAY * 3, DELAY * 2},
         1,
         CLUSTER_PLAN_NONE,
         0,
         0},
        {"standby offline cannot be promoted",
         "VVVS",
         {0, DELAY, 0, 1},
         1,
         CLUSTER_PLAN_NONE,
         0,
         0},
        {"the leader is never demoted",
         "VVVV",
         {0},
         4,
         CLUSTER_PLAN_ASSIGN,
         3,
         CLUSTER_ROLE_STANDBY},
        {"demote the longest offline voter",
         "VVVV",
         {0, 5, 9, 0},
         1,
         CLUSTER_PLAN_ASSIGN,
         3,
         CLUSTER_ROLE_STANDBY},
        {"standby preferred over spare",
         "VVPS",
         {0},
         1,
         CLUSTER_PLAN_ASSIGN,
         4,
         CLUSTER_ROLE_VOTER},
        {"witness is never demoted to make room",
         "VVWV",
         {0},
         1,
         CLUSTER_PLAN_ASSIGN,
         4,
         CLUSTER_ROLE_STANDBY},
        {"a draining standby is promoted last",
         "VVDS",
         {0},
         1,
         CLUSTER_PLAN_ASSIGN,
         4,
         CLUSTER_ROLE_VOTER},
        {"... but promoted when it is the only one",
         "VVD",
         {0},
         1,
         CLUSTER_PLAN_ASSIGN,
         3,
         CLUSTER_ROLE_VOTER},
        {"5 members: 5 voters", "VVVSS", {0}, 1, CLUSTER_PLAN_ASSIGN, 4, CLUSTER_ROLE_VOTER},
        {"6 members: 5 voters + 1 standby", "VVVVVS", {0}, 1, CLUSTER_PLAN_NONE, 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        struct cluster_node nodes[6];
        size_t n = build(r->roles, nodes);
        struct view v = {.live = {.online = fake_online}, .down = r->down, .n = n, .now = NOW};
        struct shir_fake_clock clk;
        shir_fake_clock_init(&clk, NOW);
        struct cluster_settings s = {.max_nodes = 6, .standby_promotion_delay_ms = DELAY};
        struct cluster_plan p;
        print_message("row: %s\n", r->name);
        assert_int_equal(cluster_roles_plan(nodes, n, r->self, &s, &v.live, &clk.clock, &p), 0);
        assert_non_null(p.reason);
        assert_int_equal(p.kind, r->kind);
        if (r->kind == CLUSTER_PLAN_ASSIGN) {
            assert_int_equal(p.node_id, r->node);
            assert_int_equal(p.to, r->to);
            assert_int_equal(p.from, nodes[r->node - 1].role);
        }
    }
}

/* Drive the 4-node group through two sequential failures, applying each planned change, and
 * check it converges with a majority of voters online after each. */
static void test_four_nodes_two_sequential_failures(void **state)
{
    (void)state;
    struct cluster_node nodes[4];
    size_t n = build("VVVS", nodes);
    uint64_t down[4] = {0};
    struct shir_fake_clock clk;
    shir_fake_clock_init(&clk, NOW);
    struct view v = {.live = {.online = fake_online}, .down = down, .n = n, .now = NOW};
    struct cluster_settings s = {.max_nodes = 4, .standby_promotion_delay_ms = DELAY};
    struct cluster_plan p;
    struct cluster_quorum q;

    down[1] = 1; /* node 2 fails */
    int changes = 0;
    for (int step = 0; step < 10; step++) {
        shir_fake_clock_advance(&clk, DELAY);
        v.now = clk.now;
        for (size_t i = 0; i < n; i++)
            if (down[i])
                down[i] += DELAY;
        assert_int_equal(cluster_roles_plan(nodes, n, 1, &s, &v.live, &clk.clock, &p), 0);
        if (p.kind == CLUSTER_PLAN_NONE)
            break;
        nodes[p.node_id - 1].role = p.to;
        changes++;
        cluster_quorum_describe(nodes, n, &v.live, &q);
        assert_true(q.has_quorum);
    }
    assert_int_equal(changes, 2); /* promote 4, demote 2 */
    assert_int_equal(nodes[3].role, CLUSTER_ROLE_VOTER);
    assert_int_equal(nodes[1].role, CLUSTER_ROLE_STANDBY);

    down[2] = 1; /* node 3 fails next: no standby online, quorum 2 of 3 holds */
    shir_fake_clock_advance(&clk, DELAY * 2);
    v.now = clk.now;
    down[1] += DELAY * 2;
    down[2] += DELAY * 2;
    assert_int_equal(cluster_roles_plan(nodes, n, 1, &s, &v.live, &clk.clock, &p), 0);
    assert_int_equal(p.kind, CLUSTER_PLAN_NONE);
    cluster_quorum_describe(nodes, n, &v.live, &q);
    assert_true(q.has_quorum);
    assert_int_equal(q.voters_online, 2);
}

static void test_plan_bad_input(void **state)
{
    (void)state;
    struct cluster_plan p;
    struct cluster_settings s = {.max_nodes = 4, .standby_promotion_delay_ms = DELAY};
    struct shir_fake_clock clk;
    shir_fake_clock_init(&clk, 0);
    assert_int_equal(cluster_roles_plan(NULL, 1, 1, &s, NULL, &clk.clock, &p), SHIR_E_INVAL);
    assert_int_equal(cluster_roles_plan(NULL, 0, 1, &s, NULL, NULL, NULL), SHIR_E_INVAL);
}

/* The words of `status`, from roles and who is down (a nonzero down[] entry: offline). A row
 * with nobody down is also described without a view, which must give the same words. */
struct words_case {
    const char *roles;
    uint64_t down[6];
    const char *want;
};

static const struct words_case words_cases[] = {
    {"", {0}, "no voters: the runtime is not initialised"},
    {"V", {0}, "1 voter: no automatic failover; add two nodes, or a node and a witness"},
    {"VV", {0}, "2 voters: automatic failover needs a third member \u2014 add a node or a witness"},
    {"VVW", {0}, "3 voters (1 witness), tolerates 1 failure"},
    {"VVV", {0}, "3 voters, tolerates 1 failure"},
    {"VVVS", {0}, "3 voters + 1 standby, tolerates 1 failure at a time and 2 in sequence"},
    {"VVVVV", {0}, "5 voters, tolerates 2 failures"},
    {"Vp", {0}, "1 voter: no automatic failover; add two nodes, or a node and a witness"},
    /* Issue 12, defect 3: one of three dead used to read "tolerates 1 failure". */
    {"VVV", {0, 0, 5}, "3 voters, 1 offline: a further failure stops the runtime"},
    {"VVW", {0, 0, 5}, "3 voters (1 witness), 1 offline: a further failure stops the runtime"},
    {"VVVS", {0, 5},
     "3 voters + 1 standby, 1 offline: a further failure stops the runtime until a standby is "
     "promoted"},
    {"VVVS", {0, 0, 0, 5}, "3 voters + 1 standby, tolerates 1 failure at a time and 2 in sequence"},
    {"VVVVV", {0, 5}, "5 voters, 1 offline: tolerates 1 more failure"},
    {"VVVVV", {0, 5, 5}, "5 voters, 2 offline: a further failure stops the runtime"},
    {"VVVVV", {0, 5, 5, 5}, "5 voters: quorum lost, 2 of 5 voters online and 3 needed"},
    {"VVV", {0, 5, 5}, "3 voters: quorum lost, 1 of 3 voters online and 2 needed"},
    {"VV", {0, 5}, "2 voters: quorum lost, 1 of 2 voters online and 2 needed"},
};

static void test_quorum_words(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof words_cases / sizeof words_cases[0]; i++) {
        const struct words_case *c = &words_cases[i];
        struct cluster_node nodes[6];
        size_t n = build(c->roles, nodes);
        struct view v = {.live = {.online = fake_online}, .down = c->down, .n = n, .now = NOW};
        struct cluster_quorum q;
        print_message("row %zu: %s\n", i, c->roles);
        cluster_quorum_describe(nodes, n, &v.live, &q);
        assert_string_equal(q.text, c->want);
        bool nobody_down = true;
        for (size_t k = 0; k < n; k++)
            nobody_down = nobody_down && c->down[k] == 0;
        if (nobody_down) {
            cluster_quorum_describe(nodes, n, NULL, &q);
            assert_string_equal(q.text, c->want);
        }
    }

    struct cluster_node nodes[4];
    size_t n = build("VVVS", nodes);
    struct cluster_quorum q;
    cluster_quorum_describe(nodes, n, NULL, &q);
    assert_int_equal(q.voters, 3);
    assert_int_equal(q.needed, 2);
    assert_int_equal(q.tolerates, 1);
    assert_int_equal(q.standbys, 1);
    assert_true(q.can_failover);
    n = build("VV", nodes);
    cluster_quorum_describe(nodes, n, NULL, &q);
    assert_false(q.can_failover);
}

static void test_target_voters(void **state)
{
    (void)state;
    static const unsigned want[] = {0, 1, 2, 3, 3, 5, 5, 5, 5};
    for (unsigned m = 0; m < sizeof want / sizeof want[0]; m++)
        assert_int_equal(cluster_roles_target_voters(m), want[m]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_table),
        cmocka_unit_test(test_four_nodes_two_sequential_failures),
        cmocka_unit_test(test_plan_bad_input),
        cmocka_unit_test(test_quorum_words),
        cmocka_unit_test(test_target_voters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
