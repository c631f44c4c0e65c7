/* The placement rule (cluster/place.h) from tables of cases: each case is the nodes as the
 * leader sees them, the queued runs oldest first, and where each run must go (or why it waits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/place.h"

#define MAXN 6
#define MAXR 8

/* A node in a table: id, capacity, load, cpu, then flags. */
#define NODE(id, cap, load, cpu) {id, cap, load, cpu, true, false, false, true}
#define DEAD(id, cap, load) {id, cap, load, 0, false, false, false, true}
#define DRAINING(id, cap, load) {id, cap, load, 0, true, true, false, true}
#define WITNESS(id) {id, 0, 0, 0, true, false, true, true}
#define OLD(id, cap, load) {id, cap, load, 0, true, false, false, false}

struct want {
    uint64_t node;
    enum cluster_place_wait wait;
};

struct place_case {
    const char *name;
    struct cluster_place_node nodes[MAXN];
    size_t n_nodes;
    struct cluster_place_run runs[MAXR];
    size_t n_runs;
    size_t max_placed;
    struct want want[MAXR];
};

#define P(n) {n, CLUSTER_PLACE_PLACED}
#define W(why) {0, CLUSTER_PLACE_##why}

static const struct place_case cases[] = {
    {"least loaded wins", {NODE(1, 4, 2, 0), NODE(2, 4, 1, 0), NODE(3, 4, 3, 0)}, 3,
     {{10, {0}, 0}}, 1, 64, {P(2)}},
    {"load is relative to capacity", {NODE(1, 2, 1, 0), NODE(2, 8, 3, 0)}, 2,
     {{10, {0}, 0}}, 1, 64, {P(2)}},
    {"ties by cpu, then id", {NODE(3, 4, 1, 500), NODE(2, 4, 1, 100), NODE(1, 4, 1, 100)}, 3,
     {{10, {0}, 0}}, 1, 64, {P(1)}},
    {"six runs on three equal nodes spread evenly",
     {NODE(1, 4, 0, 0), NODE(2, 4, 0, 0), NODE(3, 4, 0, 0)}, 3,
     {{1, {0}, 0}, {2, {0}, 0}, {3, {0}, 0}, {4, {0}, 0}, {5, {0}, 0}, {6, {0}, 0}}, 6, 64,
     {P(1), P(2), P(3), P(1), P(2), P(3)}},
    {"oldest first until capacity is used up", {NODE(1, 1, 0, 0), NODE(2, 1, 0, 0)}, 2,
     {{1, {0}, 0}, {2, {0}, 0}, {3, {0}, 0}}, 3, 64, {P(1), P(2), W(AT_CAPACITY)}},
    {"dead, draining, witness and old versions are not eligible",
     {DEAD(1, 4, 0), DRAINING(2, 4, 0), WITNESS(3), OLD(4, 4, 0), NODE(5, 1, 0, 900)}, 5,
     {{1, {0}, 0}, {2, {0}, 0}}, 2, 64, {P(5), W(AT_CAPACITY)}},
    {"anti-affinity: another node when one is eligible", {NODE(1, 4, 0, 0), NODE(2, 4, 3, 0)}, 2,
     {{1, {1}, 1}}, 1, 64, {P(2)}},
    {"anti-affinity is a preference, not a ban", {NODE(1, 4, 0, 0), DEAD(2, 4, 0)}, 2,
     {{1, {1}, 1}}, 1, 64, {P(1)}},
    {"a batch limit leaves the rest queued", {NODE(1, 8, 0, 0)}, 1,
     {{1, {0}, 0}, {2, {0}, 0}, {3, {0}, 0}}, 3, 2, {P(1), P(1), W(AT_CAPACITY)}},
    {"waiting: only draining nodes", {DRAINING(1, 4, 0), DRAINING(2, 4, 0)}, 2,
     {{1, {0}, 0}}, 1, 64, {W(DRAINING)}},
    {"waiting: full beats draining", {DRAINING(1, 4, 0), NODE(2, 1, 1, 0)}, 2,
     {{1, {0}, 0}}, 1, 64, {W(AT_CAPACITY)}},
    {"waiting: no compatible version", {OLD(1, 4, 0), DEAD(2, 4, 0)}, 2, {{1, {0}, 0}}, 1, 64,
     {W(INCOMPATIBLE)}},
    {"waiting: nobody online", {DEAD(1, 4, 0), DEAD(2, 4, 0), WITNESS(3)}, 3, {{1, {0}, 0}}, 1,
     64, {W(OFFLINE)}},
    {"waiting: a witness alone runs nothing", {WITNESS(1)}, 1, {{1, {0}, 0}}, 1, 64,
     {W(NO_NODES)}},
    {"waiting: no nodes at all", {{0}}, 0, {{1, {0}, 0}}, 1, 64, {W(NO_NODES)}},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const struct place_case *pc = &cases[c];
        struct cluster_place_node nodes[MAXN];
        struct cluster_place_result out[MAXR];
        memcpy(nodes, pc->nodes, sizeof nodes);
        size_t want_placed = 0;
        for (size_t r = 0; r < pc->n_runs; r++)
            want_placed += pc->want[r].node != 0;
        size_t placed =
            cluster_place(nodes, pc->n_nodes, pc->runs, pc->n_runs, pc->max_placed, out);
        if (placed != want_placed)
            fail_msg("%s: placed %zu, want %zu", pc->name, placed, want_placed);
        for (size_t r = 0; r < pc->n_runs; r++) {
            if (out[r].run != pc->runs[r].id || out[r].node != pc->want[r].node ||
                out[r].wait != pc->want[r].wait)
                fail_msg("%s: run %zu went to %llu (%s), want %llu (%s)", pc->name, r,
                         (unsigned long long)out[r].node, cluster_place_wait_text(out[r].wait),
                         (unsigned long long)pc->want[r].node,
                         cluster_place_wait_text(pc->want[r].wait));
        }
    }
}

