/* The listener's limits over real TLS on loopback: handshake caps per source and in all (the
 * oldest of the heaviest source goes), unauthenticated join sessions (caps, deadline,
 * set_trusted), the per-channel frame size and the unfinished-frame budget — and members that
 * keep connecting while an attacker holds every cap. Sources are played by binding to other
 * loopback addresses (127.0.0.2, ...). Small numbers and short deadlines keep it fast; every
 * wait is on a condition. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "tests/unit/transport_testlib.h"
#include "transport/tls.h"

#define DEADLINE_MS 20000u
#define MAX_SIDES   64
#define MAX_RAW     64

/* One end of a connection as the test sees it. */
struct side {
    struct transport_conn *conn;
    bool connected, closed;
    int status, close_err;
    char msg[200];
    unsigned frames;
    size_t bytes;
    bool server; /* only the server side answers "echo" */
};

struct env {
    uv_loop_t loop;
    struct tt_ca ca;
    struct tt_node a, b;          /* a listens; b is a member dialing it */
    struct transport_tls *joiner; /* no certificate, CA pinned */
    struct transport_listener *l;
    struct side srv[MAX_SIDES]; /* accepted, in accept order */
    unsigned n_srv;
    struct side cli[MAX_SIDES]; /* dialed, in dial order */
    unsigned n_cli;
    int raw[MAX_RAW]; /* plain TCP sockets that never start TLS */
    const char *raw_src[MAX_RAW];
    unsigned n_raw;
    unsigned want;   /* for the predicates below */
    bool trust_next; /* on_accept marks the next accepted connection trusted */
};

/* ---- callbacks ----------------------------------------------------------------------------- */

static void side_frame(struct transport_conn *c, const unsigned char *p, size_t n)
{
    struct side *s = transport_conn_data(c);
    s->frames++;
    s->bytes += n;
    /* The owner authenticates a join peer some other way; here, by asking. */
    if (n == 5 && memcmp(p, "trust", 5) == 0)
        transport_conn_set_trusted(c);
    if (s->server && n == 4 && memcmp(p, "echo", 4) == 0)
        (void)transport_conn_write(c, p, n);
}

static void side_close(struct transport_conn *c, int err, const char *msg)
{
    struct side *s = transport_conn_data(c);
    s->closed = true;
    s->close_err = err;
    (void)shir_str_copy(s->msg, sizeof s->msg, msg ? msg : "");
    s->conn = NULL;
}

static void on_accept(struct transport_listener *l, struct transport_conn *c)
{
    struct env *e = transport_listener_data(l);
    assert_true(e->n_srv < MAX_SIDES);
    struct side *s = &e->srv[e->n_srv++];
    s->conn = c;
    s->connected = true;
    s->server = true;
    struct transport_conn_cbs cbs = {.frame_cb = side_frame, .close_cb = side_close, .data = s};
    transport_conn_set_cbs(c, &cbs);
    if (e->trust_next) {
        e->trust_next = false;
        transport_conn_set_trusted(c);
    }
}

static void on_connect(struct transport_conn *c, int status, const char *msg, void *data)
{
    struct side *s = data;
    s->connected = status == 0;
    s->status = status;
    if (status != 0) {
        s->closed = true;
        s->close_err = status;
        (void)shir_str_copy(s->msg, sizeof s->msg, msg ? msg : "");
        s->conn = NULL;
        return;
    }
    struct transport_conn_cbs cbs = {.frame_cb = side_frame, .close_cb = side_close, .data = s};
    transport_conn_set_cbs(c, &cbs);
}

/* ---- setup --------------------------------------------------------------------------------- */

static int env_setup(void **state)
{
    struct env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    assert_int_equal(uv_loop_init(&e->loop), 0);
    assert_int_equal(tt_ca_make(&e->ca, "runtime-ca"), 0);
    assert_int_equal(tt_node_make(&e->a, &e->ca, 1, "node-a"), 0);
    assert_int_equal(tt_node_make(&e->b, &e->ca, 2, "node-b"), 0);
    tt_node_allow(&e->a, e->b.pin);
    tt_node_allow(&e->b, e->a.pin);
    struct transport_tls_config jc = {.join_client = true};
    memcpy(jc.ca_pin, e->ca.pin, TRANSPORT_PIN_LEN);
    assert_int_equal(transport_tls_new(&jc, &e->joiner), 0);
    *state = e;
    return 0;
}

