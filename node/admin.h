/* node/admin.h (internal to node/): the agent's admin socket, the server side.
 *
 * The socket is a 0600 Unix socket in the data directory: only local processes of our user reach
 * it, so the risk is a buggy client, not a hostile one; it still gets the bounded frame codec.
 * Each request is one transport_msg request; the method name picks its handler from one table in
 * admin.c ({method, handler}); handlers live with their area (admin_cluster.c, admin_proxy.c,
 * admin_scan*.c).
 * A handler answers at once (node_admin_reply*) or starts an asynchronous operation holding a
 * struct node_admin_op, whose completion answers; the client may hang up first, and then the
 * answer is dropped.
 */
#ifndef SHIR_NODE_ADMIN_H
#define SHIR_NODE_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "cluster/cluster.h"
#include "common/common.h"
#include "transport/transport.h"

/* What handlers may use: borrowed from the agent, valid while the server runs. */
struct node_logring;
struct node_metrics;
struct node_admin_ctx {
    uv_loop_t *loop;
    struct cluster *cluster;
    const struct node_logring *logs;      /* the agent's recent log lines ("logs") */
    const struct node_metrics *metrics;   /* the agent's own figures ("metrics") */
    struct shir_log *log;
    struct shir_log_sink *sink; /* secrets a request carries are masked in it */
    /* The agent's listen and advertise addresses (borrowed), for init and join's check that
     * the address they record can be dialled (node/address.h). */
    const char *listen, *advertise;
    /* `leave` succeeded: the agent stops (once the answer is on its way, or at once when the
     * client hung up) and forgets its identity. */
    void (*left)(void *data);
    void *data;
};

struct node_admin;
struct node_admin_conn;

/* Bind and listen on `path` (a stale socket file is removed: the caller holds the data
 * directory's lock). Errors: UV_E* from bind/listen (then *out is set too: close and free it),
 * SHIR_E_TOOBIG (path), SHIR_E_NOMEM. */
int node_admin_open(const struct node_admin_ctx *ctx, const char *path, struct node_admin **out);
/* Stop listening, unlink the socket, close every client; operations still pending answer nobody
 * (a `leave` that completes still calls ctx->left). NULL is a no-op. */
void node_admin_close(struct node_admin *a);
/* Free the server once the loop has run dry (after node_admin_close). *out of a failed open too. */
void node_admin_free(struct node_admin *a);

/* ---- for handlers ---------------------------------------------------------------------------- */
const struct node_admin_ctx *node_admin_ctx(const struct node_admin_conn *c);
/* Answer request `id` with the body packed by pack (NULL: nil) / with an error (msg NULL: the
 * code's text). The reply buffer is wiped after sending (it may hold keys). */
void node_admin_reply(struct node_admin_conn *c, uint64_t id, transport_body_pack_cb pack,
                      void *arg);
/* (Both are no-ops when c is NULL.) */
void node_admin_reply_error(struct node_admin_conn *c, uint64_t id, int code, const char *msg);

/* An operation in progress on behalf of request `id`. On success `ok` runs — with c NULL when the
 * client hung up meanwhile (a handler that must act anyway, like leave, still can) — and answers;
 * a failure is answered with its code and message. */
struct node_admin_op;
typedef void (*node_admin_ok_fn)(const struct node_admin_ctx *ctx, struct node_admin_conn *c,
                                 uint64_t id, void *arg);
struct node_admin_op *node_admin_op_new(struct node_admin_conn *c, uint64_t id, node_admin_ok_fn ok,
                                        void *arg);
/* Complete op (a cluster_done_cb: pass op as its data). Frees op. */
void node_admin_op_done(void *op, int status, const char *msg);
/* The same, but op->ok runs whatever the status (node_admin_read_after_write). */
void node_admin_op_done_anyway(void *op, int status, const char *msg);
/* The operation never started (rv != 0): free op (may be NULL) and answer the error, with msg
 * when it is set. */
void node_admin_op_fail(struct node_admin_conn *c, uint64_t id, struct node_admin_op *op, int rv,
                        const char *msg);
/* Call ctx->left once the answer queued on c has been written (at once when c is NULL). */
void node_admin_left_after_reply(const struct node_admin_ctx *ctx, struct node_admin_conn *c);

