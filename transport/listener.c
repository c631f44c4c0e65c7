/* The one TCP port: accept, hand each socket to a TLS connection, deliver the authenticated
 * ones to the owner. */
#include <stdlib.h>
#include <string.h>

#include "transport/tls.h"

/* A set of connections that a limit counts, oldest first. */
struct admit_set {
    struct transport_conn *head, *tail;
    unsigned n;
};

struct transport_listener {
    uv_tcp_t tcp;
    struct transport_listener_config cfg; /* limits resolved: no zero means "default" here */
    struct transport_stats stats;
    struct transport_conn *conns; /* accepted and not yet freed */
    unsigned n_conns;
    bool closing;
    bool handle_closed;
    uint16_t port;
    void (*close_cb)(struct transport_listener *l, void *data);
    /* Limits. */
    struct admit_set hs;     /* in the TLS handshake */
    struct admit_set unauth; /* unauthenticated sessions, every channel */
    unsigned n_unauth[TRANSPORT_CH_COUNT];
    struct transport__srctab sources;
    size_t unfinished;
};

static void listener_maybe_done(struct transport_listener *l)
{
    if (!l->closing || !l->handle_closed || l->n_conns != 0)
        return;
    l->cfg.tls->n_listeners--;
    if (l->close_cb)
        l->close_cb(l, l->cfg.data);
    transport__srctab_free(&l->sources);
    free(l);
}

/* ------------------------------------------------------------------------------------------- */
/* Limits (the policy is described at transport_channel_policy in transport.h). */

static void set_push(struct admit_set *s, struct transport_conn *c)
{
    c->anext = NULL;
    c->aprev = s->tail;
    if (s->tail)
        s->tail->anext = c;
    else
        s->head = c;
    s->tail = c;
    s->n++;
}

static void set_unlink(struct admit_set *s, struct transport_conn *c)
{
    if (c->aprev)
        c->aprev->anext = c->anext;
    else
        s->head = c->anext;
    if (c->anext)
        c->anext->aprev = c->aprev;
    else
        s->tail = c->aprev;
    c->aprev = c->anext = NULL;
    s->n--;
}

static void gauges(struct transport_listener *l)
{
    l->stats.handshakes_now = l->hs.n;
    l->stats.unauth_now = l->unauth.n;
    l->stats.unfinished_bytes_now = l->unfinished;
}

/* What c's source holds of c's kind. */
static unsigned held(const struct transport_listener *l, const struct transport_conn *c,
                     enum transport__admit kind)
{
    const struct transport__srcent *e = transport__srctab_find(&l->sources, c->src.key);
    if (!e)
        return 0;
    return kind == TRANSPORT__ADMIT_HANDSHAKE ? e->hs : e->unauth[c->channel];
}

void transport__listener_leave(struct transport_listener *l, struct transport_conn *c)
{
    if (c->admit != TRANSPORT__ADMIT_NONE) {
        struct transport__srcent *e = transport__srctab_find(&l->sources, c->src.key);
        if (c->admit == TRANSPORT__ADMIT_HANDSHAKE) {
            set_unlink(&l->hs, c);
            if (e && e->hs > 0)
                e->hs--;
        } else {
            set_unlink(&l->unauth, c);
            l->n_unauth[c->channel]--;
            if (e && e->unauth[c->channel] > 0)
                e->unauth[c->channel]--;
        }
        transport__srctab_release(&l->sources, e);
        c->admit = TRANSPORT__ADMIT_NONE;
    }
    l->unfinished -= c->unfinished;
    c->unfinished = 0;
    gauges(l);
}

/* Close `victim` to make room; it may be closing gracefully already (its descriptor is still
 * open until the peer answers), so its handles are closed in any case. */
static void evict(struct transport_listener *l, struct transport_conn *victim, uint64_t *counter,
                  const char *why)
{
    (*counter)++;
    transport__listener_leave(l, victim);
    if (victim->state == TRANSPORT__CLOSING)
        transport__conn_close_handles(victim);
    else
        transport__conn_fail(victim, SHIR_E_FULL, "%s", why);
}

/* The oldest connection of `set` (on channel ch, for the unauthenticated set) whose source is
 * `src`, or, with src NULL, whose source holds `most`. */
static struct transport_conn *oldest(const struct transport_listener *l,
                                     const struct admit_set *set, enum transport__admit kind,
                                     int ch, const unsigned char *src, unsigned most)
{
    for (struct transport_conn *c = set->head; c; c = c->anext) {
        if (ch >= 0 && (int)c->channel != ch)
            continue;
        if (src ? memcmp(c->src.key, src, TRANSPORT_SOURCE_KEY_LEN) == 0
                : held(l, c, kind) == most)
            return c;
    }
    return NULL;
}

