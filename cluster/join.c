/* Registration of a node: both sides of shir-join/1, and the membership changes that follow.
 *
 * Wire (transport_msg requests on shir-join/1; the joiner has no certificate and has pinned the
 * runtime CA from its key before sending anything):
 *   joiner -> member  join.hello {runtime_id bin16, slot, generation, client_nonce bin32}
 *   member -> joiner  {server_nonce bin32}            or {leader "host:port"} (try the leader)
 *   joiner -> member  join.prove {proof bin32, csr, name, address, witness, version}
 *   member -> joiner  {sig bin32, node_id, cert, ca, ca_key bin, data_secret bin,
 *                      members [{id, address, pin bin32}...]}
 * The proof and the signature are computed over both nonces and the TLS exporter of this very
 * session (cluster/proof.h), so the key's secret never crosses the wire and a proof cannot be
 * relayed into another session. Errors are error responses with our codes: AUTH (wrong key),
 * STALE (regenerated key), FULL, EXISTS (name taken), NOLEADER.
 *
 * After join.prove the leader has committed NODE_ADD; it then adds the node to raft (spare),
 * assigns it (voter or standby, design §1) and commits NODE_SET_ROLE — one membership change at a
 * time, from the queue below, retried while the new node is still starting.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/runtime_int.h"

/* How long the leader keeps retrying to promote a node that does not answer yet. */
#define MEMBER_OP_TIMEOUT_MS 60000

/* ============================== server side (a member) ===================================== */

struct join_session {
    struct cluster *c;
    struct transport_conn *conn;
    bool hello_done, prove_sent;
    bool in_flight; /* our NODE_ADD proposal has not completed: node_added owns the session */
    uint8_t slot;
    uint32_t generation;
    uint8_t client_nonce[CLUSTER_NONCE_LEN], server_nonce[CLUSTER_NONCE_LEN];
    struct cluster_verifier verifier;
    uint64_t req_id;
    char *csr;
    size_t csr_len;
    uint8_t sig[CLUSTER_PROOF_LEN];
    struct join_session *next;
};

/* One membership change, as a sequence of phases (one raft change or proposal each):
 *   join:    ADD -> ASSIGN (voter/standby, decided then) -> RECORD_ROLE
 *   remove:  ASSIGN (spare) -> REMOVE -> RECORD_REMOVE */
enum member_phase { PHASE_ADD, PHASE_ASSIGN, PHASE_RECORD_ROLE, PHASE_REMOVE, PHASE_RECORD_REMOVE };
enum member_kind { MEMBER_JOIN, MEMBER_REMOVE, MEMBER_ASSIGN /* from the planner */ };

struct member_op {
    enum member_kind kind;
    uint64_t node_id;
    char address[CLUSTER_ADDR_MAX + 1];
    bool witness;
    enum member_phase phase;
    int raft_role;
    enum cluster_role fsm_role;
    uint64_t started_ms;
    cluster_done_cb cb; /* removal: the operator's command waits for it */
    void *data;
    struct member_op *next;
};

struct cluster_join_server {
    struct join_session *sessions;
    struct member_op *queue;
    bool running; /* a raft change or a proposal of the head op is in flight */
    struct raft_change change;
};

static struct cluster_join_server *js_get(struct cluster *c)
{
    if (!c->js)
        c->js = calloc(1, sizeof *c->js);
    return c->js;
}

static void session_free(struct join_session *s)
{
    free(s->csr);
    shir_wipe(s, sizeof *s);
    free(s);
}

static void session_reply_error(struct join_session *s, uint64_t id, int code, const char *msg)
{
    struct shir_buf out;
    shir_buf_init(&out, 1u << 16);
    if (transport_msg_encode_error(&out, 0, id, code, msg) == 0)
        (void)transport_conn_write(s->conn, out.data + 4, out.len - 4);
    shir_buf_free(&out);
}

