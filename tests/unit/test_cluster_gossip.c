/* Unit tests for cluster/gossip: the protocol on a simulated network of up to 5 nodes (the wire
 * form and one node fed hand-made messages are in test_cluster_gossip_msg.c).
 *
 * The network: a fake clock that advances in 10 ms steps. Each step first delivers the messages
 * sent during the previous step (one hop = one step = 10 ms, so a ping/ack round trip takes
 * 20 ms and an indirect probe 40 ms, well inside ack_timeout), then ticks every running node.
 * Every message is encoded and decoded on the way (and compared with what was sent), so the
 * wire form is exercised by all the protocol tests. A per-link drop matrix breaks links; a
 * stopped node (killed or paused) is neither ticked nor delivered to. Every assertion about
 * time is about this simulated time, so the tests are exact and deterministic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/gossip.h"
#include "common/common.h"

#define STEP_MS    10
#define T0         5000000u         /* the fake monotonic clock's start */
#define INC0       1700000000000ull /* incarnations are wall-clock ms of a start */
#define NODES_MAX  5
#define FLIGHT_MAX 1024
#define ID(i)      ((uint64_t)(i) + 1)
#define PERIOD     500u
#define SUSPECT_MS 2000u

/* ---- the simulated network ------------------------------------------------------------------ */

struct sim {
    size_t n;
    uint64_t now;
    struct gossip *g[NODES_MAX]; /* ~130 KB each: on the heap */
    struct gossip_report rep[NODES_MAX];
    bool up[NODES_MAX];               /* ticked and delivered to */
    bool drop[NODES_MAX][NODES_MAX];  /* drop[a][b]: messages from a to b are lost */
    struct gossip_msg *flight, *next; /* sent in the previous step / in this one */
    size_t n_flight, n_next;
    struct gossip_msg rx; /* the decoded copy that is delivered */
    struct shir_buf wire;
    size_t lost; /* messages dropped by a link or a stopped node */
};

static void node_start(struct sim *s, size_t i, uint64_t incarnation)
{
    uint64_t ids[NODES_MAX];
    for (size_t k = 0; k < s->n; k++)
        ids[k] = ID(k);
    gossip_init(s->g[i], ID(i), incarnation, NULL, s->now, 0x5eedull * ID(i) + incarnation);
    gossip_set_members(s->g[i], ids, s->n, s->now);
    gossip_set_report(s->g[i], &s->rep[i]);
    s->up[i] = true;
}

static void node_report(struct sim *s, size_t i, const char *version, uint64_t leader)
{
    memset(&s->rep[i], 0, sizeof s->rep[i]);
    assert_int_equal(shir_str_copy(s->rep[i].version, sizeof s->rep[i].version, version), 0);
    s->rep[i].leader = leader;
    s->rep[i].applied = 100 + i;
    gossip_set_report(s->g[i], &s->rep[i]);
}

static struct sim *sim_new(size_t n)
{
    struct sim *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->n = n;
    s->now = T0;
    s->flight = calloc(FLIGHT_MAX, sizeof *s->flight);
    s->next = calloc(FLIGHT_MAX, sizeof *s->next);
    assert_true(s->flight && s->next);
    shir_buf_init(&s->wire, 64 * 1024);
    for (size_t i = 0; i < n; i++) {
        s->g[i] = calloc(1, sizeof *s->g[i]);
        assert_non_null(s->g[i]);
        (void)shir_str_copy(s->rep[i].version, sizeof s->rep[i].version, "1.4.0");
        s->rep[i].leader = 1;
        s->rep[i].applied = 100 + i;
        node_start(s, i, INC0 + i);
    }
    return s;
}

static void sim_free(struct sim *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->g[i]);
    free(s->flight);
    free(s->next);
    shir_buf_free(&s->wire);
    free(s);
}

/* Move node i's outbox onto the wire: what a caller of gossip.h does after every call. */
static void drain(struct sim *s, size_t i)
{
    struct gossip *g = s->g[i];
    assert_true(g->n_out <= GOSSIP_OUTBOX_MAX);
    for (size_t k = 0; k < g->n_out; k++) {
        assert_true(s->n_next < FLIGHT_MAX);
        assert_int_equal(g->out[k].from, ID(i));
        s->next[s->n_next++] = g->out[k];
    }
    g->n_out = 0;
}

