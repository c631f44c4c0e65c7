/* transport: everything that crosses the network.
 *
 * For: the one mutually-authenticated TLS port (listener, dialer, ALPN channels), frames and the
 * msgpack codec with limits, the typed message layer, the raft transport bridge, outbound HTTP.
 * Not for: deciding who is a member (the cluster supplies an allowlist callback) or any state.
 */
#ifndef SHIR_TRANSPORT_H
#define SHIR_TRANSPORT_H

#include "common/common.h"

/* Fill out[0..cap) with the libraries this module runs with (libuv, OpenSSL, libcurl, msgpack):
 * the versions loaded at run time, not the headers'. Returns how many were written. */
size_t transport_versions(struct shir_libversion *out, size_t cap);

/* ----- BEGIN TLS section (owner: TLS helper) ----- */
/* =========================================================================================== */
/* TLS channels: listener, dialer, connections (transport/tls.c, conn.c, listener.c, dialer.c).
 *
 * One TCP port carries four channels chosen by ALPN. Every connection is TLS 1.3, driven inside
 * the libuv loop through memory BIOs (no blocking call, no thread). Members authenticate both
 * ways with certificates from the runtime CA (ECDSA P-256) and are then authorised by identity:
 * the cluster's `authorize` callback sees the SHA-256 of the peer's SubjectPublicKeyInfo (the
 * "pin") and the channel. On shir-join/1 only, the client presents no certificate and checks the
 * server's chain against the pin of the CA's public key taken from the registration key.
 *
 * Payload on every channel but one is a sequence of frames: 4-byte big-endian length, then the
 * payload (1..max_frame bytes, default TRANSPORT_MAX_FRAME_DEFAULT; a listener may set a smaller
 * one per channel, see transport_channel_policy). shir-raft/1 is a plain byte
 * stream (raft frames its own messages): there frame_cb receives chunks in order, and
 * transport_conn_write sends bytes unframed. Errors never crash: a bad
 * certificate, a wrong ALPN, an oversize or truncated frame, a reset or a dead peer end the one
 * connection with a code from common.h, a message, and a counter in the stats.
 *
 * The process must ignore SIGPIPE (transport_process_init) because libuv writes with write(2).
 * Reconnecting is the caller's job: a failed or closed connection is final; dial again after
 * your retry delay (the raft bridge leaves it to raft's connect-retry delay). */
#include <uv.h>

enum transport_channel {
    TRANSPORT_CH_RAFT = 0,   /* "shir-raft/1": raft streams (the raft bridge) */
    TRANSPORT_CH_RPC = 1,    /* "shir-rpc/1": request/response between members */
    TRANSPORT_CH_GOSSIP = 2, /* "shir-gossip/1": SWIM membership */
    TRANSPORT_CH_JOIN = 3,   /* "shir-join/1": joiner without a member certificate */
};
#define TRANSPORT_CH_COUNT 4
#define TRANSPORT_PIN_LEN 32 /* SHA-256 of a SubjectPublicKeyInfo DER */
#define TRANSPORT_MAX_FRAME_DEFAULT (4u * 1024u * 1024u)
#define TRANSPORT_MAX_OUTBOUND_DEFAULT (16u * 1024u * 1024u)
#define TRANSPORT_HANDSHAKE_TIMEOUT_MS_DEFAULT 10000u
#define TRANSPORT_USER_TIMEOUT_MS_DEFAULT 5000u
/* Connections of a listener still in the TLS handshake, per source and in all (see "Limits of a
 * listener" below for the why of these numbers). */
#define TRANSPORT_HANDSHAKES_PER_SOURCE_DEFAULT 32u
#define TRANSPORT_HANDSHAKES_TOTAL_DEFAULT 256u
/* Bytes of unfinished frames a listener holds for unauthenticated connections, in all. */
#define TRANSPORT_UNFINISHED_BUDGET_DEFAULT (16u * 1024u * 1024u)

/* The ALPN string of a channel ("shir-rpc/1"), or NULL for an unknown value. Static. */
const char *transport_channel_alpn(enum transport_channel ch);

/* Ignore SIGPIPE for the whole process. Call once from the composition root (and tests). */
void transport_process_init(void);

/* What a connection knows about its authenticated peer. On a shir-join/1 server side the peer
 * has no certificate: has_cert is false and the rest is zero. */
struct transport_peer {
    bool has_cert;
    unsigned char pin[TRANSPORT_PIN_LEN]; /* SHA-256 of the peer certificate's SPKI DER */
    uint64_t node_id;                     /* subject serialNumber, 0 when absent/unparsable */
    char name[64];                        /* subject CN, truncated; "" when absent */
};

