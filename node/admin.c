/* The admin socket server: clients, frames, the method table, replies, operations in flight. */
#include "node/admin.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bounds a request we read and a reply we build. The largest reply is `scan list`: 256
 * definitions of at most ~4.4 KiB of text each (source, sink, globs, host name) is ~1.1 MiB;
 * runs come in pages (admin_scan_runs.c). The CLI's decoder takes frames up to the transport's 4 MiB
 * default. */
#define ADMIN_MAX_FRAME (2u << 20)

/* Every method the agent serves. */
static const struct {
    const char *method;
    node_admin_handler handle;
} methods[] = {
    {"status", node_admin_status},
    {"init", node_admin_init},
    {"join", node_admin_join},
    {"leave", node_admin_leave},
    {"recover", node_admin_recover},
    {"settings.show", node_admin_settings_show},
    {"settings.set", node_admin_settings_set},
    {"nodes.remove", node_admin_nodes_remove},
    {"nodes.address", node_admin_nodes_address},
    {"proxy.show", node_admin_proxy_show},
    {"proxy.set", node_admin_proxy_set},
    {"proxy.clear", node_admin_proxy_clear},
    {"proxy.test", node_admin_proxy_test},
    {"credentials.set", node_admin_credentials_set},
    {"credentials.list", node_admin_credentials_list},
    {"credentials.delete", node_admin_credentials_delete},
    {"keys.show", node_admin_keys_show},
    {"keys.regenerate", node_admin_keys_regenerate},
    {"scan.create", node_admin_scan_create},
    {"scan.update", node_admin_scan_update},
    {"scan.delete", node_admin_scan_delete},
    {"scan.list", node_admin_scan_list},
    {"scan.show", node_admin_scan_show},
    {"scan.run", node_admin_scan_run},
    {"scan.runs", node_admin_scan_runs},
    {"scan.cancel", node_admin_scan_cancel},
    {"nodes.drain", node_admin_nodes_drain},
    {"nodes.set", node_admin_nodes_set},
    {"logs", node_admin_logs},
    {"metrics", node_admin_metrics},
    {"snapshot.save", node_admin_snapshot_save},
    {"snapshot.restore", node_admin_snapshot_restore},
};

struct node_admin_conn {
    uv_pipe_t pipe;
    struct node_admin *server;
    struct transport_frame_decoder dec;
    bool closing;
    bool then_left; /* call ctx->left once the queued answer is written */
    struct node_admin_conn *next;
};

struct node_admin_op {
    struct node_admin *server;
    struct node_admin_conn *conn; /* NULL once the client hung up */
    uint64_t id;
    node_admin_ok_fn ok;
    void *arg;
    struct node_admin_op *next;
};

struct node_admin {
    struct node_admin_ctx ctx;
    uv_pipe_t listener;
    char path[256];
    struct node_admin_conn *conns;
    struct node_admin_op *ops;
    bool closing;
};

const struct node_admin_ctx *node_admin_ctx(const struct node_admin_conn *c)
{
    return &c->server->ctx;
}

int node_admin_pack_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    int rv = transport_pack_cstr(pk, k);
    if (rv == 0)
        rv = v ? transport_pack_cstr(pk, v) : msgpack_pack_nil(pk);
    return rv;
}

/* ---- connections ---------------------------------------------------------------------------- */

static void conn_closed(uv_handle_t *h)
{
    struct node_admin_conn *c = h->data;
    transport_frame_decoder_free(&c->dec);
    free(c);
}

