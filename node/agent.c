/* The agent: data directory, lock, admin socket server, signals. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "cluster/cluster.h"
#include "node/agent.h"
#include "node/node.h"
#include "scan/scan.h"
#include "transport/transport.h"

/* A client of the admin socket: only local processes that can open a 0600 socket owned by our
 * user, so the main risk is a buggy client, not a hostile one; it still gets the bounded codec. */
struct admin_conn {
    uv_pipe_t pipe;
    struct agent *agent;
    struct transport_frame_decoder dec;
    struct admin_conn *next;
    bool closing;
};

/* An admin request waiting for an asynchronous cluster operation (init, keys regenerate). The
 * client may hang up first: then conn is NULL and the answer is dropped. */
struct admin_op {
    struct admin_conn *conn;
    uint64_t id;
    struct agent *agent;
    struct admin_op *next;
    int kind; /* ADMIN_OP_* */
};
enum {
    ADMIN_OP_INIT = 1,
    ADMIN_OP_REGEN = 2,
    ADMIN_OP_JOIN = 3,
    ADMIN_OP_PROXY = 4,
    ADMIN_OP_REMOVE = 5,
    ADMIN_OP_SETTINGS = 6,
    ADMIN_OP_RECOVER = 7,
    ADMIN_OP_LEAVE = 8,
    ADMIN_OP_READ_KEYS = 9,
    ADMIN_OP_READ_PROXY = 10,
    ADMIN_OP_READ_SETTINGS = 11,
};

/* A `proxy test` running on a thread-pool thread (see handle_proxy_test). */
struct proxy_test {
    uv_work_t work;
    struct agent *agent;
    struct admin_conn *conn;
    uint64_t id;
    struct scan_proxy proxy;
    char url[2048];
    long status;
    double seconds;
    int rv;
    char err[256];
    struct proxy_test *next;
};

struct agent {
    const struct node_agent_config *cfg;
    uv_loop_t loop;
    struct cluster *cluster;
    bool stop_after_reply, stopping, forget; /* `leave`: stop, then forget the identity */
    struct admin_op *ops;
    struct proxy_test *tests;
    uv_pipe_t admin;
    uv_signal_t sigterm, sigint;
    struct admin_conn *conns;
    struct shir_log_sink sink;
    struct shir_log log;
    char admin_path[256];
    int lock_fd;
    int exit_code;
    bool admin_open;
};

/* The admin socket's replies are small; 1 MiB bounds a reply we build. */
#define ADMIN_MAX_FRAME (1u << 20)

/* ---- replies ------------------------------------------------------------------------------- */

static int pack_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    int rv = transport_pack_cstr(pk, k);
    if (rv == 0)
        rv = v ? transport_pack_cstr(pk, v) : msgpack_pack_nil(pk);
    return rv;
}

static int pack_opt_str(msgpack_packer *pk, const char *k, const char *v, bool present)
{
    return pack_kv_str(pk, k, present ? v : NULL);
}

