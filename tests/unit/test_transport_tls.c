/* TLS listener/dialer: mutual auth, ALPN channels, allowlist, join pin, frames, backpressure and
 * every refusal path, over real sockets on loopback. Each negative test asserts the specific
 * counter of the check it exercises, so removing the check makes the test fail. */
/* TCP_USER_TIMEOUT is behind _DEFAULT_SOURCE in glibc. */
#define _DEFAULT_SOURCE 1

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/transport_testlib.h"
#include "transport/tls.h"

#define DEADLINE_MS 20000u

struct side {
    struct transport_conn *conn;
    bool connect_done;
    int connect_status;
    char connect_msg[200];
    bool closed;
    int close_err;
    char close_msg[200];
    unsigned frames;
    size_t bytes;
    unsigned char first[64];
    size_t first_len;
    bool echo;
    bool drained;
    struct transport_peer peer;
};

struct env {
    uv_loop_t loop;
    struct tt_ca ca, ca2;
    struct tt_node a, b, outsider;
    struct transport_listener *l;
    bool listener_closed;
    struct side srv, cli;
    unsigned accepted;
    unsigned expect_frames;
};

/* ------------------------------------------------------------------------------------------- */

static void srv_frame(struct transport_conn *c, const unsigned char *p, size_t n)
{
    struct side *s = transport_conn_data(c);
    if (s->frames == 0) {
        s->first_len = n < sizeof s->first ? n : sizeof s->first;
        memcpy(s->first, p, s->first_len);
    }
    s->frames++;
    s->bytes += n;
    if (s->echo)
        (void)transport_conn_write(c, p, n);
}

static void side_close(struct transport_conn *c, int err, const char *msg)
{
    struct side *s = transport_conn_data(c);
    s->closed = true;
    s->close_err = err;
    (void)shir_str_copy(s->close_msg, sizeof s->close_msg, msg ? msg : "");
    s->conn = NULL;
}

static void side_drain(struct transport_conn *c)
{
    struct side *s = transport_conn_data(c);
    s->drained = true;
}

static void on_accept(struct transport_listener *l, struct transport_conn *c)
{
    struct env *e = transport_listener_data(l);
    e->accepted++;
    e->srv.conn = c;
    e->srv.peer = *transport_conn_peer(c);
    struct transport_conn_cbs cbs = {
        .frame_cb = srv_frame, .close_cb = side_close, .drain_cb = side_drain, .data = &e->srv};
    transport_conn_set_cbs(c, &cbs);
}

static void on_connect(struct transport_conn *c, int status, const char *msg, void *data)
{
    struct side *s = data;
    s->connect_done = true;
    s->connect_status = status;
    (void)shir_str_copy(s->connect_msg, sizeof s->connect_msg, msg ? msg : "");
    if (status != 0) {
        s->conn = NULL;
        return;
    }
    s->conn = c;
    s->peer = *transport_conn_peer(c);
    struct transport_conn_cbs cbs = {
        .frame_cb = srv_frame, .close_cb = side_close, .drain_cb = side_drain, .data = s};
    transport_conn_set_cbs(c, &cbs);
}

static bool cond_connect_done(void *arg)
{
    return ((struct env *)arg)->cli.connect_done;
}
/* The client's attempt is over one way or the other: failed to connect, or connected and closed. */
static bool cond_cli_over(void *arg)
{
    struct env *e = arg;
    return e->cli.connect_done && (e->cli.connect_status != 0 || e->cli.closed);
}
static bool cond_srv_conn(void *arg)
{
    return ((struct env *)arg)->srv.conn != NULL;
}
static bool cond_both_closed(void *arg)
{
    struct env *e = arg;
    return e->srv.closed && cond_cli_over(e);
}

static int env_setup(void **state)
{
    struct env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    assert_int_equal(uv_loop_init(&e->loop), 0);
    assert_int_equal(tt_ca_make(&e->ca, "runtime-ca"), 0);
    assert_int_equal(tt_ca_make(&e->ca2, "other-ca"), 0);
    assert_int_equal(tt_node_make(&e->a, &e->ca, 1, "node-a"), 0);
    assert_int_equal(tt_node_make(&e->b, &e->ca, 2, "node-b"), 0);
    assert_int_equal(tt_node_make(&e->outsider, &e->ca2, 7, "outsider"), 0);
    tt_node_allow(&e->a, e->b.pin);
    tt_node_allow(&e->b, e->a.pin);
    *state = e;
    return 0;
}

static void on_listener_closed(struct transport_listener *l, void *data)
{
    (void)l;
    ((struct env *)data)->listener_closed = true;
}

