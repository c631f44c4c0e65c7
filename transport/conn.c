/* One TLS connection driven by the loop: socket bytes in and out through memory BIOs, frame
 * parsing, bounded outbound queue, and the close sequence. */
/* glibc hides TCP_USER_TIMEOUT/TCP_KEEPINTVL/TCP_KEEPCNT behind _DEFAULT_SOURCE. */
#define _DEFAULT_SOURCE 1

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>

#include "transport/codec.h"
#include "transport/tls.h"

static void conn_flush(struct transport_conn *c);
static void conn_read_app(struct transport_conn *c);

static uint32_t frame_limit(uint32_t max_frame)
{
    return max_frame ? max_frame : TRANSPORT_MAX_FRAME_DEFAULT;
}

struct transport_conn *transport__conn_alloc(struct transport_tls *tls, uv_loop_t *loop,
                                             bool is_server, uint32_t max_frame,
                                             size_t max_outbound, unsigned timeout_ms,
                                             unsigned user_timeout_ms)
{
    struct transport_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->tls = tls;
    c->loop = loop;
    c->is_server = is_server;
    c->hello_channel = -1;
    c->max_frame = frame_limit(max_frame);
    c->max_outbound = max_outbound ? max_outbound : TRANSPORT_MAX_OUTBOUND_DEFAULT;
    c->timeout_ms = timeout_ms ? timeout_ms : TRANSPORT_HANDSHAKE_TIMEOUT_MS_DEFAULT;
    c->user_timeout_ms = user_timeout_ms ? user_timeout_ms : TRANSPORT_USER_TIMEOUT_MS_DEFAULT;
    transport_frame_decoder_init(&c->dec, c->max_frame);
    (void)shir_str_copy(c->remote, sizeof c->remote, "?");
    (void)shir_str_copy(c->src.text, sizeof c->src.text, "?");
    uv_timer_init(loop, &c->timer); /* cannot fail */
    c->timer.data = c;
    c->pending = 1; /* the timer */
    transport__tls_link(tls, c);
    return c;
}

void transport__conn_set_remote(struct transport_conn *c, const struct sockaddr *sa)
{
    (void)transport_source_from_sockaddr(sa, &c->src);
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
        uv_ip6_name(s6, ip, sizeof ip);
        (void)shir_str_fmt(c->remote, sizeof c->remote, "[%s]:%u", ip, ntohs(s6->sin6_port));
    } else if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        uv_ip4_name(s4, ip, sizeof ip);
        (void)shir_str_fmt(c->remote, sizeof c->remote, "%s:%u", ip, ntohs(s4->sin_port));
    }
}

/* ------------------------------------------------------------------------------------------- */
/* Close sequence. */

static void conn_free(struct transport_conn *c)
{
    int err = c->err;
    const char *msg = c->errmsg[0] ? c->errmsg : NULL;
    struct transport_listener *l = c->listener;
    if (l) {
        transport__listener_leave(l, c);
        transport__listener_conn_done(l, c);
    }
    transport__tls_unlink(c->tls, c);
    if (c->delivered) {
        if (c->cbs.close_cb)
            c->cbs.close_cb(c, err, msg);
    } else if (c->connect_cb) {
        c->connect_cb(c, err ? err : SHIR_E_CLOSED, msg ? msg : "connection closed", c->connect_data);
    }
    if (c->ai_list)
        uv_freeaddrinfo(c->ai_list);
    SSL_free(c->ssl); /* frees both BIOs */
    transport_frame_decoder_free(&c->dec);
    free(c);
    if (l)
        transport__listener_check(l); /* a closing listener waits for its last connection */
}

void transport__conn_release(struct transport_conn *c)
{
    if (c->pending > 0)
        c->pending--;
    if (c->pending == 0 && c->state == TRANSPORT__CLOSING)
        conn_free(c);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct transport_conn *c = h->data;
    if (h == (uv_handle_t *)&c->tcp)
        c->tcp_inited = false;
    transport__conn_release(c);
}

