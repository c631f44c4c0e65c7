/* The one TCP port: accept, hand each socket to a TLS connection, deliver the authenticated
 * ones to the owner. */
#include <stdlib.h>
#include <string.h>

#include "transport/tls.h"

struct transport_listener {
    uv_tcp_t tcp;
    struct transport_listener_config cfg;
    struct transport_stats stats;
    struct transport_conn *conns; /* accepted and not yet freed */
    unsigned n_conns;
    bool closing;
    bool handle_closed;
    uint16_t port;
    void (*close_cb)(struct transport_listener *l, void *data);
};

static void listener_maybe_done(struct transport_listener *l)
{
    if (!l->closing || !l->handle_closed || l->n_conns != 0)
        return;
    l->cfg.tls->n_listeners--;
    if (l->close_cb)
        l->close_cb(l, l->cfg.data);
    free(l);
}

void transport__listener_conn_done(struct transport_listener *l, struct transport_conn *c)
{
    if (c->lprev)
        c->lprev->lnext = c->lnext;
    else
        l->conns = c->lnext;
    if (c->lnext)
        c->lnext->lprev = c->lprev;
    l->n_conns--;
}

void transport__listener_check(struct transport_listener *l)
{
    listener_maybe_done(l);
}

static void free_handle(uv_handle_t *h)
{
    free(h);
}

void transport__listener_deliver(struct transport_listener *l, struct transport_conn *c)
{
    if (l->closing) {
        transport__conn_fail(c, SHIR_E_SHUTDOWN, "listener closing");
        return;
    }
    l->cfg.accept_cb(l, c);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct transport_listener *l = server->data;
    if (status < 0) {
        l->stats.io_errors++;
        return;
    }
    struct transport_conn *c =
        transport__conn_alloc(l->cfg.tls, server->loop, true, l->cfg.max_frame,
                              l->cfg.max_outbound, l->cfg.handshake_timeout_ms,
                              l->cfg.user_timeout_ms);
    if (!c) {
        /* Take the socket off the backlog so the loop does not spin on it. */
        l->stats.io_errors++;
        uv_tcp_t *tmp = malloc(sizeof *tmp);
        if (tmp) {
            uv_tcp_init(server->loop, tmp);
            (void)uv_accept(server, (uv_stream_t *)tmp);
            uv_close((uv_handle_t *)tmp, free_handle);
        }
        return;
    }
    c->listener = l;
    c->stats = &l->stats;
    c->lprev = NULL;
    c->lnext = l->conns;
    if (l->conns)
        l->conns->lprev = c;
    l->conns = c;
    l->n_conns++;
    c->state = TRANSPORT__HANDSHAKE;
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    c->tcp_inited = true;
    c->pending++;
    transport__conn_start_timer(c);
    int rc = uv_accept(server, (uv_stream_t *)&c->tcp);
    if (rc != 0) {
        l->stats.io_errors++;
        transport__conn_fail(c, rc, "accept failed: %s", uv_strerror(rc));
        return;
    }
    l->stats.accepted++;
    struct sockaddr_storage ss;
    int len = (int)sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
        transport__conn_set_remote(c, (struct sockaddr *)&ss);
    rc = transport__conn_start_tls(c);
    if (rc != 0) {
        l->stats.handshake_failed++;
        transport__conn_fail(c, rc, "cannot start TLS: %s", shir_strerror(rc));
    }
}

static void on_listener_closed(uv_handle_t *h)
{
    struct transport_listener *l = h->data;
    l->handle_closed = true;
    listener_maybe_done(l);
}

int transport_listener_new(uv_loop_t *loop, const struct transport_listener_config *cfg,
                           struct transport_listener **out)
{
    if (!loop || !cfg || !out || !cfg->tls || !cfg->host || !cfg->accept_cb ||
        !cfg->tls->server_ctx)
        return SHIR_E_INVAL;
    *out = NULL;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (uv_ip4_addr(cfg->host, cfg->port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(cfg->host, cfg->port, (struct sockaddr_in6 *)&ss) != 0)
        return SHIR_E_INVAL;
    struct transport_listener *l = calloc(1, sizeof *l);
    if (!l)
        return SHIR_E_NOMEM;
    l->cfg = *cfg;
    l->cfg.host = NULL; /* not kept */
    uv_tcp_init(loop, &l->tcp);
    l->tcp.data = l;
    int rc = uv_tcp_bind(&l->tcp, (struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&l->tcp, 128, on_connection);
    if (rc == 0) {
        struct sockaddr_storage bound;
        int len = (int)sizeof bound;
        rc = uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&bound, &len);
        if (rc == 0)
            l->port = bound.ss_family == AF_INET6
                          ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                          : ntohs(((struct sockaddr_in *)&bound)->sin_port);
    }
    cfg->tls->n_listeners++;
    if (rc != 0) {
        /* The handle must be closed before the memory goes: finish through the close path. */
        l->closing = true;
        l->handle_closed = false;
        uv_close((uv_handle_t *)&l->tcp, on_listener_closed);
        return rc;
    }
    *out = l;
    return 0;
}

uint16_t transport_listener_port(const struct transport_listener *l)
{
    return l->port;
}

void *transport_listener_data(const struct transport_listener *l)
{
    return l->cfg.data;
}

const struct transport_stats *transport_listener_stats(const struct transport_listener *l)
{
    return &l->stats;
}

void transport_listener_close(struct transport_listener *l,
                              void (*cb)(struct transport_listener *l, void *data))
{
    if (!l || l->closing)
        return;
    l->closing = true;
    l->close_cb = cb;
    for (struct transport_conn *c = l->conns; c; c = c->lnext)
        transport__conn_fail(c, SHIR_E_SHUTDOWN, "listener closing");
    uv_close((uv_handle_t *)&l->tcp, on_listener_closed);
}