static int env_teardown(void **state)
{
    struct env *e = *state;
    for (unsigned i = 0; i < e->n_raw; i++)
        if (e->raw[i] >= 0)
            close(e->raw[i]);
    for (unsigned i = 0; i < e->n_cli; i++)
        if (e->cli[i].conn)
            transport_conn_close(e->cli[i].conn);
    if (e->l)
        transport_listener_close(e->l, NULL);
    assert_true(tt_run_drain(&e->loop, DEADLINE_MS));
    assert_int_equal(uv_loop_close(&e->loop), 0);
    transport_tls_free(e->joiner);
    tt_node_free(&e->a);
    tt_node_free(&e->b);
    tt_ca_free(&e->ca);
    free(e);
    return 0;
}

static void listen_with(struct env *e, struct transport_listener_config *cfg)
{
    cfg->tls = e->a.tls;
    cfg->host = "0.0.0.0"; /* reachable from every 127.0.0.x source */
    cfg->accept_cb = on_accept;
    cfg->data = e;
    assert_int_equal(transport_listener_new(&e->loop, cfg, &e->l), 0);
}

static const struct transport_stats *st(struct env *e)
{
    return transport_listener_stats(e->l);
}

/* Dial the listener from `from` (a 127.0.0.x address) on `ch`: members with b's certificate,
 * joiners without one. Returns the client's index. */
static unsigned dial_from(struct env *e, const char *from, enum transport_channel ch)
{
    assert_true(e->n_cli < MAX_SIDES);
    unsigned i = e->n_cli++;
    struct transport_dial_config cfg = {.tls = ch == TRANSPORT_CH_JOIN ? e->joiner : e->b.tls,
                                        .host = "127.0.0.1",
                                        .port = transport_listener_port(e->l),
                                        .local_host = from,
                                        .channel = ch,
                                        .connect_cb = on_connect,
                                        .data = &e->cli[i]};
    assert_int_equal(transport_dial(&e->loop, &cfg, &e->cli[i].conn), 0);
    return i;
}

/* A plain TCP connection from `from` that never sends a byte: a half-open handshake. The
 * kernel completes the TCP handshake from the listen backlog, so this returns at once. */
static unsigned raw_from(struct env *e, const char *from)
{
    assert_true(e->n_raw < MAX_RAW);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, from, &sa.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    sa.sin_port = htons(transport_listener_port(e->l));
    assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr), 1);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    e->raw[e->n_raw] = fd;
    e->raw_src[e->n_raw] = from;
    return e->n_raw++;
}