/* transport_msg_encode_* append a whole frame; conn_write wants the payload. */
static void session_reply(struct join_session *s, uint64_t id, transport_body_pack_cb pack,
                          void *arg)
{
    struct shir_buf out;
    shir_buf_init(&out, 1u << 20);
    int rv = transport_msg_encode_response(&out, 0, id, pack, arg);
    if (rv == 0)
        rv = transport_conn_write(s->conn, out.data + 4, out.len - 4);
    if (out.data)
        shir_wipe(out.data, out.len);
    shir_buf_free(&out);
    if (rv != 0)
        transport_conn_close(s->conn);
}

static int pack_nonce(msgpack_packer *pk, void *arg)
{
    const struct join_session *s = arg;
    int rv = msgpack_pack_map(pk, 1);
    rv |= transport_pack_cstr(pk, "server_nonce");
    rv |= msgpack_pack_bin(pk, CLUSTER_NONCE_LEN);
    rv |= msgpack_pack_bin_body(pk, s->server_nonce, CLUSTER_NONCE_LEN);
    return rv ? SHIR_E_NOMEM : 0;
}

static int pack_redirect(msgpack_packer *pk, void *arg)
{
    int rv = msgpack_pack_map(pk, 1);
    rv |= transport_pack_cstr(pk, "leader");
    rv |= transport_pack_cstr(pk, arg);
    return rv ? SHIR_E_NOMEM : 0;
}

struct creds {
    struct join_session *s;
    uint64_t node_id;
    char *cert;
    size_t cert_len;
};

int cluster__pack_bin(msgpack_packer *pk, const char *k, const void *p, size_t n)
{
    int rv = transport_pack_cstr(pk, k);
    rv |= msgpack_pack_bin(pk, n);
    rv |= msgpack_pack_bin_body(pk, p, n);
    return rv;
}

static int pack_creds(msgpack_packer *pk, void *arg)
{
    const struct creds *cr = arg;
    struct cluster *c = cr->s->c;
    size_t n;
    const struct cluster_node *nodes = cluster_fsm_nodes(c->fsm, &n);
    int rv = msgpack_pack_map(pk, 7);
    rv |= cluster__pack_bin(pk, "sig", cr->s->sig, CLUSTER_PROOF_LEN);
    rv |= transport_pack_cstr(pk, "node_id");
    rv |= msgpack_pack_uint64(pk, cr->node_id);
    rv |= transport_pack_cstr(pk, "cert");
    rv |= transport_pack_cstr(pk, cr->cert);
    rv |= transport_pack_cstr(pk, "ca");
    rv |= transport_pack_cstr(pk, c->id.ca_pem);
    rv |= cluster__pack_bin(pk, "ca_key", c->id.ca_key_pem.bytes, c->id.ca_key_pem.len);
    rv |= cluster__pack_bin(pk, "data_secret", c->id.data_secret, CLUSTER_DATA_SECRET_LEN);
    rv |= transport_pack_cstr(pk, "members");
    rv |= msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++) {
        rv |= msgpack_pack_map(pk, 3);
        rv |= transport_pack_cstr(pk, "id");
        rv |= msgpack_pack_uint64(pk, nodes[i].id);
        rv |= transport_pack_cstr(pk, "address");
        rv |= transport_pack_cstr(pk, nodes[i].address);
        rv |= cluster__pack_bin(pk, "pin", nodes[i].pin, CLUSTER_PIN_LEN);
    }
    return rv ? SHIR_E_NOMEM : 0;
}

static void fill_input(const struct join_session *s, const struct cluster *c, uint8_t *exporter,
                       struct cluster_proof_input *in)
{
    memset(in, 0, sizeof *in);
    in->runtime_id = cluster_fsm_runtime(c->fsm)->id; /* ours, never the joiner's claim */
    in->slot = s->slot;
    in->generation = s->generation;
    in->server_nonce = s->server_nonce;
    in->client_nonce = s->client_nonce;
    in->exporter = exporter;
    in->exporter_len = CLUSTER_EXPORTER_LEN;
}

