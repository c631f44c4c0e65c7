/* Registration, the joiner's side (see join_client.h; the wire is drawn in join_server.h). */
#include "cluster/join_client.h"

#include <stdlib.h>
#include <string.h>

#define JOIN_TIMEOUT_MS    15000
#define JOIN_MAX_REDIRECTS 3
/* How long the joiner waits for the leader to add and promote it, from the credentials (or from a
 * restart that found identity/joining): cluster__join_bound_ms() (60 s). Then, unless the
 * leader's raft reaches it (the join is under way: it waits on), it gives the join up, and the
 * leader removes the node (join.abandon, or its own silence bound: abandon.h, the same 60 s). */

/* One join in progress. */
struct join {
    struct cluster_join_client *jc;
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

struct cluster_join_client {
    struct cluster_env *env;
    struct cluster_port *port;
    struct cluster_rnode *rn;
    struct join *joining; /* at most one */
    bool checked;         /* the first tick looked for identity/joining */
    bool abandoned;       /* a join was given up after its credentials were saved */
};

static void jc_free(struct join *j)
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
static void jc_finish(struct join *j, int status, const char *msg)
{
    if (j->done)
        return;
    j->done = true;
    if (status != 0)
        SHIR_WARN(&j->jc->env->log, "join failed: %s", msg);
    if (j->cb)
        j->cb(j->data, status, msg);
    if (j->conn)
        transport_conn_close(j->conn);
    else if (j->stage < 2) {
        j->jc->joining = NULL;
        jc_free(j);
    }
}

static void jc_dial_next(struct join *j);

static int jc_send(struct join *j, const char *method, transport_body_pack_cb pack,
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

static int pack_empty(msgpack_packer *pk, void *arg)
{
    (void)arg;
    return msgpack_pack_map(pk, 0) ? SHIR_E_NOMEM : 0;
}

/* The join is given up after the leader recorded this node: tell the leader on the registration
 * session when it is still open (it removes the node at once; otherwise its silence bound does),
 * report, and have the agent stop and forget the identity on the next tick (the answer to
 * `shir join` goes out first). */
static void jc_give_up(struct join *j, int status, const char *msg)
{
    if (j->done)
        return;
    if (j->conn && jc_send(j, "join.abandon", pack_empty, NULL) != 0)
        SHIR_DEBUG(&j->jc->env->log, "cannot tell the leader the join is given up");
    j->jc->abandoned = true;
    jc_finish(j, status, msg);
}

static int pack_hello(msgpack_packer *pk, void *arg)
{
    const struct join *j = arg;
    int rv = msgpack_pack_map(pk, 4);
    rv |= transport_pack_kv_bin(pk, "runtime_id", j->key.runtime_id, CLUSTER_RUNTIME_ID_LEN);
    rv |= transport_pack_cstr(pk, "slot");
    rv |= msgpack_pack_uint64(pk, j->key.slot);
    rv |= transport_pack_cstr(pk, "generation");
    rv |= msgpack_pack_uint64(pk, j->key.generation);
    rv |= transport_pack_kv_bin(pk, "client_nonce", j->client_nonce, CLUSTER_NONCE_LEN);
    return rv ? SHIR_E_NOMEM : 0;
}

struct prove_arg {
    const struct join *j;
    uint8_t proof[CLUSTER_PROOF_LEN];
};

static int pack_prove(msgpack_packer *pk, void *arg)
{
    const struct prove_arg *a = arg;
    const struct join *j = a->j;
    int rv = msgpack_pack_map(pk, 6);
    rv |= transport_pack_kv_bin(pk, "proof", a->proof, CLUSTER_PROOF_LEN);
    rv |= transport_pack_cstr(pk, "csr");
    rv |= transport_pack_cstr(pk, j->csr);
    rv |= transport_pack_cstr(pk, "name");
    rv |= transport_pack_cstr(pk, j->node_name);
    rv |= transport_pack_cstr(pk, "address");
    rv |= transport_pack_cstr(pk, j->jc->env->advertise);
    rv |= transport_pack_cstr(pk, "witness");
    rv |= j->jc->env->witness ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    rv |= transport_pack_cstr(pk, "version");
    rv |= transport_pack_cstr(pk, j->jc->env->version);
    return rv ? SHIR_E_NOMEM : 0;
}

static void jc_input(const struct join *j, const uint8_t *exporter,
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
static int jc_accept_creds(struct join *j, const msgpack_object *body,
                           const uint8_t *exporter, char *err, size_t errcap)
{
    struct cluster_join_client *jc = j->jc;
    struct cluster_env *env = jc->env;
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
    if (rv == 0)
        rv = cluster__env_boot_from(env, members->ptr, members->size);
    /* The mark first: an agent that stops from here on until the node is a member finds it and
     * does not take a half-done join for a registration (join_client_tick). */
    if (rv == 0)
        rv = cluster_join_mark(env->data_dir, true);
    if (rv == 0)
        rv = cluster_identity_save(env->data_dir, &id);
    /* The members go to disk with the identity: a node restarted before its replica has caught
     * up must still let its leader in (struct cluster_boot_member). */
    int mrv = rv == 0 ? cluster_members_save(env->data_dir, env->boot, env->n_boot) : 0;
    if (mrv != 0)
        SHIR_WARN(&env->log, "cannot save the member list: %s", shir_strerror(mrv));
    if (rv != 0) {
        (void)shir_str_fmt(err, errcap, "cannot accept the credentials: %s", shir_strerror(rv));
        cluster_identity_free(&id);
        /* Nothing is started yet: delete what was written, so the directory is NeedRegistration
         * again with no partial identity, and tell the leader. */
        int frv = cluster_forget(env->data_dir);
        if (frv != 0)
            SHIR_WARN(&env->log, "could not remove every file of the failed join: %s",
                      shir_strerror(frv));
        if (j->conn && jc_send(j, "join.abandon", pack_empty, NULL) != 0)
            SHIR_DEBUG(&env->log, "cannot tell the leader the join is given up");
        return rv;
    }
    env->id = id; /* moved */
    env->registered = true;
    rv = cluster__port_start(jc->port, err, errcap);
    if (rv == 0)
        rv = cluster__rnode_start(jc->rn, CLUSTER__RAFT_NORMAL, err, errcap);
    if (rv != 0)
        j->stage = 2; /* saved and (partly) started: only stopping the agent undoes it */
    return rv;
}

static void jc_frame(struct transport_conn *conn, const unsigned char *p, size_t n)
{
    struct join *j = transport_conn_data(conn);
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
            (void)shir_str_copy(
                j->addrs[j->n_addrs < CLUSTER_KEY_MAX_ADDRS + 1 ? j->n_addrs++ : j->n_addrs - 1],
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
        rv =
            transport_conn_export(conn, CLUSTER_EXPORTER_LABEL, NULL, 0, exporter, sizeof exporter);
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
        rv =
            transport_conn_export(conn, CLUSTER_EXPORTER_LABEL, NULL, 0, exporter, sizeof exporter);
        if (rv == 0)
            rv = jc_accept_creds(j, &m.body, exporter, err, sizeof err);
        if (rv != 0 && j->stage == 2) {
            jc_give_up(j, rv, err[0] ? err : shir_strerror(rv));
            goto out;
        }
        if (rv != 0) {
            jc_finish(j, rv, err[0] ? err : shir_strerror(rv));
            goto out;
        }
        j->stage = 2;
        j->wait_deadline = shir_wall_ms() + cluster__join_bound_ms();
        SHIR_INFO(&j->jc->env->log,
                  "registered as node %llu; waiting for the leader to add it to raft",
                  (unsigned long long)j->jc->env->id.node_id);
        /* The session stays open: join.abandon goes on it if this join is given up. */
    }
out:
    transport_msg_free(&m);
}

static void jc_closed(struct transport_conn *conn, int err, const char *msg)
{
    struct join *j = transport_conn_data(conn);
    j->conn = NULL;
    if (j->done) {
        if (j->jc->joining == j)
            j->jc->joining = NULL;
        jc_free(j);
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
    struct join *j = data;
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
    if (shir_random_fill(&j->jc->env->rnd, j->client_nonce, CLUSTER_NONCE_LEN) != 0 ||
        jc_send(j, "join.hello", pack_hello, j) != 0)
        jc_finish(j, SHIR_E_IO, "cannot send the hello");
}

static void jc_dial_next(struct join *j)
{
    char host[CLUSTER_ADDR_MAX + 1];
    uint16_t port;
    while (j->next < j->n_addrs) {
        const char *addr = j->addrs[j->next++];
        if (shir_split_hostport(addr, host, sizeof host, &port) != 0)
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
        if (transport_dial(j->jc->env->loop, &dc, &conn) == 0) {
            j->conn = conn;
            return;
        }
    }
    jc_finish(j, SHIR_E_UNAVAILABLE, "no usable member address (give one with --peer HOST:PORT)");
}

bool cluster__join_client_busy(const struct cluster_join_client *jc)
{
    return jc->joining != NULL;
}

int cluster__join_client_start(struct cluster_join_client *jc, const char *key_text,
                               const char *peer, const char *node_name, cluster_done_cb cb,
                               void *data, char *errbuf, size_t errcap)
{
    struct cluster_env *env = jc->env;
    if (env->registered) {
        (void)shir_str_copy(errbuf, errcap, "this node is already registered in a runtime");
        return SHIR_E_EXISTS;
    }
    if (jc->joining) {
        (void)shir_str_copy(errbuf, errcap, "a registration is already under way on this node");
        return SHIR_E_BUSY;
    }
    struct join *j = calloc(1, sizeof *j);
    if (!j)
        return SHIR_E_NOMEM;
    j->jc = jc;
    j->cb = cb;
    j->data = data;
    struct cluster_key_diag diag;
    int rv = cluster_key_decode(key_text, strlen(key_text), &j->key, &diag);
    if (rv != 0) {
        (void)shir_str_fmt(errbuf, errcap, "bad key: %s", diag.msg);
        goto err;
    }
    (void)shir_str_copy(j->node_name, sizeof j->node_name, node_name ? node_name : env->node_name);
    if (peer)
        (void)shir_str_copy(j->addrs[j->n_addrs++], sizeof j->addrs[0], peer);
    for (unsigned i = 0; i < j->key.n_addrs; i++)
        (void)shir_str_copy(j->addrs[j->n_addrs++], sizeof j->addrs[0], j->key.addrs[i]);
    if (j->n_addrs == 0) {
        rv = SHIR_E_INVAL;
        (void)shir_str_copy(errbuf, errcap,
                            "the key lists no member address: give --peer HOST:PORT");
        goto err;
    }
    struct transport_tls_config tc = {.join_client = true, .log = &env->log};
    memcpy(tc.ca_pin, j->key.ca_pin, CLUSTER_PIN_LEN);
    if ((rv = transport_tls_new(&tc, &j->tls)) != 0 ||
        (rv = transport_pki_key_create(&j->key_pem)) != 0 ||
        (rv = transport_pki_csr_create(&j->key_pem, j->node_name, &j->csr, &j->csr_len)) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "cannot prepare the join: %s", shir_strerror(rv));
        goto err;
    }
    if (node_name && (rv = cluster__env_rename(env, node_name)) != 0)
        goto err;
    jc->joining = j;
    jc->checked = true; /* a join started now owns identity/joining */
    jc_dial_next(j);
    return 0;
err:
    jc_free(j);
    return rv;
}

/* ---- driven by the tick and by close ---- */

/* On the first tick: identity/joining left by an agent that stopped in the middle of a join.
 * Registered: wait (bounded) for the leader to finish it, as the interrupted join would have.
 * Not registered (stopped while saving): delete the partial identity. */
static void jc_resume(struct cluster_join_client *jc)
{
    struct cluster_env *env = jc->env;
    jc->checked = true;
    if (!cluster_join_marked(env->data_dir))
        return;
    if (!env->registered) {
        int rv = cluster_forget(env->data_dir);
        SHIR_WARN(&env->log, "a join was interrupted while saving the identity: %s",
                  rv == 0 ? "its partial files are deleted" : shir_strerror(rv));
        return;
    }
    struct join *j = calloc(1, sizeof *j);
    if (!j) {
        jc->checked = false; /* the next tick tries again */
        return;
    }
    j->jc = jc;
    j->stage = 2;
    j->wait_deadline = shir_wall_ms() + cluster__join_bound_ms();
    jc->joining = j;
    SHIR_WARN(&env->log,
              "the join of this node had not completed when the agent stopped; waiting up to %d s "
              "for the leader to make it a member",
              (int)(cluster__join_bound_ms() / 1000));
}

/* Once the credentials are saved: wait until the leader has made this node a member. */
static void join_client_tick(void *self)
{
    struct cluster_join_client *jc = self;
    struct cluster_env *env = jc->env;
    if (jc->abandoned && !jc->joining) {
        jc->abandoned = false;
        if (env->abandoned_cb)
            env->abandoned_cb(env->abandoned_data);
        return;
    }
    if (!jc->checked && !jc->joining)
        jc_resume(jc);
    struct join *j = jc->joining;
    if (!j || j->stage < 2 || j->done)
        return;
    const struct cluster_node *me = cluster_fsm_node(env->fsm, env->id.node_id);
    if (me && me->state == CLUSTER_NODE_REGISTERED) {
        int rv = cluster_join_mark(env->data_dir, false);
        if (rv != 0)
            SHIR_WARN(&env->log, "cannot delete identity/joining: %s", shir_strerror(rv));
        SHIR_INFO(&env->log, "joined runtime '%s' as a %s", cluster_fsm_runtime(env->fsm)->name,
                  cluster_role_name(me->role));
        jc_finish(j, 0, NULL);
    } else if (shir_wall_ms() > j->wait_deadline && cluster__rnode_other_leader(jc->rn)) {
        /* The leader's raft reaches this node: the join is under way, only slow (or stuck on the
         * leader's side, which retries it for as long as this node answers). Giving up now could
         * forget a node the leader is about to record as a member; answer `shir join` and wait on. */
        j->wait_deadline = shir_wall_ms() + cluster__join_bound_ms();
        if (j->cb) {
            j->cb(j->data, SHIR_E_TIMEOUT,
                  "registered, and the leader reaches this node, but it has not made it a member "
                  "yet; it keeps trying (see 'shir status')");
            j->cb = NULL;
        }
        return;
    } else if (shir_wall_ms() > j->wait_deadline) {
        char msg[300];
        (void)shir_str_fmt(msg, sizeof msg,
                           "the leader did not make this node a member within %d s (can it reach "
                           "this node at %s?); the join is given up: this node forgets its "
                           "registration and the runtime removes it, run 'shir join' again",
                           (int)(cluster__join_bound_ms() / 1000), env->advertise);
        jc_give_up(j, SHIR_E_TIMEOUT, msg);
    } else {
        return;
    }
    if (!j->conn) {
        jc->joining = NULL;
        jc_free(j);
    }
}

int cluster__join_client_new(struct cluster_env *env, struct cluster_port *port,
                             struct cluster_rnode *rn, struct cluster_join_client **out)
{
    struct cluster_join_client *jc = calloc(1, sizeof *jc);
    if (!jc)
        return SHIR_E_NOMEM;
    jc->env = env;
    jc->port = port;
    jc->rn = rn;
    *out = jc;
    return 0;
}

static unsigned join_client_close(void *self, void (*done)(void *arg), void *arg)
{
    (void)done;
    (void)arg;
    struct cluster_join_client *jc = self;
    struct join *j = jc->joining;
    if (j) {
        jc_finish(j, SHIR_E_SHUTDOWN, "the agent is shutting down");
        if (j->conn)
            transport_conn_close(j->conn);
    }
    return 0;
}

static void join_client_free(void *self)
{
    struct cluster_join_client *jc = self;
    jc_free(jc->joining); /* a join that had saved its credentials and was still waiting */
    free(jc);
}

const struct cluster_part_ops cluster__join_client_part = {
    .name = "join-client", .tick = join_client_tick, .close = join_client_close,
    .free = join_client_free};