/* The allowlist decision: return 0 to allow `peer` on `ch`, a negative code to refuse (the
 * connection is closed and counted as denied). Called on the loop thread once per connection
 * right after the handshake, on both sides (a dialer also checks the server it reached), never on
 * shir-join/1. `peer` is borrowed for the call. */
typedef int (*transport_authorize_cb)(void *data, enum transport_channel ch,
                                      const struct transport_peer *peer);

/* Credentials and policy of one node. All pointers are borrowed for the duration of
 * transport_tls_new (the PEM bytes are parsed and copied). */
struct transport_tls_config {
    const char *ca_pem;   /* runtime CA certificate; required unless join_client */
    size_t ca_pem_len;
    const char *cert_pem; /* this node's certificate; required unless join_client */
    size_t cert_pem_len;
    const char *key_pem;  /* this node's private key (secret; never logged) */
    size_t key_pem_len;
    /* Join-client mode: no member credentials; dials only TRANSPORT_CH_JOIN and accepts the
     * server when its chain verifies up to a certificate whose SPKI SHA-256 equals ca_pin. */
    bool join_client;
    unsigned char ca_pin[TRANSPORT_PIN_LEN];
    transport_authorize_cb authorize; /* required unless join_client */
    void *authorize_data;
    struct shir_log *log; /* borrowed, may be NULL */
};

/* The TLS context of one node: OpenSSL contexts plus the registry of its live connections (for
 * transport_tls_close_peer). Owns no libuv handle. */
struct transport_tls;

/* Parse the credentials and build the contexts. Errors: SHIR_E_INVAL (missing field),
 * SHIR_E_CRYPTO (unparsable PEM, key does not match certificate), SHIR_E_NOMEM. A short reason
 * goes to cfg->log. */
int transport_tls_new(const struct transport_tls_config *cfg, struct transport_tls **out);
/* Free the context. Every connection made with it must have been closed (its close callback
 * fired) and every listener closed; NULL is a no-op. */
void transport_tls_free(struct transport_tls *tls);
/* Close every live connection (accepted or dialed, any channel) whose peer pin equals `pin`,
 * with SHIR_E_DENIED: used when a member is removed. Their close callbacks fire later, from the
 * loop. Returns how many were closed. */
unsigned transport_tls_close_peer(struct transport_tls *tls,
                                  const unsigned char pin[TRANSPORT_PIN_LEN]);

/* Where a connection comes from, as the unit that per-source limits count: an IPv4 address, or
 * the /64 prefix of an IPv6 address (a single subscriber usually gets a whole /64, so counting
 * full IPv6 addresses would give one host 2^64 "sources"). An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d, a dual-stack listener) counts as the IPv4 address. */
#define TRANSPORT_SOURCE_KEY_LEN 17
struct transport_source {
    unsigned char key[TRANSPORT_SOURCE_KEY_LEN]; /* 4 or 6, then the address bytes, zero-padded */
    char text[48];                               /* "192.0.2.7", "2001:db8:0:1::/64", "?" */
};
/* Fill `out` from a socket address: 0, or SHIR_E_UNSUPPORTED for a family that is neither IPv4
 * nor IPv6 (out is then zeroed with text "?"). */
int transport_source_from_sockaddr(const struct sockaddr *sa, struct transport_source *out);

/* Per-listener (and per-context, for dialed connections) counters. */
struct transport_stats {
    uint64_t accepted;          /* TCP connections accepted */
    uint64_t established;       /* handshakes completed and authorised */
    uint64_t handshake_failed;  /* TLS errors, garbage, plaintext before TLS */
    uint64_t bad_cert;          /* missing, unverifiable or mispinned certificates */
    uint64_t alpn_refused;      /* wrong or missing ALPN */
    uint64_t denied;            /* refused by the authorize callback or closed by close_peer */
    uint64_t timeouts;          /* connect/handshake deadline passed */
    uint64_t bad_frames;        /* oversize or truncated frames */
    uint64_t io_errors;         /* resets and other socket errors */
    uint64_t backpressure;      /* writes refused because the outbound queue was full */
    uint64_t frames_in;
    uint64_t frames_out;
    /* Limits of a listener (below); each closes one connection per count. */
    uint64_t cap_handshake;  /* over a handshake cap: the oldest handshake of the source closed */
    uint64_t cap_unauth;     /* over an unauthenticated-session cap: its oldest session closed */
    uint64_t auth_timeouts;  /* unauthenticated sessions closed at their deadline */
    uint64_t frame_budget;   /* unauthenticated connections closed: unfinished-frame budget */
    /* Gauges: what the listener holds right now (not counters). */
    uint64_t handshakes_now;
    uint64_t unauth_now;
    uint64_t unfinished_bytes_now;
};

