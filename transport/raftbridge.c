/* Raft over shir-raft/1: a struct raft_uv_transport whose streams are socketpair() ends, the other
 * end pumped through a TLS connection. Raft reads only the streams it accepted and writes only
 * the streams it connected, so each link carries bytes one way in practice; the pump still
 * handles both directions, each bounded. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <raft.h>
#include <raft/uv.h>

#include "transport/tls.h"

#define RB_CHUNK 65536
/* Bytes queued towards raft's end of a pipe before the link is judged stuck: raft reads its
 * inbound streams eagerly, so only a wedged raft reaches this. */
#define RB_PIPE_QUEUE_MAX (64u * 1024u * 1024u)
#define RB_ADDRESS_MAX 256

struct rb;

struct rb_link {
    struct rb *rb;
    struct rb_link *prev, *next;
    struct transport_conn *conn; /* NULL once its close/connect callback has fired */
    uv_pipe_t pipe;              /* our end of the socketpair */
    bool pipe_inited;
    bool pipe_closed;
    bool handed;                 /* raft owns the other end */
    /* Outbound connect in progress. */
    struct raft_uv_connect *req;
    raft_id want_id;
    /* A chunk read from raft that the TLS queue refused: retried on drain. */
    unsigned char *held;
    size_t held_len;
    size_t pipe_queued;
    /* Bytes from the peer kept back while the transport holds inbound delivery. */
    unsigned char *inbox;
    size_t inbox_len, inbox_cap;
    unsigned char buf[RB_CHUNK];
};

struct rb {
    struct raft_uv_transport *t;
    uv_loop_t *loop;
    struct transport_raft_config cfg;
    raft_id id;
    char address[RB_ADDRESS_MAX];
    raft_uv_accept_cb accept_cb;
    struct rb_link *links;
    bool closing;
    bool hold;   /* keep inbound bytes from raft (transport_raft_hold) */
    bool closed; /* no links at all (transport_raft_set_open) */
    raft_uv_transport_close_cb close_cb;
    uv_timer_t defer; /* makes the close callback asynchronous even with no link left */
    struct transport_raft_stats stats;
};

struct rb_pipe_write {
    uv_write_t req;
    struct rb_link *link;
    size_t len;
    unsigned char data[];
};

static void rb_maybe_finish(struct rb *rb);

/* ------------------------------------------------------------------------------------------- */
/* Link lifetime: freed once the TLS connection has called back and our pipe end is closed. */

static void link_unlink_free(struct rb_link *l)
{
    struct rb *rb = l->rb;
    if (l->prev)
        l->prev->next = l->next;
    else
        rb->links = l->next;
    if (l->next)
        l->next->prev = l->prev;
    free(l->held);
    free(l->inbox);
    free(l);
    rb_maybe_finish(rb);
}

static void link_maybe_free(struct rb_link *l)
{
    if (l->conn == NULL && (!l->pipe_inited || l->pipe_closed) && l->req == NULL)
        link_unlink_free(l);
}

static void on_pipe_closed(uv_handle_t *h)
{
    struct rb_link *l = h->data;
    l->pipe_closed = true;
    link_maybe_free(l);
}

/* Tear the link down from either side: raft sees EOF on its end once ours is closed. */
static void link_close(struct rb_link *l)
{
    if (l->pipe_inited && !uv_is_closing((uv_handle_t *)&l->pipe))
        uv_close((uv_handle_t *)&l->pipe, on_pipe_closed);
    if (l->conn)
        transport_conn_close(l->conn);
}

static struct rb_link *link_new(struct rb *rb)
{
    struct rb_link *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->rb = rb;
    l->next = rb->links;
    if (rb->links)
        rb->links->prev = l;
    rb->links = l;
    return l;
}

/* ------------------------------------------------------------------------------------------- */
/* Pumps. */

static void on_pipe_written(uv_write_t *req, int status)
{
    struct rb_pipe_write *w = (struct rb_pipe_write *)req;
    struct rb_link *l = w->link;
    l->pipe_queued -= w->len;
    free(w);
    if (status < 0 && status != UV_ECANCELED)
        link_close(l);
}

