/* The node's TLS port: credentials, allowlist check, listener, dispatch by channel. */
#include "cluster/port.h"

#include <stdlib.h>
#include <string.h>

struct route {
    cluster__accept_fn fn;
    void *data;
};

struct cluster_port {
    struct cluster_env *env;
    struct transport_tls *tls;
    struct transport_listener *listener;
    struct route routes[TRANSPORT_CH_COUNT];
    /* Contexts of starts that failed: a failed listener still closes asynchronously, so its
     * context is freed with the port. */
    struct transport_tls **retired;
    size_t n_retired;
    void (*closed)(void *arg);
    void *closed_arg;
};

static int authorize(void *data, enum transport_channel ch, const struct transport_peer *peer)
{
    struct cluster_port *p = data;
    (void)ch;
    return cluster__env_peer_allowed(p->env, peer->pin, peer->node_id) ? 0 : SHIR_E_DENIED;
}

static void on_accept(struct transport_listener *l, struct transport_conn *conn)
{
    struct cluster_port *p = transport_listener_data(l);
    enum transport_channel ch = transport_conn_channel(conn);
    const struct route *r = (unsigned)ch < TRANSPORT_CH_COUNT ? &p->routes[ch] : NULL;
    if (r && r->fn)
        r->fn(r->data, conn);
    else
        transport_conn_close(conn);
}

int cluster__port_new(struct cluster_env *env, struct cluster_port **out)
{
    struct cluster_port *p = calloc(1, sizeof *p);
    if (!p)
        return SHIR_E_NOMEM;
    p->env = env;
    *out = p;
    return 0;
}

int cluster__port_start(struct cluster_port *p, char *errbuf, size_t errcap)
{
    const struct cluster_identity *id = &p->env->id;
    char host[CLUSTER_ADDR_MAX + 1];
    uint16_t port;
    int rv;
    struct transport_tls_config tc = {
        .ca_pem = id->ca_pem,
        .ca_pem_len = id->ca_pem_len,
        .cert_pem = id->cert_pem,
        .cert_pem_len = id->cert_pem_len,
        .key_pem = (const char *)id->key_pem.bytes,
        .key_pem_len = id->key_pem.len,
        .authorize = authorize,
        .authorize_data = p,
        .log = &p->env->log,
    };
    if ((rv = transport_tls_new(&tc, &p->tls)) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "cannot load this node's certificate: %s",
                           shir_strerror(rv));
        return rv;
    }
    if ((rv = shir_split_hostport(p->env->listen, host, sizeof host, &port)) != 0)
        (void)shir_str_fmt(errbuf, errcap, "bad listen address %s", p->env->listen);
    /* shir-join/1 is the one channel anyone on the network can open: these limits are why a
     * flood of cert-less sessions cannot take the descriptors, memory or CPU that members need
     * (docs/security.md, "Connection limits"). A join frame is a few KiB (a CSR is at most
     * 8 KiB, the credentials ~10 KiB with 32 members); 32 sessions without a valid proof per
     * address and 128 in all, each closed 10 s after accept (a real join needs one round trip
     * after its handshake). Members' channels keep the transport's defaults: handshake caps
     * only, never a cap once authorised. */
    struct transport_listener_config lc = {
        .tls = p->tls,
        .host = host,
        .port = port,
        .accept_cb = on_accept,
        .data = p,
        .channels[TRANSPORT_CH_JOIN] = {.max_frame = 64u * 1024u,
                                        .unauth_per_source = 32,
                                        .unauth_total = 128,
                                        .auth_timeout_ms = 10000},
    };
    if (rv == 0 && (rv = transport_listener_new(p->env->loop, &lc, &p->listener)) != 0)
        (void)shir_str_fmt(errbuf, errcap, "cannot listen on %s: %s", p->env->listen,
                           shir_strerror(rv));
    if (rv != 0) {
        /* Nothing listens: a later start (a new init) begins afresh with a new context. */
        struct transport_tls **v = realloc(p->retired, (p->n_retired + 1) * sizeof *v);
        if (v) {
            v[p->n_retired++] = p->tls;
            p->retired = v;
        } /* else: leaked rather than freed under a closing listener */
        p->tls = NULL;
    }
    return rv;
}

struct transport_tls *cluster__port_tls(struct cluster_port *p)
{
    return p->tls;
}

void cluster__port_on(struct cluster_port *p, enum transport_channel ch, cluster__accept_fn fn,
                      void *data)
{
    if ((unsigned)ch < TRANSPORT_CH_COUNT)
        p->routes[ch] = (struct route){fn, data};
}

unsigned cluster__port_close_peer(struct cluster_port *p, const uint8_t pin[CLUSTER_PIN_LEN])
{
    return p->tls ? transport_tls_close_peer(p->tls, pin) : 0;
}

void cluster__port_stats(const struct cluster_port *p, struct transport_stats *in,
                         struct transport_stats *out)
{
    memset(in, 0, sizeof *in);
    memset(out, 0, sizeof *out);
    if (p->listener)
        *in = *transport_listener_stats(p->listener);
    if (p->tls)
        *out = *transport_tls_dial_stats(p->tls);
}

static void listener_closed(struct transport_listener *l, void *data)
{
    (void)l;
    struct cluster_port *p = data;
    p->closed(p->closed_arg);
}

static unsigned port_close(void *self, void (*done)(void *arg), void *arg)
{
    struct cluster_port *p = self;
    if (!p->listener)
        return 0;
    p->closed = done;
    p->closed_arg = arg;
    transport_listener_close(p->listener, listener_closed);
    p->listener = NULL;
    return 1;
}

static void port_free(void *self)
{
    struct cluster_port *p = self;
    /* Every connection made with the contexts has closed by now (the loop has run dry). */
    transport_tls_free(p->tls);
    for (size_t i = 0; i < p->n_retired; i++)
        transport_tls_free(p->retired[i]);
    free(p->retired);
    free(p);
}

const struct cluster_part_ops cluster__port_part = {
    .name = "port", .tick = NULL, .close = port_close, .free = port_free};
