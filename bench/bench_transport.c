/* Transport benchmark (a program, not a test): RPC-like round trips per second with p50/p99
 * latency, and bulk MB/s through one connection, over
 *   - plain TCP (the baseline, same framing, same loop),
 *   - mTLS on shir-rpc/1 (transport_dial / transport_listener),
 *   - the raft bridge on shir-raft/1 (socketpair + TLS, as raft sees it),
 *   - a bare socketpair (what the bridge's two extra hops cost by themselves),
 * all on loopback in one process and one loop, so both ends share the CPU: figures are for
 * comparing the modes with each other, not absolute capacity. On a loaded machine p99 is
 * dominated by scheduler slices (~4 ms): a mode with more syscalls per round trip (the bridge
 * has three hops each way) crosses the 1 % line first. Usage:
 *   bench_transport [round_trips (default 20000)] [bulk MiB (default 256)] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <raft.h>
#include <raft/uv.h>

#include "tests/unit/transport_testlib.h"

#define RPC_SIZE 128
#define BULK_FRAME (256u * 1024u)
#define BULK_INFLIGHT (8u * 1024u * 1024u)
#define DEADLINE_MS 600000u

enum ep_kind { EP_CONN, EP_STREAM };

struct bench;

struct ep {
    enum ep_kind kind;
    struct bench *b;
    bool server;
    struct transport_conn *conn;
    uv_stream_t *stream;
    struct shir_buf in; /* stream framing */
    size_t queued;      /* stream bytes handed to uv_write, not yet written */
};

struct result {
    const char *name;
    double rt_per_s, p50_us, p99_us, mb_per_s;
};

struct bench {
    uv_loop_t *loop;
    struct ep cli, srv;
    bool have_cli, have_srv;
    /* round trips */
    unsigned rt_target, rt_done;
    uint64_t *lat_ns;
    uint64_t sent_at;
    /* bulk */
    bool bulk;
    uint64_t bulk_total, bulk_sent, bulk_recv;
    unsigned char *payload;
};

static void ep_pump(struct ep *e);

/* ------------------------------------------------------------------------------------------- */
/* Endpoints: a TLS connection (framed by transport) or a raw stream (framed here). */

struct swrite {
    uv_write_t req;
    struct ep *ep;
    size_t len;
    unsigned char data[];
};

static void stream_written(uv_write_t *req, int status)
{
    struct swrite *w = (struct swrite *)req;
    struct ep *e = w->ep;
    e->queued -= w->len;
    free(w);
    if (status == 0 && e->b->bulk && !e->server)
        ep_pump(e);
}

static int ep_send(struct ep *e, const void *p, size_t n)
{
    if (e->kind == EP_CONN)
        return transport_conn_write(e->conn, p, n);
    struct swrite *w = malloc(sizeof *w + 4 + n);
    if (!w)
        return SHIR_E_NOMEM;
    shir_put_be32(w->data, (uint32_t)n);
    memcpy(w->data + 4, p, n);
    w->ep = e;
    w->len = 4 + n;
    uv_buf_t buf = uv_buf_init((char *)w->data, (unsigned)(4 + n));
    int rc = uv_write(&w->req, e->stream, &buf, 1, stream_written);
    if (rc != 0) {
        free(w);
        return rc;
    }
    e->queued += w->len;
    return 0;
}

static void on_frame(struct ep *e, const unsigned char *p, size_t n)
{
    struct bench *b = e->b;
    if (e->server) {
        if (b->bulk)
            b->bulk_recv += n;
        else
            (void)ep_send(e, p, n); /* echo */
        return;
    }
    b->lat_ns[b->rt_done++] = uv_hrtime() - b->sent_at;
    if (b->rt_done < b->rt_target) {
        b->sent_at = uv_hrtime();
        (void)ep_send(e, b->payload, RPC_SIZE);
    }
}

static void conn_frame(struct transport_conn *c, const unsigned char *p, size_t n)
{
    on_frame(transport_conn_data(c), p, n);
}