static void deliver(struct sim *s, const struct gossip_msg *m)
{
    assert_true(m->to >= 1 && m->to <= s->n);
    size_t from = (size_t)(m->from - 1), to = (size_t)(m->to - 1);
    if (!s->up[to] || s->drop[from][to]) {
        s->lost++;
        return;
    }
    shir_buf_reset(&s->wire);
    assert_int_equal(gossip_msg_encode(m, &s->wire), 0);
    assert_true(s->wire.len <= 4096); /* the header's size claim */
    assert_int_equal(gossip_msg_decode(s->wire.data, s->wire.len, &s->rx), 0);
    assert_true(gossip_msg_equal(m, &s->rx));
    gossip_receive(s->g[to], &s->rx, s->now);
    drain(s, to);
}

static void sim_step(struct sim *s)
{
    struct gossip_msg *t = s->flight;
    s->now += STEP_MS;
    s->flight = s->next;
    s->n_flight = s->n_next;
    s->next = t;
    s->n_next = 0;
    for (size_t k = 0; k < s->n_flight; k++)
        deliver(s, &s->flight[k]);
    for (size_t i = 0; i < s->n; i++) {
        if (!s->up[i])
            continue;
        gossip_tick(s->g[i], s->now);
        drain(s, i);
    }
}

static void sim_run(struct sim *s, uint64_t ms)
{
    uint64_t end = s->now + ms;
    while (s->now < end)
        sim_step(s);
}

/* Break (or heal) both directions of every link of node i. */
static void isolate(struct sim *s, size_t i, bool lost)
{
    for (size_t k = 0; k < s->n; k++)
        s->drop[i][k] = s->drop[k][i] = lost;
}

/* ---- what nodes see ------------------------------------------------------------------------- */

static struct gossip_view view(const struct sim *s, size_t a, size_t b)
{
    struct gossip_view v;
    assert_int_equal(gossip_view(s->g[a], ID(b), &v), 0);
    assert_non_null(memchr(v.why, '\0', sizeof v.why));
    return v;
}

static uint8_t liveness(const struct sim *s, size_t a, size_t b)
{
    const struct gossip_member *m = gossip_member(s->g[a], ID(b));
    assert_non_null(m);
    return m->r.liveness;
}

/* a sees b alive, heard, ONLINE, with b's current report. */
static bool sees_online(const struct sim *s, size_t a, size_t b)
{
    struct gossip_view v = view(s, a, b);
    if (a != b) {
        const struct gossip_member *m = gossip_member(s->g[a], ID(b));
        if (!m->heard || m->r.liveness != GOSSIP_ALIVE || !gossip_alive(s->g[a], ID(b), NULL))
            return false;
    }
    return v.health == GOSSIP_ONLINE && v.liveness == GOSSIP_ALIVE && v.has_report &&
           v.why[0] == '\0' && strcmp(v.report.version, s->rep[b].version) == 0 &&
           v.report.leader == s->rep[b].leader && v.report.applied == s->rep[b].applied &&
           v.report.unreachable == 0;
}

static bool all_online(const struct sim *s)
{
    for (size_t a = 0; a < s->n; a++)
        for (size_t b = 0; b < s->n; b++)
            if (s->up[a] && s->up[b] && !sees_online(s, a, b))
                return false;
    return true;
}

/* Step until every running node sees every running node ONLINE; false past within_ms. */
static bool run_until_online(struct sim *s, uint64_t within_ms)
{
    uint64_t end = s->now + within_ms;
    while (!all_online(s)) {
        if (s->now >= end)
            return false;
        sim_step(s);
    }
    return true;
}

/* ---- the protocol on the simulated network -------------------------------------------------- */