void transport__conn_close_handles(struct transport_conn *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->timer))
        uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    if (c->tcp_inited && !uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    if (c->gai_pending)
        (void)uv_cancel((uv_req_t *)&c->gai); /* its callback still runs and releases */
}

void transport__conn_fail(struct transport_conn *c, int err, const char *fmt, ...)
{
    if (c->state == TRANSPORT__CLOSING)
        return;
    c->state = TRANSPORT__CLOSING;
    c->err = err;
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
    va_end(ap);
    if (c->listener)
        transport__listener_leave(c->listener, c); /* its descriptor closes right below */
    /* Anyone can make an accepted connection fail, as often as they like: those lines are
     * rate-limited; members' and our own dialed connections are not. */
    if (c->tls->log && c->is_server && !c->trusted)
        SHIR_DEBUG_LIMITED(c->tls->log, "tls: from %s: %s (%s)", c->remote, c->errmsg,
                           shir_err_name(err));
    else if (c->tls->log)
        SHIR_DEBUG(c->tls->log, "tls: %s %s: %s (%s)", c->is_server ? "from" : "to", c->remote,
                   c->errmsg, shir_err_name(err));
    transport__conn_close_handles(c);
}

static void on_timeout(uv_timer_t *t)
{
    struct transport_conn *c = t->data;
    if (c->state == TRANSPORT__CLOSING) {
        /* The graceful shutdown did not finish in time: close anyway. */
        transport__conn_close_handles(c);
        return;
    }
    if (c->state == TRANSPORT__OPEN) {
        /* Only unauthenticated sessions keep their timer once open (transport__conn_arm_auth). */
        c->stats->auth_timeouts++;
        transport__conn_fail(c, SHIR_E_TIMEOUT, "not authenticated within %u ms of accept",
                             c->auth_timeout_ms);
        return;
    }
    c->stats->timeouts++;
    transport__conn_fail(c, SHIR_E_TIMEOUT, "%s timed out after %u ms",
                         c->state == TRANSPORT__HANDSHAKE ? "TLS handshake" : "connect",
                         c->timeout_ms);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    struct transport_conn *c = req->data;
    transport__conn_close_handles(c);
    transport__conn_release(c);
}

void transport_conn_close(struct transport_conn *c)
{
    if (!c || c->state == TRANSPORT__CLOSING)
        return;
    if (c->state != TRANSPORT__OPEN) {
        transport__conn_fail(c, SHIR_E_CANCELED, "connection cancelled");
        return;
    }
    c->state = TRANSPORT__CLOSING;
    c->err = 0;
    c->errmsg[0] = '\0';
    /* close_notify, then a TCP FIN once queued bytes are out; the timer bounds a peer that does
     * not read. */
    ERR_clear_error();
    (void)SSL_shutdown(c->ssl);
    ERR_clear_error();
    conn_flush(c);
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->shutdown_req.data = c;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) == 0) {
        c->pending++;
        uv_timer_start(&c->timer, on_timeout, TRANSPORT__CLOSE_GRACE_MS, 0);
    } else {
        transport__conn_close_handles(c);
    }
}

/* ------------------------------------------------------------------------------------------- */
/* Writing. */

static void on_write(uv_write_t *req, int status)
{
    struct transport__write *w = (struct transport__write *)req;
    struct transport_conn *c = w->conn;
    c->outbound -= w->len;
    free(w);
    if (status < 0 && status != UV_ECANCELED && c->state != TRANSPORT__CLOSING) {
        c->stats->io_errors++;
        transport__conn_fail(c, status, "write to %s failed: %s", c->remote, uv_strerror(status));
        return;
    }
    if (c->want_drain && c->outbound <= c->max_outbound / 2 && c->state == TRANSPORT__OPEN) {
        c->want_drain = false;
        if (c->cbs.drain_cb)
            c->cbs.drain_cb(c);
    }
}

