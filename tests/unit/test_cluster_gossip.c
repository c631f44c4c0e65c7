/* Unit tests for cluster/gossip: the wire form (round trips, and every shape the decoder must
 * refuse), the record precedence table, membership changes and self-refutation on one node fed
 * hand-made messages, then the protocol on a simulated network of up to 5 nodes.
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

/* ---- the wire form -------------------------------------------------------------------------- */

static void fill_record(struct gossip_record *r, uint64_t id, uint64_t inc, uint8_t l)
{
    memset(r, 0, sizeof *r);
    r->id = id;
    r->incarnation = inc;
    r->liveness = l;
    r->report_inc = inc;
    r->report_seq = 3;
    (void)shir_str_copy(r->report.version, sizeof r->report.version, "1.4.0");
    r->report.leader = 1;
    r->report.applied = 77;
}

static void fill_msg(struct gossip_msg *m, uint8_t kind, uint64_t from, uint64_t to, size_t n)
{
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->from = from;
    m->to = to;
    m->seq = 9;
    m->target = to;
    for (size_t i = 0; i < n; i++)
        fill_record(&m->rec[m->n++], 10 + i, INC0 + i, (uint8_t)(i % 3));
}

static void test_wire_round_trip(void **state)
{
    (void)state;
    struct gossip_msg *m = calloc(2, sizeof *m);
    assert_non_null(m);
    struct shir_buf b;
    shir_buf_init(&b, 64 * 1024);
    for (uint8_t kind = GOSSIP_PING; kind <= GOSSIP_PING_REQ; kind++) {
        for (size_t n = 0; n <= GOSSIP_MEMBERS_MAX; n += 8) {
            fill_msg(&m[0], kind, 1, 2, n);
            m[0].origin = kind == GOSSIP_PING_REQ ? 0 : 3;
            shir_buf_reset(&b);
            assert_int_equal(gossip_msg_encode(&m[0], &b), 0);
            assert_int_equal(gossip_msg_decode(b.data, b.len, &m[1]), 0);
            assert_true(gossip_msg_equal(&m[0], &m[1]));
        }
    }
    /* The largest message: 32 records with every field at its widest stays under 4 KiB. */
    fill_msg(&m[0], GOSSIP_ACK, UINT64_MAX, UINT64_MAX, GOSSIP_MEMBERS_MAX);
    m[0].seq = m[0].target = m[0].origin = UINT64_MAX;
    for (size_t i = 0; i < m[0].n; i++) {
        struct gossip_record *r = &m[0].rec[i];
        r->id = r->incarnation = r->report_inc = r->report_seq = UINT64_MAX - i;
        r->report.leader = r->report.applied = UINT64_MAX;
        r->report.unreachable = GOSSIP_MEMBERS_MAX;
        r->report.cpu = 1000;
        r->report.mem_avail_mb = r->report.mem_total_mb = UINT64_MAX;
        memset(r->report.version, 'v', GOSSIP_VERSION_MAX);
        r->report.version[GOSSIP_VERSION_MAX] = '\0';
    }
    shir_buf_reset(&b);
    assert_int_equal(gossip_msg_encode(&m[0], &b), 0);
    assert_true(b.len <= 4096);
    assert_int_equal(gossip_msg_decode(b.data, b.len, &m[1]), 0);
    assert_true(gossip_msg_equal(&m[0], &m[1]));
    /* A buffer too small is an error, not an overrun. */
    struct shir_buf small;
    shir_buf_init(&small, 64);
    assert_int_equal(gossip_msg_encode(&m[0], &small), SHIR_E_TOOBIG);
    shir_buf_free(&small);
    shir_buf_free(&b);
    free(m);
}

/* A minimal msgpack writer, to build what gossip_msg_encode never would. */
struct mp {
    uint8_t b[8192];
    size_t n;
};

static void mp_byte(struct mp *w, uint8_t v)
{
    assert_true(w->n < sizeof w->b);
    w->b[w->n++] = v;
}