static void conn_close(struct node_admin_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    struct node_admin *a = c->server;
    for (struct node_admin_conn **pp = &a->conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    for (struct node_admin_op *op = a->ops; op; op = op->next)
        if (op->conn == c)
            op->conn = NULL;
    uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

static void write_done(uv_write_t *req, int status)
{
    (void)status; /* a client that went away gets nothing more; its read side sees EOF */
    struct node_admin_conn *c = req->handle->data;
    free(req->data);
    free(req);
    if (c->then_left) {
        c->then_left = false;
        c->server->ctx.left(c->server->ctx.data);
    }
}

static void conn_send(struct node_admin_conn *c, struct shir_buf *frame)
{
    uv_write_t *req = malloc(sizeof *req);
    if (!req) {
        conn_close(c);
        return;
    }
    size_t len;
    unsigned char *bytes = shir_buf_steal(frame, &len);
    req->data = bytes;
    uv_buf_t b = uv_buf_init((char *)bytes, (unsigned)len);
    if (uv_write(req, (uv_stream_t *)&c->pipe, &b, 1, write_done) != 0) {
        free(bytes);
        free(req);
        conn_close(c);
    }
}

void node_admin_reply_error(struct node_admin_conn *c, uint64_t id, int code, const char *msg)
{
    if (!c || c->closing)
        return;
    struct shir_buf out;
    shir_buf_init(&out, ADMIN_MAX_FRAME + 4);
    if (!msg && code == UV_ENOSPC)
        msg = CLUSTER_DISK_LOW_TEXT;
    if (transport_msg_encode_error(&out, ADMIN_MAX_FRAME, id, code < 0 ? code : SHIR_E_PROTO,
                                   msg ? msg : shir_strerror(code)) == 0)
        conn_send(c, &out);
    shir_buf_free(&out);
}

void node_admin_reply(struct node_admin_conn *c, uint64_t id, transport_body_pack_cb pack,
                      void *arg)
{
    if (!c || c->closing)
        return;
    struct shir_buf out;
    shir_buf_init(&out, ADMIN_MAX_FRAME + 4);
    int rv = transport_msg_encode_response(&out, ADMIN_MAX_FRAME, id, pack, arg);
    if (rv == 0) {
        /* conn_send took the bytes; what is left in `out` (a failed attempt's) may hold keys. */
        conn_send(c, &out);
        shir_wipe(out.data, out.cap);
    }
    shir_buf_free(&out);
    if (rv != 0)
        node_admin_reply_error(c, id, rv, NULL);
}

void node_admin_left_after_reply(const struct node_admin_ctx *ctx, struct node_admin_conn *c)
{
    if (c && !c->closing)
        c->then_left = true;
    else
        ctx->left(ctx->data);
}

/* ---- operations ----------------------------------------------------------------------------- */

struct node_admin_op *node_admin_op_new(struct node_admin_conn *c, uint64_t id, node_admin_ok_fn ok,
                                        void *arg)
{
    struct node_admin_op *op = calloc(1, sizeof *op);
    if (!op)
        return NULL;
    op->server = c->server;
    op->conn = c;
    op->id = id;
    op->ok = ok;
    op->arg = arg;
    op->next = c->server->ops;
    c->server->ops = op;
    return op;
}

static void op_unlink(struct node_admin_op *op)
{
    for (struct node_admin_op **pp = &op->server->ops; *pp; pp = &(*pp)->next) {
        if (*pp == op) {
            *pp = op->next;
            break;
        }
    }
}

void node_admin_op_done(void *data, int status, const char *msg)
{
    struct node_admin_op *op = data;
    op_unlink(op);
    /* A replicated write whose forward to the leader found no connection: the bare "unavailable"
     * told operators nothing (seen in tests/chaos while a leader was killed). */
    if (status == SHIR_E_UNAVAILABLE && !msg)
        msg = "unavailable: the leader could not be reached; retry";
    if (status != 0)
        node_admin_reply_error(op->conn, op->id, status, msg);
    else if (op->ok)
        op->ok(&op->server->ctx, op->conn, op->id, op->arg);
    else
        node_admin_reply(op->conn, op->id, NULL, NULL);
    free(op);
}

void node_admin_op_done_anyway(void *data, int status, const char *msg)
{
    (void)status;
    (void)msg;
    struct node_admin_op *op = data;
    op_unlink(op);
    op->ok(&op->server->ctx, op->conn, op->id, op->arg);
    free(op);
}

void node_admin_op_fail(struct node_admin_conn *c, uint64_t id, struct node_admin_op *op, int rv,
                        const char *msg)
{
    if (op) {
        op_unlink(op);
        free(op);
    }
    node_admin_reply_error(c, id, rv, msg && msg[0] ? msg : NULL);
}

/* ---- requests ------------------------------------------------------------------------------- */

static void conn_handle(struct node_admin_conn *c, const struct transport_frame *f)
{
    struct transport_msg m;
    int rv = transport_msg_decode(&m, NULL, f->payload, f->len);
    if (rv != 0 || m.type != TRANSPORT_MSG_REQUEST) {
        SHIR_WARN(c->server->ctx.log, "admin: bad request: %s",
                  rv != 0 ? transport_msg_errmsg(&m) : "not a request");
        node_admin_reply_error(c, rv != 0 ? 0 : m.id, SHIR_E_PROTO, "bad request");
        transport_msg_free(&m);
        return;
    }
    size_t i = 0;
    while (i < sizeof methods / sizeof methods[0] && !transport_msg_method_is(&m, methods[i].method))
        i++;
    if (i < sizeof methods / sizeof methods[0])
        methods[i].handle(c, &m);
    else
        node_admin_reply_error(c, m.id, SHIR_E_UNSUPPORTED, "unknown admin method");
    transport_msg_free(&m);
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    buf->base = malloc(16384);
    buf->len = buf->base ? 16384 : 0;
}

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct node_admin_conn *c = s->data;
    if (nread < 0) {
        free(buf->base);
        conn_close(c);
        return;
    }
    int rv = transport_frame_decoder_feed(&c->dec, buf->base, (size_t)nread);
    free(buf->base);
    struct transport_frame f;
    int got;
    while ((got = transport_frame_decoder_next(&c->dec, &f)) == 1 && !c->closing)
        conn_handle(c, &f);
    if (rv != 0 || got < 0) {
        SHIR_WARN(c->server->ctx.log, "admin: closing client: %s",
                  transport_frame_decoder_errmsg(&c->dec));
        conn_close(c);
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    struct node_admin *a = server->data;
    if (status != 0 || a->closing)
        return;
    struct node_admin_conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->server = a;
    transport_frame_decoder_init(&c->dec, ADMIN_MAX_FRAME);
    uv_pipe_init(a->ctx.loop, &c->pipe, 0);
    c->pipe.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0 ||
        uv_read_start((uv_stream_t *)&c->pipe, conn_alloc, conn_read) != 0) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->pipe, conn_closed);
        return;
    }
    c->next = a->conns;
    a->conns = c;
}