static int env_teardown(void **state)
{
    struct env *e = *state;
    if (e->cli.conn)
        transport_conn_close(e->cli.conn);
    if (e->l)
        transport_listener_close(e->l, on_listener_closed);
    assert_true(tt_run_drain(&e->loop, DEADLINE_MS));
    assert_int_equal(uv_loop_close(&e->loop), 0);
    tt_node_free(&e->a);
    tt_node_free(&e->b);
    tt_node_free(&e->outsider);
    tt_ca_free(&e->ca);
    tt_ca_free(&e->ca2);
    free(e);
    return 0;
}

static void listen_on(struct env *e, struct tt_node *n, const char *host, uint32_t max_frame)
{
    struct transport_listener_config cfg = {
        .tls = n->tls, .host = host, .port = 0, .max_frame = max_frame,
        .accept_cb = on_accept, .data = e};
    assert_int_equal(transport_listener_new(&e->loop, &cfg, &e->l), 0);
    assert_true(transport_listener_port(e->l) != 0);
}

static void dial_full(struct env *e, struct transport_tls *tls, const char *host, uint16_t port,
                      enum transport_channel ch, size_t max_outbound, unsigned timeout_ms)
{
    struct transport_dial_config cfg = {
        .tls = tls, .host = host, .port = port, .channel = ch, .max_outbound = max_outbound,
        .timeout_ms = timeout_ms, .connect_cb = on_connect, .data = &e->cli};
    struct transport_conn *c = NULL;
    assert_int_equal(transport_dial(&e->loop, &cfg, &c), 0);
    assert_non_null(c);
    e->cli.conn = c;
}

static void dial(struct env *e, struct transport_tls *tls, const char *host,
                 enum transport_channel ch)
{
    dial_full(e, tls, host, transport_listener_port(e->l), ch, 0, 0);
}

static void expect_connected(struct env *e)
{
    assert_true(tt_run_until(&e->loop, cond_connect_done, e, DEADLINE_MS));
    if (e->cli.connect_status != 0)
        fail_msg("connect failed: %s (%s)", e->cli.connect_msg,
                 shir_err_name(e->cli.connect_status));
}

static bool cond_cli_frame1(void *arg)
{
    return ((struct env *)arg)->cli.frames >= 1;
}

static bool cond_cli_drained(void *arg)
{
    return ((struct env *)arg)->cli.drained;
}

static bool cond_srv_frames(void *arg)
{
    struct env *e = arg;
    return e->srv.frames >= e->expect_frames;
}

static bool cond_cli_frames3(void *arg)
{
    return ((struct env *)arg)->cli.frames >= 3;
}

/* ------------------------------------------------------------------------------------------- */
/* PKI. */

static void test_pki_identity(void **state)
{
    struct env *e = *state;
    struct transport_peer p;
    assert_int_equal(transport_pki_cert_identity(e->a.cert_pem, e->a.cert_len, &p), 0);
    assert_true(p.has_cert);
    assert_int_equal(p.node_id, 1);
    assert_string_equal(p.name, "node-a");
    assert_memory_equal(p.pin, e->a.pin, TRANSPORT_PIN_LEN);
    /* The pin of the CSR is the pin of the certificate issued for it. */
    char *csr = NULL;
    size_t csr_len = 0;
    unsigned char pin[TRANSPORT_PIN_LEN];
    assert_int_equal(transport_pki_csr_create(&e->a.key, "x", &csr, &csr_len), 0);
    assert_int_equal(transport_pki_csr_pin(csr, csr_len, pin), 0);
    assert_memory_equal(pin, e->a.pin, TRANSPORT_PIN_LEN);
    /* A CSR whose signature does not verify is refused: flip a byte in the signature area. */
    char *bad = strdup(csr);
    assert_non_null(bad);
    char *end = strstr(bad, "-----END");
    assert_non_null(end);
    end[-6] = end[-6] == 'A' ? 'B' : 'A';
    char *cert = NULL;
    size_t cert_len = 0;
    int rc = transport_pki_csr_sign(e->ca.cert_pem, e->ca.cert_len, &e->ca.key, bad, strlen(bad),
                                    5, "x", 1, &cert, &cert_len);
    assert_true(rc == SHIR_E_AUTH || rc == SHIR_E_MALFORMED);
    assert_null(cert);
    /* Garbage PEM. */
    assert_int_equal(transport_pki_cert_pin("nope", 4, pin), SHIR_E_MALFORMED);
    free(bad);
    free(csr);
}

/* ------------------------------------------------------------------------------------------- */
/* Working paths. */

