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

#define JOIN_TIMEOUT_MS 15000
#define JOIN_MAX_REDIRECTS 3
/* How long the leader keeps retrying to promote a node that does not answer yet. */
#define MEMBER_OP_TIMEOUT_MS 60000
#define CERT_DAYS 3650

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

static int pack_bin(msgpack_packer *pk, const char *k, const void *p, size_t n)
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
    rv |= pack_bin(pk, "sig", cr->s->sig, CLUSTER_PROOF_LEN);
    rv |= transport_pack_cstr(pk, "node_id");
    rv |= msgpack_pack_uint64(pk, cr->node_id);
    rv |= transport_pack_cstr(pk, "cert");
    rv |= transport_pack_cstr(pk, cr->cert);
    rv |= transport_pack_cstr(pk, "ca");
    rv |= transport_pack_cstr(pk, c->id.ca_pem);
    rv |= pack_bin(pk, "ca_key", c->id.ca_key_pem.bytes, c->id.ca_key_pem.len);
    rv |= pack_bin(pk, "data_secret", c->id.data_secret, CLUSTER_DATA_SECRET_LEN);
    rv |= transport_pack_cstr(pk, "members");
    rv |= msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++) {
        rv |= msgpack_pack_map(pk, 3);
        rv |= transport_pack_cstr(pk, "id");
        rv |= msgpack_pack_uint64(pk, nodes[i].id);
        rv |= transport_pack_cstr(pk, "address");
        rv |= transport_pack_cstr(pk, nodes[i].address);
        rv |= pack_bin(pk, "pin", nodes[i].pin, CLUSTER_PIN_LEN);
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
    case SHIR_E_EXISTS: return "a node with this name or certificate is already registered";
    case SHIR_E_FULL: return "the runtime is full (its node limit is reached)";
    case SHIR_E_STALE: return "this key was regenerated; get the current one with 'shir keys show'";
    case SHIR_E_NOLEADER: return "the member lost leadership; try again";
    default: return shir_strerror(status);
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
                                    s->csr_len, value, n ? n->name : "node", CERT_DAYS, &cr.cert,
                                    &cr.cert_len);
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
    int rv = transport_conn_export(s->conn, CLUSTER_EXPORTER_LABEL, NULL, 0, exporter,
                                   sizeof exporter);
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
    return cluster__probe_online(v->data, id, down_since_ms);
}

static int raft_role_of(enum cluster_role r)
{
    return r == CLUSTER_ROLE_STANDBY ? RAFT_STANDBY : r == CLUSTER_ROLE_SPARE ? RAFT_SPARE
                                                                            : RAFT_VOTER;
}

/* With nothing else queued, ask the planner (cluster/roles.h) for the next role change: promote
 * the standby when a voter has been offline past the configured delay, then demote the dead
 * voter, so a 4-node runtime survives a second failure. One change at a time. */