/* Keep bytes back while delivery is held; false when the link is over its bound. */
static bool inbox_add(struct rb_link *l, const unsigned char *p, size_t n)
{
    if (l->pipe_queued + l->inbox_len + n > RB_PIPE_QUEUE_MAX)
        return false;
    if (l->inbox_len + n > l->inbox_cap) {
        size_t cap = l->inbox_cap ? l->inbox_cap : RB_CHUNK;
        while (cap < l->inbox_len + n)
            cap *= 2;
        unsigned char *v = realloc(l->inbox, cap);
        if (!v)
            return false;
        l->inbox = v;
        l->inbox_cap = cap;
    }
    memcpy(l->inbox + l->inbox_len, p, n);
    l->inbox_len += n;
    return true;
}

static void pipe_push(struct rb_link *l, const unsigned char *p, size_t n);

/* TLS -> raft. */
static void link_frame(struct transport_conn *c, const unsigned char *p, size_t n)
{
    struct rb_link *l = transport_conn_data(c);
    if (l->pipe_closed || uv_is_closing((uv_handle_t *)&l->pipe))
        return;
    if (l->rb->hold || l->inbox_len) {
        if (!inbox_add(l, p, n))
            link_close(l);
        return;
    }
    pipe_push(l, p, n);
}

/* Hand bytes to raft's end of the pipe, in order. */
static void pipe_push(struct rb_link *l, const unsigned char *p, size_t n)
{
    if (l->pipe_queued == 0) {
        /* Usually raft's end is drained: write straight away, no request, no copy. */
        uv_buf_t direct = uv_buf_init((char *)p, (unsigned)n);
        int done = uv_try_write((uv_stream_t *)&l->pipe, &direct, 1);
        if (done > 0) {
            p += done;
            n -= (size_t)done;
        } else if (done != UV_EAGAIN) {
            link_close(l);
            return;
        }
        if (n == 0)
            return;
    }
    if (l->pipe_queued + n > RB_PIPE_QUEUE_MAX) {
        link_close(l);
        return;
    }
    struct rb_pipe_write *w = malloc(sizeof *w + n);
    if (!w) {
        link_close(l);
        return;
    }
    memcpy(w->data, p, n);
    w->link = l;
    w->len = n;
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)n);
    if (uv_write(&w->req, (uv_stream_t *)&l->pipe, &b, 1, on_pipe_written) != 0) {
        free(w);
        link_close(l);
        return;
    }
    l->pipe_queued += n;
}

static void link_conn_closed(struct transport_conn *c, int err, const char *msg)
{
    struct rb_link *l = transport_conn_data(c);
    if (err != 0 && l->rb->cfg.log)
        SHIR_DEBUG(l->rb->cfg.log, "raft link to %s closed: %s", transport_conn_remote(c),
                   msg ? msg : shir_strerror(err));
    l->conn = NULL;
    link_close(l);
    link_maybe_free(l);
}

static void on_pipe_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct rb_link *l = h->data;
    *buf = uv_buf_init((char *)l->buf, sizeof l->buf);
}

static void on_pipe_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct rb_link *l = s->data;
    if (nread == 0)
        return;
    if (nread < 0 || !l->conn) {
        link_close(l); /* raft closed its end (or the link is already going) */
        return;
    }
    int rc = transport_conn_write(l->conn, buf->base, (size_t)nread);
    if (rc == SHIR_E_FULL) {
        /* Keep the chunk and stop reading until the TLS queue drains: raft's writes then wait
         * in the socketpair, which is raft's own backpressure. */
        l->held = malloc((size_t)nread);
        if (!l->held) {
            link_close(l);
            return;
        }
        memcpy(l->held, buf->base, (size_t)nread);
        l->held_len = (size_t)nread;
        uv_read_stop(s);
    } else if (rc != 0) {
        link_close(l);
    }
}