static void test_rpc_echo_ipv4(void **state)
{
    struct env *e = *state;
    listen_on(e, &e->a, "127.0.0.1", 0);
    e->srv.echo = true;
    dial(e, e->b.tls, "127.0.0.1", TRANSPORT_CH_RPC);
    expect_connected(e);
    assert_int_equal(transport_conn_channel(e->cli.conn), TRANSPORT_CH_RPC);
    assert_int_equal(e->cli.peer.node_id, 1);
    assert_memory_equal(e->cli.peer.pin, e->a.pin, TRANSPORT_PIN_LEN);
    static unsigned char big[1 << 20];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (unsigned char)(i * 7);
    assert_int_equal(transport_conn_write(e->cli.conn, "hello", 5), 0);
    assert_int_equal(transport_conn_write(e->cli.conn, big, sizeof big), 0);
    assert_int_equal(transport_conn_write(e->cli.conn, "x", 1), 0);
    assert_true(tt_run_until(&e->loop, cond_cli_frames3, e, DEADLINE_MS));
    assert_int_equal(e->cli.bytes, 5 + sizeof big + 1);
    assert_memory_equal(e->cli.first, "hello", 5);
    /* The server saw the client's identity. */
    assert_int_equal(e->srv.peer.node_id, 2);
    assert_memory_equal(e->srv.peer.pin, e->b.pin, TRANSPORT_PIN_LEN);
    assert_true(e->a.authorize_calls >= 1 && e->b.authorize_calls >= 1);
    /* Both ends derive the same exporter bytes. */
    unsigned char x1[32], x2[32];
    assert_int_equal(transport_conn_export(e->cli.conn, "EXPORTER-shir-test", "ctx", 3, x1, 32),
                     0);
    assert_int_equal(transport_conn_export(e->srv.conn, "EXPORTER-shir-test", "ctx", 3, x2, 32),
                     0);
    assert_memory_equal(x1, x2, 32);
    const struct transport_stats *st = transport_listener_stats(e->l);
    assert_int_equal(st->established, 1);
    assert_int_equal(st->frames_in, 3);
    /* Dead-peer detection is armed on both ends: keepalive and TCP_USER_TIMEOUT (5 s). */
    struct transport_conn *ends[2] = {e->cli.conn, e->srv.conn};
    for (int i = 0; i < 2; i++) {
        uv_os_fd_t fd;
        assert_int_equal(uv_fileno((uv_handle_t *)&ends[i]->tcp, &fd), 0);
        int v = 0;
        socklen_t vl = sizeof v;
        assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, &vl), 0);
        assert_int_equal(v, (int)TRANSPORT_USER_TIMEOUT_MS_DEFAULT);
        vl = sizeof v;
        assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, &vl), 0);
        assert_int_not_equal(v, 0);
        vl = sizeof v;
        assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &vl), 0);
        assert_int_not_equal(v, 0);
    }
    /* A local close reports err 0 here and SHIR_E_CLOSED on the other side. */
    transport_conn_close(e->cli.conn);
    assert_true(tt_run_until(&e->loop, cond_both_closed, e, DEADLINE_MS));
    assert_int_equal(e->cli.close_err, 0);
    assert_int_equal(e->srv.close_err, SHIR_E_CLOSED);
}

static void test_ipv6(void **state)
{
    struct env *e = *state;
    struct transport_listener_config cfg = {
        .tls = e->a.tls, .host = "::1", .accept_cb = on_accept, .data = e};
    int rc = transport_listener_new(&e->loop, &cfg, &e->l);
    if (rc != 0) {
        e->l = NULL;
        skip(); /* no IPv6 loopback on this machine */
    }
    e->srv.echo = true;
    dial(e, e->b.tls, "::1", TRANSPORT_CH_GOSSIP);
    expect_connected(e);
    assert_int_equal(strncmp(transport_conn_remote(e->cli.conn), "[::1]:", 6), 0);
    assert_int_equal(transport_conn_write(e->cli.conn, "ping", 4), 0);
    assert_true(tt_run_until(&e->loop, cond_cli_frame1, e, DEADLINE_MS));
    assert_memory_equal(e->cli.first, "ping", 4);
}

static void test_hostname_and_channels(void **state)
{
    struct env *e = *state;
    listen_on(e, &e->a, "127.0.0.1", 0);
    e->srv.echo = true;
    /* "localhost" may resolve to ::1 first, where nobody listens: the dialer tries the next. */
    const enum transport_channel chans[] = {TRANSPORT_CH_RAFT, TRANSPORT_CH_RPC,
                                            TRANSPORT_CH_GOSSIP};
    for (size_t i = 0; i < 3; i++) {
        memset(&e->cli, 0, sizeof e->cli);
        memset(&e->srv, 0, sizeof e->srv);
        e->srv.echo = true;
        dial(e, e->b.tls, "localhost", chans[i]);
        expect_connected(e);
        assert_int_equal(transport_conn_channel(e->cli.conn), chans[i]);
        assert_int_equal(transport_conn_channel(e->srv.conn), chans[i]);
        assert_int_equal(transport_conn_write(e->cli.conn, "abc", 3), 0);
        assert_true(tt_run_until(&e->loop, cond_cli_frame1, e, DEADLINE_MS));
        transport_conn_close(e->cli.conn);
        assert_true(tt_run_until(&e->loop, cond_both_closed, e, DEADLINE_MS));
    }
    assert_int_equal(transport_listener_stats(e->l)->established, 3);
}