static void mp_be(struct mp *w, uint64_t v, unsigned bytes)
{
    for (unsigned i = bytes; i-- > 0;)
        mp_byte(w, (uint8_t)(v >> (8 * i)));
}

/* Not the shortest forms (gossip_msg_encode writes those): the decoder takes every width. */
static void mp_uint(struct mp *w, uint64_t v)
{
    mp_byte(w, v < 128 ? (uint8_t)v : 0xcf);
    if (v >= 128)
        mp_be(w, v, 8);
}

static void mp_array(struct mp *w, uint32_t n)
{
    mp_byte(w, 0xdc);
    mp_be(w, n, 2);
}

static void mp_str(struct mp *w, const char *s, size_t len)
{
    mp_byte(w, 0xd9);
    mp_byte(w, (uint8_t)len);
    for (size_t i = 0; i < len; i++)
        mp_byte(w, (uint8_t)s[i]);
}

/* One record; `fields` 12 is the right shape; field 9 (cpu) is rec_cpu, later ones 0. */
static uint64_t rec_cpu;
static void mp_rec(struct mp *w, uint64_t id, uint64_t liveness, const char *version, size_t vlen,
                   uint64_t unreachable, uint32_t fields)
{
    mp_array(w, fields);
    mp_uint(w, id);
    mp_uint(w, INC0);
    mp_uint(w, liveness);
    mp_uint(w, INC0);
    mp_uint(w, 4);
    mp_str(w, version, vlen);
    mp_uint(w, 1);
    mp_uint(w, 77);
    if (fields > 8)
        mp_uint(w, unreachable);
    for (uint32_t i = 9; i < fields; i++)
        mp_uint(w, i == 9 ? rec_cpu : 0);
}

static void mp_head(struct mp *w, uint64_t kind, uint64_t from, uint64_t to, uint32_t fields,
                    uint32_t records)
{
    memset(w, 0, sizeof *w);
    mp_array(w, fields);
    mp_uint(w, kind);
    mp_uint(w, from);
    mp_uint(w, to);
    mp_uint(w, 5);
    mp_uint(w, to);
    mp_uint(w, 0);
    for (uint32_t i = 7; i < fields; i++)
        mp_uint(w, 0);
    mp_array(w, records);
}

static int decode(const struct mp *w, struct gossip_msg *m)
{
    int rc = gossip_msg_decode(w->b, w->n, m);
    if (rc != 0)
        assert_int_equal(m->n, 0); /* nothing half-decoded is handed out */
    return rc;
}