static void link_drain(struct transport_conn *c)
{
    struct rb_link *l = transport_conn_data(c);
    if (!l->held || l->pipe_closed || uv_is_closing((uv_handle_t *)&l->pipe))
        return;
    int rc = transport_conn_write(c, l->held, l->held_len);
    if (rc == SHIR_E_FULL)
        return;
    free(l->held);
    l->held = NULL;
    l->held_len = 0;
    if (rc != 0 || uv_read_start((uv_stream_t *)&l->pipe, on_pipe_alloc, on_pipe_read) != 0)
        link_close(l);
}

static void free_raft_handle(uv_handle_t *h)
{
    raft_free(h);
}

/* Make the socketpair, our pumping end and raft's end. Returns raft's stream or NULL. */
static uv_stream_t *link_bridge(struct rb_link *l)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return NULL;
    uv_pipe_t *theirs = raft_malloc(sizeof *theirs);
    if (!theirs)
        goto err_fds;
    uv_pipe_init(l->rb->loop, &l->pipe, 0);
    l->pipe.data = l;
    l->pipe_inited = true;
    if (uv_pipe_open(&l->pipe, fds[1]) != 0) {
        raft_free(theirs);
        close(fds[1]);
        close(fds[0]);
        return NULL; /* our pipe is closed by link_close */
    }
    uv_pipe_init(l->rb->loop, theirs, 0);
    if (uv_pipe_open(theirs, fds[0]) != 0) {
        /* fds[1] belongs to our pipe now; raft's handle must be closed before it is freed. */
        close(fds[0]);
        theirs->data = NULL;
        uv_close((uv_handle_t *)theirs, free_raft_handle);
        return NULL;
    }
    struct transport_conn_cbs cbs = {
        .frame_cb = link_frame, .close_cb = link_conn_closed, .drain_cb = link_drain, .data = l};
    transport_conn_set_cbs(l->conn, &cbs);
    if (uv_read_start((uv_stream_t *)&l->pipe, on_pipe_alloc, on_pipe_read) != 0) {
        uv_close((uv_handle_t *)theirs, free_raft_handle);
        return NULL;
    }
    l->handed = true;
    return (uv_stream_t *)theirs;

err_fds:
    close(fds[0]);
    close(fds[1]);
    return NULL;
}

/* ------------------------------------------------------------------------------------------- */
/* Outbound. */

static void connect_done(struct rb_link *l, uv_stream_t *stream, int status)
{
    struct raft_uv_connect *req = l->req;
    l->req = NULL;
    if (req)
        req->cb(req, stream, status);
}

/* Used before a stream exists: set the callbacks so that the closing connection releases the
 * link. */
static void link_adopt(struct rb_link *l)
{
    struct transport_conn_cbs cbs = {.close_cb = link_conn_closed, .data = l};
    transport_conn_set_cbs(l->conn, &cbs);
}

static void on_dialed(struct transport_conn *c, int status, const char *msg, void *data)
{
    struct rb_link *l = data;
    struct rb *rb = l->rb;
    if (status != 0) {
        l->conn = NULL;
        if (rb->cfg.log)
            SHIR_DEBUG(rb->cfg.log, "raft connect to %llu failed: %s", l->want_id,
                       msg ? msg : shir_strerror(status));
        connect_done(l, NULL, rb->closing ? RAFT_CANCELED : RAFT_NOCONNECTION);
        link_maybe_free(l);
        return;
    }
    l->conn = c;
    const struct transport_peer *peer = transport_conn_peer(c);
    if (rb->closing || peer->node_id != l->want_id) {
        if (!rb->closing) {
            rb->stats.id_mismatch++;
            /* Raft retries the connection every heartbeat: rate-limited, or a wrong recorded
             * address (issue 12, defect 1) writes this hundreds of times a minute. */
            if (rb->cfg.log)
                SHIR_WARN_LIMITED(rb->cfg.log,
                                  "raft connect: %s presents node id %llu, expected %llu; refused "
                                  "(the address recorded for node %llu reaches another node: "
                                  "see 'shir nodes set')",
                                  transport_conn_remote(c), (unsigned long long)peer->node_id,
                                  l->want_id, l->want_id);
        }
        link_adopt(l);
        connect_done(l, NULL, rb->closing ? RAFT_CANCELED : RAFT_NOCONNECTION);
        transport_conn_close(c);
        return;
    }
    uv_stream_t *s = link_bridge(l);
    if (!s) {
        link_adopt(l);
        connect_done(l, NULL, RAFT_NOCONNECTION);
        link_close(l);
        return;
    }
    rb->stats.outbound++;
    connect_done(l, s, 0);
}