/* ------------------------------------------------------------------------------------------- */
/* Authentication and authorisation refusals. */

static void test_no_client_cert(void **state)
{
    struct env *e = *state;
    listen_on(e, &e->a, "127.0.0.1", 0);
    /* A certificate-less (join) context offering the rpc channel. */
    struct transport_tls_config cfg = {.join_client = true};
    memcpy(cfg.ca_pin, e->ca.pin, TRANSPORT_PIN_LEN);
    struct transport_tls *anon = NULL;
    assert_int_equal(transport_tls_new(&cfg, &anon), 0);
    dial(e, anon, "127.0.0.1", TRANSPORT_CH_JOIN);
    static const unsigned char rpc[] = "\x0ashir-rpc/1";
    transport__conn_set_alpn_override(e->cli.conn, rpc, 11);
    assert_true(tt_run_until(&e->loop, cond_cli_over, e, DEADLINE_MS));
    const struct transport_stats *st = transport_listener_stats(e->l);
    assert_int_equal(st->bad_cert, 1);
    assert_int_equal(st->established, 0);
    assert_int_equal(e->accepted, 0);
    /* Refused inside the handshake (a "certificate required" alert), not merely closed after. */
    assert_true(e->cli.connect_status == SHIR_E_AUTH || e->cli.close_err == SHIR_E_AUTH);
    transport_listener_close(e->l, on_listener_closed);
    e->l = NULL;
    assert_true(tt_run_drain(&e->loop, DEADLINE_MS));
    transport_tls_free(anon);
}

static void test_client_cert_other_ca(void **state)
{
    struct env *e = *state;
    listen_on(e, &e->a, "127.0.0.1", 0);
    /* Trusts our CA (so it accepts the server) but presents a certificate from another CA. */
    struct transport_tls_config cfg = {
        .ca_pem = e->ca.cert_pem, .ca_pem_len = e->ca.cert_len,
        .cert_pem = e->outsider.cert_pem, .cert_pem_len = e->outsider.cert_len,
        .key_pem = (const char *)e->outsider.key.bytes, .key_pem_len = e->outsider.key.len,
        .authorize = tt_authorize, .authorize_data = &e->outsider};
    tt_node_allow(&e->outsider, e->a.pin);
    tt_node_allow(&e->a, e->outsider.pin); /* even allowlisted, the CA check must refuse it */
    struct transport_tls *mixed = NULL;
    assert_int_equal(transport_tls_new(&cfg, &mixed), 0);
    dial(e, mixed, "127.0.0.1", TRANSPORT_CH_RPC);
    assert_true(tt_run_until(&e->loop, cond_cli_over, e, DEADLINE_MS));
    const struct transport_stats *st = transport_listener_stats(e->l);
    assert_int_equal(st->bad_cert, 1);
    assert_int_equal(st->established, 0);
    assert_int_equal(e->accepted, 0);
    assert_int_equal(e->a.authorize_calls, 0); /* the CA check came first */
    assert_true(e->cli.connect_status == SHIR_E_AUTH || e->cli.close_err == SHIR_E_AUTH);
    transport_listener_close(e->l, on_listener_closed);
    e->l = NULL;
    assert_true(tt_run_drain(&e->loop, DEADLINE_MS));
    transport_tls_free(mixed);
}

static void test_server_cert_other_ca(void **state)
{
    struct env *e = *state;
    listen_on(e, &e->a, "127.0.0.1", 0);
    /* The outsider's context trusts only the other CA: it must refuse our server. */
    tt_node_allow(&e->outsider, e->a.pin);
    dial(e, e->outsider.tls, "127.0.0.1", TRANSPORT_CH_RPC);
    assert_true(tt_run_until(&e->loop, cond_cli_over, e, DEADLINE_MS));
    assert_int_not_equal(e->cli.connect_status, 0);
    assert_int_equal(e->cli.connect_status, SHIR_E_AUTH);
    assert_int_equal(transport_tls_dial_stats(e->outsider.tls)->bad_cert, 1);
    assert_int_equal(e->accepted, 0);
}

static void not_allowlisted_on(struct env *e, enum transport_channel ch)
{
    tt_node_disallow(&e->a, e->b.pin);
    dial(e, e->b.tls, "127.0.0.1", ch);
    assert_true(tt_run_until(&e->loop, cond_cli_over, e, DEADLINE_MS));
    const struct transport_stats *st = transport_listener_stats(e->l);
    assert_int_equal(e->accepted, 0);
    assert_int_equal(st->established, 0);
    assert_true(e->cli.connect_status != 0 || e->cli.close_err != 0);
}