struct transport_conn;

/* Connection callbacks. All fire on the loop thread, never inside the call that caused them.
 *   frame_cb: one complete frame; `payload` is borrowed until return. May write or close.
 *   close_cb: exactly once for every connection delivered to the user (after an accept_cb or a
 *     successful connect_cb): err 0 for a local transport_conn_close, otherwise the reason and
 *     a short message (static or conn-owned, valid during the call). The connection is freed
 *     right after close_cb returns.
 *   drain_cb: optional; the outbound queue fell below half of its limit after a refused write. */
struct transport_conn_cbs {
    void (*frame_cb)(struct transport_conn *c, const unsigned char *payload, size_t len);
    void (*close_cb)(struct transport_conn *c, int err, const char *msg);
    void (*drain_cb)(struct transport_conn *c);
    void *data;
};

/* Set the callbacks (copied). Call from accept_cb / connect_cb before returning: frames are
 * parsed right after those callbacks, and a frame that finds no frame_cb is dropped. */
void transport_conn_set_cbs(struct transport_conn *c, const struct transport_conn_cbs *cbs);
void *transport_conn_data(const struct transport_conn *c);
enum transport_channel transport_conn_channel(const struct transport_conn *c);
/* The authenticated peer (borrowed; valid until close_cb returns). */
const struct transport_peer *transport_conn_peer(const struct transport_conn *c);
/* "ip:port" of the remote end, for logs. */
const char *transport_conn_remote(const struct transport_conn *c);
/* The remote end as a source (see struct transport_source). Borrowed, like the peer. */
const struct transport_source *transport_conn_source(const struct transport_conn *c);
/* End the unauthenticated state of an accepted connection on a channel without client
 * certificates (shir-join/1), once the owner has authenticated the peer some other way (a valid
 * join proof): its deadline stops, it leaves the per-source and total caps and the
 * unfinished-frame budget, and nothing caps it from then on. No-op on any other connection
 * (members are trusted from their handshake on). */
void transport_conn_set_trusted(struct transport_conn *c);
/* False only for an accepted connection that is still unauthenticated (above). */
bool transport_conn_trusted(const struct transport_conn *c);
/* Queue one frame (payload copied into the TLS record stream). SHIR_E_TOOBIG when len exceeds
 * the frame limit, SHIR_E_FULL when the bytes not yet handed to the kernel would exceed the
 * outbound limit (nothing queued; wait for drain_cb), SHIR_E_CLOSED after close, SHIR_E_TLS. */
int transport_conn_write(struct transport_conn *c, const void *payload, size_t len);
/* Bytes queued but not yet written to the socket. */
size_t transport_conn_outbound(const struct transport_conn *c);
/* Close gracefully (TLS close_notify, then the socket). close_cb fires later with err 0. On a
 * connection still dialing, the connect_cb fires later with SHIR_E_CANCELED instead. Idempotent. */
void transport_conn_close(struct transport_conn *c);
/* RFC 8446 exporter (SSL_export_keying_material) over the established session: both ends get
 * the same bytes for the same label/context. SHIR_E_INVAL, SHIR_E_TLS. */
int transport_conn_export(const struct transport_conn *c, const char *label, const void *context,
                          size_t context_len, void *out, size_t out_len);

struct transport_listener;

/* Limits of a listener: what an unauthenticated client can hold, so that no flood of them can
 * take the file descriptors, memory or CPU that members' raft/rpc/gossip connections need.
 *
 * Accept is never paused (a paused accept would shut members out with the attacker). Each
 * connection is accepted and counted; a cap that would be passed closes ONE connection at once,
 * and always the oldest of the offending kind, never the newcomer:
 *   - handshakes (accept until the handshake ends, every channel: nobody is identified yet):
 *     over the per-source cap, the source's oldest handshake goes; over the total, the oldest
 *     handshake of the source holding the most goes. A member's handshake takes milliseconds and
 *     comes from a source holding one or two, so an attacker that holds every slot churns
 *     through its own connections while members get in.
 *   - unauthenticated sessions (a channel without client certificates, after its handshake,
 *     until transport_conn_set_trusted): the same two rules with the channel's caps, plus a
 *     deadline counted from accept.
 *   - unfinished frames: the bytes of partly received frames held for unauthenticated
 *     connections, over all of them; a connection whose frame would pass the budget is closed
 *     (growing it instead is how 166 connections once took 650 MB).
 * Closing the oldest rather than refusing the newest is deliberate: with "refuse new", an
 * attacker that re-opens what times out keeps a cap full for ever at a few connections a second
 * and a legitimate joiner never gets in; with "close oldest" the newcomer always gets its turn.
 * Connections whose peer presented a member certificate and passed `authorize` are never capped
 * after their handshake. Each closing counts in transport_stats and logs a rate-limited line. */