static void test_wire_refuses_messages(void **state)
{
    (void)state;
    struct gossip_msg *m = malloc(sizeof *m);
    struct mp *w = malloc(sizeof *w);
    assert_true(m && w);
    /* The hand-made writer agrees with the decoder on a good message. */
    mp_head(w, GOSSIP_PING_REQ, 1, 2, 7, 2);
    mp_rec(w, 1, GOSSIP_ALIVE, "1.4.0", 5, 0, 12);
    mp_rec(w, 3, GOSSIP_DEAD, "1.4.0", 5, GOSSIP_MEMBERS_MAX, 12);
    assert_int_equal(decode(w, m), 0);
    assert_int_equal(m->n, 2);
    assert_int_equal(m->rec[1].liveness, GOSSIP_DEAD);
    assert_string_equal(m->rec[1].report.version, "1.4.0");
    struct mp good = *w;

    /* Every proper prefix is truncated. */
    for (size_t cut = 0; cut < good.n; cut++) {
        int rc = gossip_msg_decode(good.b, cut, m);
        assert_true(rc == SHIR_E_TRUNC || rc == SHIR_E_MALFORMED);
        assert_int_equal(m->n, 0);
    }
    /* Trailing bytes. */
    *w = good;
    mp_byte(w, 0xc0);
    assert_int_equal(decode(w, m), SHIR_E_MALFORMED);
    /* More records than GOSSIP_MEMBERS_MAX, all well formed. */
    mp_head(w, GOSSIP_PING, 1, 2, 7, GOSSIP_MEMBERS_MAX + 1);
    for (uint64_t i = 0; i <= GOSSIP_MEMBERS_MAX; i++)
        mp_rec(w, i + 1, GOSSIP_ALIVE, "1.4.0", 5, 0, 12);
    assert_int_equal(decode(w, m), SHIR_E_TOOBIG);
    /* A record count bomb. */
    mp_head(w, GOSSIP_PING, 1, 2, 7, 0);
    w->n--;
    mp_byte(w, 0xdd);
    mp_be(w, UINT32_MAX, 4);
    assert_true(decode(w, m) < 0);
    /* A kind that does not exist. */
    mp_head(w, GOSSIP_PING_REQ + 1, 1, 2, 7, 0);
    assert_int_equal(decode(w, m), SHIR_E_MALFORMED);
    /* from = 0, to = 0. */
    mp_head(w, GOSSIP_PING, 0, 2, 7, 0);
    assert_int_equal(decode(w, m), SHIR_E_MALFORMED);
    mp_head(w, GOSSIP_PING, 1, 0, 7, 0);
    assert_int_equal(decode(w, m), SHIR_E_MALFORMED);
    /* A message with 6 or 8 fields. */
    mp_head(w, GOSSIP_PING, 1, 2, 8, 0);
    assert_int_equal(decode(w, m), SHIR_E_MALFORMED);
    memset(w, 0, sizeof *w);
    mp_array(w, 6);
    for (int i = 0; i < 6; i++)
        mp_uint(w, 1);
    assert_true(decode(w, m) < 0);
    /* Not an array at all; nothing at all. */
    memset(w, 0, sizeof *w);
    mp_uint(w, 1);
    assert_int_equal(decode(w, m), SHIR_E_MALFORMED);
    assert_true(gossip_msg_decode("", 0, m) < 0);
    free(w);
    free(m);
}

static void test_wire_refuses_records(void **state)
{
    (void)state;
    struct gossip_msg *m = malloc(sizeof *m);
    struct mp *w = malloc(sizeof *w);
    assert_true(m && w);
    /* Records: liveness > 2, id 0, unreachable > GOSSIP_MEMBERS_MAX, cpu > 1000, 11 or 13
     * fields. */
    mp_head(w, GOSSIP_PING, 1, 2, 7, 1);
    mp_rec(w, 3, GOSSIP_DEAD + 1, "1.4.0", 5, 0, 12);
    assert_int_equal(decode(w, m), SHIR_E_MALFORMED);
    mp_head(w, GOSSIP_PING, 1, 2, 7, 1);
    mp_rec(w, 0, GOSSIP_ALIVE, "1.4.0", 5, 0, 12);
    assert_int_equal(decode(w, m), SHIR_E_MALFORMED);
    mp_head(w, GOSSIP_PING, 1, 2, 7, 1);
    mp_rec(w, 3, GOSSIP_ALIVE, "1.4.0", 5, GOSSIP_MEMBERS_MAX + 1, 12);
    assert_int_equal(decode(w, m), SHIR_E_MALFORMED);
    rec_cpu = 1001;
    mp_head(w, GOSSIP_PING, 1, 2, 7, 1);
    mp_rec(w, 3, GOSSIP_ALIVE, "1.4.0", 5, 0, 12);
    assert_int_equal(decode(w, m), SHIR_E_MALFORMED);
    rec_cpu = 1000;
    mp_head(w, GOSSIP_PING, 1, 2, 7, 1);
    mp_rec(w, 3, GOSSIP_ALIVE, "1.4.0", 5, 0, 12);
    assert_int_equal(decode(w, m), 0);
    assert_int_equal(m->rec[0].report.cpu, 1000);
    rec_cpu = 0;
    mp_head(w, GOSSIP_PING, 1, 2, 7, 1);
    mp_rec(w, 3, GOSSIP_ALIVE, "1.4.0", 5, 0, 11);
    assert_int_equal(decode(w, m), SHIR_E_MALFORMED);
    mp_head(w, GOSSIP_PING, 1, 2, 7, 1);
    mp_rec(w, 3, GOSSIP_ALIVE, "1.4.0", 5, 0, 13);
    assert_int_equal(decode(w, m), SHIR_E_MALFORMED);
    /* Versions: 31 bytes fit, 32 do not; an embedded NUL is refused. */
    char v[64];
    memset(v, 'x', sizeof v);
    mp_head(w, GOSSIP_PING, 1, 2, 7, 1);
    mp_rec(w, 3, GOSSIP_ALIVE, v, GOSSIP_VERSION_MAX, 0, 12);
    assert_int_equal(decode(w, m), 0);
    assert_int_equal(strlen(m->rec[0].report.version), GOSSIP_VERSION_MAX);
    mp_head(w, GOSSIP_PING, 1, 2, 7, 1);
    mp_rec(w, 3, GOSSIP_ALIVE, v, GOSSIP_VERSION_MAX + 1, 0, 12);
    assert_int_equal(decode(w, m), SHIR_E_TOOBIG);
    mp_head(w, GOSSIP_PING, 1, 2, 7, 1);
    mp_rec(w, 3, GOSSIP_ALIVE, "1.4\0.0", 6, 0, 12);
    assert_int_equal(decode(w, m), SHIR_E_MALFORMED);
    free(w);
    free(m);
}