static void test_not_allowlisted_raft(void **state)
{
    struct env *e = *state;
    listen_on(e, &e->a, "127.0.0.1", 0);
    not_allowlisted_on(e, TRANSPORT_CH_RAFT);
    assert_int_equal(transport_listener_stats(e->l)->denied, 1);
}

static void test_not_allowlisted_rpc(void **state)
{
    struct env *e = *state;
    listen_on(e, &e->a, "127.0.0.1", 0);
    not_allowlisted_on(e, TRANSPORT_CH_RPC);
    assert_int_equal(transport_listener_stats(e->l)->denied, 1);
}

static void test_not_allowlisted_gossip(void **state)
{
    struct env *e = *state;
    listen_on(e, &e->a, "127.0.0.1", 0);
    not_allowlisted_on(e, TRANSPORT_CH_GOSSIP);
    assert_int_equal(transport_listener_stats(e->l)->denied, 1);
}

static void test_server_not_allowlisted(void **state)
{
    struct env *e = *state;
    listen_on(e, &e->a, "127.0.0.1", 0);
    tt_node_disallow(&e->b, e->a.pin);
    dial(e, e->b.tls, "127.0.0.1", TRANSPORT_CH_RPC);
    assert_true(tt_run_until(&e->loop, cond_cli_over, e, DEADLINE_MS));
    assert_int_equal(e->cli.connect_status, SHIR_E_DENIED);
    assert_int_equal(transport_tls_dial_stats(e->b.tls)->denied, 1);
}

static void test_close_peer(void **state)
{
    struct env *e = *state;
    listen_on(e, &e->a, "127.0.0.1", 0);
    dial(e, e->b.tls, "127.0.0.1", TRANSPORT_CH_RPC);
    expect_connected(e);
    /* Wait until the server has the connection too. */
    assert_true(tt_run_until(&e->loop, cond_srv_conn, e, DEADLINE_MS));
    /* The member is removed: allowlist first, then cut its live connections. */
    tt_node_disallow(&e->a, e->b.pin);
    assert_int_equal(transport_tls_close_peer(e->a.tls, e->b.pin), 1);
    assert_true(tt_run_until(&e->loop, cond_both_closed, e, DEADLINE_MS));
    assert_int_equal(e->srv.close_err, SHIR_E_DENIED);
    assert_int_not_equal(e->cli.close_err, 0);
    assert_int_equal(transport_listener_stats(e->l)->denied, 1);
    /* And it cannot come back. */
    memset(&e->cli, 0, sizeof e->cli);
    dial(e, e->b.tls, "127.0.0.1", TRANSPORT_CH_RPC);
    assert_true(tt_run_until(&e->loop, cond_cli_over, e, DEADLINE_MS));
    assert_int_equal(transport_listener_stats(e->l)->denied, 2);
    assert_int_equal(e->accepted, 1);
}

/* ------------------------------------------------------------------------------------------- */
/* ALPN and join. */

static void alpn_override_case(struct env *e, const unsigned char *protos, unsigned len)
{
    listen_on(e, &e->a, "127.0.0.1", 0);
    dial(e, e->b.tls, "127.0.0.1", TRANSPORT_CH_RPC);
    transport__conn_set_alpn_override(e->cli.conn, protos, len);
    assert_true(tt_run_until(&e->loop, cond_cli_over, e, DEADLINE_MS));
    assert_int_equal(e->cli.connect_status, SHIR_E_PROTO);
    assert_int_equal(transport_listener_stats(e->l)->alpn_refused, 1);
    assert_int_equal(e->accepted, 0);
}

static void test_alpn_wrong(void **state)
{
    static const unsigned char h[] = "\x08http/1.1\x0bshir-rpc/2";
    alpn_override_case(*state, h, 9 + 12);
}

static void test_alpn_missing(void **state)
{
    alpn_override_case(*state, NULL, 0);
}

static void join_dial(struct env *e, const unsigned char pin[TRANSPORT_PIN_LEN],
                      struct transport_tls **out)
{
    struct transport_tls_config cfg = {.join_client = true};
    memcpy(cfg.ca_pin, pin, TRANSPORT_PIN_LEN);
    assert_int_equal(transport_tls_new(&cfg, out), 0);
    /* A join context cannot dial member channels. */
    struct transport_dial_config bad = {.tls = *out, .host = "127.0.0.1", .port = 1,
                                        .channel = TRANSPORT_CH_RPC, .connect_cb = on_connect};
    struct transport_conn *c = NULL;
    assert_int_equal(transport_dial(&e->loop, &bad, &c), SHIR_E_UNSUPPORTED);
    dial(e, *out, "127.0.0.1", TRANSPORT_CH_JOIN);
}