/* Answer request `id` with ok(...) once a linearizable read of the replica is possible (a
 * barrier on the leader, ReadIndex through it on a follower; admin_cluster.c). */
void node_admin_read_then(struct node_admin_conn *c, uint64_t id, node_admin_ok_fn ok);
/* After a write committed: the same, but when the read cannot be confirmed (a leadership change
 * under way) ok(...) answers from the local replica instead of an error: the write happened, and
 * an error would tell the operator it did not. */
void node_admin_read_after_write(struct node_admin_conn *c, uint64_t id, node_admin_ok_fn ok);

/* Pack a struct cluster_status (arg) as `shir status --json` shows it (a
 * transport_body_pack_cb). */
int node_admin_pack_status(msgpack_packer *pk, void *arg);

/* Pack "key": a wall-clock time in ms as ISO 8601 UTC with milliseconds (0: nil). */
int node_admin_pack_time(msgpack_packer *pk, const char *key, uint64_t ms);

/* Pack "key": str (NULL: nil). */
int node_admin_pack_kv_str(msgpack_packer *pk, const char *k, const char *v);

/* ---- a scan definition's database connection (admin_scan_db.c) ---- */
/* Which of them a request gives (bits of *given). */
enum {
    NODE_SCAN_DB_TLS = 1u << 0,
    NODE_SCAN_DB_CA = 1u << 1,
    NODE_SCAN_DB_CONNECT = 1u << 2,
    NODE_SCAN_DB_STATEMENT = 1u << 3,
    NODE_SCAN_DB_EXACT = 1u << 4,
};
/* Decode the request's database keys into d, setting *given's bits; on failure *what names the
 * key (SHIR_E_INVAL, SHIR_E_TOOBIG, or the body's error). */
int node_admin_scan_db_decode(const msgpack_object *b, struct cluster_scan_def *d,
                              uint32_t *given, const char **what);
/* Copy the given ones of p into d (scan update). */
void node_admin_scan_db_patch(struct cluster_scan_def *d, const struct cluster_scan_def *p,
                              uint32_t given);
/* The definition as it will be put: NULL when fine, else why it is refused (some were given for
 * a path source). A path source's connection fields are cleared. */
const char *node_admin_scan_db_check(struct cluster_scan_def *d, uint32_t given);
/* Pack the 5 pairs scan show prints (nil for a path source). */
#define NODE_ADMIN_SCAN_DB_KEYS 5
int node_admin_scan_db_pack(msgpack_packer *pk, const struct cluster_scan_def *d);

/* ---- handlers (admin_cluster.c, admin_proxy.c, admin_scan*.c) ---------------------------------------------- */
typedef void (*node_admin_handler)(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_status(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_init(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_join(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_leave(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_recover(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_nodes_remove(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_nodes_address(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_settings_show(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_settings_set(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_keys_show(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_keys_regenerate(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_proxy_show(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_proxy_set(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_proxy_clear(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_proxy_test(struct node_admin_conn *c, const struct transport_msg *m);
/* Credentials for database sources (admin_credentials.c). */
void node_admin_credentials_set(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_credentials_list(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_credentials_delete(struct node_admin_conn *c, const struct transport_msg *m);
/* Scans through the runtime: definitions (admin_scan_def.c), runs (admin_scan_runs.c), the
 * nodes' dispatch settings (admin_scan.c). */
void node_admin_scan_create(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_scan_update(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_scan_delete(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_scan_list(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_scan_show(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_scan_run(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_scan_runs(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_scan_cancel(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_nodes_drain(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_nodes_set(struct node_admin_conn *c, const struct transport_msg *m);
/* admin_diag.c: what `shir diag` collects. */
void node_admin_logs(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_metrics(struct node_admin_conn *c, const struct transport_msg *m);
/* admin_snapshot.c: `shir snapshot save|restore`. */
void node_admin_snapshot_save(struct node_admin_conn *c, const struct transport_msg *m);
void node_admin_snapshot_restore(struct node_admin_conn *c, const struct transport_msg *m);

#endif /* SHIR_NODE_ADMIN_H */