/* Move whatever OpenSSL wrote into wbio to the socket as one uv_write. */
static void conn_flush(struct transport_conn *c)
{
    size_t n = BIO_ctrl_pending(c->wbio);
    if (n == 0 || !c->tcp_inited)
        return;
    struct transport__write *w = malloc(sizeof *w + n);
    if (!w) {
        transport__conn_fail(c, SHIR_E_NOMEM, "out of memory queueing %zu bytes", n);
        return;
    }
    int got = BIO_read(c->wbio, w->data, (int)n);
    if (got <= 0) {
        free(w);
        return;
    }
    w->conn = c;
    w->len = (size_t)got;
    uv_buf_t buf = uv_buf_init((char *)w->data, (unsigned)got);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_write);
    if (rc != 0) {
        free(w);
        c->stats->io_errors++;
        transport__conn_fail(c, rc, "write to %s failed: %s", c->remote, uv_strerror(rc));
        return;
    }
    c->outbound += w->len;
}

static int conn_ssl_write(struct transport_conn *c, const void *p, size_t n)
{
    ERR_clear_error();
    /* A memory BIO never refuses bytes, so a TLS 1.3 SSL_write is all or error. */
    int rc = SSL_write(c->ssl, p, (int)n);
    if (rc <= 0 || (size_t)rc != n) {
        unsigned long e = ERR_get_error();
        ERR_clear_error();
        transport__conn_fail(c, SHIR_E_TLS, "TLS write failed: %s",
                             e ? ERR_reason_error_string(e) : "unknown");
        return SHIR_E_TLS;
    }
    return 0;
}

int transport_conn_write(struct transport_conn *c, const void *payload, size_t len)
{
    if (!c || (!payload && len > 0))
        return SHIR_E_INVAL;
    if (c->state != TRANSPORT__OPEN)
        return SHIR_E_CLOSED;
    if (!c->raw && (len == 0 || len > c->max_frame))
        return len == 0 ? SHIR_E_INVAL : SHIR_E_TOOBIG;
    if (len == 0)
        return 0;
    if (len > INT32_MAX - 4 || c->outbound + len + 4 > c->max_outbound) {
        c->stats->backpressure++;
        c->want_drain = true;
        return SHIR_E_FULL;
    }
    int rc;
    if (c->raw) {
        rc = conn_ssl_write(c, payload, len);
    } else if (len <= 4096) {
        /* One TLS record for header and small payloads. */
        unsigned char tmp[4 + 4096];
        shir_put_be32(tmp, (uint32_t)len);
        memcpy(tmp + 4, payload, len);
        rc = conn_ssl_write(c, tmp, len + 4);
    } else {
        unsigned char hdr[4];
        shir_put_be32(hdr, (uint32_t)len);
        rc = conn_ssl_write(c, hdr, 4);
        /* Encrypt and hand over in pieces: the memory BIO and the write buffers then stay at
         * TRANSPORT__WRITE_PIECE instead of growing to the frame's size (4 MiB allocations that
         * go back to the kernel each time cost more than the copies they save). */
        const unsigned char *p = payload;
        for (size_t off = 0; rc == 0 && off < len; off += TRANSPORT__WRITE_PIECE) {
            size_t n = len - off < TRANSPORT__WRITE_PIECE ? len - off : TRANSPORT__WRITE_PIECE;
            rc = conn_ssl_write(c, p + off, n);
            if (rc == 0 && off + n < len)
                conn_flush(c);
            if (c->state != TRANSPORT__OPEN)
                return c->err ? c->err : SHIR_E_CLOSED;
        }
    }
    if (rc != 0)
        return rc;
    c->stats->frames_out++;
    conn_flush(c);
    return c->state == TRANSPORT__OPEN ? 0 : c->err;
}

