/* Unit tests for cluster/gossip, message by message: the wire form (round trips, fields a newer
 * version appends, and every shape the decoder must refuse), then one node fed hand-made messages — the record precedence table,
 * reports, what gossip_receive ignores, self-refutation, membership changes, a full outbox. The
 * protocol on a simulated network is in test_cluster_gossip.c. */
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

#define T0      5000000u         /* the fake monotonic clock's start */
#define INC0    1700000000000ull /* incarnations are wall-clock ms of a start */
#define STEP_MS 10
#define PERIOD  500u

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
    mp_array(w, records); /* fields beyond 7 are the caller's, after the records */
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
    /* A message with 8 fields: the one a newer version appended is skipped. 6: refused. */
    mp_head(w, GOSSIP_PING, 1, 2, 8, 0);
    mp_uint(w, 0);
    assert_int_equal(decode(w, m), 0);
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
    /* Records: liveness > 2, id 0, unreachable > GOSSIP_MEMBERS_MAX, cpu > 1000, 11 fields
     * (13 are fine: the last is a newer version's). */
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
    assert_int_equal(decode(w, m), 0);
    assert_int_equal(m->rec[0].id, 3);
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

static void mp_raw(struct mp *w, const char *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mp_byte(w, (uint8_t)bytes[i]);
}

/* What a newer version appends, of assorted types: {"load": 250}, [1, 4], "x", bin, nil, 1.5,
 * [[{}]], -1. */
static const char extra[] = "\x81\xa4load\xcc\xfa"
                            "\x92\x01\x04"
                            "\xa1x"
                            "\xc4\x02\xab\xcd"
                            "\xc0"
                            "\xcb\x3f\xf8\0\0\0\0\0\0"
                            "\x91\x91\x80"
                            "\xff";
#define N_EXTRA 8

/* A newer version's message — more fields in every record and after the records — decodes to
 * what the same message without them does; what is still refused stays refused. */
static void test_wire_skips_appended_fields(void **state)
{
    (void)state;
    struct gossip_msg *m = calloc(2, sizeof *m);
    struct mp *w = malloc(sizeof *w);
    assert_true(m && w);
    mp_head(w, GOSSIP_ACK, 1, 2, 7, 2);
    mp_rec(w, 1, GOSSIP_ALIVE, "1.4.0", 5, 0, 12);
    mp_rec(w, 3, GOSSIP_SUSPECT, "1.5.0", 5, 2, 12);
    assert_int_equal(decode(w, &m[0]), 0);

    /* Its records carry the 14 fields known today (the two added later are 0 here, as an older
     * sender's missing ones read) and then what a still newer version appends. */
    mp_head(w, GOSSIP_ACK, 1, 2, 7 + N_EXTRA, 2);
    size_t rec0 = w->n; /* its array16 header: 0xdc, then the count */
    mp_rec(w, 1, GOSSIP_ALIVE, "1.4.0", 5, 0, 14);
    w->b[rec0 + 2] = 14 + N_EXTRA;
    mp_raw(w, extra, sizeof extra - 1);
    mp_rec(w, 3, GOSSIP_SUSPECT, "1.5.0", 5, 2, 14 + 1); /* and a plain 0 */
    size_t before_tail = w->n;
    mp_raw(w, extra, sizeof extra - 1);
    struct mp newer = *w;
    assert_int_equal(decode(w, &m[1]), 0);
    assert_true(gossip_msg_equal(&m[0], &m[1]));

    /* Bytes after the message: refused. */
    mp_byte(w, 0xc0);
    assert_int_equal(decode(w, &m[1]), SHIR_E_MALFORMED);
    /* An appended field that is a count bomb, or nested deeper than the reader walks. */
    *w = newer;
    w->n = before_tail;
    mp_raw(w, "\xdd\xff\xff\xff\xff", 5);
    assert_int_equal(decode(w, &m[1]), SHIR_E_TRUNC);
    w->n = before_tail;
    for (int i = 0; i < 20; i++)
        mp_byte(w, 0x91);
    mp_byte(w, 0x00);
    assert_int_equal(decode(w, &m[1]), SHIR_E_DEPTH);
    /* More records than GOSSIP_MEMBERS_MAX, however many fields they carry. */
    mp_head(w, GOSSIP_PING, 1, 2, 8, GOSSIP_MEMBERS_MAX + 1);
    for (uint64_t i = 0; i <= GOSSIP_MEMBERS_MAX; i++)
        mp_rec(w, i + 1, GOSSIP_ALIVE, "1.4.0", 5, 0, 13);
    mp_uint(w, 0);
    assert_int_equal(decode(w, &m[1]), SHIR_E_TOOBIG);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_round_trip),
        cmocka_unit_test(test_wire_refuses_messages),
        cmocka_unit_test(test_wire_refuses_records),
        cmocka_unit_test(test_wire_skips_appended_fields),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_reports),
        cmocka_unit_test(test_receive_filters),
        cmocka_unit_test(test_members_change),
        cmocka_unit_test(test_outbox_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