static void queue_member(struct cluster *c, uint64_t id, const char *address, bool witness)
{
    struct cluster_join_server *js = js_get(c);
    struct member_op *op = js ? calloc(1, sizeof *op) : NULL;
    if (!op) {
        SHIR_ERROR(&c->log, "out of memory queueing node %llu for raft", (unsigned long long)id);
        return;
    }
    op->kind = MEMBER_JOIN;
    op->node_id = id;
    (void)shir_str_copy(op->address, sizeof op->address, address);
    op->witness = witness;
    op->phase = PHASE_ADD;
    op->started_ms = cluster__wall_ms();
    struct member_op **pp = &js->queue;
    while (*pp)
        pp = &(*pp)->next;
    *pp = op;
}

static const char *join_error_text(int status)
{
    switch (status) {
    case SHIR_E_EXISTS:
        return "a node with this name or certificate is already registered";
    case SHIR_E_FULL:
        return "the runtime is full (its node limit is reached)";
    case SHIR_E_STALE:
        return "this key was regenerated; get the current one with 'shir keys show'";
    case SHIR_E_NOLEADER:
        return "the member lost leadership; try again";
    default:
        return shir_strerror(status);
    }
}

static void node_added(struct cluster *c, int status, uint64_t value, void *arg)
{
    struct join_session *s = arg;
    s->in_flight = false;
    if (s->conn == NULL) { /* the joiner hung up meanwhile; the node stays pending */
        session_free(s);
        return;
    }
    if (status != 0) {
        session_reply_error(s, s->req_id, status, join_error_text(status));
        return;
    }
    struct creds cr = {.s = s, .node_id = value};
    const struct cluster_node *n = cluster_fsm_node(c->fsm, value);
    int rv = transport_pki_csr_sign(c->id.ca_pem, c->id.ca_pem_len, &c->id.ca_key_pem, s->csr,
                                    s->csr_len, value, n ? n->name : "node", CLUSTER__CERT_DAYS,
                                    &cr.cert, &cr.cert_len);
    if (rv != 0) {
        session_reply_error(s, s->req_id, rv, "signing the certificate failed");
        return;
    }
    session_reply(s, s->req_id, pack_creds, &cr);
    free(cr.cert);
    if (n) {
        SHIR_INFO(&c->log, "node '%s' (id %llu, %s) registered; adding it to raft", n->name,
                  (unsigned long long)value, n->address);
        queue_member(c, value, n->address, n->role == CLUSTER_ROLE_WITNESS);
    }
}

static void handle_hello(struct join_session *s, const struct transport_msg *m)
{
    struct cluster *c = s->c;
    const void *rid, *cn;
    size_t rid_len, cn_len;
    uint64_t slot, gen;
    if (transport_body_get_bin(&m->body, "runtime_id", &rid, &rid_len) != 0 ||
        transport_body_get_bin(&m->body, "client_nonce", &cn, &cn_len) != 0 ||
        transport_body_get_u64(&m->body, "slot", &slot) != 0 ||
        transport_body_get_u64(&m->body, "generation", &gen) != 0 ||
        rid_len != CLUSTER_RUNTIME_ID_LEN || cn_len != CLUSTER_NONCE_LEN || gen > UINT32_MAX) {
        session_reply_error(s, m->id, SHIR_E_MALFORMED, "bad join.hello");
        return;
    }
    if (!cluster__leader_ready(c)) {
        raft_id lid = 0;
        const char *laddr = NULL;
        raft_leader(&c->raft, &lid, &laddr);
        if (lid != 0 && laddr && lid != c->id.node_id)
            session_reply(s, m->id, pack_redirect, (void *)(uintptr_t)laddr);
        else
            session_reply_error(s, m->id, SHIR_E_NOLEADER,
                                "the runtime has no leader right now (no quorum); try again");
        return;
    }
    const struct cluster_runtime *rt = cluster_fsm_runtime(c->fsm);
    if (memcmp(rt->id, rid, CLUSTER_RUNTIME_ID_LEN) != 0) {
        session_reply_error(s, m->id, SHIR_E_AUTH, "this key belongs to another runtime");
        return;
    }
    int rv = cluster_fsm_key_check(c->fsm, (uint8_t)slot, (uint32_t)gen, &s->verifier);
    if (rv != 0) {
        session_reply_error(s, m->id, rv, join_error_text(rv));
        return;
    }
    s->slot = (uint8_t)slot;
    s->generation = (uint32_t)gen;
    memcpy(s->client_nonce, cn, CLUSTER_NONCE_LEN);
    if (shir_random_fill(&c->rnd, s->server_nonce, CLUSTER_NONCE_LEN) != 0) {
        session_reply_error(s, m->id, SHIR_E_RANDOM, "random source failed");
        return;
    }
    s->hello_done = true;
    session_reply(s, m->id, pack_nonce, s);
}