static void conn_closed(struct transport_conn *c, int err, const char *msg)
{
    struct ep *e = transport_conn_data(c);
    if (err != 0 && err != SHIR_E_CLOSED && err != SHIR_E_SHUTDOWN)
        fprintf(stderr, "connection closed: %s\n", msg ? msg : shir_strerror(err));
    e->conn = NULL;
}

static void conn_drain(struct transport_conn *c)
{
    ep_pump(transport_conn_data(c));
}

static void ep_conn(struct ep *e, struct bench *b, bool server, struct transport_conn *c)
{
    memset(e, 0, sizeof *e);
    e->kind = EP_CONN;
    e->b = b;
    e->server = server;
    e->conn = c;
    struct transport_conn_cbs cbs = {
        .frame_cb = conn_frame, .close_cb = conn_closed, .drain_cb = conn_drain, .data = e};
    transport_conn_set_cbs(c, &cbs);
}

static void stream_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    static char slab[65536]; /* bench only: one loop thread, consumed before the next read */
    (void)suggested;
    *buf = uv_buf_init(slab, sizeof slab);
}

static void stream_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct ep *e = s->data;
    if (n <= 0)
        return;
    if (shir_buf_append(&e->in, buf->base, (size_t)n) != 0)
        abort();
    size_t off = 0;
    while (e->in.len - off >= 4) {
        uint32_t len = shir_get_be32(e->in.data + off);
        if (e->in.len - off - 4 < len)
            break;
        on_frame(e, e->in.data + off + 4, len);
        off += 4 + (size_t)len;
    }
    shir_buf_consume(&e->in, off);
}

static void ep_stream(struct ep *e, struct bench *b, bool server, uv_stream_t *s)
{
    memset(e, 0, sizeof *e);
    e->kind = EP_STREAM;
    e->b = b;
    e->server = server;
    e->stream = s;
    shir_buf_init(&e->in, 64u * 1024u * 1024u);
    s->data = e;
    (void)uv_read_start(s, stream_alloc, stream_read);
}

/* Bulk: keep the sender's queue full without letting it grow past BULK_INFLIGHT. */
static void ep_pump(struct ep *e)
{
    struct bench *b = e->b;
    while (b->bulk && b->bulk_sent < b->bulk_total) {
        /* A TLS connection bounds itself (SHIR_E_FULL, then drain_cb); a raw stream here. */
        if (e->kind == EP_STREAM && e->queued + BULK_FRAME > BULK_INFLIGHT)
            return;
        if (ep_send(e, b->payload, BULK_FRAME) != 0)
            return; /* SHIR_E_FULL: drain_cb calls again */
        b->bulk_sent += BULK_FRAME;
    }
}

/* ------------------------------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool cond_rt(void *arg)
{
    struct bench *b = arg;
    return b->rt_done >= b->rt_target;
}

static bool cond_bulk(void *arg)
{
    struct bench *b = arg;
    return b->bulk_recv >= b->bulk_total;
}

static bool cond_pair(void *arg)
{
    struct bench *b = arg;
    return b->have_cli && b->have_srv;
}

static void measure(struct bench *b, struct result *r)
{
    /* Round trips. */
    b->rt_done = 0;
    b->bulk = false;
    uint64_t t0 = uv_hrtime();
    b->sent_at = t0;
    (void)ep_send(&b->cli, b->payload, RPC_SIZE);
    if (!tt_run_until(b->loop, cond_rt, b, DEADLINE_MS)) {
        fprintf(stderr, "%s: round trips did not finish\n", r->name);
        exit(1);
    }
    double secs = (double)(uv_hrtime() - t0) / 1e9;
    qsort(b->lat_ns, b->rt_target, sizeof *b->lat_ns, cmp_u64);
    r->rt_per_s = b->rt_target / secs;
    r->p50_us = (double)b->lat_ns[b->rt_target / 2] / 1e3;
    r->p99_us = (double)b->lat_ns[(size_t)b->rt_target * 99 / 100] / 1e3;
    fprintf(stderr, "  %s: round trips done\n", r->name);
    /* Bulk. */
    b->bulk = true;
    b->bulk_sent = b->bulk_recv = 0;
    t0 = uv_hrtime();
    ep_pump(&b->cli);
    if (!tt_run_until(b->loop, cond_bulk, b, DEADLINE_MS)) {
        fprintf(stderr, "%s: bulk did not finish\n", r->name);
        exit(1);
    }
    secs = (double)(uv_hrtime() - t0) / 1e9;
    r->mb_per_s = (double)b->bulk_total / (1024.0 * 1024.0) / secs;
    b->bulk = false;
}