/* The shape `shir status --json` documents (docs/cli.md). */
static int pack_status(msgpack_packer *pk, void *arg)
{
    struct agent *a = arg;
    struct cluster_status *st = malloc(sizeof *st);
    if (!st)
        return SHIR_E_NOMEM;
    cluster_status_get(a->cluster, st);
    int rv = 0;
    rv |= msgpack_pack_map(pk, 5);
    rv |= transport_pack_cstr(pk, "runtime");
    if (st->runtime_name[0]) {
        rv |= msgpack_pack_map(pk, 2);
        rv |= pack_kv_str(pk, "name", st->runtime_name);
        rv |= pack_kv_str(pk, "id", st->runtime_id);
    } else {
        rv |= msgpack_pack_nil(pk);
    }
    rv |= pack_opt_str(pk, "leader", st->leader, st->has_leader);
    rv |= transport_pack_cstr(pk, "term");
    rv |= msgpack_pack_uint64(pk, st->term);
    rv |= transport_pack_cstr(pk, "quorum");
    rv |= msgpack_pack_map(pk, 4);
    rv |= transport_pack_cstr(pk, "voters");
    rv |= msgpack_pack_uint64(pk, st->voters);
    rv |= transport_pack_cstr(pk, "tolerates");
    rv |= msgpack_pack_uint64(pk, st->tolerates);
    rv |= transport_pack_cstr(pk, "has_quorum");
    rv |= st->has_quorum ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    rv |= pack_kv_str(pk, "summary", st->quorum_text);
    rv |= transport_pack_cstr(pk, "nodes");
    rv |= msgpack_pack_array(pk, st->n_nodes);
    for (size_t i = 0; i < st->n_nodes; i++) {
        const struct cluster_status_node *n = &st->nodes[i];
        rv |= msgpack_pack_map(pk, 12);
        rv |= pack_kv_str(pk, "name", n->name);
        rv |= transport_pack_cstr(pk, "id");
        rv |= n->id ? msgpack_pack_uint64(pk, n->id) : msgpack_pack_nil(pk);
        rv |= pack_kv_str(pk, "address", n->address);
        rv |= pack_kv_str(pk, "role", n->role);
        rv |= pack_kv_str(pk, "status", n->status);
        rv |= pack_opt_str(pk, "liveness", n->liveness, n->liveness != NULL);
        rv |= pack_opt_str(pk, "why", n->why, n->why[0] != '\0');
        rv |= pack_kv_str(pk, "version", n->version);
        rv |= transport_pack_cstr(pk, "lag");
        rv |= n->has_lag ? msgpack_pack_uint64(pk, n->lag) : msgpack_pack_nil(pk);
        /* Host load from gossip: CPU in whole percent, memory in MiB; null when not known. */
        rv |= transport_pack_cstr(pk, "cpu_percent");
        rv |= n->has_load ? msgpack_pack_uint64(pk, (n->cpu + 5) / 10) : msgpack_pack_nil(pk);
        rv |= transport_pack_cstr(pk, "memory_available_mb");
        rv |= n->has_load ? msgpack_pack_uint64(pk, n->mem_avail_mb) : msgpack_pack_nil(pk);
        rv |= transport_pack_cstr(pk, "memory_total_mb");
        rv |= n->has_load ? msgpack_pack_uint64(pk, n->mem_total_mb) : msgpack_pack_nil(pk);
    }
    free(st);
    return rv ? SHIR_E_NOMEM : 0;
}

struct keys_arg {
    char keys[2][CLUSTER_KEY_TEXT_CAP];
};

static int pack_keys(msgpack_packer *pk, void *arg)
{
    const struct keys_arg *k = arg;
    int rv = msgpack_pack_map(pk, 2);
    rv |= pack_kv_str(pk, "key1", k->keys[0]);
    rv |= pack_kv_str(pk, "key2", k->keys[1]);
    return rv ? SHIR_E_NOMEM : 0;
}

static void agent_stop(struct agent *a);

static void write_done(uv_write_t *req, int status)
{
    (void)status; /* a client that went away gets nothing more; its read side sees EOF */
    struct admin_conn *c = req->handle->data;
    free(req->data);
    free(req);
    /* After `leave` the agent stops once its answer is on the way, not before. */
    if (c && c->agent->stop_after_reply && !c->agent->stopping)
        agent_stop(c->agent);
}

static void conn_closed(uv_handle_t *h)
{
    struct admin_conn *c = h->data;
    transport_frame_decoder_free(&c->dec);
    free(c);
}

