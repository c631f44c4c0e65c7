/* transport/tls.h: internals shared by the TLS files of transport/ (tls.c, conn.c, listener.c,
 * dialer.c, raftbridge.c) and their unit tests. Not a module face: nothing outside transport/
 * includes it.
 *
 * Life of a connection:
 *
 *   dialer:   RESOLVING -> CONNECTING -> HANDSHAKE -> OPEN -> CLOSING -> (freed)
 *   accepted:                            HANDSHAKE -> OPEN -> CLOSING -> (freed)
 *
 * Bytes flow socket -> rbio (memory BIO) -> SSL -> plaintext -> frames, and SSL -> wbio (memory
 * BIO) -> one uv_write per flush. A connection is freed only after every libuv handle and request
 * it owns has called back (`pending`), so callbacks that close it from inside a read loop leave
 * the memory valid until the loop unwinds. */
#ifndef SHIR_TRANSPORT_TLS_H
#define SHIR_TRANSPORT_TLS_H

#include <netdb.h>
#include <openssl/ssl.h>
#include <uv.h>

#include "transport/transport.h"

#define TRANSPORT__READ_CHUNK 16384 /* plaintext per SSL_read: one TLS record at most */
/* Ciphertext per socket read: several records per syscall when the peer streams. */
#define TRANSPORT__SOCKET_CHUNK 65536
/* Plaintext per SSL_write + flush when a frame is large. */
#define TRANSPORT__WRITE_PIECE 65536
#define TRANSPORT__CLOSE_GRACE_MS 2000u

struct transport_tls {
    SSL_CTX *server_ctx; /* NULL in join-client mode */
    SSL_CTX *client_ctx;
    bool join_client;
    unsigned char ca_pin[TRANSPORT_PIN_LEN];
    transport_authorize_cb authorize;
    void *authorize_data;
    struct shir_log *log;
    struct transport_conn *conns; /* every live connection made with this context */
    unsigned n_conns;
    unsigned n_listeners;
    struct transport_stats dial_stats;
    /* Where every connection of this context reads its socket into. Shared, because on_read
     * hands the bytes to the connection's memory BIO before it returns and the context's
     * connections all run on one loop thread: 64 KiB per context instead of per connection,
     * which is most of what an idle connection used to cost. */
    unsigned char readbuf[TRANSPORT__SOCKET_CHUNK];
};

/* Which of the listener's limited sets a connection is in (see transport_channel_policy). */
enum transport__admit {
    TRANSPORT__ADMIT_NONE = 0,
    TRANSPORT__ADMIT_HANDSHAKE, /* accepted, TLS handshake not finished */
    TRANSPORT__ADMIT_UNAUTH,    /* handshake done on a channel without client certificates */
};

/* One source's holdings (source.c). */
struct transport__srcent {
    unsigned char key[TRANSPORT_SOURCE_KEY_LEN];
    bool used;
    unsigned hs;                         /* connections in the TLS handshake */
    unsigned unauth[TRANSPORT_CH_COUNT]; /* unauthenticated sessions per channel */
};
struct transport__srctab {
    struct transport__srcent *e;
    size_t cap; /* a power of two, or 0 */
    size_t n;
};
/* The entry of `key`, or NULL. Entry pointers stay valid only until the next _get or _release. */
struct transport__srcent *transport__srctab_find(const struct transport__srctab *t,
                                                 const unsigned char *key);
/* The entry of `key`, created with zero counts; NULL only when out of memory. */
struct transport__srcent *transport__srctab_get(struct transport__srctab *t,
                                                const unsigned char *key);
/* Drop `e` if it holds nothing any more (NULL is a no-op). */
void transport__srctab_release(struct transport__srctab *t, struct transport__srcent *e);
void transport__srctab_free(struct transport__srctab *t);

enum transport__state {
    TRANSPORT__RESOLVING,
    TRANSPORT__CONNECTING,
    TRANSPORT__HANDSHAKE,
    TRANSPORT__OPEN,
    TRANSPORT__CLOSING,
};

struct transport__write {
    uv_write_t req;
    struct transport_conn *conn;
    size_t len;
    unsigned char data[];
};