/* 1. Three nodes converge within a few periods and then never suspect anyone. */
static void test_converge(void **state)
{
    (void)state;
    struct sim *s = sim_new(3);
    assert_true(run_until_online(s, 3 * PERIOD));
    uint64_t seq[3];
    for (size_t i = 0; i < 3; i++)
        seq[i] = s->g[i]->report_seq;
    for (int k = 0; k < 3000; k++) { /* 30 s */
        sim_step(s);
        assert_true(all_online(s));
    }
    assert_int_equal(s->lost, 0);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(s->g[i]->report_seq, seq[i]); /* nothing changed: nothing re-issued */
        /* /metrics' counters: a probe per period (~30 s / 500 ms), nobody suspected. */
        assert_true(s->g[i]->probes >= 55 && s->g[i]->probes <= 70);
        assert_int_equal(s->g[i]->suspicions, 0);
    }
    /* A new report reaches everyone within a period or two. */
    s->rep[1].applied = 555;
    gossip_set_report(s->g[1], &s->rep[1]);
    assert_true(run_until_online(s, 2 * PERIOD));
    sim_free(s);
}

/* 1b. Members not heard from are greeted at once: a fresh runtime converges in a few round
 * trips, not a round of probes; so does a member that joins later, on every node. */
static void test_greeting(void **state)
{
    (void)state;
    struct sim *s = sim_new(3);
    assert_true(run_until_online(s, 100));
    sim_free(s);

    s = sim_new(3);
    const uint64_t two[] = {1, 2}, three[] = {1, 2, 3};
    s->up[2] = false;
    for (size_t i = 0; i < 2; i++)
        gossip_set_members(s->g[i], two, 2, s->now);
    sim_run(s, 3 * PERIOD);
    assert_true(sees_online(s, 0, 1) && sees_online(s, 1, 0));
    node_start(s, 2, INC0 + 99); /* it joins: the others add it to their tables */
    for (size_t i = 0; i < 2; i++)
        gossip_set_members(s->g[i], three, 3, s->now);
    assert_true(run_until_online(s, 100));
    sim_free(s);
}

/* 2. A killed node: SUSPECT, then DEAD within period*N + suspect_ms + one period of slack. */
static void kill_one(size_t n)
{
    struct sim *s = sim_new(n);
    size_t k = n - 1;
    assert_true(run_until_online(s, 3 * PERIOD));
    sim_run(s, 2000);
    uint64_t killed = s->now;
    s->up[k] = false;
    isolate(s, k, true);

    uint64_t suspect[NODES_MAX] = {0}, dead[NODES_MAX] = {0};
    uint64_t bound = killed + PERIOD * n + SUSPECT_MS + PERIOD;
    while (s->now < bound + 2000) {
        sim_step(s);
        for (size_t a = 0; a < k; a++) {
            uint8_t l = liveness(s, a, k);
            if (l == GOSSIP_SUSPECT && !suspect[a])
                suspect[a] = s->now;
            if (l == GOSSIP_DEAD && !dead[a])
                dead[a] = s->now;
            if (dead[a])
                assert_int_equal(l, GOSSIP_DEAD); /* no flapping back */
            /* A member that died is suspected, never reported "unreachable" on the way. */
            assert_int_equal(s->g[a]->report.unreachable, 0);
        }
    }
    uint64_t first = UINT64_MAX;
    for (size_t a = 0; a < k; a++) {
        first = suspect[a] && suspect[a] < first ? suspect[a] : first;
        /* At most one suspicion of its own per survivor (the dead one; others may tell it
         * first), counted for /metrics. */
        assert_true(s->g[a]->suspicions <= 1);
    }
    uint64_t raised = 0;
    for (size_t a = 0; a < k; a++)
        raised += s->g[a]->suspicions;
    assert_true(raised >= 1); /* somebody's own probe found it silent */
    for (size_t a = 0; a < k; a++) {
        assert_true(suspect[a] > killed && suspect[a] < dead[a]);
        assert_true(dead[a] <= bound);
        assert_true(dead[a] >= first + SUSPECT_MS); /* nobody buries it early */
        uint64_t since = 0;
        assert_false(gossip_alive(s->g[a], ID(k), &since));
        assert_true(since > killed && since <= killed + PERIOD * (n + 1));
        struct gossip_view v = view(s, a, k);
        assert_int_equal(v.health, GOSSIP_OFFLINE);
        assert_int_equal(v.liveness, GOSSIP_DEAD);
        assert_string_equal(v.why, "not answering (dead)");
        /* The survivors stay ONLINE to each other: a dead member is not "unreachable". */
        for (size_t b = 0; b < k; b++)
            assert_true(sees_online(s, a, b));
    }
    sim_free(s);
}