static void conn_close(struct admin_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    for (struct admin_conn **pp = &c->agent->conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    for (struct admin_op *op = c->agent->ops; op; op = op->next)
        if (op->conn == c)
            op->conn = NULL;
    for (struct proxy_test *t = c->agent->tests; t; t = t->next)
        if (t->conn == c)
            t->conn = NULL;
    uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

static void conn_send(struct admin_conn *c, struct shir_buf *frame)
{
    uv_write_t *req = malloc(sizeof *req);
    if (!req) {
        shir_buf_free(frame);
        conn_close(c);
        return;
    }
    size_t len;
    unsigned char *bytes = shir_buf_steal(frame, &len);
    req->data = bytes;
    uv_buf_t b = uv_buf_init((char *)bytes, (unsigned)len);
    int rv = uv_write(req, (uv_stream_t *)&c->pipe, &b, 1, write_done);
    if (rv != 0) {
        free(bytes);
        free(req);
        conn_close(c);
    }
}

static void reply_error(struct admin_conn *c, uint64_t id, int code, const char *msg)
{
    struct shir_buf out;
    shir_buf_init(&out, ADMIN_MAX_FRAME + 4);
    if (transport_msg_encode_error(&out, ADMIN_MAX_FRAME, id, code < 0 ? code : SHIR_E_PROTO,
                                   msg ? msg : shir_strerror(code)) == 0)
        conn_send(c, &out);
    shir_buf_free(&out);
}

static void reply(struct admin_conn *c, uint64_t id, transport_body_pack_cb pack, void *arg)
{
    struct shir_buf out;
    shir_buf_init(&out, ADMIN_MAX_FRAME + 4);
    int rv = transport_msg_encode_response(&out, ADMIN_MAX_FRAME, id, pack, arg);
    if (rv == 0) {
        conn_send(c, &out);
        shir_wipe(out.data, out.cap);
    }
    shir_buf_free(&out);
    if (rv != 0)
        reply_error(c, id, rv, NULL);
}

static void reply_keys(struct admin_conn *c, uint64_t id);
static void reply_proxy(struct admin_conn *c, uint64_t id);
static void reply_settings(struct admin_conn *c, uint64_t id);

static void op_done(void *data, int status, const char *msg)
{
    struct admin_op *op = data;
    struct agent *a = op->agent;
    for (struct admin_op **pp = &a->ops; *pp; pp = &(*pp)->next) {
        if (*pp == op) {
            *pp = op->next;
            break;
        }
    }
    if (op->conn && !op->conn->closing) {
        if (status != 0) {
            reply_error(op->conn, op->id, status, msg);
        } else if (op->kind == ADMIN_OP_READ_KEYS) {
            reply_keys(op->conn, op->id);
        } else if (op->kind == ADMIN_OP_READ_PROXY) {
            reply_proxy(op->conn, op->id);
        } else if (op->kind == ADMIN_OP_READ_SETTINGS) {
            reply_settings(op->conn, op->id);
        } else if (op->kind == ADMIN_OP_INIT) {
            /* The init answer carries both keys, exactly like keys.show. */
            struct keys_arg *k = calloc(1, sizeof *k);
            int rv = k ? cluster_keys_get(a->cluster, k->keys) : SHIR_E_NOMEM;
            if (rv == 0)
                reply(op->conn, op->id, pack_keys, k);
            else
                reply_error(op->conn, op->id, rv, "runtime created, but reading its keys failed");
            if (k) {
                shir_wipe(k, sizeof *k);
                free(k);
            }
        } else {
            if (op->kind == ADMIN_OP_LEAVE) {
                a->stop_after_reply = true;
                a->forget = true;
            }
            reply(op->conn, op->id, NULL, NULL);
        }
    } else if (status == 0 && op->kind == ADMIN_OP_LEAVE) {
        a->forget = true; /* the client hung up: still stop and forget */
        agent_stop(a);
    }
    free(op);
}

static struct admin_op *op_new(struct admin_conn *c, uint64_t id, int kind)
{
    struct admin_op *op = calloc(1, sizeof *op);
    if (!op)
        return NULL;
    op->conn = c;
    op->id = id;
    op->agent = c->agent;
    op->kind = kind;
    op->next = c->agent->ops;
    c->agent->ops = op;
    return op;
}

static void op_drop(struct agent *a, struct admin_op *op)
{
    for (struct admin_op **pp = &a->ops; *pp; pp = &(*pp)->next) {
        if (*pp == op) {
            *pp = op->next;
            break;
        }
    }
    free(op);
}

/* Reads of replicated state (keys, proxy, settings) are linearizable: a barrier on the leader,
 * or ReadIndex through it on a follower, then the local replica (cluster_read_barrier). */
static void read_then(struct admin_conn *c, uint64_t id, int kind)
{
    struct admin_op *op = op_new(c, id, kind);
    int rv = op ? cluster_read_barrier(c->agent->cluster, op_done, op) : SHIR_E_NOMEM;
    if (rv != 0) {
        if (op)
            op_drop(c->agent, op);
        reply_error(c, id, rv,
                    rv == SHIR_E_NOTFOUND   ? "this node is not registered (NeedRegistration)"
                    : rv == SHIR_E_NOLEADER ? "no leader: the current state cannot be confirmed "
                                              "(no quorum)"
                                            : NULL);
    }
}

static void handle_init(struct admin_conn *c, const struct transport_msg *m)
{
    struct agent *a = c->agent;
    char name[CLUSTER_NODE_NAME_MAX + 1];
    if (transport_body_copy_str(&m->body, "name", name, sizeof name) != 0 || name[0] == '\0') {
        reply_error(c, m->id, SHIR_E_INVAL, "init needs a runtime name of 1-63 bytes");
        return;
    }
    char node_name[CLUSTER_NODE_NAME_MAX + 1];
    int have_node = transport_body_copy_str(&m->body, "node_name", node_name, sizeof node_name);
    if (have_node != 0 && have_node != SHIR_E_NOTFOUND) {
        reply_error(c, m->id, SHIR_E_INVAL, "bad node name");
        return;
    }
    struct admin_op *op = op_new(c, m->id, ADMIN_OP_INIT);
    if (!op) {
        reply_error(c, m->id, SHIR_E_NOMEM, NULL);
        return;
    }
    int rv = cluster_init_runtime(a->cluster, name, have_node == 0 ? node_name : NULL, op_done, op);
    if (rv != 0) {
        op_drop(a, op);
        reply_error(c, m->id, rv,
                    rv == SHIR_E_EXISTS ? "this node is already registered in a runtime"
                    : rv == SHIR_E_BUSY ? "an init is already under way on this node"
                                        : "cannot create the runtime (see the agent's log)");
    }
}

static void handle_join(struct admin_conn *c, const struct transport_msg *m)
{
    struct agent *a = c->agent;
    char key[2048], peer[300], node_name[CLUSTER_NODE_NAME_MAX + 1], err[512] = "";
    if (transport_body_copy_str(&m->body, "key", key, sizeof key) != 0) {
        reply_error(c, m->id, SHIR_E_INVAL, "join needs a key");
        return;
    }
    int have_peer = transport_body_copy_str(&m->body, "peer", peer, sizeof peer);
    int have_node = transport_body_copy_str(&m->body, "node_name", node_name, sizeof node_name);
    struct admin_op *op = op_new(c, m->id, ADMIN_OP_JOIN);
    int rv = op ? cluster_join(a->cluster, key, have_peer == 0 ? peer : NULL,
                               have_node == 0 ? node_name : NULL, op_done, op, err, sizeof err)
                : SHIR_E_NOMEM;
    shir_wipe(key, sizeof key);
    if (rv != 0) {
        if (op)
            op_drop(a, op);
        reply_error(c, m->id, rv, err[0] ? err : NULL);
    }
}

static const char *const proxy_modes[] = {"none", "system", "custom"};
static const char *const proxy_auths[] = {"any", "basic", "ntlm"};

static int pick(const char *const *names, int n, const char *v)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], v) == 0)
            return i;
    return -1;
}

