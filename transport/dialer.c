/* Outgoing connections: resolve (asynchronously), try each address in turn, then TLS. */
#include <stdlib.h>
#include <string.h>

#include "transport/tls.h"

static void on_retry_closed(uv_handle_t *h)
{
    struct transport_conn *c = h->data;
    c->tcp_inited = false;
    if (c->state == TRANSPORT__CLOSING) {
        transport__conn_release(c);
        return;
    }
    c->pending--;
    transport__dialer_connect_next(c);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct transport_conn *c = req->data;
    if (c->state == TRANSPORT__CLOSING)
        return; /* the tcp handle is closing; its close callback releases */
    if (status < 0) {
        c->last_err = status;
        uv_close((uv_handle_t *)&c->tcp, on_retry_closed);
        return;
    }
    transport__conn_set_remote(c, (const struct sockaddr *)&c->addr);
    int rc = transport__conn_start_tls(c);
    if (rc != 0) {
        c->stats->handshake_failed++;
        transport__conn_fail(c, rc, "cannot start TLS to %s: %s", c->remote, shir_strerror(rc));
    }
}

static bool next_address(struct transport_conn *c)
{
    if (c->numeric) {
        if (c->numeric_tried)
            return false;
        c->numeric_tried = true;
        return true;
    }
    while (c->ai_next) {
        struct addrinfo *ai = c->ai_next;
        c->ai_next = ai->ai_next;
        if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
            (c->local.ss_family == AF_UNSPEC || c->local.ss_family == ai->ai_family) &&
            ai->ai_addrlen <= sizeof c->addr) {
            memcpy(&c->addr, ai->ai_addr, ai->ai_addrlen);
            return true;
        }
    }
    return false;
}

void transport__dialer_connect_next(struct transport_conn *c)
{
    while (next_address(c)) {
        c->state = TRANSPORT__CONNECTING;
        uv_tcp_init(c->loop, &c->tcp);
        c->tcp.data = c;
        c->tcp_inited = true;
        c->pending++;
        c->connect_req.data = c;
        int rc = 0;
        if (c->local.ss_family != AF_UNSPEC)
            rc = c->local.ss_family == c->addr.ss_family
                     ? uv_tcp_bind(&c->tcp, (const struct sockaddr *)&c->local, 0)
                     : UV_EAFNOSUPPORT;
        if (rc == 0)
            rc = uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr *)&c->addr,
                                on_connect);
        if (rc == 0)
            return;
        c->last_err = rc;
        uv_close((uv_handle_t *)&c->tcp, on_retry_closed);
        return;
    }
    c->stats->io_errors++;
    int err = c->last_err ? c->last_err : SHIR_E_NOTFOUND;
    transport__conn_fail(c, err, "cannot connect to %s:%u: %s", c->host, c->port,
                         shir_strerror(err));
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct transport_conn *c = req->data;
    c->gai_pending = false;
    if (c->state == TRANSPORT__CLOSING) {
        if (res)
            uv_freeaddrinfo(res);
        transport__conn_release(c);
        return;
    }
    c->pending--;
    if (status < 0) {
        c->stats->io_errors++;
        transport__conn_fail(c, status, "cannot resolve %s: %s", c->host, uv_strerror(status));
        return;
    }
    c->ai_list = c->ai_next = res;
    transport__dialer_connect_next(c);
}

int transport_dial(uv_loop_t *loop, const struct transport_dial_config *cfg,
                   struct transport_conn **out)
{
    if (!loop || !cfg || !out || !cfg->tls || !cfg->host || !cfg->connect_cb ||
        (unsigned)cfg->channel >= TRANSPORT_CH_COUNT || cfg->port == 0)
        return SHIR_E_INVAL;
    *out = NULL;
    if (cfg->tls->join_client && cfg->channel != TRANSPORT_CH_JOIN)
        return SHIR_E_UNSUPPORTED;
    size_t hl = strlen(cfg->host);
    if (hl == 0 || hl >= sizeof((struct transport_conn *)0)->host)
        return SHIR_E_INVAL;
    struct sockaddr_storage local;
    memset(&local, 0, sizeof local);
    if (cfg->local_host && uv_ip4_addr(cfg->local_host, 0, (struct sockaddr_in *)&local) != 0 &&
        uv_ip6_addr(cfg->local_host, 0, (struct sockaddr_in6 *)&local) != 0)
        return SHIR_E_INVAL;
    struct transport_conn *c =
        transport__conn_alloc(cfg->tls, loop, false, cfg->max_frame, cfg->max_outbound,
                              cfg->timeout_ms, cfg->user_timeout_ms);
    if (!c)
        return SHIR_E_NOMEM;
    c->stats = &cfg->tls->dial_stats;
    c->local = local;
    c->channel = cfg->channel;
    c->connect_cb = cfg->connect_cb;
    c->connect_data = cfg->data;
    c->port = cfg->port;
    memcpy(c->host, cfg->host, hl + 1);
    (void)shir_str_fmt(c->remote, sizeof c->remote, "%s:%u", c->host, c->port);
    transport__conn_start_timer(c);

    memset(&c->addr, 0, sizeof c->addr);
    if (uv_ip4_addr(c->host, c->port, (struct sockaddr_in *)&c->addr) == 0 ||
        uv_ip6_addr(c->host, c->port, (struct sockaddr_in6 *)&c->addr) == 0) {
        c->numeric = true;
        transport__dialer_connect_next(c);
        *out = c;
        return 0;
    }
    char port[8];
    (void)shir_str_fmt(port, sizeof port, "%u", c->port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    c->gai.data = c;
    c->state = TRANSPORT__RESOLVING;
    int rc = uv_getaddrinfo(loop, &c->gai, on_resolved, c->host, port, &hints);
    if (rc != 0) {
        /* No callback for a failed call: take the connection down without reporting. */
        c->connect_cb = NULL;
        transport__conn_fail(c, rc, "resolver: %s", uv_strerror(rc));
        return rc;
    }
    c->gai_pending = true;
    c->pending++;
    *out = c;
    return 0;
}