static void close_ep(struct ep *e)
{
    if (e->kind == EP_CONN) {
        if (e->conn)
            transport_conn_close(e->conn);
    } else if (e->stream && !uv_is_closing((uv_handle_t *)e->stream)) {
        uv_close((uv_handle_t *)e->stream, NULL);
    }
}

/* ---- plain TCP ---------------------------------------------------------------------------- */

struct tcp_pair {
    struct bench *b;
    uv_tcp_t listener, srv, cli;
    uv_connect_t req;
};

static void tcp_accept(uv_stream_t *s, int status)
{
    struct tcp_pair *p = s->data;
    if (status != 0)
        return;
    uv_tcp_init(s->loop, &p->srv);
    if (uv_accept(s, (uv_stream_t *)&p->srv) != 0)
        return;
    uv_tcp_nodelay(&p->srv, 1);
    ep_stream(&p->b->srv, p->b, true, (uv_stream_t *)&p->srv);
    p->b->have_srv = true;
}

static void tcp_connected(uv_connect_t *req, int status)
{
    struct tcp_pair *p = req->data;
    if (status != 0) {
        fprintf(stderr, "tcp connect: %s\n", uv_strerror(status));
        exit(1);
    }
    uv_tcp_nodelay(&p->cli, 1);
    ep_stream(&p->b->cli, p->b, false, (uv_stream_t *)&p->cli);
    p->b->have_cli = true;
}

static void run_tcp(struct bench *b, struct result *r)
{
    struct tcp_pair p = {.b = b};
    b->have_cli = b->have_srv = false;
    uv_tcp_init(b->loop, &p.listener);
    p.listener.data = &p;
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    uv_tcp_bind(&p.listener, (struct sockaddr *)&sa, 0);
    uv_listen((uv_stream_t *)&p.listener, 8, tcp_accept);
    struct sockaddr_in bound;
    int len = (int)sizeof bound;
    uv_tcp_getsockname(&p.listener, (struct sockaddr *)&bound, &len);
    uv_tcp_init(b->loop, &p.cli);
    p.req.data = &p;
    uv_tcp_connect(&p.req, &p.cli, (struct sockaddr *)&bound, tcp_connected);
    if (!tt_run_until(b->loop, cond_pair, b, DEADLINE_MS))
        exit(1);
    measure(b, r);
    close_ep(&b->cli);
    close_ep(&b->srv);
    uv_close((uv_handle_t *)&p.listener, NULL);
    tt_run_drain(b->loop, DEADLINE_MS);
    shir_buf_free(&b->cli.in);
    shir_buf_free(&b->srv.in);
}

/* ---- socketpair only: what the bridge's two extra hops cost by themselves ----------------- */

static void run_pair(struct bench *b, struct result *r)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        exit(1);
    uv_pipe_t x, y;
    uv_pipe_init(b->loop, &x, 0);
    uv_pipe_init(b->loop, &y, 0);
    uv_pipe_open(&x, fds[0]);
    uv_pipe_open(&y, fds[1]);
    ep_stream(&b->cli, b, false, (uv_stream_t *)&x);
    ep_stream(&b->srv, b, true, (uv_stream_t *)&y);
    measure(b, r);
    close_ep(&b->cli);
    close_ep(&b->srv);
    tt_run_drain(b->loop, DEADLINE_MS);
    shir_buf_free(&b->cli.in);
    shir_buf_free(&b->srv.in);
}