struct transport_channel_policy {
    uint32_t max_frame;          /* payload bytes per frame on this channel; 0: the listener's */
    unsigned unauth_per_source;  /* unauthenticated sessions per source; 0: no cap */
    unsigned unauth_total;       /* in all on this channel; 0: no cap */
    unsigned auth_timeout_ms;    /* unauthenticated this long after accept: closed; 0: never */
};

/* Listener. `host` must be a numeric IPv4 or IPv6 address ("0.0.0.0", "::", "127.0.0.1");
 * port 0 picks an ephemeral port (read it back with transport_listener_port). */
struct transport_listener_config {
    struct transport_tls *tls; /* borrowed; must outlive the listener and its connections */
    const char *host;
    uint16_t port;
    uint32_t max_frame;           /* 0: TRANSPORT_MAX_FRAME_DEFAULT */
    size_t max_outbound;          /* 0: TRANSPORT_MAX_OUTBOUND_DEFAULT */
    unsigned handshake_timeout_ms; /* 0: default; also bounds a silent client */
    unsigned user_timeout_ms;      /* TCP_USER_TIMEOUT and keepalive; 0: default */
    /* Limits (see above). 0: TRANSPORT_HANDSHAKES_PER_SOURCE_DEFAULT, _TOTAL_DEFAULT and
     * TRANSPORT_UNFINISHED_BUDGET_DEFAULT. */
    unsigned handshakes_per_source;
    unsigned handshakes_total;
    size_t unfinished_budget;
    struct transport_channel_policy channels[TRANSPORT_CH_COUNT]; /* zeroed: no extra limits */
    /* An authenticated, authorised connection: set its callbacks with transport_conn_set_cbs
     * or close it. Required. */
    void (*accept_cb)(struct transport_listener *l, struct transport_conn *c);
    void *data;
};
/* Bind, listen and start accepting. Errors: UV_E* from bind/listen (e.g. UV_EADDRINUSE),
 * SHIR_E_INVAL for a non-numeric host, SHIR_E_NOMEM. */
int transport_listener_new(uv_loop_t *loop, const struct transport_listener_config *cfg,
                           struct transport_listener **out);
uint16_t transport_listener_port(const struct transport_listener *l);
void *transport_listener_data(const struct transport_listener *l);
/* Counters (borrowed view, updated live). */
const struct transport_stats *transport_listener_stats(const struct transport_listener *l);
/* Stop accepting, close every connection accepted by this listener (their close_cb fire with
 * SHIR_E_SHUTDOWN), then call cb (may be NULL) and free the listener. */
void transport_listener_close(struct transport_listener *l,
                              void (*cb)(struct transport_listener *l, void *data));

/* Dialer: one outgoing connection. `host` may be a literal or a name (resolved with
 * uv_getaddrinfo, each address tried in turn). */
struct transport_dial_config {
    struct transport_tls *tls; /* borrowed; must outlive the connection */
    const char *host;          /* copied */
    uint16_t port;
    /* Numeric local address to connect from (the port is the kernel's choice), for a host with
     * several addresses (and the tests, which play several sources on loopback); only target
     * addresses of its family are tried. NULL: the system's choice. Copied. */
    const char *local_host;
    enum transport_channel channel;
    uint32_t max_frame;
    size_t max_outbound;
    unsigned timeout_ms;      /* resolve + connect + handshake + authorise; 0: default */
    unsigned user_timeout_ms; /* 0: default */
    /* Once: status 0 and an established connection (set its callbacks before returning), or a
     * negative status, a message, and c already unusable (freed right after the call). */
    void (*connect_cb)(struct transport_conn *c, int status, const char *msg, void *data);
    void *data;
};
/* Start dialing. On success *out is the connection (usable for transport_conn_close to cancel)
 * and connect_cb will fire exactly once, from the loop, never inside this call. Errors (no
 * callback): SHIR_E_INVAL (also a local_host that is not a numeric address), SHIR_E_NOMEM,
 * SHIR_E_UNSUPPORTED (a join-client context asked for another channel), UV_E* from libuv. */
int transport_dial(uv_loop_t *loop, const struct transport_dial_config *cfg,
                   struct transport_conn **out);
/* Counters of connections dialed with this context. */
const struct transport_stats *transport_tls_dial_stats(const struct transport_tls *tls);
/* PKI helpers (transport/pki.c) for `shir init` / `join`: ECDSA P-256 only, PEM in memory.
 * Outputs: *_pem strings are malloc'd, NUL-terminated, owned by the caller (free()); private keys
 * come as struct shir_secret (free with shir_secret_free, which wipes). Inputs are borrowed.
 * Errors: SHIR_E_INVAL (bad argument, name empty or > 63 bytes, days 0 or > 36500),
 * SHIR_E_MALFORMED (unparsable PEM), SHIR_E_CRYPTO, SHIR_E_NOMEM, SHIR_E_RANDOM. */