static void handle_prove(struct join_session *s, const struct transport_msg *m)
{
    struct cluster *c = s->c;
    const void *proof;
    size_t proof_len;
    const char *csr;
    size_t csr_len;
    struct cluster_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    struct cluster_node *n = &cmd.u.node_add.node;
    bool witness = false;
    if (!s->hello_done || s->prove_sent ||
        transport_body_get_bin(&m->body, "proof", &proof, &proof_len) != 0 ||
        proof_len != CLUSTER_PROOF_LEN ||
        transport_body_get_str(&m->body, "csr", &csr, &csr_len) != 0 || csr_len > 8192 ||
        transport_body_copy_str(&m->body, "name", n->name, sizeof n->name) != 0 ||
        transport_body_copy_str(&m->body, "address", n->address, sizeof n->address) != 0 ||
        transport_body_copy_str(&m->body, "version", n->version, sizeof n->version) != 0 ||
        transport_body_get_bool(&m->body, "witness", &witness) != 0) {
        session_reply_error(s, m->id, SHIR_E_MALFORMED, "bad join.prove");
        return;
    }
    uint8_t exporter[CLUSTER_EXPORTER_LEN];
    struct cluster_proof_input in;
    int rv =
        transport_conn_export(s->conn, CLUSTER_EXPORTER_LABEL, NULL, 0, exporter, sizeof exporter);
    fill_input(s, c, exporter, &in);
    if (rv == 0)
        rv = cluster_proof_server_check(&s->verifier, &in, proof);
    if (rv == 0)
        rv = cluster_proof_server_sign(&s->verifier, &in, s->sig);
    if (rv != 0) {
        SHIR_WARN(&c->log, "join from %s refused: wrong key", transport_conn_remote(s->conn));
        session_reply_error(s, m->id, SHIR_E_AUTH, "the key was not accepted (wrong key?)");
        return;
    }
    s->csr = malloc(csr_len + 1);
    if (!s->csr) {
        session_reply_error(s, m->id, SHIR_E_NOMEM, NULL);
        return;
    }
    memcpy(s->csr, csr, csr_len);
    s->csr[csr_len] = '\0';
    s->csr_len = csr_len;
    cmd.type = CLUSTER_CMD_NODE_ADD;
    rv = transport_pki_csr_pin(s->csr, s->csr_len, n->pin);
    n->role = witness ? CLUSTER_ROLE_WITNESS : CLUSTER_ROLE_SPARE;
    n->registered_ms = cluster__wall_ms();
    cmd.u.node_add.key_slot = s->slot;
    cmd.u.node_add.key_generation = s->generation;
    s->req_id = m->id;
    if (rv == 0)
        rv = cluster__propose(c, &cmd, node_added, s);
    if (rv != 0) {
        session_reply_error(s, m->id, rv, join_error_text(rv));
        return;
    }
    s->prove_sent = true;
    s->in_flight = true;
}

static struct join_session *session_of(struct transport_conn *conn)
{
    return transport_conn_data(conn);
}

static void session_frame(struct transport_conn *conn, const unsigned char *p, size_t n)
{
    struct join_session *s = session_of(conn);
    struct transport_msg m;
    if (transport_msg_decode(&m, NULL, p, n) != 0 || m.type != TRANSPORT_MSG_REQUEST) {
        transport_conn_close(conn);
        transport_msg_free(&m);
        return;
    }
    /* Only the join RPCs exist on this channel: anything else is refused by name. */
    if (transport_msg_method_is(&m, "join.hello"))
        handle_hello(s, &m);
    else if (transport_msg_method_is(&m, "join.prove"))
        handle_prove(s, &m);
    else
        session_reply_error(s, m.id, SHIR_E_DENIED, "only join requests are served here");
    transport_msg_free(&m);
}