/* ---- one node fed hand-made messages -------------------------------------------------------- */

static struct gossip *node_alone(uint64_t self, const uint64_t *ids, size_t n)
{
    struct gossip *g = calloc(1, sizeof *g);
    assert_non_null(g);
    gossip_init(g, self, INC0, NULL, T0, 42);
    gossip_set_members(g, ids, n, T0);
    struct gossip_report r = {.version = "1.4.0", .leader = 1, .applied = 5};
    gossip_set_report(g, &r);
    /* A new leader/version is announced to every member at once (seq 0: outside the probes). */
    assert_int_equal(g->n_out, g->n);
    for (size_t i = 0; i < g->n_out; i++) {
        assert_int_equal(g->out[i].kind, GOSSIP_PING);
        assert_int_equal(g->out[i].seq, 0);
    }
    g->n_out = 0;
    return g;
}

/* A message from `from` to `to` carrying one record about `about`. */
static void say(struct gossip *g, struct gossip_msg *m, uint8_t kind, uint64_t from, uint64_t to,
                uint64_t about, uint8_t l, uint64_t inc, uint64_t now)
{
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->from = from;
    m->to = to;
    m->seq = 1;
    m->target = to;
    m->n = 1;
    fill_record(&m->rec[0], about, inc, l);
    gossip_receive(g, m, now);
}