/* "host:port", "[v6]:port". */
static int split_address(const char *address, char *host, size_t cap, uint16_t *port)
{
    const char *colon = strrchr(address, ':');
    if (!colon || colon == address)
        return SHIR_E_INVAL;
    const char *h = address;
    size_t hl = (size_t)(colon - address);
    if (h[0] == '[') {
        if (hl < 2 || h[hl - 1] != ']')
            return SHIR_E_INVAL;
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= cap)
        return SHIR_E_INVAL;
    memcpy(host, h, hl);
    host[hl] = '\0';
    uint64_t p = 0;
    if (shir_parse_u64(colon + 1, 1, 65535, &p) != 0)
        return SHIR_E_INVAL;
    *port = (uint16_t)p;
    return 0;
}

static int rb_connect(struct raft_uv_transport *t, struct raft_uv_connect *req, raft_id id,
                      const char *address, raft_uv_connect_cb cb)
{
    struct rb *rb = t->impl;
    char host[RB_ADDRESS_MAX];
    uint16_t port = 0;
    if (rb->closing)
        return RAFT_CANCELED;
    if (rb->closed) {
        (void)shir_str_copy(t->errmsg, sizeof t->errmsg, "raft channel closed on this node");
        return RAFT_NOCONNECTION; /* raft tries again after its connect-retry delay */
    }
    /* Dial where the member is recorded now (address_cb: the replicated node table, which
     * `nodes set` and a restart with a new --advertise change), not where it was when raft added
     * it to its configuration: raft cannot change a member's address in place. */
    char current[RB_ADDRESS_MAX];
    if (rb->cfg.address_cb(rb->cfg.data, id, current, sizeof current) == 0 && current[0] != '\0')
        address = current;
    if (split_address(address, host, sizeof host, &port) != 0) {
        (void)shir_str_fmt(t->errmsg, sizeof t->errmsg, "bad raft address \"%s\"", address);
        return RAFT_INVALID;
    }
    struct rb_link *l = link_new(rb);
    if (!l)
        return RAFT_NOMEM;
    req->cb = cb;
    l->req = req;
    l->want_id = id;
    struct transport_dial_config dc = {
        .tls = rb->cfg.tls,
        .host = host,
        .port = port,
        .channel = TRANSPORT_CH_RAFT,
        .max_outbound = rb->cfg.max_outbound,
        .timeout_ms = rb->cfg.connect_timeout_ms,
        .user_timeout_ms = rb->cfg.user_timeout_ms,
        .connect_cb = on_dialed,
        .data = l,
    };
    int rc = transport_dial(rb->loop, &dc, &l->conn);
    if (rc != 0) {
        l->req = NULL;
        l->conn = NULL;
        link_unlink_free(l);
        (void)shir_str_fmt(t->errmsg, sizeof t->errmsg, "dial %s: %s", address,
                           shir_strerror(rc));
        return RAFT_NOCONNECTION;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------- */
/* Inbound. */

void transport_raft_accept(struct raft_uv_transport *t, struct transport_conn *c)
{
    struct rb *rb = t->impl;
    const struct transport_peer *peer = transport_conn_peer(c);
    char address[RB_ADDRESS_MAX];
    if (!rb || rb->closing || rb->closed || !rb->accept_cb ||
        transport_conn_channel(c) != TRANSPORT_CH_RAFT ||
        peer->node_id == 0 ||
        rb->cfg.address_cb(rb->cfg.data, peer->node_id, address, sizeof address) != 0) {
        if (rb)
            rb->stats.refused++;
        transport_conn_close(c);
        return;
    }
    struct rb_link *l = link_new(rb);
    if (!l) {
        transport_conn_close(c);
        return;
    }
    l->conn = c;
    uv_stream_t *s = link_bridge(l);
    if (!s) {
        link_adopt(l);
        link_close(l);
        return;
    }
    rb->stats.inbound++;
    rb->accept_cb(t, peer->node_id, address, s);
}

/* ------------------------------------------------------------------------------------------- */
/* Transport methods. */

static int rb_init(struct raft_uv_transport *t, raft_id id, const char *address)
{
    struct rb *rb = t->impl;
    rb->id = id;
    if (shir_str_copy(rb->address, sizeof rb->address, address) != 0)
        return RAFT_INVALID;
    return 0;
}

static int rb_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
    struct rb *rb = t->impl;
    rb->accept_cb = cb;
    return 0;
}

static void rb_free(struct rb *rb)
{
    struct raft_uv_transport *t = rb->t;
    raft_uv_transport_close_cb cb = rb->close_cb;
    free(rb);
    t->impl = NULL;
    if (cb)
        cb(t);
}

static void on_defer_closed(uv_handle_t *h)
{
    rb_free(h->data);
}

static void rb_maybe_finish(struct rb *rb)
{
    if (rb->closing && rb->links == NULL && !uv_is_closing((uv_handle_t *)&rb->defer))
        uv_close((uv_handle_t *)&rb->defer, on_defer_closed);
}

static void rb_close(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
    struct rb *rb = t->impl;
    rb->closing = true;
    rb->close_cb = cb;
    rb->accept_cb = NULL;
    /* Pending connects end with RAFT_CANCELED from their dial callback; live links close. */
    struct rb_link *next;
    for (struct rb_link *l = rb->links; l; l = next) {
        next = l->next;
        link_close(l);
    }
    rb_maybe_finish(rb);
}

int transport_raft_init(struct raft_uv_transport *t, uv_loop_t *loop,
                        const struct transport_raft_config *cfg)
{
    if (!t || !loop || !cfg || !cfg->tls || !cfg->address_cb)
        return SHIR_E_INVAL;
    struct rb *rb = calloc(1, sizeof *rb);
    if (!rb)
        return SHIR_E_NOMEM;
    rb->t = t;
    rb->loop = loop;
    rb->cfg = *cfg;
    uv_timer_init(loop, &rb->defer);
    rb->defer.data = rb;
    t->version = 1;
    t->impl = rb;
    t->errmsg[0] = '\0';
    t->init = rb_init;
    t->listen = rb_listen;
    t->connect = rb_connect;
    t->close = rb_close;
    return 0;
}

void transport_raft_hold(struct raft_uv_transport *t, bool hold)
{
    struct rb *rb = t->impl;
    if (!rb || rb->hold == hold)
        return;
    rb->hold = hold;
    if (hold)
        return;
    struct rb_link *next;
    for (struct rb_link *l = rb->links; l; l = next) {
        next = l->next;
        if (!l->inbox_len)
            continue;
        size_t n = l->inbox_len;
        l->inbox_len = 0;
        if (!l->pipe_closed && !uv_is_closing((uv_handle_t *)&l->pipe))
            pipe_push(l, l->inbox, n); /* copies what it cannot write at once */
    }
}

void transport_raft_set_open(struct raft_uv_transport *t, bool open)
{
    struct rb *rb = t->impl;
    if (!rb || rb->closed == !open)
        return;
    rb->closed = !open;
    if (open)
        return;
    /* Pending connects end with RAFT_CANCELED from their dial callback; live links close. */
    struct rb_link *next;
    for (struct rb_link *l = rb->links; l; l = next) {
        next = l->next;
        link_close(l);
    }
}

void transport_raft_discard(struct raft_uv_transport *t)
{
    if (!t || !t->impl)
        return;
    rb_close(t, NULL);
}

const struct transport_raft_stats *transport_raft_stats(const struct raft_uv_transport *t)
{
    const struct rb *rb = t->impl;
    return &rb->stats;
}
