/* shir-rpc/1 between members (see rpc.h): forwarding on the client side, serving on the leader. */
#include "cluster/rpc.h"
#include "cluster/rpc_client.h"

#include <stdlib.h>
#include <string.h>

/* A forwarded mutation normally completes in one round trip plus a commit (~ms on a LAN); 5 s
 * covers a leader that is busy electing or fsyncing on a slow disk. */
#define FORWARD_TIMEOUT_MS 5000

struct serve {
    struct cluster_rpc *r;
    struct transport_conn *conn;
    uint64_t id;
    bool in_flight, closed;
    struct serve *next;
};

struct cluster_rpc {
    struct cluster_env *env;
    struct cluster_port *port;
    struct cluster_rnode *rn;
    struct cluster_propose *prop;
    struct cluster_members *members;
    struct cluster_rpc_client *client;
    struct serve *serves;
};

/* ---- client: forward (requests go through rpc_client.c's kept connections) ------------ */

struct cmd_arg {
    const unsigned char *p;
    size_t n;
};

static int pack_cmd(msgpack_packer *pk, void *arg)
{
    const struct cmd_arg *a = arg;
    int rv = msgpack_pack_map(pk, 1);
    rv |= transport_pack_cstr(pk, "cmd");
    rv |= msgpack_pack_bin(pk, a->n);
    rv |= msgpack_pack_bin_body(pk, a->p, a->n);
    return rv ? SHIR_E_NOMEM : 0;
}

/* The propose part's forwarder: the command already carries its request id, which the leader
 * keeps, so a retry stays idempotent. */
static int forward(void *data, const char *leader_addr, const struct cluster_cmd *cmd,
                   cluster__proposed_fn done, void *arg)
{
    struct cluster_rpc *r = data;
    struct shir_buf enc;
    shir_buf_init(&enc, 64u * 1024u);
    int rv = cluster_cmd_encode(cmd, &enc);
    if (rv == 0) {
        struct cmd_arg ca = {enc.data, enc.len};
        rv = cluster__rpc_client_call(r->client, leader_addr, "fsm.propose", pack_cmd, &ca,
                                      FORWARD_TIMEOUT_MS, done, arg);
    }
    if (enc.data)
        shir_wipe(enc.data, enc.len);
    shir_buf_free(&enc);
    return rv;
}

static int pack_id(msgpack_packer *pk, void *arg)
{
    int rv = msgpack_pack_map(pk, 1);
    rv |= transport_pack_cstr(pk, "id");
    rv |= msgpack_pack_uint64(pk, *(const uint64_t *)arg);
    return rv ? SHIR_E_NOMEM : 0;
}

/* The leader answers a read.index after one barrier: a heartbeat round. */
#define READ_INDEX_TIMEOUT_MS 5000

int cluster__rpc_read_index(struct cluster_rpc *r, const char *leader_addr,
                            cluster__proposed_fn done, void *arg)
{
    return cluster__rpc_client_call(r->client, leader_addr, "read.index", NULL, NULL,
                                    READ_INDEX_TIMEOUT_MS, done, arg);
}

/* A removal waits for three raft steps on the leader. */
#define REMOVE_RPC_TIMEOUT_MS 60000

int cluster__rpc_ask_removal(struct cluster_rpc *r, const char *leader_addr,
                             cluster__proposed_fn done, void *arg)
{
    uint64_t id = r->env->id.node_id;
    return cluster__rpc_client_call(r->client, leader_addr, "node.remove", pack_id, &id,
                                    REMOVE_RPC_TIMEOUT_MS, done, arg);
}

/* ---- server: serve ------------------------------------------------------------------------- */