/* The precedence table of gossip.h, row by row: member 2 holds cur(j), member 3 says upd(i). */
static void test_precedence(void **state)
{
    (void)state;
    static const struct {
        uint8_t cur;
        uint64_t j;
        uint8_t upd;
        uint64_t i;
        bool wins;
    } rows[] = {
        {GOSSIP_ALIVE, 5, GOSSIP_ALIVE, 6, true},     {GOSSIP_ALIVE, 5, GOSSIP_ALIVE, 5, false},
        {GOSSIP_SUSPECT, 5, GOSSIP_ALIVE, 6, true},   {GOSSIP_SUSPECT, 5, GOSSIP_ALIVE, 5, false},
        {GOSSIP_DEAD, 5, GOSSIP_ALIVE, 6, true},      {GOSSIP_DEAD, 5, GOSSIP_ALIVE, 5, false},
        {GOSSIP_ALIVE, 5, GOSSIP_SUSPECT, 5, true},   {GOSSIP_ALIVE, 5, GOSSIP_SUSPECT, 4, false},
        {GOSSIP_SUSPECT, 5, GOSSIP_SUSPECT, 6, true}, {GOSSIP_SUSPECT, 5, GOSSIP_SUSPECT, 5, false},
        {GOSSIP_DEAD, 5, GOSSIP_SUSPECT, 6, true},    {GOSSIP_DEAD, 5, GOSSIP_SUSPECT, 5, false},
        {GOSSIP_ALIVE, 5, GOSSIP_DEAD, 5, true},      {GOSSIP_ALIVE, 5, GOSSIP_DEAD, 4, false},
        {GOSSIP_SUSPECT, 5, GOSSIP_DEAD, 5, true},    {GOSSIP_SUSPECT, 5, GOSSIP_DEAD, 4, false},
        {GOSSIP_DEAD, 5, GOSSIP_DEAD, 6, true},       {GOSSIP_DEAD, 5, GOSSIP_DEAD, 5, false},
    };
    const uint64_t ids[] = {1, 2, 3};
    struct gossip_msg *m = malloc(sizeof *m);
    assert_non_null(m);
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        struct gossip *g = node_alone(1, ids, 3);
        say(g, m, GOSSIP_PING, 3, 1, 2, rows[k].cur, rows[k].j, T0 + 10);
        const struct gossip_member *two = gossip_member(g, 2);
        assert_int_equal(two->r.liveness, rows[k].cur);
        assert_int_equal(two->r.incarnation, rows[k].j);
        say(g, m, GOSSIP_PING, 3, 1, 2, rows[k].upd, rows[k].i, T0 + 20);
        uint8_t want_l = rows[k].wins ? rows[k].upd : rows[k].cur;
        uint64_t want_i = rows[k].wins ? rows[k].i : rows[k].j;
        if (two->r.liveness != want_l || two->r.incarnation != want_i)
            fail_msg("row %zu: got %u(%llu), want %u(%llu)", k, two->r.liveness,
                     (unsigned long long)two->r.incarnation, want_l, (unsigned long long)want_i);
        free(g);
    }
    free(m);
}

static void test_reports(void **state)
{
    (void)state;
    const uint64_t ids[] = {1, 2};
    struct gossip *g = node_alone(1, ids, 2);
    struct gossip_msg *m = malloc(sizeof *m);
    assert_non_null(m);

    /* Own report: only a change raises report_seq; `unreachable` is not the caller's to set. */
    uint64_t seq = g->report_seq;
    struct gossip_report r = {.version = "1.4.0", .leader = 1, .applied = 5, .unreachable = 7};
    gossip_set_report(g, &r);
    assert_int_equal(g->report_seq, seq);
    assert_int_equal(g->report.unreachable, 0);
    r.applied = 6;
    gossip_set_report(g, &r);
    assert_int_equal(g->report_seq, seq + 1);
    for (uint64_t t = T0; t < T0 + 5000; t += STEP_MS) {
        gossip_tick(g, t);
        g->n_out = 0;
    }
    assert_int_equal(g->report_seq, seq + 1); /* time alone changes nothing */

    /* A member's report is ordered by (report_inc, report_seq), never merged. */
    say(g, m, GOSSIP_PING, 2, 1, 2, GOSSIP_ALIVE, 10, T0 + 5010);
    const struct gossip_member *two = gossip_member(g, 2);
    assert_int_equal(two->r.report_inc, 10);
    assert_int_equal(two->r.report_seq, 3);
    m->rec[0].report_seq = 2;
    m->rec[0].report.applied = 1;
    gossip_receive(g, m, T0 + 5020);
    assert_int_equal(two->r.report.applied, 77); /* older seq: ignored */
    m->rec[0].report_seq = 4;
    gossip_receive(g, m, T0 + 5030);
    assert_int_equal(two->r.report.applied, 1);
    m->rec[0].report_inc = 11;
    m->rec[0].report_seq = 1;
    m->rec[0].report.applied = 2;
    gossip_receive(g, m, T0 + 5040);
    assert_int_equal(two->r.report.applied, 2); /* a later life restarts seq */
    m->rec[0].report_inc = 0;
    m->rec[0].report_seq = 99;
    gossip_receive(g, m, T0 + 5050);
    assert_int_equal(two->r.report.applied, 2); /* report_inc 0: no report */
    free(m);
    free(g);
}