/* A self-signed CA certificate (CN = name, CA:TRUE, pathlen 0) and its new private key. */
int transport_pki_ca_create(const char *name, unsigned days, char **cert_pem, size_t *cert_len,
                            struct shir_secret *key_pem);
/* A new P-256 private key. */
int transport_pki_key_create(struct shir_secret *key_pem);
/* A CSR for key_pem with CN = name, signed by that key. */
int transport_pki_csr_create(const struct shir_secret *key_pem, const char *name, char **csr_pem,
                             size_t *csr_len);
/* Issue a member certificate: subject CN = name, serialNumber = node_id (decimal, must be > 0;
 * this is the identity the raft bridge binds to), serverAuth + clientAuth, valid `days`. Only the
 * public key is taken from the CSR, after its signature is checked (SHIR_E_AUTH when it does not
 * verify, SHIR_E_UNSUPPORTED for a key that is not P-256). */
int transport_pki_csr_sign(const char *ca_cert_pem, size_t ca_cert_len,
                           const struct shir_secret *ca_key_pem, const char *csr_pem,
                           size_t csr_len, uint64_t node_id, const char *name, unsigned days,
                           char **cert_pem, size_t *cert_len);
/* The SHA-256 of a certificate's / CSR's SubjectPublicKeyInfo DER: the allowlist entry, and for
 * the CA certificate the pin that goes into registration keys. */
int transport_pki_cert_pin(const char *cert_pem, size_t cert_len,
                           unsigned char pin[TRANSPORT_PIN_LEN]);
int transport_pki_csr_pin(const char *csr_pem, size_t csr_len,
                          unsigned char pin[TRANSPORT_PIN_LEN]);
/* Pin, node id and CN of a certificate, as a connection would report them. */
int transport_pki_cert_identity(const char *cert_pem, size_t cert_len, struct transport_peer *out);
/* Raft over the port (transport/raftbridge.c). A struct raft_uv_transport (version 1) whose
 * streams travel on shir-raft/1. Each raft stream is one TLS connection bridged through a
 * socketpair(): raft gets a raft_malloc'd uv_pipe_t on one end, the bridge pumps the other end
 * through the TLS connection (bounded both ways; raft's bytes are not framed by us).
 * Identity: an outbound connection to raft id N is kept only if the server's certificate carries
 * node id N (subject serialNumber, see transport_pki_csr_sign); an inbound one is handed to raft
 * with the id from the client's certificate and the address the cluster's address_cb gives for
 * that id, so neither can be claimed by the peer. Reconnecting is raft's job (its connect-retry
 * delay); a dead TCP peer is noticed through keepalive/TCP_USER_TIMEOUT. */
struct raft_uv_transport;
struct transport_raft_config {
    struct transport_tls *tls; /* borrowed; must outlive the transport */
    unsigned connect_timeout_ms; /* dial + handshake; 0: TRANSPORT_HANDSHAKE_TIMEOUT_MS_DEFAULT */
    unsigned user_timeout_ms;    /* 0: TRANSPORT_USER_TIMEOUT_MS_DEFAULT */
    size_t max_outbound;         /* per connection; 0: TRANSPORT_MAX_OUTBOUND_DEFAULT */
    /* The current address of member `id`: fill buf[cap] and return 0, or return negative to
     * refuse an inbound connection (unknown member). Inbound streams are handed to raft with
     * it; outbound connections dial it rather than the address raft's configuration holds
     * (which is where the member was when it was added, and raft cannot change it in place),
     * falling back to raft's when it returns negative. Required. */
    int (*address_cb)(void *data, uint64_t id, char *buf, size_t cap);
    void *data;
    struct shir_log *log; /* borrowed, may be NULL */
};
/* Fill `t` (version 1, its methods, t->impl) for raft_uv_init. t->data stays the caller's.
 * The implementation state is freed when raft closes the transport (through raft_close);
 * if raft never got to use it, call transport_raft_discard. SHIR_E_INVAL, SHIR_E_NOMEM. */
int transport_raft_init(struct raft_uv_transport *t, uv_loop_t *loop,
                        const struct transport_raft_config *cfg);
/* Release a transport that raft never started; the memory goes on the next loop iteration. */
void transport_raft_discard(struct raft_uv_transport *t);
/* Give an accepted shir-raft/1 connection (from a listener's accept_cb) to the bridge, which
 * takes ownership: it sets the connection's callbacks, or closes it when raft is not listening,
 * the transport is closing, or the peer's id is unknown. */