static void test_kill(void **state)
{
    (void)state;
    kill_one(3);
    kill_one(5);
}

/* 3. The direct link A<->C broken: B relays the probes, nobody suspects anyone, and A and C
 * report that they cannot reach a member. Healed: ONLINE again. */
static void test_broken_link(void **state)
{
    (void)state;
    struct sim *s = sim_new(3);
    const size_t a = 0, b = 1, c = 2;
    assert_true(run_until_online(s, 3 * PERIOD));
    s->drop[a][c] = s->drop[c][a] = true;
    for (int k = 0; k < 1000; k++) { /* 10 s */
        sim_step(s);
        for (size_t x = 0; x < 3; x++)
            for (size_t y = 0; y < 3; y++)
                assert_true(x == y || gossip_alive(s->g[x], ID(y), NULL));
    }
    assert_true(s->lost > 0);
    for (size_t x = 0; x < 3; x++) {
        for (size_t y = 0; y < 3; y++) {
            struct gossip_view v = view(s, x, y);
            assert_int_equal(v.liveness, GOSSIP_ALIVE);
            if (y == b) {
                assert_int_equal(v.health, GOSSIP_ONLINE);
                continue;
            }
            assert_int_equal(v.health, GOSSIP_LIMITED);
            assert_true(v.report.unreachable >= 1);
            assert_string_equal(v.why, "cannot reach 1 member");
        }
    }
    s->drop[a][c] = s->drop[c][a] = false;
    assert_true(run_until_online(s, 4 * PERIOD));
    sim_free(s);
}

/* 4. A pause shorter than suspect_ms: suspected, refuted, never DEAD. */
static void test_pause_short(void **state)
{
    (void)state;
    struct sim *s = sim_new(3);
    const size_t c = 2;
    assert_true(run_until_online(s, 3 * PERIOD));
    sim_run(s, 1230); /* pause mid-period, not on a period boundary */
    uint64_t inc = s->g[c]->incarnation;
    bool suspected = false;
    s->up[c] = false;
    for (uint64_t end = s->now + 1500; s->now < end;) {
        sim_step(s);
        for (size_t a = 0; a < c; a++) {
            suspected |= liveness(s, a, c) == GOSSIP_SUSPECT;
            assert_int_not_equal(liveness(s, a, c), GOSSIP_DEAD);
        }
    }
    assert_true(suspected);
    s->up[c] = true;
    for (uint64_t end = s->now + 3000; s->now < end;) {
        sim_step(s);
        for (size_t a = 0; a < c; a++)
            assert_int_not_equal(liveness(s, a, c), GOSSIP_DEAD);
    }
    assert_true(s->g[c]->incarnation > inc);
    assert_true(all_online(s));
    for (size_t a = 0; a < c; a++)
        assert_int_equal(gossip_member(s->g[a], ID(c))->r.incarnation, s->g[c]->incarnation);
    sim_free(s);
}

/* 4. A pause longer than suspect_ms: DEAD, then ALIVE again once it answers. */
static void test_pause_long(void **state)
{
    (void)state;
    struct sim *s = sim_new(3);
    const size_t c = 2;
    assert_true(run_until_online(s, 3 * PERIOD));
    uint64_t inc = s->g[c]->incarnation;
    s->up[c] = false;
    sim_run(s, PERIOD * 3 + SUSPECT_MS + PERIOD);
    for (size_t a = 0; a < c; a++) {
        assert_false(gossip_alive(s->g[a], ID(c), NULL));
        assert_int_equal(liveness(s, a, c), GOSSIP_DEAD);
    }
    s->up[c] = true;
    assert_true(run_until_online(s, 3 * PERIOD));
    assert_true(s->g[c]->incarnation > inc);
    sim_free(s);
}