static void session_closed(struct transport_conn *conn, int err, const char *msg)
{
    (void)err;
    (void)msg;
    struct join_session *s = session_of(conn);
    struct cluster_join_server *js = s->c->js;
    for (struct join_session **pp = &js->sessions; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    s->conn = NULL;
    if (!s->in_flight)
        session_free(s);
}

void cluster__join_accept(struct cluster *c, struct transport_conn *conn)
{
    struct cluster_join_server *js = js_get(c);
    struct join_session *s = js ? calloc(1, sizeof *s) : NULL;
    if (!s || !c->registered) {
        free(s);
        transport_conn_close(conn);
        return;
    }
    s->c = c;
    s->conn = conn;
    s->next = js->sessions;
    js->sessions = s;
    struct transport_conn_cbs cbs = {
        .frame_cb = session_frame, .close_cb = session_closed, .data = s};
    transport_conn_set_cbs(conn, &cbs);
}

/* ---- the membership queue (leader only) ---------------------------------------------------- */

static void op_pop(struct cluster *c, int status, const char *msg)
{
    struct member_op *op = c->js->queue;
    c->js->queue = op->next;
    c->js->running = false;
    if (op->cb)
        op->cb(op->data, status, msg);
    free(op);
}

static void removal_recorded(struct cluster *c, int status, uint64_t value, void *arg)
{
    (void)value;
    (void)arg;
    struct member_op *op = c->js->queue;
    c->js->running = false;
    if (status == 0) {
        SHIR_INFO(&c->log, "node %llu removed from the runtime", (unsigned long long)op->node_id);
        op_pop(c, 0, NULL);
    }
}

static void role_recorded(struct cluster *c, int status, uint64_t value, void *arg)
{
    (void)value;
    (void)arg;
    struct member_op *op = c->js->queue;
    c->js->running = false;
    if (status == 0) {
        SHIR_INFO(&c->log, "node %llu is now a %s", (unsigned long long)op->node_id,
                  cluster_role_name(op->fsm_role));
        op_pop(c, 0, NULL);
    }
}

static void change_done(struct raft_change *req, int status)
{
    struct cluster *c = req->data;
    struct member_op *op = c->js->queue;
    c->js->running = false;
    if (status == 0) {
        if (op->phase == PHASE_ADD)
            op->phase = PHASE_ASSIGN;
        else if (op->phase == PHASE_ASSIGN)
            op->phase = op->kind == MEMBER_REMOVE ? PHASE_REMOVE : PHASE_RECORD_ROLE;
        else if (op->phase == PHASE_REMOVE)
            op->phase = PHASE_RECORD_REMOVE;
        return;
    }
    /* NOCONNECTION: the new node is still starting; the tick retries until the deadline. */
    SHIR_DEBUG(&c->log, "membership change for node %llu: %s", (unsigned long long)op->node_id,
               raft_strerror(status));
}

/* Voter or standby for a node that joins now (design §1: 3 voters + 1 standby at 4). */
static void decide_role(struct cluster *c, struct member_op *op)
{
    if (op->witness) {
        op->raft_role = RAFT_VOTER;
        op->fsm_role = CLUSTER_ROLE_WITNESS;
        return;
    }
    size_t n, voters = 0, members = 0;
    const struct cluster_node *nodes = cluster_fsm_nodes(c->fsm, &n);
    for (size_t i = 0; i < n; i++) {
        if (nodes[i].state != CLUSTER_NODE_REGISTERED)
            continue;
        members++;
        if (nodes[i].role == CLUSTER_ROLE_VOTER || nodes[i].role == CLUSTER_ROLE_WITNESS)
            voters++;
    }
    bool voter = voters < cluster_roles_target_voters((unsigned)members + 1);
    op->raft_role = voter ? RAFT_VOTER : RAFT_STANDBY;
    op->fsm_role = voter ? CLUSTER_ROLE_VOTER : CLUSTER_ROLE_STANDBY;
}

static bool view_online(const struct cluster_liveness *v, uint64_t id, uint64_t *down_since_ms)
{
    return cluster__member_online(v->data, id, down_since_ms);
}

static int raft_role_of(enum cluster_role r)
{
    return r == CLUSTER_ROLE_STANDBY ? RAFT_STANDBY
           : r == CLUSTER_ROLE_SPARE ? RAFT_SPARE
                                     : RAFT_VOTER;
}

/* With nothing else queued, ask the planner (cluster/roles.h) for the next role change: promote
 * the standby when a voter has been offline past the configured delay, then demote the dead
 * voter, so a 4-node runtime survives a second failure. One change at a time. */
static void plan_step(struct cluster *c)
{
    if (!cluster__leader_ready(c))
        return;
    size_t n;
    const struct cluster_node *nodes = cluster_fsm_nodes(c->fsm, &n);
    struct cluster_liveness view = {.online = view_online, .data = c};
    struct cluster_plan plan;
    if (cluster_roles_plan(nodes, n, c->id.node_id, &cluster_fsm_runtime(c->fsm)->settings, &view,
                           shir_clock_system(), &plan) != 0 ||
        plan.kind != CLUSTER_PLAN_ASSIGN)
        return;
    struct cluster_join_server *js = js_get(c);
    struct member_op *op = js ? calloc(1, sizeof *op) : NULL;
    if (!op)
        return;
    op->kind = MEMBER_ASSIGN;
    op->node_id = plan.node_id;
    op->phase = PHASE_ASSIGN;
    op->fsm_role = plan.to;
    op->raft_role = raft_role_of(plan.to);
    op->started_ms = cluster__wall_ms();
    js->queue = op;
    SHIR_WARN(&c->log, "node %llu: %s -> %s (%s)", (unsigned long long)plan.node_id,
              cluster_role_name(plan.from), cluster_role_name(plan.to), plan.reason);
}

static void member_step(struct cluster *c)
{
    struct cluster_join_server *js = js_get(c);
    if (!js || js->running || !cluster__leader_ready(c))
        return;
    if (!js->queue)
        plan_step(c);
    if (!js->queue)
        return;
    struct member_op *op = js->queue;
    if (cluster__wall_ms() - op->started_ms > MEMBER_OP_TIMEOUT_MS) {
        SHIR_WARN(&c->log, "giving up on the membership change of node %llu after %d s",
                  (unsigned long long)op->node_id, MEMBER_OP_TIMEOUT_MS / 1000);
        op_pop(c, SHIR_E_TIMEOUT, "the membership change did not complete in time");
        return;
    }
    int rv = 0;
    js->change.data = c;
    if (op->phase == PHASE_ADD) {
        rv = raft_add(&c->raft, &js->change, op->node_id, op->address, change_done);
        if (rv == RAFT_DUPLICATEID) { /* a previous leader got this far */
            op->phase = PHASE_ASSIGN;
            return;
        }
    } else if (op->phase == PHASE_ASSIGN) {
        if (op->kind == MEMBER_JOIN) {
            decide_role(c, op);
        } else if (op->kind == MEMBER_ASSIGN) {
            /* planned: raft_role and fsm_role are set */
        } else {
            op->raft_role = RAFT_SPARE;
            /* Already a spare (or never assigned): nothing to demote. */
            const struct raft_server *srv = NULL;
            for (unsigned i = 0; i < c->raft.configuration.n; i++)
                if (c->raft.configuration.servers[i].id == op->node_id)
                    srv = &c->raft.configuration.servers[i];
            if (!srv) {
                op->phase = PHASE_RECORD_REMOVE;
                return;
            }
            if (srv->role == RAFT_SPARE) {
                op->phase = PHASE_REMOVE;
                return;
            }
        }
        rv = raft_assign(&c->raft, &js->change, op->node_id, op->raft_role, change_done);
    } else if (op->phase == PHASE_REMOVE) {
        rv = raft_remove(&c->raft, &js->change, op->node_id, change_done);
        if (rv == RAFT_BADID) {
            op->phase = PHASE_RECORD_REMOVE;
            return;
        }
    } else if (op->phase == PHASE_RECORD_REMOVE) {
        struct cluster_cmd cmd;
        memset(&cmd, 0, sizeof cmd);
        cmd.type = CLUSTER_CMD_NODE_REMOVE;
        cmd.u.node_remove.node_id = op->node_id;
        rv = cluster__propose(c, &cmd, removal_recorded, NULL);
        if (rv == 0)
            js->running = true;
        return;
    } else {
        struct cluster_cmd cmd;
        memset(&cmd, 0, sizeof cmd);
        cmd.type = CLUSTER_CMD_NODE_SET_ROLE;
        cmd.u.node_role.node_id = op->node_id;
        cmd.u.node_role.role = op->fsm_role;
        rv = cluster__propose(c, &cmd, role_recorded, NULL);
        if (rv == 0)
            js->running = true;
        return;
    }
    if (rv == 0)
        js->running = true;
    else if (rv != RAFT_CANTCHANGE)
        SHIR_DEBUG(&c->log, "membership change for node %llu refused: %s",
                   (unsigned long long)op->node_id, raft_strerror(rv));
}

int cluster_node_remove(struct cluster *c, const char *name, cluster_done_cb cb, void *data,
                        char *errbuf, size_t errcap)
{
    if (!c->registered) {
        (void)shir_str_copy(errbuf, errcap, "this node is not registered");
        return SHIR_E_NOTFOUND;
    }
    const struct cluster_node *n = cluster_fsm_node_by_name(c->fsm, name);
    if (!n) {
        (void)shir_str_fmt(errbuf, errcap, "no node named '%s' in this runtime", name);
        return SHIR_E_NOTFOUND;
    }
    if (!cluster__leader_ready(c)) {
        raft_id lid = 0;
        const char *laddr = NULL;
        if (c->raft_started)
            raft_leader(&c->raft, &lid, &laddr);
        const struct cluster_node *l = lid ? cluster_fsm_node(c->fsm, lid) : NULL;
        (void)shir_str_fmt(errbuf, errcap, "run this on the leader%s%s%s",
                           l ? " (" : " (there is none right now)", l ? l->name : "", l ? ")" : "");
        return SHIR_E_NOLEADER;
    }
    if (n->id == c->id.node_id) {
        (void)shir_str_copy(errbuf, errcap,
                            "this node is the leader; remove it from another node after stopping "
                            "it, or stop it and let the others elect a new leader first");
        return SHIR_E_BUSY;
    }
    struct cluster_join_server *js = js_get(c);
    struct member_op *op = js ? calloc(1, sizeof *op) : NULL;
    if (!op)
        return SHIR_E_NOMEM;
    op->kind = MEMBER_REMOVE;
    op->node_id = n->id;
    op->phase = PHASE_ASSIGN;
    op->started_ms = cluster__wall_ms();
    op->cb = cb;
    op->data = data;
    struct member_op **pp = &js->queue;
    while (*pp)
        pp = &(*pp)->next;
    *pp = op;
    SHIR_INFO(&c->log, "removing node '%s' (id %llu)", n->name, (unsigned long long)n->id);
    return 0;
}

/* ============================== shared ====================================================== */

void cluster__join_tick(struct cluster *c)
{
    member_step(c);
    cluster__join_client_tick(c);
}

void cluster__join_close(struct cluster *c)
{
    cluster__join_client_close(c);
    struct cluster_join_server *js = c->js;
    if (js) {
        for (struct join_session *s = js->sessions; s; s = s->next)
            if (s->conn)
                transport_conn_close(s->conn);
        while (js->queue) {
            struct member_op *op = js->queue;
            js->queue = op->next;
            if (op->cb)
                op->cb(op->data, SHIR_E_SHUTDOWN, "the agent is shutting down");
            free(op);
        }
    }
}