void transport_raft_accept(struct raft_uv_transport *t, struct transport_conn *c);
/* Hold inbound delivery: while held, bytes from peers are kept (bounded per link, as the queue
 * towards raft is) instead of being handed to raft; releasing delivers them in order. The
 * cluster holds delivery while raft takes a snapshot, because libraft 0.22.1 crashes when an
 * InstallSnapshot arrives during one (docs/raft-workarounds.md). */
void transport_raft_hold(struct raft_uv_transport *t, bool hold);
/* Open or close the raft channel of this node: closed, every live link is closed, inbound
 * connections are refused and outbound connects fail with RAFT_NOCONNECTION (raft retries after
 * its connect-retry delay). The disk guard closes it while the disk is nearly full. */
void transport_raft_set_open(struct raft_uv_transport *t, bool open);
/* Counters: streams handed to raft, connects refused because the certificate's id differed. */
struct transport_raft_stats {
    uint64_t outbound;
    uint64_t inbound;
    uint64_t id_mismatch;
    uint64_t refused; /* inbound refused: not listening, closing, unknown id */
};
const struct transport_raft_stats *transport_raft_stats(const struct raft_uv_transport *t);
/* ----- END TLS section ----- */

/* ----- BEGIN codec section (owner: codec helper; transport/codec.c, msg.c) ----- */
/* =========================================================================================== */
/* Frames and messages. The bytes are drawn in transport/codec.h and docs/wire.md.
 *
 * Layers, bottom up:
 *   1. transport_frame_decoder: bytes from a socket in arbitrary chunks -> whole frames
 *      (4-byte big-endian length, then the payload), with the frame limit enforced on the header.
 *   2. transport_value_decode: one payload -> one msgpack_object, after a validating pre-pass
 *      that bounds every count, the nesting depth and the object count BEFORE msgpack-c
 *      allocates (msgpack-c itself trusts counts).
 *   3. transport_msg_*: the typed envelopes (request, response, error, one-way) and accessors
 *      for str-keyed map bodies, which every RPC uses.
 * Everything here is synchronous, allocates only through shir_buf and one msgpack zone per
 * decoded value, and touches no socket: the fuzz targets drive it directly. */
#include <msgpack.h>

/* TRANSPORT_MAX_FRAME_DEFAULT: with the channel constants at the top. */
#define TRANSPORT_FRAME_HEADER 4u           /* the big-endian length prefix */
#define TRANSPORT_MSGPACK_DEPTH_MAX 32u     /* msgpack-c's unpack stack (MSGPACK_EMBED_STACK_SIZE) */
#define TRANSPORT_MSGPACK_OBJECTS_DEFAULT (256u * 1024u) /* 6 MiB of msgpack_object at most */
#define TRANSPORT_METHOD_MAX 64u            /* bytes of a method name */
#define TRANSPORT_ERRMSG_WIRE_MAX 1024u     /* bytes of an error response's message */
#define TRANSPORT_CODEC_ERRMSG 128u         /* our own diagnostics ("map count 65535 > 3 bytes") */

/* Limits of one connection's decoder. Zero fields mean "the default". */
struct transport_codec_limits {
    size_t max_frame;    /* payload bytes per frame; default TRANSPORT_MAX_FRAME_DEFAULT */
    unsigned max_depth;  /* container nesting, 1..TRANSPORT_MSGPACK_DEPTH_MAX (the default) */
    size_t max_objects;  /* msgpack values in one payload; default TRANSPORT_MSGPACK_OBJECTS_DEFAULT */
};
/* The defaults above. */
void transport_codec_limits_default(struct transport_codec_limits *lim);

/* ---- 1. frames ----------------------------------------------------------------------------- */

/* Incremental frame decoder (hiredis-reader style: feed bytes, then pull frames). The struct is
 * public so it can live inside a connection without an allocation; treat the fields as private.
 *
 * Memory: it holds the bytes of one feed call plus at most one partial frame (<= max_frame + 4).
 * It never reserves memory because a header announces a size: the partial frame grows only as
 * its bytes arrive, so a peer that announces 4 MiB and sends 5 bytes costs 5 bytes. */
struct transport_frame_decoder {
    struct shir_buf buf; /* unread bytes: complete frames [start, scanned), then a partial one */
    size_t start;        /* first byte not yet returned by _next */
    size_t scanned;      /* end of the last complete frame */
    size_t max_frame;
    int err;             /* sticky: once the stream is bad it stays bad */
    char errmsg[TRANSPORT_CODEC_ERRMSG];
};