/* ---- mTLS --------------------------------------------------------------------------------- */

static void tls_accept(struct transport_listener *l, struct transport_conn *c)
{
    struct bench *b = transport_listener_data(l);
    ep_conn(&b->srv, b, true, c);
    b->have_srv = true;
}

static void tls_connected(struct transport_conn *c, int status, const char *msg, void *data)
{
    struct bench *b = data;
    if (status != 0) {
        fprintf(stderr, "tls connect: %s\n", msg);
        exit(1);
    }
    ep_conn(&b->cli, b, false, c);
    b->have_cli = true;
}

static void run_tls(struct bench *b, struct tt_node *a, struct tt_node *bn, struct result *r)
{
    b->have_cli = b->have_srv = false;
    struct transport_listener *l = NULL;
    struct transport_listener_config lc = {
        .tls = a->tls, .host = "127.0.0.1", .accept_cb = tls_accept, .data = b};
    if (transport_listener_new(b->loop, &lc, &l) != 0)
        exit(1);
    struct transport_dial_config dc = {
        .tls = bn->tls, .host = "127.0.0.1", .port = transport_listener_port(l),
        .channel = TRANSPORT_CH_RPC, .connect_cb = tls_connected, .data = b};
    struct transport_conn *c = NULL;
    if (transport_dial(b->loop, &dc, &c) != 0)
        exit(1);
    if (!tt_run_until(b->loop, cond_pair, b, DEADLINE_MS))
        exit(1);
    measure(b, r);
    close_ep(&b->cli);
    transport_listener_close(l, NULL);
    tt_run_drain(b->loop, DEADLINE_MS);
}

/* ---- raft bridge -------------------------------------------------------------------------- */

static struct bench *bridge_bench(struct raft_uv_transport *t)
{
    return t->data;
}

static void bridge_accept(struct raft_uv_transport *t, raft_id id, const char *address,
                          uv_stream_t *s)
{
    (void)id;
    (void)address;
    struct bench *b = bridge_bench(t);
    ep_stream(&b->srv, b, true, s);
    b->have_srv = true;
}

static void bridge_connected(struct raft_uv_connect *req, uv_stream_t *s, int status)
{
    struct bench *b = req->data;
    if (status != 0) {
        fprintf(stderr, "bridge connect failed (%d)\n", status);
        exit(1);
    }
    ep_stream(&b->cli, b, false, s);
    b->have_cli = true;
}

struct bridge_ctx {
    char address[64];
};

static int bridge_address(void *data, uint64_t id, char *buf, size_t cap)
{
    (void)id;
    return shir_str_copy(buf, cap, ((struct bridge_ctx *)data)->address);
}

static void bridge_listener_accept(struct transport_listener *l, struct transport_conn *c)
{
    transport_raft_accept(transport_listener_data(l), c);
}

static void free_raft_stream(uv_handle_t *h)
{
    raft_free(h);
}