/* The largest holding of `kind` (on channel ch) of any source. */
static unsigned heaviest(const struct transport_listener *l, enum transport__admit kind, int ch)
{
    unsigned most = 0;
    for (size_t i = 0; i < l->sources.cap; i++) {
        const struct transport__srcent *e = &l->sources.e[i];
        unsigned v = !e->used ? 0 : kind == TRANSPORT__ADMIT_HANDSHAKE ? e->hs : e->unauth[ch];
        if (v > most)
            most = v;
    }
    return most;
}

/* Put c (the newest) into a limited set and enforce its two caps on the others. */
static int admit(struct transport_listener *l, struct transport_conn *c,
                 enum transport__admit kind, unsigned per_source, unsigned total)
{
    struct transport__srcent *e = transport__srctab_get(&l->sources, c->src.key);
    if (!e)
        return SHIR_E_NOMEM;
    bool hs = kind == TRANSPORT__ADMIT_HANDSHAKE;
    int ch = hs ? -1 : (int)c->channel;
    struct admit_set *set = hs ? &l->hs : &l->unauth;
    unsigned mine = hs ? ++e->hs : ++e->unauth[c->channel];
    c->admit = kind;
    set_push(set, c);
    if (!hs)
        l->n_unauth[c->channel]++;
    uint64_t *counter = hs ? &l->stats.cap_handshake : &l->stats.cap_unauth;
    const char *what = hs ? "TLS handshakes" : "unauthenticated sessions";
    struct shir_log *log = l->cfg.tls->log;
    if (per_source && mine > per_source) {
        struct transport_conn *v = oldest(l, set, kind, ch, c->src.key, 0);
        if (log && v)
            SHIR_WARN_LIMITED(log, "tls: %s holds more than %u %s at once: closing its oldest",
                              c->src.text, per_source, what);
        if (v)
            evict(l, v, counter, hs ? "too many TLS handshakes from this address"
                                    : "too many unauthenticated sessions from this address");
    }
    unsigned n = hs ? l->hs.n : l->n_unauth[c->channel];
    if (total && n > total) {
        struct transport_conn *v = oldest(l, set, kind, ch, NULL, heaviest(l, kind, ch));
        if (log && v)
            SHIR_WARN_LIMITED(log, "tls: more than %u %s at once: closing the oldest of %s, "
                              "which holds the most", total, what, v->src.text);
        if (v)
            evict(l, v, counter, hs ? "too many TLS handshakes in all"
                                    : "too many unauthenticated sessions in all");
    }
    gauges(l);
    return 0;
}

void transport__listener_established(struct transport_listener *l, struct transport_conn *c)
{
    const struct transport_channel_policy *p = &l->cfg.channels[c->channel];
    transport__listener_leave(l, c); /* the handshake set */
    if (p->max_frame) {
        c->max_frame = p->max_frame;
        transport_frame_decoder_free(&c->dec); /* empty: no application byte was read yet */
        transport_frame_decoder_init(&c->dec, c->max_frame);
    }
    /* shir-join/1 is the one channel whose clients bring no member certificate. */
    c->trusted = c->channel != TRANSPORT_CH_JOIN;
    if (c->trusted)
        return;
    if (admit(l, c, TRANSPORT__ADMIT_UNAUTH, p->unauth_per_source, p->unauth_total) != 0) {
        transport__conn_fail(c, SHIR_E_NOMEM, "out of memory counting sessions");
        return;
    }
    if (p->auth_timeout_ms) {
        c->auth_timeout_ms = p->auth_timeout_ms;
        uint64_t end = c->accept_ms + p->auth_timeout_ms, now = uv_now(c->loop);
        transport__conn_arm_auth(c, end > now ? end - now : 1);
    }
}

int transport__listener_unfinished(struct transport_listener *l, struct transport_conn *c,
                                   size_t bytes)
{
    size_t others = l->unfinished - c->unfinished;
    if (bytes > c->unfinished && others + bytes > l->cfg.unfinished_budget)
        return SHIR_E_FULL;
    l->unfinished = others + bytes;
    c->unfinished = bytes;
    gauges(l);
    return 0;
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
    c->accept_ms = uv_now(server->loop);
    struct sockaddr_storage ss;
    int len = (int)sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
        transport__conn_set_remote(c, (struct sockaddr *)&ss);
    rc = admit(l, c, TRANSPORT__ADMIT_HANDSHAKE, l->cfg.handshakes_per_source,
               l->cfg.handshakes_total);
    if (rc != 0) {
        l->stats.io_errors++;
        transport__conn_fail(c, rc, "out of memory counting handshakes");
        return;
    }
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
    if (!l->cfg.handshakes_per_source)
        l->cfg.handshakes_per_source = TRANSPORT_HANDSHAKES_PER_SOURCE_DEFAULT;
    if (!l->cfg.handshakes_total)
        l->cfg.handshakes_total = TRANSPORT_HANDSHAKES_TOTAL_DEFAULT;
    if (!l->cfg.unfinished_budget)
        l->cfg.unfinished_budget = TRANSPORT_UNFINISHED_BUDGET_DEFAULT;
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