static int pack_proxy(msgpack_packer *pk, void *arg)
{
    const struct cluster_proxy_settings *p = arg;
    int rv = msgpack_pack_map(pk, 8);
    rv |= pack_kv_str(pk, "mode", proxy_modes[p->mode]);
    rv |= pack_kv_str(pk, "address", p->host);
    rv |= transport_pack_cstr(pk, "port");
    rv |= msgpack_pack_uint64(pk, p->port);
    rv |= pack_kv_str(pk, "user", p->user);
    /* Only whether a password is set: its value never leaves the replicated state in clear. */
    rv |= transport_pack_cstr(pk, "password");
    rv |= p->has_password ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    rv |= pack_kv_str(pk, "bypass", p->bypass);
    rv |= transport_pack_cstr(pk, "bypass_local");
    rv |= p->bypass_local ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    rv |= pack_kv_str(pk, "auth", proxy_auths[p->auth]);
    return rv ? SHIR_E_NOMEM : 0;
}

static void reply_proxy(struct admin_conn *c, uint64_t id)
{
    struct cluster_proxy_settings p;
    int rv = cluster_proxy_get(c->agent->cluster, &p, NULL);
    if (rv == 0)
        reply(c, id, pack_proxy, &p);
    else
        reply_error(c, id, rv, rv == SHIR_E_NOTFOUND ? "this node is not registered" : NULL);
}

static void handle_proxy_set(struct admin_conn *c, const struct transport_msg *m)
{
    struct cluster_proxy_settings p;
    memset(&p, 0, sizeof p);
    char mode[16] = "none", auth[16] = "any";
    uint64_t port = 0;
    const char *pw = NULL;
    size_t pw_len = 0;
    int bad = 0;
    (void)transport_body_copy_str(&m->body, "mode", mode, sizeof mode);
    (void)transport_body_copy_str(&m->body, "auth", auth, sizeof auth);
    bad |= transport_body_copy_str(&m->body, "address", p.host, sizeof p.host) == SHIR_E_TOOBIG;
    bad |= transport_body_copy_str(&m->body, "user", p.user, sizeof p.user) == SHIR_E_TOOBIG;
    bad |= transport_body_copy_str(&m->body, "bypass", p.bypass, sizeof p.bypass) == SHIR_E_TOOBIG;
    (void)transport_body_get_bool(&m->body, "bypass_local", &p.bypass_local);
    (void)transport_body_get_u64(&m->body, "port", &port);
    (void)transport_body_get_str(&m->body, "password", &pw, &pw_len);
    p.mode = pick(proxy_modes, 3, mode);
    p.auth = pick(proxy_auths, 3, auth);
    if (bad || p.mode < 0 || p.auth < 0 || port > 65535) {
        reply_error(c, m->id, SHIR_E_INVAL, "bad proxy settings");
        return;
    }
    p.port = (uint16_t)port;
    struct shir_secret secret = {0};
    if (pw_len > 0 && shir_secret_set(&secret, pw, pw_len) != 0) {
        reply_error(c, m->id, SHIR_E_NOMEM, NULL);
        return;
    }
    if (secret.len >= 4)
        (void)shir_log_sink_mask(&c->agent->sink, secret.bytes, secret.len);
    struct admin_op *op = op_new(c, m->id, ADMIN_OP_PROXY);
    int rv = op ? cluster_proxy_set(c->agent->cluster, &p, &secret, op_done, op) : SHIR_E_NOMEM;
    shir_secret_free(&secret);
    if (rv != 0) {
        if (op)
            op_drop(c->agent, op);
        reply_error(c, m->id, rv,
                    rv == SHIR_E_INVAL      ? "a custom proxy needs --address and --port"
                    : rv == SHIR_E_NOTFOUND ? "this node is not registered"
                                            : NULL);
    }
}