/* What gossip_receive ignores, and how a node refutes what others say about it. */
static void test_receive_filters(void **state)
{
    (void)state;
    const uint64_t ids[] = {1, 2, 3};
    struct gossip *g = node_alone(1, ids, 3);
    struct gossip_msg *m = malloc(sizeof *m);
    struct gossip_view v;
    assert_non_null(m);

    /* A ping from a member: merged, acked with the seq echoed. */
    say(g, m, GOSSIP_PING, 2, 1, 2, GOSSIP_ALIVE, 10, T0 + 10);
    assert_true(gossip_alive(g, 2, NULL));
    assert_int_equal(g->n_out, 1);
    assert_int_equal(g->out[0].kind, GOSSIP_ACK);
    assert_int_equal(g->out[0].to, 2);
    assert_int_equal(g->out[0].seq, 1);
    assert_int_equal(g->out[0].target, 1);
    g->n_out = 0;

    /* Ignored: from a non-member, addressed to someone else, "from" self. */
    say(g, m, GOSSIP_PING, 9, 1, 2, GOSSIP_ALIVE, 11, T0 + 20);
    say(g, m, GOSSIP_PING, 2, 3, 2, GOSSIP_ALIVE, 11, T0 + 20);
    say(g, m, GOSSIP_PING, 1, 1, 2, GOSSIP_ALIVE, 11, T0 + 20);
    assert_int_equal(gossip_member(g, 2)->r.incarnation, 10);
    assert_int_equal(g->n_out, 0);
    /* A record about a non-member is not adopted. */
    say(g, m, GOSSIP_PING, 2, 1, 9, GOSSIP_ALIVE, 11, T0 + 20);
    assert_null(gossip_member(g, 9));
    assert_int_equal(gossip_view(g, 9, &v), SHIR_E_NOTFOUND);
    g->n_out = 0;

    /* Records about self: SUSPECT/DEAD at >= our incarnation make us refute; others do not. */
    uint64_t inc = g->incarnation;
    say(g, m, GOSSIP_PING, 2, 1, 1, GOSSIP_ALIVE, inc + 5, T0 + 30);
    say(g, m, GOSSIP_PING, 2, 1, 1, GOSSIP_SUSPECT, inc - 1, T0 + 30);
    assert_int_equal(g->incarnation, inc);
    say(g, m, GOSSIP_PING, 2, 1, 1, GOSSIP_SUSPECT, inc, T0 + 30);
    assert_int_equal(g->incarnation, inc + 1);
    say(g, m, GOSSIP_PING, 2, 1, 1, GOSSIP_DEAD, inc + 7, T0 + 30);
    assert_int_equal(g->incarnation, inc + 8);
    say(g, m, GOSSIP_PING, 2, 1, 1, GOSSIP_DEAD, UINT64_MAX, T0 + 30); /* no wrap to 0 */
    assert_int_equal(g->incarnation, inc + 8);
    /* ... and the ack already says so. */
    assert_int_equal(g->out[g->n_out - 1].rec[0].id, 1);
    assert_int_equal(g->out[g->n_out - 1].rec[0].incarnation, inc + 8);
    assert_int_equal(g->out[g->n_out - 1].rec[0].liveness, GOSSIP_ALIVE);
    free(m);
    free(g);
}