static void run_bridge(struct bench *b, struct tt_node *a, struct tt_node *bn, struct result *r)
{
    b->have_cli = b->have_srv = false;
    struct raft_uv_transport ta, tb;
    memset(&ta, 0, sizeof ta);
    memset(&tb, 0, sizeof tb);
    struct bridge_ctx ctx;
    struct transport_listener *l = NULL;
    struct transport_listener_config lc = {
        .tls = a->tls, .host = "127.0.0.1", .accept_cb = bridge_listener_accept, .data = &ta};
    if (transport_listener_new(b->loop, &lc, &l) != 0)
        exit(1);
    (void)shir_str_fmt(ctx.address, sizeof ctx.address, "127.0.0.1:%u",
                       transport_listener_port(l));
    struct transport_raft_config rc = {.tls = a->tls, .address_cb = bridge_address, .data = &ctx};
    transport_raft_init(&ta, b->loop, &rc);
    rc.tls = bn->tls;
    transport_raft_init(&tb, b->loop, &rc);
    ta.data = tb.data = b;
    ta.init(&ta, 1, ctx.address);
    tb.init(&tb, 2, "127.0.0.1:1");
    ta.listen(&ta, bridge_accept);
    struct raft_uv_connect req = {.data = b};
    if (tb.connect(&tb, &req, 1, ctx.address, bridge_connected) != 0)
        exit(1);
    if (!tt_run_until(b->loop, cond_pair, b, DEADLINE_MS))
        exit(1);
    measure(b, r);
    uv_close((uv_handle_t *)b->cli.stream, free_raft_stream);
    uv_close((uv_handle_t *)b->srv.stream, free_raft_stream);
    ta.close(&ta, NULL);
    tb.close(&tb, NULL);
    transport_listener_close(l, NULL);
    tt_run_drain(b->loop, DEADLINE_MS);
    shir_buf_free(&b->cli.in);
    shir_buf_free(&b->srv.in);
}

int main(int argc, char **argv)
{
    transport_process_init();
    uint64_t rts = 20000, mib = 256;
    if (argc > 1 && shir_parse_u64(argv[1], 100, 10000000, &rts) != 0)
        return 2;
    if (argc > 2 && shir_parse_u64(argv[2], 1, 65536, &mib) != 0)
        return 2;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct bench b = {.loop = &loop, .rt_target = (unsigned)rts, .bulk_total = mib << 20};
    b.lat_ns = calloc(rts, sizeof *b.lat_ns);
    b.payload = calloc(1, BULK_FRAME);
    struct tt_ca ca;
    struct tt_node a, bn;
    if (!b.lat_ns || !b.payload || tt_ca_make(&ca, "bench-ca") != 0 ||
        tt_node_make(&a, &ca, 1, "a") != 0 || tt_node_make(&bn, &ca, 2, "b") != 0)
        return 1;
    tt_node_allow(&a, bn.pin);
    tt_node_allow(&bn, a.pin);

    struct result res[4] = {
        {.name = "tcp"}, {.name = "mtls"}, {.name = "raft-bridge"}, {.name = "socketpair"}};
    fprintf(stderr, "tcp...\n");
    run_tcp(&b, &res[0]);
    fprintf(stderr, "mtls...\n");
    run_tls(&b, &a, &bn, &res[1]);
    fprintf(stderr, "raft bridge...\n");
    run_bridge(&b, &a, &bn, &res[2]);
    fprintf(stderr, "socketpair...\n");
    run_pair(&b, &res[3]);

    printf("transport bench: %llu round trips of %d bytes, %llu MiB bulk in %u KiB frames, "
           "loopback, one process, one loop\n",
           (unsigned long long)rts, RPC_SIZE, (unsigned long long)mib, BULK_FRAME / 1024);
    printf("%-12s %12s %10s %10s %12s\n", "mode", "rt/s", "p50 us", "p99 us", "bulk MB/s");
    for (int i = 0; i < 4; i++)
        printf("%-12s %12.0f %10.1f %10.1f %12.1f\n", res[i].name, res[i].rt_per_s,
               res[i].p50_us, res[i].p99_us, res[i].mb_per_s);
    for (int i = 1; i < 4; i++)
        printf("%-12s vs tcp: latency p50 x%.2f, p99 x%.2f, round trips x%.2f, bulk x%.2f\n",
               res[i].name, res[i].p50_us / res[0].p50_us, res[i].p99_us / res[0].p99_us,
               res[i].rt_per_s / res[0].rt_per_s, res[i].mb_per_s / res[0].mb_per_s);

    uv_loop_close(&loop);
    tt_node_free(&a);
    tt_node_free(&bn);
    tt_ca_free(&ca);
    free(b.lat_ns);
    free(b.payload);
    return 0;
}