/* `proxy test URL`: one real GET through the configured proxy with libcurl, on a thread-pool
 * thread (curl_easy blocks; the loop must not). The inputs are copied for the thread. */

static void proxy_test_work(uv_work_t *w)
{
    struct proxy_test *t = w->data;
    t->rv = scan_http_get(&t->proxy, t->url, &t->status, &t->seconds, t->err, sizeof t->err);
}

static int pack_test(msgpack_packer *pk, void *arg)
{
    const struct proxy_test *t = arg;
    int rv = msgpack_pack_map(pk, 3);
    rv |= transport_pack_cstr(pk, "status");
    rv |= msgpack_pack_int64(pk, t->status);
    rv |= transport_pack_cstr(pk, "ms");
    rv |= msgpack_pack_uint64(pk, (uint64_t)(t->seconds * 1000.0 + 0.5));
    rv |= pack_kv_str(pk, "via", proxy_modes[t->proxy.mode]);
    return rv ? SHIR_E_NOMEM : 0;
}

static void proxy_test_done(uv_work_t *w, int status)
{
    struct proxy_test *t = w->data;
    struct agent *a = t->agent;
    for (struct proxy_test **pp = &a->tests; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    if (t->conn && !t->conn->closing) {
        if (status != 0 || t->rv != 0)
            reply_error(t->conn, t->id, t->rv ? t->rv : SHIR_E_CANCELED, t->err);
        else
            reply(t->conn, t->id, pack_test, t);
    }
    free(t->proxy.address);
    free(t->proxy.user);
    free(t->proxy.bypass);
    shir_secret_free(&t->proxy.password);
    free(t);
}

static void handle_proxy_test(struct admin_conn *c, const struct transport_msg *m)
{
    struct agent *a = c->agent;
    struct proxy_test *t = calloc(1, sizeof *t);
    struct cluster_proxy_settings p;
    if (!t) {
        reply_error(c, m->id, SHIR_E_NOMEM, NULL);
        return;
    }
    int rv = transport_body_copy_str(&m->body, "url", t->url, sizeof t->url);
    if (rv != 0 || (strncmp(t->url, "http://", 7) != 0 && strncmp(t->url, "https://", 8) != 0)) {
        free(t);
        reply_error(c, m->id, SHIR_E_INVAL, "proxy test needs an http:// or https:// URL");
        return;
    }
    rv = cluster_proxy_get(a->cluster, &p, &t->proxy.password);
    if (rv != 0) {
        free(t);
        reply_error(c, m->id, rv, rv == SHIR_E_NOTFOUND ? "this node is not registered" : NULL);
        return;
    }
    t->proxy.mode = (enum scan_proxy_mode)p.mode;
    t->proxy.auth = (enum scan_proxy_auth)p.auth;
    t->proxy.port = p.port;
    t->proxy.address = strdup(p.host);
    t->proxy.user = p.user[0] ? strdup(p.user) : NULL;
    /* bypass-local: loopback and this host's names never go through the proxy. */
    char bypass[1100];
    (void)shir_str_fmt(bypass, sizeof bypass, "%s%s%s", p.bypass,
                       p.bypass_local && p.bypass[0] ? "," : "",
                       p.bypass_local ? "localhost,127.0.0.1,::1" : "");
    t->proxy.bypass = bypass[0] ? strdup(bypass) : NULL;
    t->agent = a;
    t->conn = c;
    t->id = m->id;
    t->work.data = t;
    t->next = a->tests;
    a->tests = t;
    rv = uv_queue_work(&a->loop, &t->work, proxy_test_work, proxy_test_done);
    if (rv != 0)
        proxy_test_done(&t->work, rv);
}

static void handle_nodes_remove(struct admin_conn *c, const struct transport_msg *m)
{
    char name[CLUSTER_NODE_NAME_MAX + 1], err[256] = "";
    if (transport_body_copy_str(&m->body, "name", name, sizeof name) != 0) {
        reply_error(c, m->id, SHIR_E_INVAL, "nodes remove needs a node name");
        return;
    }
    struct admin_op *op = op_new(c, m->id, ADMIN_OP_REMOVE);
    int rv = op ? cluster_node_remove(c->agent->cluster, name, op_done, op, err, sizeof err)
                : SHIR_E_NOMEM;
    if (rv != 0) {
        if (op)
            op_drop(c->agent, op);
        reply_error(c, m->id, rv, err[0] ? err : NULL);
    }
}

struct settings_view {
    uint32_t max_nodes;
    uint64_t delay_ms;
};

static int pack_settings(msgpack_packer *pk, void *arg)
{
    const struct settings_view *v = arg;
    int rv = msgpack_pack_map(pk, 2);
    rv |= transport_pack_cstr(pk, "max_nodes");
    rv |= msgpack_pack_uint64(pk, v->max_nodes);
    rv |= transport_pack_cstr(pk, "standby_promotion_delay_ms");
    rv |= msgpack_pack_uint64(pk, v->delay_ms);
    return rv ? SHIR_E_NOMEM : 0;
}

static void reply_settings(struct admin_conn *c, uint64_t id)
{
    struct settings_view v = {0};
    int rv = cluster_settings_get(c->agent->cluster, &v.max_nodes, &v.delay_ms);
    if (rv == 0)
        reply(c, id, pack_settings, &v);
    else
        reply_error(c, id, rv, "this node is not registered");
}

static void handle_settings(struct admin_conn *c, const struct transport_msg *m, bool set)
{
    struct settings_view v = {0};
    int rv;
    if (!set) {
        read_then(c, m->id, ADMIN_OP_READ_SETTINGS);
        return;
    }
    uint64_t max_nodes = 0;
    (void)transport_body_get_u64(&m->body, "max_nodes", &max_nodes);
    (void)transport_body_get_u64(&m->body, "standby_promotion_delay_ms", &v.delay_ms);
    struct admin_op *op = op_new(c, m->id, ADMIN_OP_SETTINGS);
    rv = op ? cluster_settings_set(c->agent->cluster,
                                   (uint32_t)(max_nodes > 1000 ? 1000 : max_nodes), v.delay_ms,
                                   op_done, op)
            : SHIR_E_NOMEM;
    if (rv != 0) {
        if (op)
            op_drop(c->agent, op);
        reply_error(c, m->id, rv, rv == SHIR_E_NOTFOUND ? "this node is not registered" : NULL);
    }
}

static void handle_leave(struct admin_conn *c, const struct transport_msg *m)
{
    char err[256] = "";
    struct admin_op *op = op_new(c, m->id, ADMIN_OP_LEAVE);
    int rv = op ? cluster_leave(c->agent->cluster, op_done, op, err, sizeof err) : SHIR_E_NOMEM;
    if (rv != 0) {
        if (op)
            op_drop(c->agent, op);
        reply_error(c, m->id, rv, err[0] ? err : NULL);
    }
}

static void handle_recover(struct admin_conn *c, const struct transport_msg *m)
{
    char err[256] = "";
    struct admin_op *op = op_new(c, m->id, ADMIN_OP_RECOVER);
    int rv = op ? cluster_recover(c->agent->cluster, op_done, op, err, sizeof err) : SHIR_E_NOMEM;
    if (rv != 0) {
        if (op)
            op_drop(c->agent, op);
        reply_error(c, m->id, rv, err[0] ? err : NULL);
    }
}

static void reply_keys(struct admin_conn *c, uint64_t id)
{
    struct keys_arg *k = calloc(1, sizeof *k);
    int rv = k ? cluster_keys_get(c->agent->cluster, k->keys) : SHIR_E_NOMEM;
    if (rv == 0)
        reply(c, id, pack_keys, k);
    else
        reply_error(c, id, rv,
                    rv == SHIR_E_NOTFOUND ? "this node is not registered (NeedRegistration)"
                                          : NULL);
    if (k) {
        shir_wipe(k, sizeof *k);
        free(k);
    }
}

static void handle_keys_regenerate(struct admin_conn *c, const struct transport_msg *m)
{
    uint64_t slot = 0;
    if (transport_body_get_u64(&m->body, "slot", &slot) != 0 || (slot != 1 && slot != 2)) {
        reply_error(c, m->id, SHIR_E_INVAL, "keys regenerate needs slot 1 or 2");
        return;
    }
    struct admin_op *op = op_new(c, m->id, ADMIN_OP_REGEN);
    if (!op) {
        reply_error(c, m->id, SHIR_E_NOMEM, NULL);
        return;
    }
    int rv = cluster_keys_regenerate(c->agent->cluster, (unsigned)slot, op_done, op);
    if (rv != 0) {
        op_drop(c->agent, op);
        reply_error(c, m->id, rv,
                    rv == SHIR_E_NOLEADER ? "no leader: the runtime has no quorum right now"
                                          : NULL);
    }
}

static void conn_handle(struct admin_conn *c, const struct transport_frame *f)
{
    struct agent *a = c->agent;
    struct transport_msg m;
    int rv = transport_msg_decode(&m, NULL, f->payload, f->len);
    if (rv != 0 || m.type != TRANSPORT_MSG_REQUEST) {
        SHIR_WARN(&a->log, "admin: bad request: %s",
                  rv != 0 ? transport_msg_errmsg(&m) : "not a request");
        reply_error(c, rv != 0 ? 0 : m.id, SHIR_E_PROTO, "bad request");
    } else if (transport_msg_method_is(&m, "status")) {
        reply(c, m.id, pack_status, a);
    } else if (transport_msg_method_is(&m, "init")) {
        handle_init(c, &m);
    } else if (transport_msg_method_is(&m, "join")) {
        handle_join(c, &m);
    } else if (transport_msg_method_is(&m, "leave")) {
        handle_leave(c, &m);
    } else if (transport_msg_method_is(&m, "recover")) {
        handle_recover(c, &m);
    } else if (transport_msg_method_is(&m, "settings.show")) {
        handle_settings(c, &m, false);
    } else if (transport_msg_method_is(&m, "settings.set")) {
        handle_settings(c, &m, true);
    } else if (transport_msg_method_is(&m, "nodes.remove")) {
        handle_nodes_remove(c, &m);
    } else if (transport_msg_method_is(&m, "proxy.show")) {
        read_then(c, m.id, ADMIN_OP_READ_PROXY);
    } else if (transport_msg_method_is(&m, "proxy.set")) {
        handle_proxy_set(c, &m);
    } else if (transport_msg_method_is(&m, "proxy.test")) {
        handle_proxy_test(c, &m);
    } else if (transport_msg_method_is(&m, "keys.show")) {
        read_then(c, m.id, ADMIN_OP_READ_KEYS);
    } else if (transport_msg_method_is(&m, "keys.regenerate")) {
        handle_keys_regenerate(c, &m);
    } else {
        reply_error(c, m.id, SHIR_E_UNSUPPORTED, "unknown admin method");
    }
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
    struct admin_conn *c = s->data;
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
        SHIR_WARN(&c->agent->log, "admin: closing client: %s",
                  transport_frame_decoder_errmsg(&c->dec));
        conn_close(c);
    }
}