int transport__conn_write_raw(struct transport_conn *c, const void *p, size_t n)
{
    if (c->state != TRANSPORT__OPEN)
        return SHIR_E_CLOSED;
    int rc = conn_ssl_write(c, p, n);
    if (rc == 0)
        conn_flush(c);
    return rc;
}

void transport__conn_set_alpn_override(struct transport_conn *c, const unsigned char *protos,
                                       unsigned len)
{
    c->alpn_override = protos ? protos : (const unsigned char *)"";
    c->alpn_override_len = len;
    /* Expect the first offered protocol when it is one of ours, as a real client would. */
    if (protos && len > 1 && protos[0] > 0 && (unsigned)protos[0] + 1 <= len) {
        int ch = transport__channel_from_alpn(protos + 1, protos[0]);
        if (ch >= 0)
            c->channel = (enum transport_channel)ch;
    }
}

size_t transport_conn_outbound(const struct transport_conn *c)
{
    return c->outbound;
}

/* ------------------------------------------------------------------------------------------- */
/* Reading. */

static void conn_deliver(struct transport_conn *c, const unsigned char *p, size_t n)
{
    c->stats->frames_in++;
    if (c->cbs.frame_cb)
        c->cbs.frame_cb(c, p, n);
}

/* Hand every complete frame to the user; a bad header (oversize, empty) is fatal because the
 * stream cannot be resynchronised after it. */
static void conn_feed_frames(struct transport_conn *c, const unsigned char *p, size_t n)
{
    (void)transport_frame_decoder_feed(&c->dec, p, n); /* errors are sticky: seen by _next */
    if (!c->trusted && c->listener &&
        transport__listener_unfinished(c->listener, c, transport_frame_decoder_partial(&c->dec)) !=
            0) {
        c->stats->frame_budget++;
        transport__conn_fail(c, SHIR_E_FULL,
                             "unfinished frames of unauthenticated peers would pass the budget");
        return;
    }
    struct transport_frame f;
    int rc = 0;
    while (c->state == TRANSPORT__OPEN && (rc = transport_frame_decoder_next(&c->dec, &f)) == 1)
        conn_deliver(c, f.payload, f.len);
    if (c->state == TRANSPORT__OPEN && rc < 0) {
        c->stats->bad_frames++;
        transport__conn_fail(c, rc, "bad frame from %s: %s", c->remote,
                             transport_frame_decoder_errmsg(&c->dec));
    }
}

static void conn_peer_closed(struct transport_conn *c)
{
    int rc = c->raw ? 0 : transport_frame_decoder_finish(&c->dec);
    if (rc != 0) {
        c->stats->bad_frames++;
        transport__conn_fail(c, rc, "%s closed the connection: %s", c->remote,
                             transport_frame_decoder_errmsg(&c->dec));
        return;
    }
    transport__conn_fail(c, SHIR_E_CLOSED, "%s closed the connection", c->remote);
}

static void conn_read_app(struct transport_conn *c)
{
    unsigned char buf[TRANSPORT__READ_CHUNK];
    while (c->state == TRANSPORT__OPEN) {
        ERR_clear_error();
        int n = SSL_read(c->ssl, buf, (int)sizeof buf);
        if (n > 0) {
            if (c->raw) {
                conn_deliver(c, buf, (size_t)n);
                continue;
            }
            conn_feed_frames(c, buf, (size_t)n);
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ)
            break;
        if (e == SSL_ERROR_ZERO_RETURN) {
            conn_peer_closed(c);
            break;
        }
        unsigned long oe = ERR_peek_last_error();
        int reason = oe ? ERR_GET_REASON(oe) : 0;
        const char *rs = oe ? ERR_reason_error_string(oe) : NULL;
        ERR_clear_error();
        /* TLS 1.3: the server checks our certificate after our handshake completed, so its
         * verdict arrives here as an alert. */
        if (reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED ||
            reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE || reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA ||
            reason == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN) {
            c->stats->bad_cert++;
            transport__conn_fail(c, SHIR_E_AUTH, "certificate refused by %s: %s", c->remote, rs);
        } else {
            c->stats->io_errors++;
            transport__conn_fail(c, SHIR_E_TLS, "TLS error from %s: %s", c->remote,
                                 rs ? rs : "unknown");
        }
        break;
    }
    if (c->state == TRANSPORT__OPEN)
        conn_flush(c); /* key updates and alerts the reads produced */
}