static void plan_step(struct cluster *c)
{
    if (!cluster__probing(c))
        return;
    size_t n;
    const struct cluster_node *nodes = cluster_fsm_nodes(c->fsm, &n);
    struct cluster_liveness view = {.online = view_online, .data = c};
    struct cluster_plan plan;
    if (cluster_roles_plan(nodes, n, c->id.node_id, &cluster_fsm_runtime(c->fsm)->settings,
                           &view, shir_clock_system(), &plan) != 0 ||
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
                           l ? " (" : " (there is none right now)", l ? l->name : "",
                           l ? ")" : "");
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

/* ============================== client side (the joiner) ===================================== */

struct cluster_join_client {
    struct cluster *c;
    struct cluster_key key;
    char addrs[CLUSTER_KEY_MAX_ADDRS + 1][CLUSTER_ADDR_MAX + 1];
    unsigned n_addrs, next;
    unsigned redirects;
    struct transport_tls *tls;
    struct transport_conn *conn;
    uint8_t client_nonce[CLUSTER_NONCE_LEN], server_nonce[CLUSTER_NONCE_LEN];
    struct shir_secret key_pem;
    char *csr;
    size_t csr_len;
    char node_name[CLUSTER_NAME_MAX + 1];
    cluster_done_cb cb;
    void *data;
    int stage; /* 0 hello sent, 1 prove sent, 2 credentials saved, waiting for the role */
    uint64_t wait_deadline;
    char last_err[1024];
    bool done;
};

static void jc_free(struct cluster_join_client *j)
{
    if (!j)
        return;
    cluster_key_wipe(&j->key);
    shir_secret_free(&j->key_pem);
    free(j->csr);
    transport_tls_free(j->tls);
    shir_wipe(j, sizeof *j);
    free(j);
}

/* Report once; the object is freed when its connection is gone. */
static void jc_finish(struct cluster_join_client *j, int status, const char *msg)
{
    if (j->done)
        return;
    j->done = true;
    if (status != 0)
        SHIR_WARN(&j->c->log, "join failed: %s", msg);
    if (j->cb)
        j->cb(j->data, status, msg);
    if (j->conn)
        transport_conn_close(j->conn);
    else if (j->stage < 2) {
        j->c->joining = NULL;
        jc_free(j);
    }
}

static void jc_dial_next(struct cluster_join_client *j);

static int jc_send(struct cluster_join_client *j, const char *method, transport_body_pack_cb pack,
                   void *arg)
{
    struct shir_buf out;
    shir_buf_init(&out, 1u << 16);
    int rv = transport_msg_encode_request(&out, 0, (uint64_t)j->stage + 1, JOIN_TIMEOUT_MS, method,
                                          pack, arg);
    if (rv == 0)
        rv = transport_conn_write(j->conn, out.data + 4, out.len - 4);
    shir_buf_free(&out);
    return rv;
}

static int pack_hello(msgpack_packer *pk, void *arg)
{
    const struct cluster_join_client *j = arg;
    int rv = msgpack_pack_map(pk, 4);
    rv |= pack_bin(pk, "runtime_id", j->key.runtime_id, CLUSTER_RUNTIME_ID_LEN);
    rv |= transport_pack_cstr(pk, "slot");
    rv |= msgpack_pack_uint64(pk, j->key.slot);
    rv |= transport_pack_cstr(pk, "generation");
    rv |= msgpack_pack_uint64(pk, j->key.generation);
    rv |= pack_bin(pk, "client_nonce", j->client_nonce, CLUSTER_NONCE_LEN);
    return rv ? SHIR_E_NOMEM : 0;
}

struct prove_arg {
    const struct cluster_join_client *j;
    uint8_t proof[CLUSTER_PROOF_LEN];
};

static int pack_prove(msgpack_packer *pk, void *arg)
{
    const struct prove_arg *a = arg;
    const struct cluster_join_client *j = a->j;
    int rv = msgpack_pack_map(pk, 6);
    rv |= pack_bin(pk, "proof", a->proof, CLUSTER_PROOF_LEN);
    rv |= transport_pack_cstr(pk, "csr");
    rv |= transport_pack_cstr(pk, j->csr);
    rv |= transport_pack_cstr(pk, "name");
    rv |= transport_pack_cstr(pk, j->node_name);
    rv |= transport_pack_cstr(pk, "address");
    rv |= transport_pack_cstr(pk, j->c->advertise);
    rv |= transport_pack_cstr(pk, "witness");
    rv |= j->c->witness ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    rv |= transport_pack_cstr(pk, "version");
    rv |= transport_pack_cstr(pk, SHIR_VERSION_STRING);
    return rv ? SHIR_E_NOMEM : 0;
}

static void jc_input(const struct cluster_join_client *j, const uint8_t *exporter,
                     struct cluster_proof_input *in)
{
    memset(in, 0, sizeof *in);
    in->runtime_id = j->key.runtime_id;
    in->slot = j->key.slot;
    in->generation = j->key.generation;
    in->server_nonce = j->server_nonce;
    in->client_nonce = j->client_nonce;
    in->exporter = exporter;
    in->exporter_len = CLUSTER_EXPORTER_LEN;
}

static char *copy_text(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* Credentials arrived: check the leader's signature and the certificate, save, start. */
static int jc_accept_creds(struct cluster_join_client *j, const msgpack_object *body,
                           const uint8_t *exporter, char *err, size_t errcap)
{
    struct cluster *c = j->c;
    const void *sig, *ca_key, *ds;
    size_t sig_len, ca_key_len, ds_len;
    const char *cert, *ca;
    size_t cert_len, ca_len;
    uint64_t node_id;
    const msgpack_object_array *members;
    struct cluster_proof_input in;
    if (transport_body_get_bin(body, "sig", &sig, &sig_len) != 0 || sig_len != CLUSTER_PROOF_LEN ||
        transport_body_get_u64(body, "node_id", &node_id) != 0 || node_id == 0 ||
        transport_body_get_str(body, "cert", &cert, &cert_len) != 0 ||
        transport_body_get_str(body, "ca", &ca, &ca_len) != 0 ||
        transport_body_get_bin(body, "ca_key", &ca_key, &ca_key_len) != 0 ||
        transport_body_get_bin(body, "data_secret", &ds, &ds_len) != 0 ||
        ds_len != CLUSTER_DATA_SECRET_LEN ||
        transport_body_get_array(body, "members", &members) != 0) {
        (void)shir_str_copy(err, errcap, "the member sent malformed credentials");
        return SHIR_E_MALFORMED;
    }
    jc_input(j, exporter, &in);
    if (cluster_proof_client_check(j->key.secret, &in, sig) != 0) {
        (void)shir_str_copy(err, errcap, "the member could not prove it knows the key");
        return SHIR_E_AUTH;
    }
    struct cluster_identity id;
    memset(&id, 0, sizeof id);
    id.node_id = node_id;
    /* msgpack strings are not NUL-terminated: copy by length (strndup may read past them). */
    id.ca_pem = copy_text(ca, ca_len);
    id.ca_pem_len = ca_len;
    id.cert_pem = copy_text(cert, cert_len);
    id.cert_pem_len = cert_len;
    memcpy(id.data_secret, ds, CLUSTER_DATA_SECRET_LEN);
    int rv = id.ca_pem && id.cert_pem ? 0 : SHIR_E_NOMEM;
    if (rv == 0)
        rv = shir_secret_set(&id.key_pem, j->key_pem.bytes, j->key_pem.len);
    if (rv == 0 && ca_key_len > 0)
        rv = shir_secret_set(&id.ca_key_pem, ca_key, ca_key_len);
    uint8_t want[CLUSTER_PIN_LEN], got[CLUSTER_PIN_LEN];
    if (rv == 0 && (transport_pki_csr_pin(j->csr, j->csr_len, want) != 0 ||
                    transport_pki_cert_pin(id.cert_pem, id.cert_pem_len, got) != 0 ||
                    memcmp(want, got, CLUSTER_PIN_LEN) != 0 ||
                    transport_pki_cert_pin(id.ca_pem, id.ca_pem_len, got) != 0 ||
                    memcmp(got, j->key.ca_pin, CLUSTER_PIN_LEN) != 0))
        rv = SHIR_E_AUTH;
    if (rv == 0) {
        c->boot = calloc(members->size ? members->size : 1, sizeof *c->boot);
        rv = c->boot ? 0 : SHIR_E_NOMEM;
        for (uint32_t i = 0; rv == 0 && i < members->size; i++) {
            const msgpack_object *o = &members->ptr[i];
            struct cluster_boot_member *b = &c->boot[c->n_boot];
            const void *pin;
            size_t pin_len;
            if (transport_body_get_u64(o, "id", &b->id) == 0 &&
                transport_body_copy_str(o, "address", b->address, sizeof b->address) == 0 &&
                transport_body_get_bin(o, "pin", &pin, &pin_len) == 0 &&
                pin_len == CLUSTER_PIN_LEN) {
                memcpy(b->pin, pin, CLUSTER_PIN_LEN);
                c->n_boot++;
            }
        }
    }
    if (rv == 0)
        rv = cluster_identity_save(c->data_dir, &id);
    if (rv != 0) {
        (void)shir_str_fmt(err, errcap, "cannot accept the credentials: %s", shir_strerror(rv));
        cluster_identity_free(&id);
        return rv;
    }
    c->id = id; /* moved */
    c->registered = true;
    rv = cluster__start_node(c, false, err, errcap);
    return rv;
}

static void jc_frame(struct transport_conn *conn, const unsigned char *p, size_t n)
{
    struct cluster_join_client *j = transport_conn_data(conn);
    struct transport_msg m;
    char err[256] = "";
    int rv = transport_msg_decode(&m, NULL, p, n);
    if (rv != 0) {
        jc_finish(j, rv, "the member sent a malformed reply");
        goto out;
    }
    if (m.type == TRANSPORT_MSG_ERROR) {
        (void)shir_str_fmt(err, sizeof err, "%.*s", (int)m.message_len, m.message);
        jc_finish(j, m.code, err);
        goto out;
    }
    if (m.type != TRANSPORT_MSG_RESPONSE) {
        jc_finish(j, SHIR_E_PROTO, "unexpected message from the member");
        goto out;
    }
    if (j->stage == 0) {
        char leader[CLUSTER_ADDR_MAX + 1];
        if (transport_body_copy_str(&m.body, "leader", leader, sizeof leader) == 0) {
            if (++j->redirects > JOIN_MAX_REDIRECTS) {
                jc_finish(j, SHIR_E_NOLEADER, "the members keep pointing elsewhere for a leader");
                goto out;
            }
            /* Try the leader next; the current connection closes. */
            (void)shir_str_copy(j->addrs[j->n_addrs < CLUSTER_KEY_MAX_ADDRS + 1 ? j->n_addrs++
                                                                              : j->n_addrs - 1],
                                sizeof j->addrs[0], leader);
            j->next = j->n_addrs - 1;
            transport_conn_close(conn);
            goto out;
        }
        const void *sn;
        size_t sn_len;
        if (transport_body_get_bin(&m.body, "server_nonce", &sn, &sn_len) != 0 ||
            sn_len != CLUSTER_NONCE_LEN) {
            jc_finish(j, SHIR_E_PROTO, "the member sent a malformed hello reply");
            goto out;
        }
        memcpy(j->server_nonce, sn, CLUSTER_NONCE_LEN);
        uint8_t exporter[CLUSTER_EXPORTER_LEN];
        struct cluster_proof_input in;
        struct prove_arg pa = {.j = j};
        rv = transport_conn_export(conn, CLUSTER_EXPORTER_LABEL, NULL, 0, exporter,
                                   sizeof exporter);
        jc_input(j, exporter, &in);
        if (rv == 0)
            rv = cluster_proof_client_make(j->key.secret, &in, pa.proof);
        j->stage = 1;
        if (rv == 0)
            rv = jc_send(j, "join.prove", pack_prove, &pa);
        if (rv != 0)
            jc_finish(j, rv, "cannot send the proof");
        goto out;
    }
    if (j->stage == 1) {
        uint8_t exporter[CLUSTER_EXPORTER_LEN];
        rv = transport_conn_export(conn, CLUSTER_EXPORTER_LABEL, NULL, 0, exporter,
                                   sizeof exporter);
        if (rv == 0)
            rv = jc_accept_creds(j, &m.body, exporter, err, sizeof err);
        if (rv != 0) {
            jc_finish(j, rv, err[0] ? err : shir_strerror(rv));
            goto out;
        }
        j->stage = 2;
        j->wait_deadline = cluster__wall_ms() + MEMBER_OP_TIMEOUT_MS;
        SHIR_INFO(&j->c->log, "registered as node %llu; waiting for the leader to add it to raft",
                  (unsigned long long)j->c->id.node_id);
        transport_conn_close(conn);
    }
out:
    transport_msg_free(&m);
}

static void jc_closed(struct transport_conn *conn, int err, const char *msg)
{
    struct cluster_join_client *j = transport_conn_data(conn);
    j->conn = NULL;
    if (j->done) {
        if (j->stage < 2 || j->c->joining != j) {
            if (j->c->joining == j)
                j->c->joining = NULL;
            jc_free(j);
        }
        return;
    }
    if (j->stage >= 2)
        return; /* credentials saved; the tick finishes */
    if (j->redirects > 0 && j->stage == 0 && err == 0) {
        jc_dial_next(j); /* redirected to the leader */
        return;
    }
    (void)shir_str_fmt(j->last_err, sizeof j->last_err, "%s", msg ? msg : shir_strerror(err));
    jc_finish(j, err ? err : SHIR_E_CLOSED, j->last_err);
}

static void jc_connected(struct transport_conn *conn, int status, const char *msg, void *data)
{
    struct cluster_join_client *j = data;
    if (status != 0) {
        j->conn = NULL;
        /* Keep every address's reason: a CA pin mismatch on one must not be hidden behind a
         * refused connection on the next. */
        size_t used = strlen(j->last_err);
        (void)shir_str_fmt(j->last_err + used, sizeof j->last_err - used, "%s%s: %s",
                           used ? "; " : "", j->addrs[j->next - 1],
                           msg ? msg : shir_strerror(status));
        if (j->next < j->n_addrs) {
            jc_dial_next(j);
            return;
        }
        char out[1200];
        (void)shir_str_fmt(out, sizeof out,
                           "no member of the runtime could be reached (%s); is the address "
                           "right (--peer HOST:PORT) and the port open?",
                           j->last_err);
        jc_finish(j, SHIR_E_UNAVAILABLE, out);
        return;
    }
    j->conn = conn;
    struct transport_conn_cbs cbs = {.frame_cb = jc_frame, .close_cb = jc_closed, .data = j};
    transport_conn_set_cbs(conn, &cbs);
    j->stage = 0;
    if (shir_random_fill(&j->c->rnd, j->client_nonce, CLUSTER_NONCE_LEN) != 0 ||
        jc_send(j, "join.hello", pack_hello, j) != 0)
        jc_finish(j, SHIR_E_IO, "cannot send the hello");
}

static void jc_dial_next(struct cluster_join_client *j)
{
    char host[CLUSTER_ADDR_MAX + 1];
    uint16_t port;
    while (j->next < j->n_addrs) {
        const char *addr = j->addrs[j->next++];
        if (cluster__split_hostport(addr, host, sizeof host, &port) != 0)
            continue;
        struct transport_dial_config dc = {
            .tls = j->tls,
            .host = host,
            .port = port,
            .channel = TRANSPORT_CH_JOIN,
            .timeout_ms = JOIN_TIMEOUT_MS,
            .connect_cb = jc_connected,
            .data = j,
        };
        struct transport_conn *conn;
        if (transport_dial(j->c->loop, &dc, &conn) == 0) {
            j->conn = conn;
            return;
        }
    }
    jc_finish(j, SHIR_E_UNAVAILABLE, "no usable member address (give one with --peer HOST:PORT)");
}

int cluster_join(struct cluster *c, const char *key_text, const char *peer, const char *node_name,
                 cluster_done_cb cb, void *data, char *errbuf, size_t errcap)
{
    if (c->registered) {
        (void)shir_str_copy(errbuf, errcap, "this node is already registered in a runtime");
        return SHIR_E_EXISTS;
    }
    if (c->joining || c->init.active) {
        (void)shir_str_copy(errbuf, errcap, "a registration is already under way on this node");
        return SHIR_E_BUSY;
    }
    struct cluster_join_client *j = calloc(1, sizeof *j);
    if (!j)
        return SHIR_E_NOMEM;
    j->c = c;
    j->cb = cb;
    j->data = data;
    struct cluster_key_diag diag;
    int rv = cluster_key_decode(key_text, strlen(key_text), &j->key, &diag);
    if (rv != 0) {
        (void)shir_str_fmt(errbuf, errcap, "bad key: %s", diag.msg);
        goto err;
    }
    (void)shir_str_copy(j->node_name, sizeof j->node_name, node_name ? node_name : c->node_name);
    if (peer)
        (void)shir_str_copy(j->addrs[j->n_addrs++], sizeof j->addrs[0], peer);
    for (unsigned i = 0; i < j->key.n_addrs; i++)
        (void)shir_str_copy(j->addrs[j->n_addrs++], sizeof j->addrs[0], j->key.addrs[i]);
    if (j->n_addrs == 0) {
        rv = SHIR_E_INVAL;
        (void)shir_str_copy(errbuf, errcap, "the key lists no member address: give --peer HOST:PORT");
        goto err;
    }
    struct transport_tls_config tc = {.join_client = true, .log = &c->log};
    memcpy(tc.ca_pin, j->key.ca_pin, CLUSTER_PIN_LEN);
    if ((rv = transport_tls_new(&tc, &j->tls)) != 0 ||
        (rv = transport_pki_key_create(&j->key_pem)) != 0 ||
        (rv = transport_pki_csr_create(&j->key_pem, j->node_name, &j->csr, &j->csr_len)) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "cannot prepare the join: %s", shir_strerror(rv));
        goto err;
    }
    if (node_name) {
        char *copy = strdup(node_name);
        if (!copy) {
            rv = SHIR_E_NOMEM;
            goto err;
        }
        free(c->node_name);
        c->node_name = copy;
    }
    c->joining = j;
    jc_dial_next(j);
    return 0;
err:
    jc_free(j);
    return rv;
}

/* ============================== shared ====================================================== */

void cluster__join_tick(struct cluster *c)
{
    member_step(c);
    struct cluster_join_client *j = c->joining;
    if (!j || j->stage < 2 || j->done)
        return;
    const struct cluster_node *me = cluster_fsm_node(c->fsm, c->id.node_id);
    if (me && me->state == CLUSTER_NODE_REGISTERED) {
        SHIR_INFO(&c->log, "joined runtime '%s' as a %s", cluster_fsm_runtime(c->fsm)->name,
                  cluster_role_name(me->role));
        jc_finish(j, 0, NULL);
        if (!j->conn) {
            c->joining = NULL;
            jc_free(j);
        }
    } else if (cluster__wall_ms() > j->wait_deadline) {
        jc_finish(j, SHIR_E_TIMEOUT,
                  "registered, but the leader has not added this node to raft yet; it will keep "
                  "trying (see 'shir status')");
        if (!j->conn) {
            c->joining = NULL;
            jc_free(j);
        }
    }
}

void cluster__join_close(struct cluster *c)
{
    struct cluster_join_client *j = c->joining;
    if (j) {
        jc_finish(j, SHIR_E_SHUTDOWN, "the agent is shutting down");
        if (j->conn)
            transport_conn_close(j->conn);
    }
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