/* The server has closed raw socket i (we see its FIN or RST), without blocking. */
static bool raw_closed(struct env *e, unsigned i)
{
    char b;
    ssize_t n = recv(e->raw[i], &b, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static bool cond_accepted(void *arg)
{
    struct env *e = arg;
    return st(e)->accepted >= e->want;
}
static bool cond_srv(void *arg)
{
    struct env *e = arg;
    return e->n_srv >= e->want;
}
static bool cond_cli_connected(void *arg)
{
    struct env *e = arg;
    const struct side *s = &e->cli[e->want];
    return s->connected || s->closed;
}
static bool cond_cli_closed(void *arg)
{
    struct env *e = arg;
    return e->cli[e->want].closed;
}
static bool cond_srv_closed(void *arg)
{
    struct env *e = arg;
    return e->srv[e->want].closed;
}
static bool cond_raw_closed(void *arg)
{
    struct env *e = arg;
    return raw_closed(e, e->want);
}
static bool cond_cli_frame(void *arg)
{
    struct env *e = arg;
    return e->cli[e->want].frames >= 1;
}

static void wait_for(struct env *e, bool (*cond)(void *), unsigned want)
{
    e->want = want;
    assert_true(tt_run_until(&e->loop, cond, e, DEADLINE_MS));
}

static void expect_connected(struct env *e, unsigned i)
{
    wait_for(e, cond_cli_connected, i);
    if (!e->cli[i].connected)
        fail_msg("client %u did not connect: %s (%s)", i, e->cli[i].msg,
                 shir_err_name(e->cli[i].status));
}

/* ---- pure parts ---------------------------------------------------------------------------- */

static void test_source_keys(void **state)
{
    (void)state;
    static const struct {
        int family;
        const char *addr;
        const char *text;
        const char *same_as; /* another address with the same key, or NULL */
    } cases[] = {
        {AF_INET, "192.0.2.7", "192.0.2.7", NULL},
        {AF_INET6, "2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64", "2001:db8:1:2:ffff:1:2:3"},
        {AF_INET6, "::1", "::/64", "::2"},
        {AF_INET6, "::ffff:192.0.2.7", "192.0.2.7", "192.0.2.7"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sockaddr_storage ss, ss2;
        memset(&ss, 0, sizeof ss);
        struct transport_source a, b;
        if (cases[i].family == AF_INET)
            assert_int_equal(uv_ip4_addr(cases[i].addr, 1, (struct sockaddr_in *)&ss), 0);
        else
            assert_int_equal(uv_ip6_addr(cases[i].addr, 1, (struct sockaddr_in6 *)&ss), 0);
        assert_int_equal(transport_source_from_sockaddr((struct sockaddr *)&ss, &a), 0);
        assert_string_equal(a.text, cases[i].text);
        if (!cases[i].same_as)
            continue;
        memset(&ss2, 0, sizeof ss2);
        if (uv_ip4_addr(cases[i].same_as, 2, (struct sockaddr_in *)&ss2) != 0)
            assert_int_equal(uv_ip6_addr(cases[i].same_as, 2, (struct sockaddr_in6 *)&ss2), 0);
        assert_int_equal(transport_source_from_sockaddr((struct sockaddr *)&ss2, &b), 0);
        assert_memory_equal(a.key, b.key, TRANSPORT_SOURCE_KEY_LEN);
    }
    /* Different /64s and different IPv4 addresses are different sources. */
    struct sockaddr_storage x, y;
    struct transport_source sx, sy;
    memset(&x, 0, sizeof x);
    memset(&y, 0, sizeof y);
    assert_int_equal(uv_ip6_addr("2001:db8:1:2::1", 0, (struct sockaddr_in6 *)&x), 0);
    assert_int_equal(uv_ip6_addr("2001:db8:1:3::1", 0, (struct sockaddr_in6 *)&y), 0);
    assert_int_equal(transport_source_from_sockaddr((struct sockaddr *)&x, &sx), 0);
    assert_int_equal(transport_source_from_sockaddr((struct sockaddr *)&y, &sy), 0);
    assert_memory_not_equal(sx.key, sy.key, TRANSPORT_SOURCE_KEY_LEN);
    struct sockaddr un = {.sa_family = AF_UNIX};
    assert_int_equal(transport_source_from_sockaddr(&un, &sx), SHIR_E_UNSUPPORTED);
    assert_string_equal(sx.text, "?");
}

/* Many sources in, released in an order that exercises backward-shift deletion: every key left
 * is still found, every key released is gone. */
static void test_source_table(void **state)
{
    (void)state;
    struct transport__srctab t = {0};
    enum { N = 300 };
    unsigned char keys[N][TRANSPORT_SOURCE_KEY_LEN];
    for (unsigned i = 0; i < N; i++) {
        memset(keys[i], 0, TRANSPORT_SOURCE_KEY_LEN);
        keys[i][0] = 4;
        keys[i][1] = 10;
        keys[i][3] = (unsigned char)(i >> 8);
        keys[i][4] = (unsigned char)i;
        struct transport__srcent *en = transport__srctab_get(&t, keys[i]);
        assert_non_null(en);
        en->hs = i + 1;
    }
    assert_int_equal(t.n, N);
    assert_true(t.cap >= 2 * N);
    for (unsigned i = 0; i < N; i += 3) { /* release every third */
        struct transport__srcent *en = transport__srctab_find(&t, keys[i]);
        assert_non_null(en);
        en->hs = 0;
        transport__srctab_release(&t, en);
    }
    for (unsigned i = 0; i < N; i++) {
        struct transport__srcent *en = transport__srctab_find(&t, keys[i]);
        if (i % 3 == 0) {
            assert_null(en);
        } else {
            assert_non_null(en);
            assert_int_equal(en->hs, i + 1);
        }
    }
    /* An entry that still holds something is kept. */
    struct transport__srcent *en = transport__srctab_find(&t, keys[1]);
    en->hs = 0;
    en->unauth[TRANSPORT_CH_JOIN] = 1;
    transport__srctab_release(&t, en);
    assert_non_null(transport__srctab_find(&t, keys[1]));
    transport__srctab_free(&t);
}

/* ---- handshakes ---------------------------------------------------------------------------- */

static void test_handshake_cap_per_source(void **state)
{
    struct env *e = *state;
    struct transport_listener_config cfg = {.handshakes_per_source = 3, .handshakes_total = 100};
    listen_with(e, &cfg);
    for (int i = 0; i < 3; i++)
        raw_from(e, "127.0.0.2");
    wait_for(e, cond_accepted, 3);
    assert_int_equal(st(e)->handshakes_now, 3);
    assert_int_equal(st(e)->cap_handshake, 0);
    /* A 4th from the same source: accepted, and the source's OLDEST handshake is closed. */
    raw_from(e, "127.0.0.2");
    wait_for(e, cond_raw_closed, 0);
    assert_int_equal(st(e)->accepted, 4);
    assert_int_equal(st(e)->cap_handshake, 1);
    assert_int_equal(st(e)->handshakes_now, 3);
    for (unsigned i = 1; i < 4; i++)
        assert_false(raw_closed(e, i));
    /* Another source is not affected. */
    raw_from(e, "127.0.0.3");
    wait_for(e, cond_accepted, 5);
    assert_int_equal(st(e)->cap_handshake, 1);
    assert_int_equal(st(e)->handshakes_now, 4);
    /* A half-open handshake still ends at the handshake deadline; closing it gives the slot
     * back. */
    close(e->raw[4]);
    e->raw[4] = -1;
}

static void test_handshake_cap_total_heaviest(void **state)
{
    struct env *e = *state;
    struct transport_listener_config cfg = {.handshakes_per_source = 10, .handshakes_total = 4};
    listen_with(e, &cfg);
    raw_from(e, "127.0.0.3"); /* 0: the oldest of all */
    raw_from(e, "127.0.0.2"); /* 1 */
    raw_from(e, "127.0.0.2"); /* 2 */
    raw_from(e, "127.0.0.2"); /* 3 */
    wait_for(e, cond_accepted, 4);
    assert_int_equal(st(e)->handshakes_now, 4);
    /* Over the total: the oldest handshake of the source holding the most (.2, three) goes,
     * not the oldest of all. */
    raw_from(e, "127.0.0.4"); /* 4 */
    wait_for(e, cond_raw_closed, 1);
    assert_int_equal(st(e)->cap_handshake, 1);
    assert_false(raw_closed(e, 0));
    /* .2 still holds two, everyone else one: .2 again. */
    raw_from(e, "127.0.0.5"); /* 5 */
    wait_for(e, cond_raw_closed, 2);
    assert_int_equal(st(e)->cap_handshake, 2);
    /* Now every source holds one: the oldest of all goes. */
    raw_from(e, "127.0.0.6"); /* 6 */
    wait_for(e, cond_raw_closed, 0);
    assert_int_equal(st(e)->cap_handshake, 3);
    for (unsigned i = 3; i <= 6; i++)
        assert_false(raw_closed(e, i));
    assert_int_equal(st(e)->handshakes_now, 4);
}

/* Open half-open handshakes from `from` until it holds `n` (those the server closed do not
 * count), and wait until the server has accepted every one. */
static void hold_handshakes(struct env *e, const char *from, unsigned n)
{
    unsigned have = 0;
    for (unsigned i = 0; i < e->n_raw; i++)
        if (e->raw[i] >= 0 && strcmp(e->raw_src[i], from) == 0 && !raw_closed(e, i))
            have++;
    unsigned accepted = (unsigned)st(e)->accepted;
    for (; have < n; have++, accepted++)
        raw_from(e, from);
    wait_for(e, cond_accepted, accepted);
}

/* An attacker holds every handshake slot (per source, the members' own source included, and in
 * all) and every join session; members still connect, every time, on every channel, and
 * nothing of theirs is closed: only the attacker's oldest handshakes are. */
static void test_members_pass_held_caps(void **state)
{
    struct env *e = *state;
    struct transport_listener_config cfg = {.handshakes_per_source = 4, .handshakes_total = 8};
    cfg.channels[TRANSPORT_CH_JOIN] =
        (struct transport_channel_policy){.unauth_per_source = 2, .unauth_total = 4};
    listen_with(e, &cfg);
    for (int i = 0; i < 2; i++)
        expect_connected(e, dial_from(e, "127.0.0.6", TRANSPORT_CH_JOIN));
    for (int i = 0; i < 2; i++)
        expect_connected(e, dial_from(e, "127.0.0.7", TRANSPORT_CH_JOIN));
    wait_for(e, cond_srv, 4);
    assert_int_equal(st(e)->unauth_now, 4);
    static const enum transport_channel chs[] = {TRANSPORT_CH_RPC, TRANSPORT_CH_GOSSIP,
                                                 TRANSPORT_CH_RAFT, TRANSPORT_CH_RPC};
    for (unsigned round = 0; round < sizeof chs / sizeof chs[0]; round++) {
        hold_handshakes(e, "127.0.0.1", 4);
        hold_handshakes(e, "127.0.0.2", 4);
        assert_int_equal(st(e)->handshakes_now, 8);
        uint64_t evicted = st(e)->cap_handshake;
        unsigned i = dial_from(e, "127.0.0.1", chs[round]);
        expect_connected(e, i);
        assert_true(st(e)->cap_handshake > evicted);
        if (chs[round] != TRANSPORT_CH_RAFT) {
            assert_int_equal(transport_conn_write(e->cli[i].conn, "echo", 4), 0);
            wait_for(e, cond_cli_frame, i);
        }
    }
    /* No member connection was closed; the four join sessions are still there. */
    for (unsigned i = 0; i < e->n_cli; i++)
        assert_false(e->cli[i].closed);
    assert_int_equal(st(e)->unauth_now, 4);
    assert_int_equal(st(e)->cap_unauth, 0);
}

/* Members are never capped once authorised: more connections from one source than any cap. */
static void test_members_never_capped(void **state)
{
    struct env *e = *state;
    struct transport_listener_config cfg = {.handshakes_per_source = 2, .handshakes_total = 2};
    listen_with(e, &cfg);
    for (int i = 0; i < 6; i++)
        expect_connected(e, dial_from(e, "127.0.0.1", TRANSPORT_CH_RPC));
    wait_for(e, cond_srv, 6);
    for (unsigned i = 0; i < 6; i++) {
        assert_false(e->cli[i].closed);
        assert_true(transport_conn_trusted(e->srv[i].conn));
    }
    assert_int_equal(st(e)->cap_handshake, 0);
    assert_int_equal(st(e)->handshakes_now, 0);
    assert_int_equal(st(e)->unauth_now, 0);
}

/* ---- unauthenticated sessions -------------------------------------------------------------- */

static bool cond_srv_trusted(void *arg)
{
    struct env *e = arg;
    return e->srv[e->want].conn && transport_conn_trusted(e->srv[e->want].conn);
}

static void test_unauth_caps(void **state)
{
    struct env *e = *state;
    struct transport_listener_config cfg = {0};
    cfg.channels[TRANSPORT_CH_JOIN] =
        (struct transport_channel_policy){.unauth_per_source = 3, .unauth_total = 5};
    listen_with(e, &cfg);
    for (int i = 0; i < 3; i++)
        expect_connected(e, dial_from(e, "127.0.0.2", TRANSPORT_CH_JOIN));
    wait_for(e, cond_srv, 3);
    assert_int_equal(st(e)->unauth_now, 3);
    for (unsigned i = 0; i < 3; i++)
        assert_false(transport_conn_trusted(e->srv[i].conn));
    /* A 4th from .2: its oldest session goes, with SHIR_E_FULL on the server side. */
    expect_connected(e, dial_from(e, "127.0.0.2", TRANSPORT_CH_JOIN));
    wait_for(e, cond_srv_closed, 0);
    assert_int_equal(e->srv[0].close_err, SHIR_E_FULL);
    wait_for(e, cond_cli_closed, 0); /* and the client sees it end */
    assert_int_equal(st(e)->cap_unauth, 1);
    assert_int_equal(st(e)->unauth_now, 3);
    /* Two from .3: 5 in all. One from .4: over the total, the oldest of .2 (the heaviest). */
    for (int i = 0; i < 2; i++)
        expect_connected(e, dial_from(e, "127.0.0.3", TRANSPORT_CH_JOIN));
    wait_for(e, cond_srv, 6);
    assert_int_equal(st(e)->unauth_now, 5);
    expect_connected(e, dial_from(e, "127.0.0.4", TRANSPORT_CH_JOIN));
    wait_for(e, cond_srv_closed, 1);
    assert_int_equal(e->srv[1].close_err, SHIR_E_FULL);
    assert_int_equal(st(e)->cap_unauth, 2);
    assert_int_equal(st(e)->unauth_now, 5);
    for (unsigned i = 2; i < 7; i++)
        assert_false(e->srv[i].closed);
    /* A trusted session leaves the caps: now .4 can open more without closing anyone's. */
    assert_int_equal(transport_conn_write(e->cli[6].conn, "trust", 5), 0);
    wait_for(e, cond_srv_trusted, 6);
    assert_int_equal(st(e)->unauth_now, 4);
    expect_connected(e, dial_from(e, "127.0.0.4", TRANSPORT_CH_JOIN));
    wait_for(e, cond_srv, 8);
    assert_int_equal(st(e)->unauth_now, 5);
    assert_int_equal(st(e)->cap_unauth, 2);
}

static bool cond_auth_timeouts2(void *arg)
{
    struct env *e = arg;
    return st(e)->auth_timeouts >= 2 && e->srv[0].closed && e->srv[2].closed;
}

static void test_auth_deadline(void **state)
{
    struct env *e = *state;
    struct transport_listener_config cfg = {0};
    cfg.channels[TRANSPORT_CH_JOIN] = (struct transport_channel_policy){.auth_timeout_ms = 300};
    listen_with(e, &cfg);
    /* Three sessions; the owner authenticates the second at once (so that no race with its
     * deadline is possible); the first and the third stay silent. */
    expect_connected(e, dial_from(e, "127.0.0.1", TRANSPORT_CH_JOIN));
    wait_for(e, cond_srv, 1);
    e->trust_next = true;
    expect_connected(e, dial_from(e, "127.0.0.1", TRANSPORT_CH_JOIN));
    wait_for(e, cond_srv, 2);
    assert_true(transport_conn_trusted(e->srv[1].conn));
    expect_connected(e, dial_from(e, "127.0.0.1", TRANSPORT_CH_JOIN));
    wait_for(e, cond_srv, 3);
    /* Both silent ones end at their deadline; the trusted one, accepted between them, stays. */
    assert_true(tt_run_until(&e->loop, cond_auth_timeouts2, e, DEADLINE_MS));
    assert_int_equal(e->srv[0].close_err, SHIR_E_TIMEOUT);
    assert_int_equal(e->srv[2].close_err, SHIR_E_TIMEOUT);
    assert_false(e->srv[1].closed);
    assert_int_equal(st(e)->auth_timeouts, 2);
    assert_int_equal(st(e)->unauth_now, 0);
    /* Members have no such deadline. */
    unsigned m = dial_from(e, "127.0.0.1", TRANSPORT_CH_RPC);
    expect_connected(e, m);
    expect_connected(e, dial_from(e, "127.0.0.1", TRANSPORT_CH_JOIN));
    wait_for(e, cond_srv_closed, 4);
    assert_false(e->cli[m].closed);
    assert_int_equal(st(e)->auth_timeouts, 3);
}

/* ---- frames -------------------------------------------------------------------------------- */

static void test_channel_max_frame(void **state)
{
    struct env *e = *state;
    struct transport_listener_config cfg = {0};
    cfg.channels[TRANSPORT_CH_JOIN] = (struct transport_channel_policy){.max_frame = 1024};
    listen_with(e, &cfg);
    unsigned j = dial_from(e, "127.0.0.1", TRANSPORT_CH_JOIN);
    expect_connected(e, j);
    static unsigned char buf[4096];
    memset(buf, 'x', sizeof buf);
    assert_int_equal(transport_conn_write(e->cli[j].conn, buf, 1024), 0);
    wait_for(e, cond_srv, 1);
    unsigned char hdr[4];
    shir_put_be32(hdr, 1025);
    assert_int_equal(transport__conn_write_raw(e->cli[j].conn, hdr, 4), 0);
    wait_for(e, cond_srv_closed, 0);
    assert_int_equal(e->srv[0].frames, 1);
    assert_int_equal(e->srv[0].close_err, SHIR_E_TOOBIG);
    assert_int_equal(st(e)->bad_frames, 1);
    /* Other channels keep the listener's limit (4 MiB by default). */
    unsigned m = dial_from(e, "127.0.0.1", TRANSPORT_CH_RPC);
    expect_connected(e, m);
    assert_int_equal(transport_conn_write(e->cli[m].conn, buf, sizeof buf), 0);
    assert_int_equal(transport_conn_write(e->cli[m].conn, "echo", 4), 0);
    wait_for(e, cond_cli_frame, m);
    assert_int_equal(e->srv[1].bytes, sizeof buf + 4);
}

static bool cond_unfinished(void *arg)
{
    struct env *e = arg;
    return st(e)->unfinished_bytes_now == e->want;
}

/* Send the header of a `announce`-byte frame and `have` of its bytes. */
static void send_partial(struct env *e, unsigned i, uint32_t announce, size_t have)
{
    static unsigned char buf[8192];
    shir_put_be32(buf, announce);
    memset(buf + 4, 'p', have);
    assert_int_equal(transport__conn_write_raw(e->cli[i].conn, buf, 4 + have), 0);
}

/* Send `n` more payload bytes of a frame already started. */
static void send_filler(struct env *e, unsigned i, size_t n)
{
    static unsigned char buf[8192];
    memset(buf, 'p', sizeof buf);
    assert_true(n <= sizeof buf);
    assert_int_equal(transport__conn_write_raw(e->cli[i].conn, buf, n), 0);
}

static bool cond_srv_frames(void *arg)
{
    struct env *e = arg;
    return e->srv[e->want >> 8].frames >= (e->want & 0xffu);
}

static void test_unfinished_budget(void **state)
{
    struct env *e = *state;
    struct transport_listener_config cfg = {.unfinished_budget = 10000};
    cfg.channels[TRANSPORT_CH_JOIN] = (struct transport_channel_policy){.max_frame = 8000};
    listen_with(e, &cfg);
    for (int i = 0; i < 3; i++)
        expect_connected(e, dial_from(e, "127.0.0.1", TRANSPORT_CH_JOIN));
    wait_for(e, cond_srv, 3);
    send_partial(e, 0, 8000, 4000);
    wait_for(e, cond_unfinished, 4004);
    send_partial(e, 1, 8000, 4000);
    wait_for(e, cond_unfinished, 8008);
    /* The third would take the total past 10000: it is closed, the others keep theirs. */
    send_partial(e, 2, 8000, 3000);
    wait_for(e, cond_srv_closed, 2);
    assert_int_equal(e->srv[2].close_err, SHIR_E_FULL);
    assert_int_equal(st(e)->frame_budget, 1);
    assert_int_equal(st(e)->unfinished_bytes_now, 8008);
    assert_false(e->srv[0].closed);
    assert_false(e->srv[1].closed);
    /* Finishing a frame gives its bytes back. */
    send_filler(e, 0, 4000);
    wait_for(e, cond_unfinished, 4004);
    assert_int_equal(e->srv[0].frames, 1);
    /* Once trusted, a session's frames are not counted: 7004 more would pass the budget. */
    assert_int_equal(transport_conn_write(e->cli[0].conn, "trust", 5), 0);
    wait_for(e, cond_srv_trusted, 0);
    send_partial(e, 0, 8000, 7000);
    send_filler(e, 0, 1000);
    wait_for(e, cond_srv_frames, (0u << 8) | 3u);
    assert_false(e->srv[0].closed);
    /* Nor are members' (this one's partial frame alone is over the budget). */
    unsigned m = dial_from(e, "127.0.0.1", TRANSPORT_CH_RPC);
    expect_connected(e, m);
    wait_for(e, cond_srv, 4);
    send_partial(e, m, 16000, 8000);
    send_filler(e, m, 8000);
    wait_for(e, cond_srv_frames, (3u << 8) | 1u);
    assert_false(e->srv[3].closed);
    assert_int_equal(st(e)->frame_budget, 1);
    assert_int_equal(st(e)->unfinished_bytes_now, 4004);
}

int main(void)
{
    transport_process_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_keys),
        cmocka_unit_test(test_source_table),
#define T(f) cmocka_unit_test_setup_teardown(f, env_setup, env_teardown)
        T(test_handshake_cap_per_source),
        T(test_handshake_cap_total_heaviest),
        T(test_members_pass_held_caps),
        T(test_members_never_capped),
        T(test_unauth_caps),
        T(test_auth_deadline),
        T(test_channel_max_frame),
        T(test_unfinished_budget),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