/* A complete frame: payload bytes borrowed from the decoder, valid until the next _feed, _finish
 * or _free on that decoder. */
struct transport_frame {
    const unsigned char *payload;
    size_t len;
};

/* Initialise (allocates nothing). max_frame 0 means TRANSPORT_MAX_FRAME_DEFAULT. */
void transport_frame_decoder_init(struct transport_frame_decoder *d, size_t max_frame);
/* Release the buffer. Safe on a zeroed or already-freed decoder. */
void transport_frame_decoder_free(struct transport_frame_decoder *d);
/* Append `n` bytes (copied; p borrowed for the call) read from the stream. Headers are checked as
 * soon as their 4th byte arrives: a length above max_frame is SHIR_E_TOOBIG and a length of 0 is
 * SHIR_E_MALFORMED, before any payload byte is buffered. Errors are sticky (every later call
 * returns the same code) and complete frames that preceded the bad header are still returned by
 * _next. SHIR_E_BUSY when complete frames from an earlier feed were not drained with _next (the
 * caller's bug: that rule is what bounds the memory); SHIR_E_NOMEM. */
int transport_frame_decoder_feed(struct transport_frame_decoder *d, const void *p, size_t n);
/* Pull the next complete frame: 1 and *f filled, 0 when more bytes are needed, or the sticky
 * error once the frames before it are drained. */
int transport_frame_decoder_next(struct transport_frame_decoder *d, struct transport_frame *f);
/* The stream ended (EOF): 0 when it ended on a frame boundary, SHIR_E_TRUNC when a partial frame
 * (even a partial header) is left, or the sticky error. */
int transport_frame_decoder_finish(struct transport_frame_decoder *d);
/* Bytes held for the frame not yet complete (its header included): what a peer that stops
 * inside a frame costs. 0 on a frame boundary and after an error. */
size_t transport_frame_decoder_partial(const struct transport_frame_decoder *d);
/* A short message about the sticky error ("frame of 5000000 bytes exceeds 4194304"), "" if none.
 * Borrowed from the decoder. */
const char *transport_frame_decoder_errmsg(const struct transport_frame_decoder *d);

/* Append one frame (header + a copy of payload) to `out`. SHIR_E_TOOBIG when len > max_frame
 * (0 = default) or out's own max is reached, SHIR_E_MALFORMED for len 0, SHIR_E_NOMEM; `out` is
 * unchanged on failure. */
int transport_frame_encode(struct shir_buf *out, const void *payload, size_t len,
                           size_t max_frame);

/* ---- 2. bounded msgpack -------------------------------------------------------------------- */

/* One decoded msgpack value. `root` and everything under it live in `zone` (arrays, maps) or in
 * the INPUT bytes (str, bin and ext bodies point into them: the input must outlive the value). */
struct transport_value {
    msgpack_object root;
    msgpack_zone zone;
    bool has_zone;
    size_t zone_bytes; /* what the zone was sized to (tests check the allocation bound) */
    char errmsg[TRANSPORT_CODEC_ERRMSG];
};

/* Decode exactly one msgpack value from p[0..n) (borrowed, must outlive v) under `lim` (NULL =
 * defaults). Nothing is allocated unless the pre-pass accepts the bytes; then one zone chunk
 * sized from it. Errors: SHIR_E_TRUNC (a count or length runs past the end), SHIR_E_DEPTH,
 * SHIR_E_TOOBIG (object count), SHIR_E_MALFORMED (trailing bytes, empty input, reserved byte),
 * SHIR_E_NOMEM; v->errmsg says which and where. On failure nothing needs freeing, but calling
 * transport_value_free is harmless. */
int transport_value_decode(struct transport_value *v, const struct transport_codec_limits *lim,
                           const void *p, size_t n);
/* Release the zone. Safe twice and on a failed decode. */
void transport_value_free(struct transport_value *v);

/* ---- 3. typed messages --------------------------------------------------------------------- */

enum transport_msg_type {
    TRANSPORT_MSG_REQUEST = 0,  /* [0, id, deadline_ms, method, body] */
    TRANSPORT_MSG_RESPONSE = 1, /* [1, id, body] */
    TRANSPORT_MSG_ERROR = 2,    /* [2, id, code, message] */
    TRANSPORT_MSG_ONEWAY = 3,   /* [3, method, body] */
};

/* A decoded message. Strings are NOT NUL-terminated and, like `body`, borrow from the frame
 * bytes and from `value`: valid until transport_msg_free and while the frame bytes live. */
