/* Registration, the member's side of shir-join/1 (the wire is drawn in join_server.h): check the
 * joiner's proof of the key, commit NODE_ADD, sign its certificate and hand over the runtime's
 * credentials, then queue the node for raft (members.h).
 *
 * Anyone on the network can open this channel, so a session gets one join.hello and one
 * join.prove, and any refusal closes it. The port caps sessions per address and in all and
 * closes one not marked trusted (a valid proof) 10 s after accept (port.c sets that policy);
 * failed proofs back off per address (common.h's shir_backoff, numbers in docs/security.md,
 * "Join attempts"), and the lines a refusal logs are rate-limited. */
#include "cluster/join_server.h"

#include <stdlib.h>
#include <string.h>

/* Source addresses whose failed proofs are remembered at once (~56 KiB). */
#define JOIN_BACKOFF_SLOTS 512

struct join_session {
    struct cluster_join_server *js;
    struct transport_conn *conn;
    bool hello_done;
    bool hello_seen, prove_seen; /* one of each per session, whatever the outcome */
    bool in_flight;   /* our NODE_ADD proposal has not completed: node_added owns the session */
    uint64_t node_id; /* the node this session registered (credentials sent), or 0 */
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

struct cluster_join_server {
    struct cluster_env *env;
    struct cluster_rnode *rn;
    struct cluster_propose *prop;
    struct cluster_members *members;
    struct join_session *sessions;
    struct shir_backoff backoff; /* failed proofs per source address */
    struct shir_backoff_entry backoff_slots[JOIN_BACKOFF_SLOTS];
};

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

/* Answer with an error and end the session (the reply goes out before the close). */
static void session_refuse(struct join_session *s, uint64_t id, int code, const char *msg)
{
    session_reply_error(s, id, code, msg);
    transport_conn_close(s->conn);
}

/* Refuse the request when this session's address is backing off after failed proofs. */
static bool session_backed_off(struct join_session *s, uint64_t id)
{
    const struct transport_source *src = transport_conn_source(s->conn);
    uint64_t wait = shir_backoff_wait(&s->js->backoff, src->key, sizeof src->key);
    if (wait == 0)
        return false;
    char msg[160];
    (void)shir_str_fmt(msg, sizeof msg, "too many failed join attempts from %s; retry in %llu s",
                       src->text, (unsigned long long)((wait + 999) / 1000));
    SHIR_INFO_LIMITED(&s->js->env->log, "join from %s refused: %s",
                      transport_conn_remote(s->conn), msg);
    session_refuse(s, id, SHIR_E_BACKOFF, msg);
    return true;
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

static int pack_creds(msgpack_packer *pk, void *arg)
{
    const struct creds *cr = arg;
    const struct cluster_env *env = cr->s->js->env;
    size_t n;
    const struct cluster_node *nodes = cluster_fsm_nodes(env->fsm, &n);
    int rv = msgpack_pack_map(pk, 7);
    rv |= transport_pack_kv_bin(pk, "sig", cr->s->sig, CLUSTER_PROOF_LEN);
    rv |= transport_pack_cstr(pk, "node_id");
    rv |= msgpack_pack_uint64(pk, cr->node_id);
    rv |= transport_pack_cstr(pk, "cert");
    rv |= transport_pack_cstr(pk, cr->cert);
    rv |= transport_pack_cstr(pk, "ca");
    rv |= transport_pack_cstr(pk, env->id.ca_pem);
    rv |= transport_pack_kv_bin(pk, "ca_key", env->id.ca_key_pem.bytes, env->id.ca_key_pem.len);
    rv |= transport_pack_kv_bin(pk, "data_secret", env->id.data_secret, CLUSTER_DATA_SECRET_LEN);
    rv |= transport_pack_cstr(pk, "members");
    rv |= msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++) {
        rv |= msgpack_pack_map(pk, 3);
        rv |= transport_pack_cstr(pk, "id");
        rv |= msgpack_pack_uint64(pk, nodes[i].id);
        rv |= transport_pack_cstr(pk, "address");
        rv |= transport_pack_cstr(pk, nodes[i].address);
        rv |= transport_pack_kv_bin(pk, "pin", nodes[i].pin, CLUSTER_PIN_LEN);
    }
    return rv ? SHIR_E_NOMEM : 0;
}

static void fill_input(const struct join_session *s, uint8_t *exporter,
                       struct cluster_proof_input *in)
{
    memset(in, 0, sizeof *in);
    in->runtime_id = cluster_fsm_runtime(s->js->env->fsm)->id; /* ours, never the joiner's claim */
    in->slot = s->slot;
    in->generation = s->generation;
    in->server_nonce = s->server_nonce;
    in->client_nonce = s->client_nonce;
    in->exporter = exporter;
    in->exporter_len = CLUSTER_EXPORTER_LEN;
}

/* Why a join is refused, pointing at the fix. `buf` holds the text FULL builds: the limit and
 * the setting that raises it (issue 12, defect 7: "full" alone left operators guessing). */
static const char *join_error_text(const struct cluster_join_server *js, int status, char *buf,
                                   size_t cap)
{
    switch (status) {
    case SHIR_E_EXISTS:
        return "a node with this name or certificate is already registered";
    case SHIR_E_FULL: {
        size_t n, scan = 0;
        const struct cluster_node *nodes = cluster_fsm_nodes(js->env->fsm, &n);
        for (size_t i = 0; i < n; i++)
            scan += nodes[i].role != CLUSTER_ROLE_WITNESS;
        uint32_t max = cluster_fsm_runtime(js->env->fsm)->settings.max_nodes;
        if (scan < max) /* not the scan-node limit: the one witness slot (or the table) */
            (void)shir_str_fmt(buf, cap,
                               "the runtime is full: it already has a witness (one at most) or "
                               "%d members (the most it can hold)",
                               CLUSTER_FSM_NODES_CAP);
        else
            (void)shir_str_fmt(buf, cap,
                               "the runtime is full: it has %zu nodes and its limit (max nodes) "
                               "is %u; raise it with 'shir settings set --max-nodes N' on a "
                               "member",
                               scan, max);
        return buf;
    }
    case SHIR_E_STALE:
        return "this key was regenerated; get the current one with 'shir keys show'";
    case SHIR_E_NOLEADER:
        return "the member lost leadership; try again";
    default:
        return shir_strerror(status);
    }
}

static void node_added(void *arg, int status, uint64_t value)
{
    struct join_session *s = arg;
    const struct cluster_env *env = s->js->env;
    s->in_flight = false;
    if (s->conn == NULL) { /* the joiner hung up meanwhile: it has no certificate, and never will */
        if (status == 0)
            cluster__members_abandon(s->js->members, value,
                                     "its joiner hung up before it got its credentials");
        session_free(s);
        return;
    }
    if (status != 0) {
        char why[200];
        session_reply_error(s, s->req_id, status, join_error_text(s->js, status, why, sizeof why));
        return;
    }
    struct creds cr = {.s = s, .node_id = value};
    const struct cluster_node *n = cluster_fsm_node(env->fsm, value);
    int rv = transport_pki_csr_sign(env->id.ca_pem, env->id.ca_pem_len, &env->id.ca_key_pem, s->csr,
                                    s->csr_len, value, n ? n->name : "node", CLUSTER__CERT_DAYS,
                                    &cr.cert, &cr.cert_len);
    if (rv != 0) {
        session_reply_error(s, s->req_id, rv, "signing the certificate failed");
        return;
    }
    session_reply(s, s->req_id, pack_creds, &cr);
    free(cr.cert);
    s->node_id = value;
    if (n) {
        SHIR_INFO(&s->js->env->log, "node '%s' (id %llu, %s) registered; adding it to raft",
                  n->name, (unsigned long long)value, n->address);
        cluster__members_queue_join(s->js->members, value, n->address,
                                    n->role == CLUSTER_ROLE_WITNESS);
    }
}

static void handle_hello(struct join_session *s, const struct transport_msg *m)
{
    struct cluster_join_server *js = s->js;
    const void *rid, *cn;
    size_t rid_len, cn_len;
    uint64_t slot, gen;
    if (s->hello_seen) {
        session_refuse(s, m->id, SHIR_E_PROTO, "one join.hello per session");
        return;
    }
    s->hello_seen = true;
    if (session_backed_off(s, m->id))
        return;
    if (transport_body_get_bin(&m->body, "runtime_id", &rid, &rid_len) != 0 ||
        transport_body_get_bin(&m->body, "client_nonce", &cn, &cn_len) != 0 ||
        transport_body_get_u64(&m->body, "slot", &slot) != 0 ||
        transport_body_get_u64(&m->body, "generation", &gen) != 0 ||
        rid_len != CLUSTER_RUNTIME_ID_LEN || cn_len != CLUSTER_NONCE_LEN || gen > UINT32_MAX) {
        session_refuse(s, m->id, SHIR_E_MALFORMED, "bad join.hello");
        return;
    }
    if (!cluster__rnode_ready(js->rn)) {
        const char *laddr = cluster__rnode_other_leader(js->rn);
        if (laddr)
            session_reply(s, m->id, pack_redirect, (void *)(uintptr_t)laddr);
        else
            session_refuse(s, m->id, SHIR_E_NOLEADER,
                           "the runtime has no leader right now (no quorum); try again");
        return;
    }
    const struct cluster_runtime *rt = cluster_fsm_runtime(js->env->fsm);
    if (memcmp(rt->id, rid, CLUSTER_RUNTIME_ID_LEN) != 0) {
        session_refuse(s, m->id, SHIR_E_AUTH, "this key belongs to another runtime");
        return;
    }
    int rv = cluster_fsm_key_check(js->env->fsm, (uint8_t)slot, (uint32_t)gen, &s->verifier);
    if (rv != 0) {
        char why[200];
        session_refuse(s, m->id, rv, join_error_text(js, rv, why, sizeof why));
        return;
    }
    s->slot = (uint8_t)slot;
    s->generation = (uint32_t)gen;
    memcpy(s->client_nonce, cn, CLUSTER_NONCE_LEN);
    if (shir_random_fill(&js->env->rnd, s->server_nonce, CLUSTER_NONCE_LEN) != 0) {
        session_refuse(s, m->id, SHIR_E_RANDOM, "random source failed");
        return;
    }
    s->hello_done = true;
    session_reply(s, m->id, pack_nonce, s);
}

static void handle_prove(struct join_session *s, const struct transport_msg *m)
{
    struct cluster_join_server *js = s->js;
    const void *proof;
    size_t proof_len;
    const char *csr;
    size_t csr_len;
    struct cluster_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    struct cluster_node *n = &cmd.u.node_add.node;
    bool witness = false;
    if (!s->hello_done || s->prove_seen) {
        session_refuse(s, m->id, SHIR_E_PROTO, "one join.prove per session, after join.hello");
        return;
    }
    s->prove_seen = true;
    if (session_backed_off(s, m->id))
        return;
    if (transport_body_get_bin(&m->body, "proof", &proof, &proof_len) != 0 ||
        proof_len != CLUSTER_PROOF_LEN ||
        transport_body_get_str(&m->body, "csr", &csr, &csr_len) != 0 || csr_len > 8192 ||
        transport_body_copy_str(&m->body, "name", n->name, sizeof n->name) != 0 ||
        transport_body_copy_str(&m->body, "address", n->address, sizeof n->address) != 0 ||
        transport_body_copy_str(&m->body, "version", n->version, sizeof n->version) != 0 ||
        transport_body_get_bool(&m->body, "witness", &witness) != 0) {
        session_refuse(s, m->id, SHIR_E_MALFORMED, "bad join.prove");
        return;
    }
    uint8_t exporter[CLUSTER_EXPORTER_LEN];
    struct cluster_proof_input in;
    int rv =
        transport_conn_export(s->conn, CLUSTER_EXPORTER_LABEL, NULL, 0, exporter, sizeof exporter);
    fill_input(s, exporter, &in);
    if (rv == 0)
        rv = cluster_proof_server_check(&s->verifier, &in, proof);
    if (rv == 0)
        rv = cluster_proof_server_sign(&s->verifier, &in, s->sig);
    const struct transport_source *src = transport_conn_source(s->conn);
    if (rv != 0) {
        uint64_t wait = shir_backoff_fail(&js->backoff, src->key, sizeof src->key);
        SHIR_WARN_LIMITED(&js->env->log, "join from %s refused: wrong key",
                          transport_conn_remote(s->conn));
        char msg[200] = "the key was not accepted (wrong key?)";
        if (wait)
            (void)shir_str_fmt(msg, sizeof msg,
                               "the key was not accepted (wrong key?); too many failed join "
                               "attempts from %s: retry in %llu s",
                               src->text, (unsigned long long)((wait + 999) / 1000));
        session_refuse(s, m->id, SHIR_E_AUTH, msg);
        return;
    }
    shir_backoff_forget(&js->backoff, src->key, sizeof src->key);
    transport_conn_set_trusted(s->conn); /* a member-to-be: no deadline, no cap from now on */
    s->csr = malloc(csr_len + 1);
    if (!s->csr) {
        session_refuse(s, m->id, SHIR_E_NOMEM, NULL);
        return;
    }
    memcpy(s->csr, csr, csr_len);
    s->csr[csr_len] = '\0';
    s->csr_len = csr_len;
    cmd.type = CLUSTER_CMD_NODE_ADD;
    rv = transport_pki_csr_pin(s->csr, s->csr_len, n->pin);
    n->role = witness ? CLUSTER_ROLE_WITNESS : CLUSTER_ROLE_SPARE;
    n->registered_ms = shir_wall_ms();
    cmd.u.node_add.key_slot = s->slot;
    cmd.u.node_add.key_generation = s->generation;
    s->req_id = m->id;
    if (rv == 0)
        rv = cluster__propose(js->prop, &cmd, node_added, s);
    if (rv != 0) {
        char why[200];
        session_refuse(s, m->id, rv, join_error_text(js, rv, why, sizeof why));
        return;
    }
    s->in_flight = true;
}

/* The joiner this session registered gave up (it could not save or start, or it was not made a
 * member within its wait): take the node out now rather than after the silence bound. Only the
 * session that proved the key and received the credentials can ask, and only for its own node. */
static void handle_abandon(struct join_session *s, const struct transport_msg *m)
{
    (void)m;
    SHIR_INFO(&s->js->env->log, "the joiner of node %llu (%s) gave up its join",
              (unsigned long long)s->node_id, transport_conn_remote(s->conn));
    cluster__members_abandon(s->js->members, s->node_id, "its joiner gave up");
    transport_conn_close(s->conn);
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
    else if (transport_msg_method_is(&m, "join.abandon") && s->node_id != 0)
        handle_abandon(s, &m);
    else
        session_refuse(s, m.id, SHIR_E_DENIED, "only join requests are served here");
    transport_msg_free(&m);
}

static void session_closed(struct transport_conn *conn, int err, const char *msg)
{
    (void)err;
    (void)msg;
    struct join_session *s = session_of(conn);
    struct cluster_join_server *js = s->js;
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

static void join_accept(void *data, struct transport_conn *conn)
{
    struct cluster_join_server *js = data;
    struct join_session *s = js->env->registered ? calloc(1, sizeof *s) : NULL;
    if (!s) {
        transport_conn_close(conn);
        return;
    }
    s->js = js;
    s->conn = conn;
    s->next = js->sessions;
    js->sessions = s;
    struct transport_conn_cbs cbs = {
        .frame_cb = session_frame, .close_cb = session_closed, .data = s};
    transport_conn_set_cbs(conn, &cbs);
}

int cluster__join_server_new(struct cluster_env *env, struct cluster_port *port,
                             struct cluster_rnode *rn, struct cluster_propose *prop,
                             struct cluster_members *members, struct cluster_join_server **out)
{
    struct cluster_join_server *js = calloc(1, sizeof *js);
    if (!js)
        return SHIR_E_NOMEM;
    int rv = shir_backoff_init(&js->backoff, NULL, shir_clock_system(), js->backoff_slots,
                               JOIN_BACKOFF_SLOTS);
    if (rv != 0) {
        free(js);
        return rv;
    }
    js->env = env;
    js->rn = rn;
    js->prop = prop;
    js->members = members;
    cluster__port_on(port, TRANSPORT_CH_JOIN, join_accept, js);
    *out = js;
    return 0;
}

static unsigned join_server_close(void *self, void (*done)(void *arg), void *arg)
{
    (void)done;
    (void)arg;
    struct cluster_join_server *js = self;
    for (struct join_session *s = js->sessions; s; s = s->next)
        if (s->conn)
            transport_conn_close(s->conn);
    return 0;
}

/* Sessions free themselves once their connection is gone and no proposal holds them. */
static void join_server_free(void *self)
{
    free(self);
}

const struct cluster_part_ops cluster__join_server_part = {
    .name = "join-server", .tick = NULL, .close = join_server_close, .free = join_server_free};