/* The handshake finished: check channel and identity, then hand the connection over. */
static void conn_established(struct transport_conn *c)
{
    const unsigned char *alpn = NULL;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(c->ssl, &alpn, &alpn_len);
    int ch = alpn_len ? transport__channel_from_alpn(alpn, alpn_len) : -1;
    int want = c->is_server ? c->hello_channel : (int)c->channel;
    if (ch < 0 || ch != want) {
        c->stats->alpn_refused++;
        transport__conn_fail(c, SHIR_E_PROTO, "no agreed ALPN channel with %s", c->remote);
        return;
    }
    c->channel = (enum transport_channel)ch;
    c->raw = c->channel == TRANSPORT_CH_RAFT;
    if (transport__peer_fill(c) != 0) {
        c->stats->bad_cert++;
        transport__conn_fail(c, SHIR_E_CRYPTO, "cannot read the certificate of %s", c->remote);
        return;
    }
    bool join = c->channel == TRANSPORT_CH_JOIN;
    if (!join || !c->is_server) {
        /* Belt and braces: OpenSSL already refused these, but authorisation below must never
         * see an unverified key. */
        if (!c->peer.has_cert || SSL_get_verify_result(c->ssl) != X509_V_OK) {
            c->stats->bad_cert++;
            transport__conn_fail(c, SHIR_E_AUTH, "%s presented no verified certificate",
                                 c->remote);
            return;
        }
    }
    /* A join-client context has no allowlist: the CA pin already identified the server. */
    if (!join && !c->tls->join_client) {
        int rc = c->tls->authorize(c->tls->authorize_data, c->channel, &c->peer);
        if (rc != 0) {
            char hex[2 * TRANSPORT_PIN_LEN + 1];
            shir_hex(c->peer.pin, 8, hex);
            c->stats->denied++;
            transport__conn_fail(c, SHIR_E_DENIED, "peer %s (key %s...) not allowed on %s",
                                 c->remote, hex, transport_channel_alpn(c->channel));
            return;
        }
    }
    c->state = TRANSPORT__OPEN;
    uv_timer_stop(&c->timer);
    c->stats->established++;
    if (c->is_server) {
        transport__listener_established(c->listener, c);
        if (c->state != TRANSPORT__OPEN)
            return;
        c->delivered = true;
        transport__listener_deliver(c->listener, c);
    } else {
        c->trusted = true;
        c->delivered = true;
        void (*cb)(struct transport_conn *, int, const char *, void *) = c->connect_cb;
        c->connect_cb = NULL;
        cb(c, 0, NULL, c->connect_data);
    }
}