struct transport_conn {
    struct transport_tls *tls;
    struct transport_listener *listener; /* NULL for dialed connections */
    struct transport_stats *stats;       /* the listener's, or tls->dial_stats */
    uv_loop_t *loop;
    enum transport__state state;
    bool is_server;
    bool delivered;    /* the user has seen it (accept_cb / successful connect_cb) */
    bool raw;          /* shir-raft/1: a byte stream, not frames */
    bool tcp_inited;
    bool gai_pending;
    bool alpn_refused; /* set by the server's hello/ALPN callbacks */
    bool pin_mismatch; /* set by the join client's verify callback */
    bool want_drain;
    bool shutdown_sent;
    unsigned pending; /* handles and requests that must call back before free */
    int hello_channel; /* server: channel chosen from the ClientHello, -1 before */
    enum transport_channel channel;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_getaddrinfo_t gai;
    uv_connect_t connect_req;
    uv_shutdown_t shutdown_req;
    struct addrinfo *ai_list;
    struct addrinfo *ai_next;
    struct sockaddr_storage addr; /* the address being tried */
    struct sockaddr_storage local; /* dialer: bind here first when its family is set */
    bool numeric;                 /* host was a literal: one address, no resolver */
    bool numeric_tried;
    int last_err;                 /* of the last failed connect attempt */
    SSL *ssl;
    BIO *rbio;
    BIO *wbio;
    struct transport_peer peer;
    struct transport_conn_cbs cbs;
    struct transport_frame_decoder dec; /* codec.c's incremental frame decoder */
    uint32_t max_frame;
    size_t max_outbound;
    size_t outbound;
    unsigned timeout_ms;
    unsigned user_timeout_ms;
    int err;
    char errmsg[200];
    char remote[80];
    char host[256];
    uint16_t port;
    void (*connect_cb)(struct transport_conn *c, int status, const char *msg, void *data);
    void *connect_data;
    const unsigned char *alpn_override; /* tests only: the ALPN list sent instead */
    unsigned alpn_override_len;
    struct transport_conn *prev, *next;   /* tls->conns */
    struct transport_conn *lprev, *lnext; /* listener's list */
    /* Listener limits (listener.c). */
    struct transport_source src;
    bool trusted;                   /* a member, or set_trusted; never capped */
    enum transport__admit admit;    /* which limited set it is in */
    struct transport_conn *aprev, *anext; /* that set's list, oldest first */
    uint64_t accept_ms;             /* uv_now at accept: the unauthenticated deadline's origin */
    unsigned auth_timeout_ms;       /* that deadline, for the message */
    size_t unfinished;              /* bytes counted in the listener's unfinished budget */
};

/* tls.c */
int transport__ssl_new(struct transport_conn *c);
int transport__channel_from_alpn(const unsigned char *p, size_t n);
void transport__classify_handshake_error(struct transport_conn *c, int ssl_ret);
int transport__peer_fill(struct transport_conn *c);
int transport__spki_pin(X509 *cert, unsigned char pin[TRANSPORT_PIN_LEN]);
void transport__tls_link(struct transport_tls *tls, struct transport_conn *c);
void transport__tls_unlink(struct transport_tls *tls, struct transport_conn *c);

/* conn.c */
struct transport_conn *transport__conn_alloc(struct transport_tls *tls, uv_loop_t *loop,
                                             bool is_server, uint32_t max_frame,
                                             size_t max_outbound, unsigned timeout_ms,
                                             unsigned user_timeout_ms);
/* Start the connect/handshake deadline (timeout_ms). */
void transport__conn_start_timer(struct transport_conn *c);
/* The TCP socket is connected (accepted or dialed): options, SSL, start reading. */
int transport__conn_start_tls(struct transport_conn *c);
/* End the connection with an error; counted by the caller. Idempotent. */
void transport__conn_fail(struct transport_conn *c, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Close c's handles now, even while a graceful close is waiting for the peer (the listener's
 * limits evict such connections too: their descriptor is still open). */
void transport__conn_close_handles(struct transport_conn *c);
/* Start (or restart) c's timer to end an unauthenticated session after `ms`. */
void transport__conn_arm_auth(struct transport_conn *c, uint64_t ms);
/* A handle or request of c has called back during close: free c when none is left. */
void transport__conn_release(struct transport_conn *c);
void transport__conn_set_remote(struct transport_conn *c, const struct sockaddr *sa);
/* Tests only: send raw bytes inside TLS (bypassing framing). */
int transport__conn_write_raw(struct transport_conn *c, const void *p, size_t n);
/* Tests only: the ALPN protocol list to offer instead of the channel's (wire format, borrowed
 * until the handshake; length 0 offers none); the client then expects the first one when it
 * names a channel. Call right after transport_dial. */
void transport__conn_set_alpn_override(struct transport_conn *c, const unsigned char *protos,
                                       unsigned len);

/* listener.c */
void transport__listener_conn_done(struct transport_listener *l, struct transport_conn *c);
/* Called after a connection of l was freed: a closing listener finishes with its last one. */
void transport__listener_check(struct transport_listener *l);
void transport__listener_deliver(struct transport_listener *l, struct transport_conn *c);
/* The handshake of c (accepted by l) is done and authorised: decide whether it is trusted,
 * apply its channel's policy (frame size, caps, deadline). Call before delivering it. */
void transport__listener_established(struct transport_listener *l, struct transport_conn *c);
/* c leaves whatever limited set it is in and gives back its unfinished-frame bytes.
 * Idempotent. */
void transport__listener_leave(struct transport_listener *l, struct transport_conn *c);
/* The unfinished frame of untrusted c now holds `bytes`: 0, or SHIR_E_FULL when that would pass
 * the listener's budget (the caller closes c; nothing was counted). */
int transport__listener_unfinished(struct transport_listener *l, struct transport_conn *c,
                                   size_t bytes);

/* dialer.c */
void transport__dialer_connect_next(struct transport_conn *c);

#endif /* SHIR_TRANSPORT_TLS_H */