/* ---- the server ----------------------------------------------------------------------------- */

static void listener_closed(uv_handle_t *h)
{
    (void)h; /* the server is freed by node_admin_free, after the loop has run dry */
}

int node_admin_open(const struct node_admin_ctx *ctx, const char *path, struct node_admin **out)
{
    struct node_admin *a = calloc(1, sizeof *a);
    if (!a)
        return SHIR_E_NOMEM;
    a->ctx = *ctx;
    if (shir_str_copy(a->path, sizeof a->path, path) != 0) {
        free(a);
        return SHIR_E_TOOBIG;
    }
    /* The caller holds the data directory's lock, so a socket file left here is a dead agent's. */
    (void)unlink(a->path);
    uv_pipe_init(ctx->loop, &a->listener, 0);
    a->listener.data = a;
    /* Bind with a umask that makes the socket 0600 from its first moment. */
    mode_t old = umask(0177);
    int rv = uv_pipe_bind(&a->listener, a->path);
    umask(old);
    if (rv == 0)
        rv = uv_listen((uv_stream_t *)&a->listener, 16, on_connection);
    if (rv != 0) {
        SHIR_ERROR(ctx->log, "cannot listen on %s: %s", a->path, uv_strerror(rv));
        a->closing = true;
        uv_close((uv_handle_t *)&a->listener, listener_closed);
        *out = a; /* freed by node_admin_free like an open one */
        return rv;
    }
    *out = a;
    return 0;
}

void node_admin_close(struct node_admin *a)
{
    if (!a || a->closing)
        return;
    a->closing = true;
    while (a->conns)
        conn_close(a->conns);
    (void)unlink(a->path);
    uv_close((uv_handle_t *)&a->listener, listener_closed);
}

void node_admin_free(struct node_admin *a)
{
    if (!a)
        return;
    /* Operations whose callback never came (their part was torn down without one). */
    while (a->ops) {
        struct node_admin_op *op = a->ops;
        a->ops = op->next;
        free(op);
    }
    free(a);
}