struct transport_msg {
    enum transport_msg_type type;
    uint64_t id;           /* request, response, error */
    uint32_t deadline_ms;  /* request: relative budget, 0 = none */
    const char *method;    /* request, one-way: 1..TRANSPORT_METHOD_MAX printable ASCII */
    size_t method_len;
    int code;              /* error: negative */
    const char *message;   /* error: untrusted text, escape before logging; never NULL */
    size_t message_len;
    msgpack_object body;   /* request, response, one-way; nil otherwise */
    struct transport_value value; /* owns the zone */
};

/* Packs exactly ONE msgpack value (the body) with pk; return 0 or a negative code, which the
 * encoder returns as is. `arg` is the caller's. */
typedef int (*transport_body_pack_cb)(msgpack_packer *pk, void *arg);

/* Encoders: each appends ONE complete frame (header + envelope) to `out`, or leaves `out`
 * unchanged on failure. body_cb NULL packs nil. `max_frame` 0 = default. method and message are
 * borrowed NUL-terminated strings. Errors: SHIR_E_INVAL (method empty, too long or not printable
 * ASCII; code >= 0; message over TRANSPORT_ERRMSG_WIRE_MAX; body_cb packed zero or several values
 * or one the default decoder limits would refuse), SHIR_E_TOOBIG (frame over max_frame or
 * out->max), SHIR_E_NOMEM, or what body_cb returned. */
int transport_msg_encode_request(struct shir_buf *out, size_t max_frame, uint64_t id,
                                 uint32_t deadline_ms, const char *method,
                                 transport_body_pack_cb body_cb, void *arg);
int transport_msg_encode_response(struct shir_buf *out, size_t max_frame, uint64_t id,
                                  transport_body_pack_cb body_cb, void *arg);
int transport_msg_encode_error(struct shir_buf *out, size_t max_frame, uint64_t id, int code,
                               const char *message);
int transport_msg_encode_oneway(struct shir_buf *out, size_t max_frame, const char *method,
                                transport_body_pack_cb body_cb, void *arg);

/* Decode one frame payload (borrowed; must outlive m) into m under `lim` (NULL = defaults).
 * Errors: those of transport_value_decode; SHIR_E_MALFORMED for a bad shape (not an array,
 * too few fields, wrong field type, id/deadline out of range, bad method, code >= 0, message too
 * long); SHIR_E_PROTO for an unknown message type. m->value.errmsg holds the reason. Nothing to
 * free on failure (transport_msg_free is harmless). */
int transport_msg_decode(struct transport_msg *m, const struct transport_codec_limits *lim,
                         const void *payload, size_t len);
void transport_msg_free(struct transport_msg *m);
/* The reason of the last failed decode ("field 3 (method): want str, got uint"). Borrowed. */
const char *transport_msg_errmsg(const struct transport_msg *m);
/* True when m carries a method equal to the NUL-terminated `name`. */
bool transport_msg_method_is(const struct transport_msg *m, const char *name);

/* Body accessors for maps with str keys (the shape of every RPC body). `body` is borrowed; the
 * results borrow from it. A duplicated key is SHIR_E_MALFORMED (two readers of one map must not
 * disagree about it), an absent key SHIR_E_NOTFOUND, a value of the wrong type or a body that is
 * not a map SHIR_E_MALFORMED. */
int transport_body_get(const msgpack_object *body, const char *key, const msgpack_object **out);
/* *p is never NULL on success, even for an empty str or bin. */
int transport_body_get_str(const msgpack_object *body, const char *key, const char **p,
                           size_t *len);
/* Copy a str into dst[cap] NUL-terminated: SHIR_E_TOOBIG when it does not fit, SHIR_E_MALFORMED
 * when it holds a NUL byte. */
int transport_body_copy_str(const msgpack_object *body, const char *key, char *dst, size_t cap);
int transport_body_get_bin(const msgpack_object *body, const char *key, const void **p,
                           size_t *len);
int transport_body_get_u64(const msgpack_object *body, const char *key, uint64_t *v);
int transport_body_get_i64(const msgpack_object *body, const char *key, int64_t *v);
int transport_body_get_bool(const msgpack_object *body, const char *key, bool *v);
/* An array or map value (borrowed pointer into the body). */
int transport_body_get_array(const msgpack_object *body, const char *key,
                             const msgpack_object_array **out);
int transport_body_get_map(const msgpack_object *body, const char *key,
                           const msgpack_object **out);
/* Pack a str given as a NUL-terminated C string (a helper for body_cb writers). */
int transport_pack_cstr(msgpack_packer *pk, const char *s);
/* Pack a map entry "key": bin(p, n) into a map being built: 0 or msgpack's error. */
int transport_pack_kv_bin(msgpack_packer *pk, const char *key, const void *p, size_t n);
/* ----- END codec section ----- */

#endif /* SHIR_TRANSPORT_H */