static void admin_accept(uv_stream_t *server, int status)
{
    struct agent *a = server->data;
    if (status != 0)
        return;
    struct admin_conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->agent = a;
    transport_frame_decoder_init(&c->dec, ADMIN_MAX_FRAME);
    uv_pipe_init(&a->loop, &c->pipe, 0);
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

/* ---- start and stop ------------------------------------------------------------------------ */

/* Create the data directory (0700) and take its lock so that two agents never share one. */
static int data_dir_open(struct agent *a)
{
    const char *dir = a->cfg->data_dir;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        SHIR_ERROR(&a->log, "cannot create data directory %s: %s", dir, strerror(errno));
        return -errno;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        SHIR_ERROR(&a->log, "data directory %s is not a directory", dir);
        return SHIR_E_CONFIG;
    }
    if ((st.st_mode & 077) != 0 && chmod(dir, 0700) != 0) {
        SHIR_ERROR(&a->log, "cannot restrict data directory %s to its owner: %s", dir,
                   strerror(errno));
        return -errno;
    }
    char path[512];
    if (shir_str_fmt(path, sizeof path, "%s/%s", dir, NODE_LOCK_FILE) != 0)
        return SHIR_E_TOOBIG;
    a->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (a->lock_fd < 0) {
        SHIR_ERROR(&a->log, "cannot open %s: %s", path, strerror(errno));
        return -errno;
    }
    if (flock(a->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        SHIR_ERROR(&a->log, "another agent is running on data directory %s", dir);
        return SHIR_E_BUSY;
    }
    return 0;
}

static int admin_open(struct agent *a)
{
    int rv = node_admin_path(a->cfg->data_dir, a->admin_path, sizeof a->admin_path);
    if (rv != 0) {
        SHIR_ERROR(&a->log, "data directory path too long for a Unix socket");
        return rv;
    }
    /* We hold the lock, so a socket file left here is a dead agent's. */
    (void)unlink(a->admin_path);
    uv_pipe_init(&a->loop, &a->admin, 0);
    a->admin.data = a;
    a->admin_open = true;
    /* Bind with a umask that makes the socket 0600 from its first moment. */
    mode_t old = umask(0177);
    rv = uv_pipe_bind(&a->admin, a->admin_path);
    umask(old);
    if (rv == 0)
        rv = uv_listen((uv_stream_t *)&a->admin, 16, admin_accept);
    if (rv != 0)
        SHIR_ERROR(&a->log, "cannot listen on %s: %s", a->admin_path, uv_strerror(rv));
    return rv;
}

static void agent_stop(struct agent *a)
{
    if (a->stopping)
        return;
    a->stopping = true;
    uv_signal_stop(&a->sigterm);
    uv_signal_stop(&a->sigint);
    uv_close((uv_handle_t *)&a->sigterm, NULL);
    uv_close((uv_handle_t *)&a->sigint, NULL);
    if (a->cluster)
        cluster_close(a->cluster, NULL, NULL);
    while (a->conns)
        conn_close(a->conns);
    if (a->admin_open) {
        uv_close((uv_handle_t *)&a->admin, NULL);
        (void)unlink(a->admin_path);
        a->admin_open = false;
    }
}

/* The cluster: load the identity, start the TLS port and raft if this node is registered. */
static int cluster_open(struct agent *a)
{
    const struct node_agent_config *cfg = a->cfg;
    struct cluster_config cc = {
        .loop = &a->loop,
        .data_dir = cfg->data_dir,
        .node_name = cfg->node_name,
        .listen = cfg->listen,
        .advertise = cfg->advertise,
        .witness = cfg->witness,
        .version = SHIR_NODE_VERSION,
        .log = &a->log,
        .sink = &a->sink,
    };
    char err[512] = "";
    int rv = cluster_new(&cc, &a->cluster, err, sizeof err);
    if (rv == 0)
        rv = cluster_start(a->cluster, err, sizeof err);
    if (rv != 0)
        SHIR_ERROR(&a->log, "cannot start the node: %s", err[0] ? err : shir_strerror(rv));
    return rv;
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct agent *a = h->data;
    SHIR_INFO(&a->log, "received %s, stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    agent_stop(a);
}

int node_agent_run(const struct node_agent_config *cfg)
{
    struct agent a;
    memset(&a, 0, sizeof a);
    a.cfg = cfg;
    a.lock_fd = -1;
    a.exit_code = 1;
    shir_log_sink_init(&a.sink, stderr, cfg->log_level);
    shir_log_init(&a.log, &a.sink, "node=%s", cfg->node_name);
    int rv = uv_loop_init(&a.loop);
    if (rv != 0) {
        SHIR_ERROR(&a.log, "cannot start the event loop: %s", uv_strerror(rv));
        goto out;
    }
    uv_signal_init(&a.loop, &a.sigterm);
    uv_signal_init(&a.loop, &a.sigint);
    a.sigterm.data = a.sigint.data = &a;
    transport_process_init();
    if (data_dir_open(&a) != 0 || cluster_open(&a) != 0 || admin_open(&a) != 0) {
        agent_stop(&a);
        uv_run(&a.loop, UV_RUN_DEFAULT);
        goto close_loop;
    }
    uv_signal_start(&a.sigterm, on_signal, SIGTERM);
    uv_signal_start(&a.sigint, on_signal, SIGINT);
    SHIR_INFO(&a.log, "agent started: data directory %s, admin socket %s, %s%s", cfg->data_dir,
              a.admin_path, cluster_registered(a.cluster) ? "registered" : "NeedRegistration",
              cfg->witness ? " (witness)" : "");
    uv_run(&a.loop, UV_RUN_DEFAULT);
    a.exit_code = 0;
    SHIR_INFO(&a.log, "agent stopped");
close_loop:
    cluster_free(a.cluster);
    if (a.forget) {
        int frv = cluster_forget(cfg->data_dir);
        if (frv != 0)
            SHIR_WARN(&a.log, "could not delete every identity file: %s", shir_strerror(frv));
        else
            SHIR_INFO(&a.log, "identity deleted: this node starts as NeedRegistration next time");
    }
    if (uv_loop_close(&a.loop) != 0)
        SHIR_WARN(&a.log, "event loop closed with handles still open");
out:
    if (a.lock_fd >= 0)
        close(a.lock_fd);
    shir_log_sink_close(&a.sink);
    return a.exit_code;
}
