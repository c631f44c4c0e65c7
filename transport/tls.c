/* TLS contexts, the OpenSSL callbacks that enforce channel and identity rules during the
 * handshake, error translation, and the registry used to cut off a removed peer. */
#include <signal.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "transport/tls.h"

static const char *const channel_alpn[TRANSPORT_CH_COUNT] = {
    [TRANSPORT_CH_RAFT] = "shir-raft/1",
    [TRANSPORT_CH_RPC] = "shir-rpc/1",
    [TRANSPORT_CH_GOSSIP] = "shir-gossip/1",
    [TRANSPORT_CH_JOIN] = "shir-join/1",
};

const char *transport_channel_alpn(enum transport_channel ch)
{
    if ((unsigned)ch >= TRANSPORT_CH_COUNT)
        return NULL;
    return channel_alpn[ch];
}

void transport_process_init(void)
{
    /* libuv writes with write(2): a peer that vanished would otherwise kill the process. */
    signal(SIGPIPE, SIG_IGN);
}

int transport__channel_from_alpn(const unsigned char *p, size_t n)
{
    for (int i = 0; i < TRANSPORT_CH_COUNT; i++) {
        size_t len = strlen(channel_alpn[i]);
        if (len == n && memcmp(channel_alpn[i], p, n) == 0)
            return i;
    }
    return -1;
}

/* ------------------------------------------------------------------------------------------- */
/* PEM helpers (memory only). */

static X509 *x509_from_pem(const char *pem, size_t len)
{
    if (!pem || len == 0 || len > INT32_MAX)
        return NULL;
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    if (!b)
        return NULL;
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    return x;
}

static EVP_PKEY *key_from_pem(const char *pem, size_t len)
{
    if (!pem || len == 0 || len > INT32_MAX)
        return NULL;
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    if (!b)
        return NULL;
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    return k;
}

int transport__spki_pin(X509 *cert, unsigned char pin[TRANSPORT_PIN_LEN])
{
    unsigned char *der = NULL;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    if (n <= 0)
        return SHIR_E_CRYPTO;
    unsigned int outlen = 0;
    int ok = EVP_Digest(der, (size_t)n, pin, &outlen, EVP_sha256(), NULL);
    OPENSSL_free(der);
    return ok == 1 && outlen == TRANSPORT_PIN_LEN ? 0 : SHIR_E_CRYPTO;
}

/* ------------------------------------------------------------------------------------------- */
/* Handshake callbacks. */

static struct transport_conn *conn_of_ssl(SSL *ssl)
{
    return SSL_get_app_data(ssl);
}

/* Runs first on the server, before any certificate is requested: pick the channel from the
 * client's ALPN list, refuse a missing or unknown one, and drop the client-certificate demand for
 * shir-join/1 only (a joiner has no member certificate yet). */
static int server_hello_cb(SSL *ssl, int *al, void *arg)
{
    (void)arg;
    struct transport_conn *c = conn_of_ssl(ssl);
    const unsigned char *ext = NULL;
    size_t ext_len = 0;
    int chosen = -1;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &ext,
                                  &ext_len) == 1 &&
        ext_len >= 2) {
        size_t list_len = (size_t)ext[0] << 8 | ext[1];
        const unsigned char *p = ext + 2;
        size_t left = list_len <= ext_len - 2 ? list_len : 0;
        while (left > 0 && chosen < 0) {
            size_t n = p[0];
            if (n == 0 || n + 1 > left)
                break;
            chosen = transport__channel_from_alpn(p + 1, n);
            p += n + 1;
            left -= n + 1;
        }
    }
    if (chosen < 0) {
        c->alpn_refused = true;
        *al = SSL_AD_NO_APPLICATION_PROTOCOL;
        return SSL_CLIENT_HELLO_ERROR;
    }
    c->hello_channel = chosen;
    if (chosen == TRANSPORT_CH_JOIN)
        SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
    return SSL_CLIENT_HELLO_SUCCESS;
}