/* Whatever the inputs, no node ends above its capacity and loads only grow by what was placed. */
static void test_never_over_capacity(void **state)
{
    (void)state;
    uint64_t seed = 42;
    for (int round = 0; round < 2000; round++) {
        struct cluster_place_node nodes[MAXN];
        struct cluster_place_run runs[MAXR];
        struct cluster_place_result out[MAXR];
        size_t nn = 1 + (size_t)(seed % MAXN), nr = 1 + (size_t)((seed >> 8) % MAXR);
        uint32_t before = 0;
        for (size_t i = 0; i < nn; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            nodes[i] = (struct cluster_place_node){
                .id = i + 1, .capacity = (uint32_t)(seed >> 60), .cpu = (uint32_t)(seed >> 40) % 1000,
                .alive = (seed >> 3) & 1, .draining = ((seed >> 5) & 7) == 0,
                .witness = ((seed >> 9) & 7) == 0, .compatible = ((seed >> 13) & 7) != 0};
            nodes[i].load = nodes[i].capacity ? (uint32_t)((seed >> 20) % (nodes[i].capacity + 1)) : 0;
            before += nodes[i].load;
        }
        for (size_t r = 0; r < nr; r++)
            runs[r] = (struct cluster_place_run){.id = r + 1};
        size_t placed = cluster_place(nodes, nn, runs, nr, 64, out);
        uint32_t after = 0;
        for (size_t i = 0; i < nn; i++) {
            after += nodes[i].load;
            if (nodes[i].capacity)
                assert_true(nodes[i].load <= nodes[i].capacity);
        }
        assert_int_equal(after, before + placed);
    }
}

static void test_versions(void **state)
{
    (void)state;
    assert_true(cluster_place_versions_compatible("0.1.0", "0.1.0-next"));
    assert_true(cluster_place_versions_compatible("1.4.2", "1.4.9"));
    assert_false(cluster_place_versions_compatible("0.1.0", "0.2.0"));
    assert_false(cluster_place_versions_compatible("1.0.0", "2.0.0"));
    assert_true(cluster_place_versions_compatible("dev", "dev"));
    assert_false(cluster_place_versions_compatible("dev", "0.1.0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_never_over_capacity),
        cmocka_unit_test(test_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