static void test_join_pinned(void **state)
{
    struct env *e = *state;
    listen_on(e, &e->a, "127.0.0.1", 0);
    e->srv.echo = true;
    struct transport_tls *j = NULL;
    join_dial(e, e->ca.pin, &j);
    expect_connected(e);
    assert_true(tt_run_until(&e->loop, cond_srv_conn, e, DEADLINE_MS));
    assert_int_equal(transport_conn_channel(e->srv.conn), TRANSPORT_CH_JOIN);
    assert_false(e->srv.peer.has_cert);
    assert_true(e->cli.peer.has_cert);
    assert_int_equal(e->cli.peer.node_id, 1);
    unsigned char x1[32], x2[32];
    assert_int_equal(transport_conn_export(e->cli.conn, "EXPORTER-shir-join", NULL, 0, x1, 32),
                     0);
    assert_int_equal(transport_conn_export(e->srv.conn, "EXPORTER-shir-join", NULL, 0, x2, 32),
                     0);
    assert_memory_equal(x1, x2, 32);
    assert_int_equal(transport_conn_write(e->cli.conn, "join?", 5), 0);
    assert_true(tt_run_until(&e->loop, cond_cli_frame1, e, DEADLINE_MS));
    transport_conn_close(e->cli.conn);
    assert_true(tt_run_until(&e->loop, cond_both_closed, e, DEADLINE_MS));
    transport_tls_free(j);
}

static void test_join_wrong_pin(void **state)
{
    struct env *e = *state;
    listen_on(e, &e->a, "127.0.0.1", 0);
    struct transport_tls *j = NULL;
    join_dial(e, e->ca2.pin, &j);
    assert_true(tt_run_until(&e->loop, cond_cli_over, e, DEADLINE_MS));
    assert_int_equal(e->cli.connect_status, SHIR_E_AUTH);
    assert_int_equal(transport_tls_dial_stats(j)->bad_cert, 1);
    assert_int_equal(e->accepted, 0);
    transport_listener_close(e->l, on_listener_closed);
    e->l = NULL;
    assert_true(tt_run_drain(&e->loop, DEADLINE_MS));
    transport_tls_free(j);
}

/* ------------------------------------------------------------------------------------------- */
/* Frames. */

static void test_oversize_frame(void **state)
{
    struct env *e = *state;
    listen_on(e, &e->a, "127.0.0.1", 1024);
    dial(e, e->b.tls, "127.0.0.1", TRANSPORT_CH_RPC);
    expect_connected(e);
    unsigned char hdr[4];
    shir_put_be32(hdr, 1025);
    assert_int_equal(transport__conn_write_raw(e->cli.conn, hdr, 4), 0);
    assert_true(tt_run_until(&e->loop, cond_both_closed, e, DEADLINE_MS));
    assert_int_equal(e->srv.close_err, SHIR_E_TOOBIG);
    assert_int_equal(transport_listener_stats(e->l)->bad_frames, 1);
    assert_int_equal(e->srv.frames, 0);
}

static void test_truncated_frame(void **state)
{
    struct env *e = *state;
    listen_on(e, &e->a, "127.0.0.1", 0);
    dial(e, e->b.tls, "127.0.0.1", TRANSPORT_CH_RPC);
    expect_connected(e);
    unsigned char part[14];
    shir_put_be32(part, 100);
    memset(part + 4, 'z', 10);
    assert_int_equal(transport_conn_write(e->cli.conn, "ok", 2), 0);
    assert_int_equal(transport__conn_write_raw(e->cli.conn, part, sizeof part), 0);
    transport_conn_close(e->cli.conn);
    assert_true(tt_run_until(&e->loop, cond_both_closed, e, DEADLINE_MS));
    assert_int_equal(e->srv.frames, 1);
    assert_int_equal(e->srv.close_err, SHIR_E_TRUNC);
    assert_int_equal(transport_listener_stats(e->l)->bad_frames, 1);
}

static void test_write_limits(void **state)
{
    struct env *e = *state;
    listen_on(e, &e->a, "127.0.0.1", 0);
    dial_full(e, e->b.tls, "127.0.0.1", transport_listener_port(e->l), TRANSPORT_CH_RPC,
              64 * 1024, 0);
    expect_connected(e);
    assert_int_equal(transport_conn_write(e->cli.conn, "", 0), SHIR_E_INVAL);
    static unsigned char chunk[16 * 1024];
    unsigned sent = 0;
    int rc = 0;
    /* Without running the loop nothing completes: the queue must refuse before it passes 64 KiB. */
    while ((rc = transport_conn_write(e->cli.conn, chunk, sizeof chunk)) == 0)
        sent++;
    assert_int_equal(rc, SHIR_E_FULL);
    assert_true(sent >= 1 && sent <= 4);
    assert_true(transport_conn_outbound(e->cli.conn) <= 64 * 1024);
    assert_int_equal(transport_tls_dial_stats(e->b.tls)->backpressure, 1);
    /* The queue empties into the socket; drain_cb says so; the peer gets every frame. */
    assert_true(tt_run_until(&e->loop, cond_cli_drained, e, DEADLINE_MS));
    assert_int_equal(transport_conn_write(e->cli.conn, chunk, sizeof chunk), 0);
    e->expect_frames = sent + 1;
    assert_true(tt_run_until(&e->loop, cond_srv_frames, e, DEADLINE_MS));
    assert_int_equal(e->srv.bytes, (size_t)(sent + 1) * sizeof chunk);
}