static int server_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                          const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)arg;
    struct transport_conn *c = conn_of_ssl(ssl);
    /* Select exactly what the hello callback decided, as a pointer into the client's list. */
    unsigned i = 0;
    while (c->hello_channel >= 0 && i < inlen) {
        unsigned n = in[i];
        if (n == 0 || i + 1 + n > inlen)
            break;
        if (transport__channel_from_alpn(in + i + 1, n) == c->hello_channel) {
            *out = in + i + 1;
            *outlen = (unsigned char)n;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + n;
    }
    c->alpn_refused = true;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* Join client: the server's chain must lead to a certificate whose public key has the pinned
 * SHA-256 (from the registration key); that certificate becomes the only trust anchor. */
static int join_verify_cb(X509_STORE_CTX *sctx, void *arg)
{
    struct transport_tls *tls = arg;
    SSL *ssl = X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct transport_conn *c = ssl ? conn_of_ssl(ssl) : NULL;
    X509 *leaf = X509_STORE_CTX_get0_cert(sctx);
    STACK_OF(X509) *untrusted = X509_STORE_CTX_get0_untrusted(sctx);
    X509 *anchor = NULL;
    for (int i = 0; untrusted && i < sk_X509_num(untrusted) && !anchor; i++) {
        X509 *x = sk_X509_value(untrusted, i);
        unsigned char pin[TRANSPORT_PIN_LEN];
        if (transport__spki_pin(x, pin) == 0 &&
            shir_memeq_ct(pin, tls->ca_pin, TRANSPORT_PIN_LEN) == 0)
            anchor = x;
    }
    if (!anchor || !leaf) {
        if (c)
            c->pin_mismatch = true;
        X509_STORE_CTX_set_error(sctx, X509_V_ERR_CERT_UNTRUSTED);
        return 0;
    }
    int ok = 0;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *v = X509_STORE_CTX_new();
    if (store && v && X509_STORE_add_cert(store, anchor) == 1 &&
        X509_STORE_CTX_init(v, store, leaf, untrusted) == 1) {
        X509_STORE_CTX_set_purpose(v, X509_PURPOSE_SSL_SERVER);
        ok = X509_verify_cert(v) == 1;
        if (!ok)
            X509_STORE_CTX_set_error(sctx, X509_STORE_CTX_get_error(v));
    }
    X509_STORE_CTX_free(v);
    X509_STORE_free(store);
    if (!ok && c)
        c->pin_mismatch = true;
    return ok;
}

/* ------------------------------------------------------------------------------------------- */
/* Contexts. */

static SSL_CTX *ctx_base(const SSL_METHOD *m)
{
    SSL_CTX *ctx = SSL_CTX_new(m);
    if (!ctx)
        return NULL;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* No resumption: every connection is authenticated and authorised afresh, so a removed
     * member cannot come back on a ticket; tickets would also cost a round of bytes. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
    return ctx;
}

static int ctx_credentials(SSL_CTX *ctx, X509 *cert, EVP_PKEY *key, X509 *ca)
{
    if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        return SHIR_E_CRYPTO;
    /* Send the CA with our leaf so that a join client, which knows only the CA's pin, can build
     * the chain. */
    if (SSL_CTX_add1_chain_cert(ctx, ca) != 1)
        return SHIR_E_CRYPTO;
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    if (X509_STORE_add_cert(store, ca) != 1)
        return SHIR_E_CRYPTO;
    return 0;
}

static void log_ssl_error(struct shir_log *log, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    if (log)
        SHIR_ERROR(log, "tls: %s: %s", what, r ? r : "unknown OpenSSL error");
    ERR_clear_error();
}

int transport_tls_new(const struct transport_tls_config *cfg, struct transport_tls **out)
{
    X509 *ca = NULL, *cert = NULL;
    EVP_PKEY *key = NULL;
    int rv = SHIR_E_INVAL;
    if (!cfg || !out)
        return SHIR_E_INVAL;
    *out = NULL;
    if (!cfg->join_client &&
        (!cfg->ca_pem || !cfg->cert_pem || !cfg->key_pem || !cfg->authorize))
        return SHIR_E_INVAL;
    struct transport_tls *tls = calloc(1, sizeof *tls);
    if (!tls)
        return SHIR_E_NOMEM;
    tls->join_client = cfg->join_client;
    memcpy(tls->ca_pin, cfg->ca_pin, TRANSPORT_PIN_LEN);
    tls->authorize = cfg->authorize;
    tls->authorize_data = cfg->authorize_data;
    tls->log = cfg->log;
    ERR_clear_error();

    rv = SHIR_E_CRYPTO;
    tls->client_ctx = ctx_base(TLS_client_method());
    if (!tls->client_ctx)
        goto err_ssl;
    if (cfg->join_client) {
        SSL_CTX_set_verify(tls->client_ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_cert_verify_callback(tls->client_ctx, join_verify_cb, tls);
        *out = tls;
        return 0;
    }
    ca = x509_from_pem(cfg->ca_pem, cfg->ca_pem_len);
    cert = x509_from_pem(cfg->cert_pem, cfg->cert_pem_len);
    key = key_from_pem(cfg->key_pem, cfg->key_pem_len);
    if (!ca || !cert || !key) {
        log_ssl_error(cfg->log, "cannot parse CA, certificate or key PEM");
        goto err;
    }
    tls->server_ctx = ctx_base(TLS_server_method());
    if (!tls->server_ctx)
        goto err_ssl;
    if (ctx_credentials(tls->server_ctx, cert, key, ca) != 0 ||
        ctx_credentials(tls->client_ctx, cert, key, ca) != 0) {
        log_ssl_error(cfg->log, "certificate, key and CA do not fit together");
        goto err;
    }
    SSL_CTX_set_verify(tls->server_ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_client_hello_cb(tls->server_ctx, server_hello_cb, NULL);
    SSL_CTX_set_alpn_select_cb(tls->server_ctx, server_alpn_cb, NULL);
    SSL_CTX_set_verify(tls->client_ctx, SSL_VERIFY_PEER, NULL);
    X509_free(ca);
    X509_free(cert);
    EVP_PKEY_free(key);
    *out = tls;
    return 0;

err_ssl:
    log_ssl_error(cfg->log, "cannot create TLS context");
err:
    X509_free(ca);
    X509_free(cert);
    EVP_PKEY_free(key);
    SSL_CTX_free(tls->server_ctx);
    SSL_CTX_free(tls->client_ctx);
    free(tls);
    return rv;
}

void transport_tls_free(struct transport_tls *tls)
{
    if (!tls)
        return;
    /* Freeing under live connections would leave them pointing at freed contexts. */
    if (tls->n_conns != 0 || tls->n_listeners != 0)
        abort();
    SSL_CTX_free(tls->server_ctx);
    SSL_CTX_free(tls->client_ctx);
    free(tls);
}

const struct transport_stats *transport_tls_dial_stats(const struct transport_tls *tls)
{
    return &tls->dial_stats;
}

void transport__tls_link(struct transport_tls *tls, struct transport_conn *c)
{
    c->prev = NULL;
    c->next = tls->conns;
    if (tls->conns)
        tls->conns->prev = c;
    tls->conns = c;
    tls->n_conns++;
}

void transport__tls_unlink(struct transport_tls *tls, struct transport_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        tls->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    tls->n_conns--;
}

unsigned transport_tls_close_peer(struct transport_tls *tls,
                                  const unsigned char pin[TRANSPORT_PIN_LEN])
{
    unsigned n = 0;
    for (struct transport_conn *c = tls->conns; c; c = c->next) {
        if (c->state == TRANSPORT__CLOSING || !c->peer.has_cert)
            continue;
        if (shir_memeq_ct(c->peer.pin, pin, TRANSPORT_PIN_LEN) != 0)
            continue;
        c->stats->denied++;
        transport__conn_fail(c, SHIR_E_DENIED, "peer removed from the member allowlist");
        n++;
    }
    return n;
}

/* ------------------------------------------------------------------------------------------- */
/* Per-connection SSL. */

int transport__ssl_new(struct transport_conn *c)
{
    SSL_CTX *ctx = c->is_server ? c->tls->server_ctx : c->tls->client_ctx;
    if (!ctx)
        return SHIR_E_UNSUPPORTED;
    c->ssl = SSL_new(ctx);
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    if (!c->ssl || !c->rbio || !c->wbio) {
        SSL_free(c->ssl);
        BIO_free(c->rbio);
        BIO_free(c->wbio);
        c->ssl = NULL;
        c->rbio = c->wbio = NULL;
        ERR_clear_error();
        return SHIR_E_NOMEM;
    }
    /* An empty memory BIO means "wait for more bytes", not end of file. */
    BIO_set_mem_eof_return(c->rbio, -1);
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
    SSL_set_app_data(c->ssl, c);
    if (c->is_server) {
        SSL_set_accept_state(c->ssl);
        return 0;
    }
    SSL_set_connect_state(c->ssl);
    int rc;
    if (c->alpn_override) {
        rc = SSL_set_alpn_protos(c->ssl, c->alpn_override_len ? c->alpn_override : NULL,
                                 c->alpn_override_len);
    } else {
        unsigned char wire[32];
        const char *name = channel_alpn[c->channel];
        size_t n = strlen(name);
        wire[0] = (unsigned char)n;
        memcpy(wire + 1, name, n);
        rc = SSL_set_alpn_protos(c->ssl, wire, (unsigned)(n + 1));
    }
    if (rc != 0) {
        ERR_clear_error();
        return SHIR_E_TLS;
    }
    return 0;
}

/* Turn a failed SSL_do_handshake into one code, one counter and one message. OpenSSL's error
 * queue is read and cleared here, so nothing foreign leaves transport/. */
void transport__classify_handshake_error(struct transport_conn *c, int ssl_ret)
{
    int serr = SSL_get_error(c->ssl, ssl_ret);
    unsigned long e = ERR_peek_last_error();
    int reason = e ? ERR_GET_REASON(e) : 0;
    const char *rs = e ? ERR_reason_error_string(e) : NULL;
    long vr = SSL_get_verify_result(c->ssl);
    ERR_clear_error();

    if (c->alpn_refused || reason == SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL ||
        reason == SSL_R_NO_APPLICATION_PROTOCOL) {
        c->stats->alpn_refused++;
        transport__conn_fail(c, SHIR_E_PROTO, "handshake refused: wrong or missing ALPN (%s)",
                             rs ? rs : "no application protocol");
        return;
    }
    if (c->pin_mismatch) {
        c->stats->bad_cert++;
        transport__conn_fail(c, SHIR_E_AUTH,
                             "server certificate does not chain to the pinned CA key");
        return;
    }
    if (vr != X509_V_OK) {
        c->stats->bad_cert++;
        transport__conn_fail(c, SHIR_E_AUTH, "peer certificate rejected: %s",
                             X509_verify_cert_error_string(vr));
        return;
    }
    switch (reason) {
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
        c->stats->bad_cert++;
        transport__conn_fail(c, SHIR_E_AUTH, "certificate refused: %s", rs ? rs : "unknown");
        return;
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
        c->stats->handshake_failed++;
        transport__conn_fail(c, SHIR_E_TLS, "plaintext HTTP received before TLS");
        return;
    default:
        break;
    }
    c->stats->handshake_failed++;
    if (serr == SSL_ERROR_SYSCALL || !rs)
        transport__conn_fail(c, SHIR_E_TLS, "TLS handshake failed");
    else
        transport__conn_fail(c, SHIR_E_TLS, "TLS handshake failed: %s", rs);
}

/* Read the authenticated identity out of the peer certificate. */
int transport__peer_fill(struct transport_conn *c)
{
    memset(&c->peer, 0, sizeof c->peer);
    X509 *x = SSL_get0_peer_certificate(c->ssl);
    if (!x)
        return 0;
    if (transport__spki_pin(x, c->peer.pin) != 0)
        return SHIR_E_CRYPTO;
    c->peer.has_cert = true;
    X509_NAME *subj = X509_get_subject_name(x);
    char buf[64];
    if (X509_NAME_get_text_by_NID(subj, NID_commonName, buf, (int)sizeof buf) > 0)
        (void)shir_str_copy(c->peer.name, sizeof c->peer.name, buf);
    if (X509_NAME_get_text_by_NID(subj, NID_serialNumber, buf, (int)sizeof buf) > 0) {
        uint64_t id = 0;
        if (shir_parse_u64(buf, 1, UINT64_MAX, &id) == 0)
            c->peer.node_id = id;
    }
    ERR_clear_error();
    return 0;
}