/* 5. A restart: a fresh state with a higher incarnation (and a report whose seq starts over)
 * replaces the old life everywhere, whether the old one was still thought alive or dead. */
static void test_restart(void **state)
{
    (void)state;
    struct sim *s = sim_new(3);
    const size_t c = 2;
    assert_true(run_until_online(s, 3 * PERIOD));
    for (int round = 0; round < 2; round++) {
        /* Round 0: back within 100 ms; round 1: after it was declared dead. */
        for (int i = 0; i < 10; i++) /* raise report_seq above what the new life will use */
            node_report(s, c, "1.4.0", 1 + (uint64_t)(i % 2));
        assert_true(run_until_online(s, 3 * PERIOD));
        s->up[c] = false;
        isolate(s, c, true);
        sim_run(s, round == 0 ? 100 : PERIOD * 4 + SUSPECT_MS);
        if (round == 1)
            assert_int_equal(liveness(s, 0, c), GOSSIP_DEAD);
        uint64_t inc = INC0 + s->now - T0;
        isolate(s, c, false);
        s->rep[c].applied = 9000 + (uint64_t)round;
        node_start(s, c, inc);
        assert_true(run_until_online(s, 3 * PERIOD));
        for (size_t a = 0; a < c; a++) {
            const struct gossip_member *m = gossip_member(s->g[a], ID(c));
            assert_int_equal(m->r.incarnation, inc);
            assert_int_equal(m->r.report_inc, inc);
        }
    }
    sim_free(s);
}

/* 6. Versions and leaders. */
static void test_versions(void **state)
{
    (void)state;
    struct sim *s = sim_new(3);
    node_report(s, 2, "1.5.0", 1);
    sim_run(s, 3 * PERIOD);
    for (size_t a = 0; a < 3; a++) {
        for (size_t b = 0; b < 3; b++) {
            struct gossip_view v = view(s, a, b);
            assert_int_equal(v.health, b == 2 ? GOSSIP_LIMITED : GOSSIP_ONLINE);
            if (b == 2)
                assert_string_equal(v.why, "minority version (most run 1.4.0)");
        }
    }
    sim_free(s);

    /* Two nodes, two versions: neither is the minority. */
    s = sim_new(2);
    node_report(s, 1, "1.5.0", 1);
    assert_true(run_until_online(s, 3 * PERIOD));
    sim_free(s);

    /* A node that follows no leader. */
    s = sim_new(3);
    node_report(s, 1, "1.4.0", 0);
    sim_run(s, 3 * PERIOD);
    for (size_t a = 0; a < 3; a++) {
        struct gossip_view v = view(s, a, 1);
        assert_int_equal(v.health, GOSSIP_LIMITED);
        assert_string_equal(v.why, "no leader");
        assert_true(sees_online(s, a, 0));
        assert_true(sees_online(s, a, 2));
    }
    /* It finds its leader: announced to everyone at once, not with its next probe. */
    node_report(s, 1, "1.4.0", 1);
    assert_true(run_until_online(s, 3 * STEP_MS));
    sim_free(s);
}

/* 7. In the network: a node that drops a member from its table forgets it for good, while the
 * forgotten node (which still lists it) keeps trying. */
static void test_forget_in_network(void **state)
{
    (void)state;
    struct sim *s = sim_new(3);
    assert_true(run_until_online(s, 3 * PERIOD));
    const uint64_t ids[] = {1, 2};
    gossip_set_members(s->g[0], ids, 2, s->now);
    for (int k = 0; k < 500; k++) {
        sim_step(s);
        assert_null(gossip_member(s->g[0], 3));
        assert_true(sees_online(s, 0, 1));
    }
    sim_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_converge),
        cmocka_unit_test(test_greeting),
        cmocka_unit_test(test_kill),
        cmocka_unit_test(test_broken_link),
        cmocka_unit_test(test_pause_short),
        cmocka_unit_test(test_pause_long),
        cmocka_unit_test(test_restart),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_forget_in_network),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