/* ------------------------------------------------------------------------------------------- */
/* Hostile or broken peers below TLS. */

struct raw_client {
    uv_tcp_t tcp;
    uv_connect_t req;
    uv_write_t wreq;
    const char *data;
    size_t len;
    bool done; /* EOF or error read, i.e. the server hung up */
    bool closed;
    char buf[4096];
};

static void raw_alloc(uv_handle_t *h, size_t n, uv_buf_t *b)
{
    (void)n;
    struct raw_client *r = h->data;
    *b = uv_buf_init(r->buf, sizeof r->buf);
}

static void raw_closed(uv_handle_t *h)
{
    ((struct raw_client *)h->data)->closed = true;
}

static void raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    struct raw_client *r = s->data;
    if (n < 0) {
        r->done = true;
        uv_close((uv_handle_t *)s, raw_closed);
    }
}

static void raw_written(uv_write_t *w, int status)
{
    (void)w;
    (void)status;
}

static void raw_connected(uv_connect_t *req, int status)
{
    struct raw_client *r = req->data;
    if (status != 0) {
        r->done = true;
        uv_close((uv_handle_t *)&r->tcp, raw_closed);
        return;
    }
    if (r->len > 0) {
        uv_buf_t b = uv_buf_init((char *)r->data, (unsigned)r->len);
        (void)uv_write(&r->wreq, (uv_stream_t *)&r->tcp, &b, 1, raw_written);
    }
    (void)uv_read_start((uv_stream_t *)&r->tcp, raw_alloc, raw_read);
}

static bool cond_raw_closed(void *arg)
{
    return ((struct raw_client *)arg)->closed;
}

static void raw_send(struct env *e, const char *data, size_t len)
{
    struct raw_client *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->data = data;
    r->len = len;
    uv_tcp_init(&e->loop, &r->tcp);
    r->tcp.data = r;
    r->req.data = r;
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", transport_listener_port(e->l), &sa);
    assert_int_equal(uv_tcp_connect(&r->req, &r->tcp, (struct sockaddr *)&sa, raw_connected), 0);
    /* The server must hang up on its own: no timeout of ours plays a part (20 s budget vs the
     * listener's 10 s handshake timeout, which is counted separately and asserted zero). */
    assert_true(tt_run_until(&e->loop, cond_raw_closed, r, DEADLINE_MS));
    assert_true(r->done);
    free(r);
}

static void test_plaintext_http(void **state)
{
    struct env *e = *state;
    listen_on(e, &e->a, "127.0.0.1", 0);
    static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    raw_send(e, req, sizeof req - 1);
    const struct transport_stats *st = transport_listener_stats(e->l);
    assert_int_equal(st->accepted, 1);
    assert_int_equal(st->handshake_failed, 1);
    assert_int_equal(st->timeouts, 0);
    assert_int_equal(e->accepted, 0);
}

static void test_garbage(void **state)
{
    struct env *e = *state;
    listen_on(e, &e->a, "127.0.0.1", 0);
    /* A TLS record header announcing a handshake record that is not one, then junk. */
    static const char junk[] = "\x16\x03\x01\x00\x05\xff\xff\xff\xff\xff\x00\x01\x02garbage";
    raw_send(e, junk, sizeof junk - 1);
    const struct transport_stats *st = transport_listener_stats(e->l);
    assert_int_equal(st->handshake_failed, 1);
    assert_int_equal(st->timeouts, 0);
    assert_int_equal(e->accepted, 0);
}

static void test_silent_client(void **state)
{
    struct env *e = *state;
    /* A client that connects and never speaks: the listener's handshake deadline ends it. */
    struct transport_listener_config cfg = {.tls = e->a.tls, .host = "127.0.0.1",
                                            .handshake_timeout_ms = 200, .accept_cb = on_accept,
                                            .data = e};
    assert_int_equal(transport_listener_new(&e->loop, &cfg, &e->l), 0);
    raw_send(e, "", 0);
    const struct transport_stats *st = transport_listener_stats(e->l);
    assert_int_equal(st->timeouts, 1);
    assert_int_equal(st->handshake_failed, 0);
    assert_int_equal(e->accepted, 0);
}

/* ------------------------------------------------------------------------------------------- */
/* Dial failures. */