static void conn_handshake(struct transport_conn *c)
{
    ERR_clear_error();
    int rc = SSL_do_handshake(c->ssl);
    conn_flush(c); /* our flight, or the alert that explains a failure */
    if (c->state == TRANSPORT__CLOSING)
        return;
    if (rc == 1) {
        conn_established(c);
        return;
    }
    int e = SSL_get_error(c->ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return;
    transport__classify_handshake_error(c, rc);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct transport_conn *c = h->data;
    *buf = uv_buf_init((char *)c->tls->readbuf, sizeof c->tls->readbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct transport_conn *c = s->data;
    if (c->state == TRANSPORT__CLOSING || nread == 0)
        return;
    if (nread < 0) {
        int err = (int)nread;
        if (c->state == TRANSPORT__HANDSHAKE) {
            c->stats->handshake_failed++;
            transport__conn_fail(c, err == UV_EOF ? SHIR_E_TLS : err,
                                 "%s closed during the TLS handshake (%s)", c->remote,
                                 uv_strerror(err));
        } else if (err == UV_EOF) {
            conn_peer_closed(c);
        } else {
            c->stats->io_errors++;
            transport__conn_fail(c, err, "read from %s failed: %s", c->remote, uv_strerror(err));
        }
        return;
    }
    if (BIO_write(c->rbio, buf->base, (int)nread) != (int)nread) {
        transport__conn_fail(c, SHIR_E_NOMEM, "cannot buffer TLS input");
        return;
    }
    if (c->state == TRANSPORT__HANDSHAKE)
        conn_handshake(c);
    if (c->state == TRANSPORT__OPEN)
        conn_read_app(c);
}

static void conn_socket_options(struct transport_conn *c)
{
    uv_os_fd_t fd;
    (void)uv_tcp_nodelay(&c->tcp, 1);
    unsigned idle_s = c->user_timeout_ms / 1000u;
    (void)uv_tcp_keepalive(&c->tcp, 1, idle_s ? idle_s : 1u);
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0)
        return;
    /* Raft never reads its outbound streams, so a silently dead peer is only noticed when
     * unacknowledged data or keepalive probes time out: bound both by user_timeout_ms. */
    int user_timeout = (int)c->user_timeout_ms;
    int intvl = 1, cnt = (int)(idle_s ? idle_s : 1u);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

void transport__conn_start_timer(struct transport_conn *c)
{
    uv_timer_start(&c->timer, on_timeout, c->timeout_ms, 0);
}

void transport__conn_arm_auth(struct transport_conn *c, uint64_t ms)
{
    uv_timer_start(&c->timer, on_timeout, ms, 0);
}

int transport__conn_start_tls(struct transport_conn *c)
{
    conn_socket_options(c);
    int rc = transport__ssl_new(c);
    if (rc != 0)
        return rc;
    c->state = TRANSPORT__HANDSHAKE;
    rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc != 0)
        return rc;
    if (!c->is_server)
        conn_handshake(c); /* the ClientHello */
    return 0;
}

/* ------------------------------------------------------------------------------------------- */
/* Accessors. */

void transport_conn_set_cbs(struct transport_conn *c, const struct transport_conn_cbs *cbs)
{
    c->cbs = *cbs;
}

void *transport_conn_data(const struct transport_conn *c)
{
    return c->cbs.data;
}

enum transport_channel transport_conn_channel(const struct transport_conn *c)
{
    return c->channel;
}

const struct transport_peer *transport_conn_peer(const struct transport_conn *c)
{
    return &c->peer;
}

const char *transport_conn_remote(const struct transport_conn *c)
{
    return c->remote;
}

const struct transport_source *transport_conn_source(const struct transport_conn *c)
{
    return &c->src;
}

void transport_conn_set_trusted(struct transport_conn *c)
{
    if (!c || c->trusted || c->state != TRANSPORT__OPEN)
        return;
    c->trusted = true;
    uv_timer_stop(&c->timer); /* the unauthenticated deadline */
    if (c->listener)
        transport__listener_leave(c->listener, c);
}

bool transport_conn_trusted(const struct transport_conn *c)
{
    return c->trusted;
}

int transport_conn_export(const struct transport_conn *c, const char *label, const void *context,
                          size_t context_len, void *out, size_t out_len)
{
    if (!c || !label || !out || out_len == 0 || (!context && context_len))
        return SHIR_E_INVAL;
    if (c->state != TRANSPORT__OPEN)
        return SHIR_E_CLOSED;
    ERR_clear_error();
    int rc = SSL_export_keying_material(c->ssl, out, out_len, label, strlen(label), context,
                                        context_len, context != NULL);
    ERR_clear_error();
    return rc == 1 ? 0 : SHIR_E_TLS;
}