static void test_members_change(void **state)
{
    (void)state;
    const uint64_t ids[] = {1, 2, 3, 3, 0}; /* self, a duplicate and 0 are skipped */
    struct gossip *g = node_alone(1, ids, 5);
    struct gossip_msg *m = malloc(sizeof *m);
    struct gossip_view v;
    uint64_t since = 0;
    assert_non_null(m);
    assert_int_equal(g->n, 2);

    /* A new member starts unheard: SUSPECT, OFFLINE "not heard from", DEAD after suspect_ms. */
    assert_int_equal(gossip_view(g, 3, &v), 0);
    assert_int_equal(v.health, GOSSIP_OFFLINE);
    assert_string_equal(v.why, "not heard from");
    assert_false(gossip_alive(g, 3, &since));
    assert_int_equal(since, T0);

    /* Dropping id 2 forgets it, even as the probe in progress; its ack is then ignored. */
    uint64_t t = T0;
    do
        gossip_tick(g, t += PERIOD);
    while (g->target != 2 && t < T0 + 10 * PERIOD);
    assert_int_equal(g->target, 2);
    g->n_out = 0;
    const uint64_t fewer[] = {1, 3};
    gossip_set_members(g, fewer, 2, t);
    assert_int_equal(g->target, 0);
    assert_null(gossip_member(g, 2));
    assert_false(gossip_alive(g, 2, NULL));
    assert_int_equal(gossip_view(g, 2, &v), SHIR_E_NOTFOUND);
    say(g, m, GOSSIP_ACK, 2, 1, 2, GOSSIP_ALIVE, 50, t + 10);
    say(g, m, GOSSIP_PING, 2, 1, 2, GOSSIP_ALIVE, 50, t + 10);
    assert_null(gossip_member(g, 2));
    assert_int_equal(g->n_out, 0);
    for (t += 20; t < T0 + 5000; t += STEP_MS)
        gossip_tick(g, t);
    for (size_t k = 0; k < g->n_out; k++) {
        assert_int_equal(g->out[k].to, 3);
        for (size_t r = 0; r < g->out[k].n; r++)
            assert_int_not_equal(g->out[k].rec[r].id, 2);
    }
    /* Nobody vouched for 3: DEAD, still shown as never heard from. */
    assert_int_equal(gossip_member(g, 3)->r.liveness, GOSSIP_DEAD);
    assert_int_equal(gossip_view(g, 3, &v), 0);
    assert_int_equal(v.health, GOSSIP_OFFLINE);
    assert_string_equal(v.why, "not heard from");

    /* Adding 2 back starts it over as a placeholder. */
    gossip_set_members(g, ids, 3, T0 + 6000);
    assert_false(gossip_member(g, 2)->heard);
    assert_false(gossip_alive(g, 2, &since));
    assert_int_equal(since, T0 + 6000);
    free(m);
    free(g);
}

/* A caller that does not drain the outbox loses messages, never memory. */
static void test_outbox_full(void **state)
{
    (void)state;
    const uint64_t ids[] = {1, 2};
    struct gossip *g = node_alone(1, ids, 2);
    struct gossip_msg *m = malloc(sizeof *m);
    assert_non_null(m);
    for (int i = 0; i < 2 * GOSSIP_OUTBOX_MAX; i++)
        say(g, m, GOSSIP_PING, 2, 1, 2, GOSSIP_ALIVE, 10, T0 + 10);
    gossip_tick(g, T0 + 20);
    assert_int_equal(g->n_out, GOSSIP_OUTBOX_MAX);
    free(m);
    free(g);
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
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(s->g[i]->report_seq, seq[i]); /* nothing changed: nothing re-issued */
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
    for (size_t a = 0; a < k; a++)
        first = suspect[a] && suspect[a] < first ? suspect[a] : first;
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
        cmocka_unit_test(test_wire_round_trip),
        cmocka_unit_test(test_wire_refuses_messages),
        cmocka_unit_test(test_wire_refuses_records),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_reports),
        cmocka_unit_test(test_receive_filters),
        cmocka_unit_test(test_members_change),
        cmocka_unit_test(test_outbox_full),
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