static void test_connect_refused(void **state)
{
    struct env *e = *state;
    listen_on(e, &e->a, "127.0.0.1", 0);
    uint16_t port = transport_listener_port(e->l);
    transport_listener_close(e->l, on_listener_closed);
    e->l = NULL;
    assert_true(tt_run_drain(&e->loop, DEADLINE_MS));
    dial_full(e, e->b.tls, "127.0.0.1", port, TRANSPORT_CH_RPC, 0, 0);
    assert_true(tt_run_until(&e->loop, cond_connect_done, e, DEADLINE_MS));
    assert_int_equal(e->cli.connect_status, UV_ECONNREFUSED);
    assert_int_equal(transport_tls_dial_stats(e->b.tls)->io_errors, 1);
}

struct silent_server {
    uv_tcp_t tcp;
    uv_tcp_t peer;
    bool have_peer;
};

static void silent_accept(uv_stream_t *s, int status)
{
    struct silent_server *ss = s->data;
    if (status != 0 || ss->have_peer)
        return;
    uv_tcp_init(s->loop, &ss->peer);
    if (uv_accept(s, (uv_stream_t *)&ss->peer) == 0)
        ss->have_peer = true;
}

static void test_handshake_timeout(void **state)
{
    struct env *e = *state;
    /* A server that accepts and never answers: only the dialer's deadline ends the attempt. */
    struct silent_server ss = {.have_peer = false};
    uv_tcp_init(&e->loop, &ss.tcp);
    ss.tcp.data = &ss;
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    assert_int_equal(uv_tcp_bind(&ss.tcp, (struct sockaddr *)&sa, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&ss.tcp, 8, silent_accept), 0);
    struct sockaddr_in bound;
    int len = (int)sizeof bound;
    uv_tcp_getsockname(&ss.tcp, (struct sockaddr *)&bound, &len);
    dial_full(e, e->b.tls, "127.0.0.1", ntohs(bound.sin_port), TRANSPORT_CH_RPC, 0, 200);
    assert_true(tt_run_until(&e->loop, cond_connect_done, e, DEADLINE_MS));
    assert_int_equal(e->cli.connect_status, SHIR_E_TIMEOUT);
    assert_int_equal(transport_tls_dial_stats(e->b.tls)->timeouts, 1);
    uv_close((uv_handle_t *)&ss.tcp, NULL);
    if (ss.have_peer)
        uv_close((uv_handle_t *)&ss.peer, NULL);
    assert_true(tt_run_drain(&e->loop, DEADLINE_MS));
}

static void test_cancel_and_listener_close(void **state)
{
    struct env *e = *state;
    listen_on(e, &e->a, "127.0.0.1", 0);
    /* A dial cancelled right away reports SHIR_E_CANCELED, later, from the loop. */
    dial(e, e->b.tls, "localhost", TRANSPORT_CH_RPC);
    transport_conn_close(e->cli.conn);
    assert_false(e->cli.connect_done);
    assert_true(tt_run_until(&e->loop, cond_connect_done, e, DEADLINE_MS));
    assert_int_equal(e->cli.connect_status, SHIR_E_CANCELED);
    /* Closing the listener closes what it accepted. */
    memset(&e->cli, 0, sizeof e->cli);
    dial(e, e->b.tls, "127.0.0.1", TRANSPORT_CH_RPC);
    expect_connected(e);
    assert_true(tt_run_until(&e->loop, cond_srv_conn, e, DEADLINE_MS));
    transport_listener_close(e->l, on_listener_closed);
    e->l = NULL;
    assert_true(tt_run_until(&e->loop, cond_both_closed, e, DEADLINE_MS));
    assert_int_equal(e->srv.close_err, SHIR_E_SHUTDOWN);
    assert_int_not_equal(e->cli.close_err, 0);
    assert_true(tt_run_drain(&e->loop, DEADLINE_MS));
    assert_true(e->listener_closed);
}

/* ------------------------------------------------------------------------------------------- */

int main(void)
{
    transport_process_init();
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, env_setup, env_teardown)
        T(test_pki_identity),
        T(test_rpc_echo_ipv4),
        T(test_ipv6),
        T(test_hostname_and_channels),
        T(test_no_client_cert),
        T(test_client_cert_other_ca),
        T(test_server_cert_other_ca),
        T(test_not_allowlisted_raft),
        T(test_not_allowlisted_rpc),
        T(test_not_allowlisted_gossip),
        T(test_server_not_allowlisted),
        T(test_close_peer),
        T(test_alpn_wrong),
        T(test_alpn_missing),
        T(test_join_pinned),
        T(test_join_wrong_pin),
        T(test_oversize_frame),
        T(test_truncated_frame),
        T(test_write_limits),
        T(test_plaintext_http),
        T(test_garbage),
        T(test_silent_client),
        T(test_connect_refused),
        T(test_handshake_timeout),
        T(test_cancel_and_listener_close),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