static void serve_free(struct serve *s)
{
    struct cluster_rpc *r = s->r;
    for (struct serve **pp = &r->serves; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    free(s);
}

static void serve_error(struct serve *s, uint64_t id, int code, const char *msg)
{
    struct shir_buf out;
    shir_buf_init(&out, 1u << 16);
    if (transport_msg_encode_error(&out, 0, id, code, msg) == 0)
        (void)transport_conn_write(s->conn, out.data + 4, out.len - 4);
    shir_buf_free(&out);
}

struct result_arg {
    int status;
    uint64_t value;
};

static int pack_result(msgpack_packer *pk, void *arg)
{
    const struct result_arg *a = arg;
    int rv = msgpack_pack_map(pk, 2);
    rv |= transport_pack_cstr(pk, "status");
    rv |= msgpack_pack_int64(pk, a->status);
    rv |= transport_pack_cstr(pk, "value");
    rv |= msgpack_pack_uint64(pk, a->value);
    return rv ? SHIR_E_NOMEM : 0;
}

static void served(void *arg, int status, uint64_t value)
{
    struct serve *s = arg;
    s->in_flight = false;
    if (s->closed) {
        serve_free(s);
        return;
    }
    struct result_arg ra = {status, value};
    struct shir_buf out;
    shir_buf_init(&out, 1u << 16);
    if (transport_msg_encode_response(&out, 0, s->id, pack_result, &ra) == 0)
        (void)transport_conn_write(s->conn, out.data + 4, out.len - 4);
    shir_buf_free(&out);
}

static void removal_done(void *data, int status, const char *msg)
{
    (void)msg;
    served(data, status, 0);
}

/* A member asks to be removed (`shir leave`): only itself, and only the leader does it. */
static void serve_removal(struct serve *s, const struct transport_msg *m)
{
    uint64_t id = 0;
    const struct transport_peer *peer = transport_conn_peer(s->conn);
    const struct cluster_node *n;
    char err[256] = "";
    if (transport_body_get_u64(&m->body, "id", &id) != 0 || !peer || peer->node_id != id ||
        !(n = cluster_fsm_node(s->r->env->fsm, id))) {
        serve_error(s, m->id, SHIR_E_DENIED, "a member may ask only for its own removal");
        return;
    }
    if (s->in_flight) {
        serve_error(s, m->id, SHIR_E_BUSY, "one request at a time per connection");
        return;
    }
    s->id = m->id;
    int rv = cluster__members_remove(s->r->members, n->name, removal_done, s, err, sizeof err);
    if (rv == 0)
        s->in_flight = true;
    else
        serve_error(s, m->id, rv, err[0] ? err : shir_strerror(rv));
}

static void read_index_barrier(void *arg, int status)
{
    struct serve *s = arg;
    served(s, status, status ? 0 : cluster__rnode_commit_index(s->r->rn));
}

/* ReadIndex for a follower: a barrier proves this node still leads and has committed everything
 * from earlier terms; the commit index after it is what the follower must apply before reading. */
static void serve_read_index(struct serve *s, const struct transport_msg *m)
{
    if (s->in_flight) {
        serve_error(s, m->id, SHIR_E_BUSY, "one request at a time per connection");
        return;
    }
    if (!cluster__rnode_ready(s->r->rn)) {
        serve_error(s, m->id, SHIR_E_NOLEADER, "not the leader");
        return;
    }
    s->id = m->id;
    int rv = cluster__rnode_barrier(s->r->rn, read_index_barrier, s);
    if (rv != 0) {
        serve_error(s, m->id, rv, "barrier refused");
        return;
    }
    s->in_flight = true;
}

static void serve_frame(struct transport_conn *conn, const unsigned char *p, size_t n)
{
    struct serve *s = transport_conn_data(conn);
    struct transport_msg m;
    const void *cmdp;
    size_t cmdn;
    struct cluster_cmd cmd;
    if (transport_msg_decode(&m, NULL, p, n) != 0 || m.type != TRANSPORT_MSG_REQUEST) {
        transport_conn_close(conn);
        transport_msg_free(&m);
        return;
    }
    if (transport_msg_method_is(&m, "node.remove")) {
        serve_removal(s, &m);
    } else if (transport_msg_method_is(&m, "read.index")) {
        serve_read_index(s, &m);
    } else if (!transport_msg_method_is(&m, "fsm.propose")) {
        serve_error(s, m.id, SHIR_E_UNSUPPORTED, "unknown method");
    } else if (s->in_flight) {
        serve_error(s, m.id, SHIR_E_BUSY, "one proposal at a time per connection");
    } else if (transport_body_get_bin(&m.body, "cmd", &cmdp, &cmdn) != 0 ||
               cluster_cmd_decode(cmdp, cmdn, &cmd) != 0) {
        serve_error(s, m.id, SHIR_E_MALFORMED, "bad command");
    } else if (!cluster__rnode_ready(s->r->rn)) {
        /* Never forward again: the follower asks the leader it knows, and retries. */
        serve_error(s, m.id, SHIR_E_NOLEADER, "not the leader");
    } else {
        s->id = m.id;
        int rv = cluster__propose(s->r->prop, &cmd, served, s);
        if (rv == 0) {
            s->in_flight = true;
        } else {
            /* Refused before raft (the leader's pre-check): answered as apply would be, with
             * the FSM's value (BUSY's active run), which the follower's replica may not hold
             * yet (it names that run to the operator). */
            uint64_t value = 0;
            (void)cluster_fsm_check(s->r->env->fsm, &cmd, &value);
            served(s, rv, value);
        }
    }
    shir_wipe(&cmd, sizeof cmd);
    transport_msg_free(&m);
}

static void serve_closed(struct transport_conn *conn, int err, const char *msg)
{
    (void)err;
    (void)msg;
    struct serve *s = transport_conn_data(conn);
    s->closed = true;
    s->conn = NULL;
    if (!s->in_flight)
        serve_free(s);
}

static void rpc_accept(void *data, struct transport_conn *conn)
{
    struct cluster_rpc *r = data;
    struct serve *s = calloc(1, sizeof *s);
    if (!s) {
        transport_conn_close(conn);
        return;
    }
    s->r = r;
    s->conn = conn;
    s->next = r->serves;
    r->serves = s;
    struct transport_conn_cbs cbs = {.frame_cb = serve_frame, .close_cb = serve_closed, .data = s};
    transport_conn_set_cbs(conn, &cbs);
}

int cluster__rpc_new(struct cluster_env *env, struct cluster_port *port, struct cluster_rnode *rn,
                     struct cluster_propose *prop, struct cluster_members *members,
                     struct cluster_rpc **out)
{
    struct cluster_rpc *r = calloc(1, sizeof *r);
    if (!r)
        return SHIR_E_NOMEM;
    r->env = env;
    r->port = port;
    r->rn = rn;
    r->prop = prop;
    r->members = members;
    int rv = cluster__rpc_client_new(env->loop, &env->log, port, &r->client);
    if (rv != 0) {
        free(r);
        return rv;
    }
    cluster__port_on(port, TRANSPORT_CH_RPC, rpc_accept, r);
    cluster__propose_set_forward(prop, forward, r);
    *out = r;
    return 0;
}

static unsigned rpc_close(void *self, void (*done)(void *arg), void *arg)
{
    (void)done;
    (void)arg;
    struct cluster_rpc *r = self;
    cluster__rpc_client_close(r->client);
    for (struct serve *s = r->serves; s; s = s->next)
        if (s->conn)
            transport_conn_close(s->conn);
    return 0;
}

/* Client and served connections unlink themselves from their close callbacks, which the loop
 * has run by now. */
static void rpc_free(void *self)
{
    struct cluster_rpc *r = self;
    cluster__rpc_client_free(r->client);
    free(r);
}

static void rpc_tick(void *self)
{
    struct cluster_rpc *r = self;
    cluster__rpc_client_tick(r->client);
}

const struct cluster_part_ops cluster__rpc_part = {
    .name = "rpc", .tick = rpc_tick, .close = rpc_close, .free = rpc_free};
