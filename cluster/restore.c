/* `shir snapshot save` and `shir snapshot restore` (see restore.h). */
#include "cluster/restore.h"

#include <stdlib.h>
#include <string.h>

#include "cluster/backup.h"

enum restore_stage { STAGE_IDLE, STAGE_SEEDING, STAGE_RUNNING };

struct cluster_restore {
    struct cluster_env *env;
    struct cluster_port *port;
    struct cluster_rnode *rn;
    enum restore_stage stage;
    bool closing;
    cluster_done_cb cb;
    void *data;
    /* Closed while seeding: raft's storage finishes on its own; `seeded` then calls done. */
    void (*closed)(void *arg);
    void *closed_arg;
};

int cluster__restore_new(struct cluster_env *env, struct cluster_port *port,
                         struct cluster_rnode *rn, struct cluster_restore **out)
{
    struct cluster_restore *rs = calloc(1, sizeof *rs);
    if (!rs)
        return SHIR_E_NOMEM;
    rs->env = env;
    rs->port = port;
    rs->rn = rn;
    *out = rs;
    return 0;
}

bool cluster__restore_busy(const struct cluster_restore *rs)
{
    return rs->stage != STAGE_IDLE;
}

/* ---- save ----------------------------------------------------------------------------------- */

int cluster__backup_save(struct cluster_env *env, struct cluster_rnode *rn, struct shir_buf *out,
                         char *errbuf, size_t errcap)
{
    if (!env->registered) {
        (void)shir_str_copy(errbuf, errcap, "this node is not registered (NeedRegistration)");
        return SHIR_E_NOTFOUND;
    }
    const struct cluster_runtime *rt = cluster_fsm_runtime(env->fsm);
    if (!rt->initialized) {
        (void)shir_str_copy(errbuf, errcap, "this node has not caught up with the runtime yet");
        return SHIR_E_NOLEADER;
    }
    if (env->id.ca_key_pem.len == 0) {
        (void)shir_str_copy(errbuf, errcap,
                            "this node holds no CA key (a witness): save on a scan node");
        return SHIR_E_UNSUPPORTED;
    }
    struct cluster_backup *b = calloc(1, sizeof *b);
    uint8_t *sealed = malloc(CLUSTER_SEAL_PLAIN_MAX + CLUSTER_SEAL_OVERHEAD);
    struct shir_buf state;
    shir_buf_init(&state, cluster_fsm_snapshot_max(env->fsm));
    int rv = b && sealed ? 0 : SHIR_E_NOMEM;
    if (rv == 0 && shir_str_copy(b->ca_pem, sizeof b->ca_pem, env->id.ca_pem) != 0)
        rv = SHIR_E_TOOBIG;
    if (rv == 0)
        rv = cluster_fsm_snapshot(env->fsm, &state);
    size_t sealed_len = 0;
    if (rv == 0)
        rv = cluster_seal(env->id.data_secret, CLUSTER_FIELD_BACKUP_CA_KEY,
                          env->id.ca_key_pem.bytes, env->id.ca_key_pem.len, &env->rnd, sealed,
                          CLUSTER_SEAL_PLAIN_MAX + CLUSTER_SEAL_OVERHEAD, &sealed_len);
    if (rv == 0) {
        memcpy(b->runtime_id, rt->id, sizeof b->runtime_id);
        (void)shir_str_copy(b->runtime_name, sizeof b->runtime_name, rt->name);
        b->saved_ms = shir_wall_ms();
        b->index = cluster__rnode_last_applied(rn);
        b->ca_key_sealed = sealed;
        b->ca_key_sealed_len = sealed_len;
        b->state = state.data;
        b->state_len = state.len;
        rv = cluster_backup_encode(b, env->id.data_secret, out);
    }
    if (rv != 0 && errbuf[0] == '\0')
        (void)shir_str_fmt(errbuf, errcap, "cannot write the backup: %s", shir_strerror(rv));
    shir_buf_free(&state);
    free(sealed);
    free(b);
    return rv;
}

/* ---- restore -------------------------------------------------------------------------------- */

static void restore_finish(struct cluster_restore *rs, int status, const char *msg)
{
    if (rs->stage == STAGE_IDLE)
        return;
    cluster_done_cb cb = rs->cb;
    void *data = rs->data;
    rs->stage = STAGE_IDLE;
    if (status == 0) {
        rs->env->registered = true;
        SHIR_WARN(&rs->env->log, "restored: this node is the only member of runtime '%s'",
                  cluster_fsm_runtime(rs->env->fsm)->name);
    }
    if (cb)
        cb(data, status, msg);
}

/* Undo what a restore wrote before raft ran, so that the operator can fix the cause and run it
 * again on the same data directory. */
static void forget(struct cluster_env *env)
{
    int frv = cluster_forget(env->data_dir);
    if (frv != 0)
        SHIR_WARN(&env->log, "could not remove every file of the failed restore: %s",
                  shir_strerror(frv));
    cluster_identity_free(&env->id);
    memset(&env->id, 0, sizeof env->id);
}

/* Apply one command to the state being prepared, as raft would: encoded, with a request id. */
static int apply_local(struct cluster_env *env, struct cluster_fsm *f, struct cluster_cmd *cmd,
                       uint64_t *value)
{
    struct shir_buf b;
    shir_buf_init(&b, 64u * 1024u);
    int rv = shir_random_fill(&env->rnd, cmd->request_id, sizeof cmd->request_id);
    if (rv == 0)
        rv = cluster_cmd_encode(cmd, &b);
    if (rv == 0) {
        const struct cluster_fsm_result *res = cluster_fsm_apply(f, b.data, b.len);
        rv = res->status;
        *value = res->value;
    }
    shir_wipe(b.data, b.cap);
    shir_buf_free(&b);
    return rv;
}

/* The restored runtime's membership, decided before raft sees the state: every saved member
 * removed, this node added (as the first node of an init is) and made a voter. Done on the
 * state that becomes raft's snapshot, not proposed afterwards, so the snapshot a restart loads
 * already names the members that may connect (a restarted node trusts the members of its
 * replica, and the saved ones are gone). */
static int restore_membership(struct cluster_env *env, struct cluster_fsm *f, char *errbuf,
                              size_t errcap)
{
    struct cluster_cmd cmd;
    uint64_t value = 0;
    int rv = 0;
    size_t n;
    const struct cluster_node *nodes = cluster_fsm_nodes(f, &n);
    while (rv == 0 && n > 0) {
        memset(&cmd, 0, sizeof cmd);
        cmd.type = CLUSTER_CMD_NODE_REMOVE;
        cmd.u.node_remove.node_id = nodes[0].id;
        SHIR_INFO(&env->log, "restore: removing '%s', a member of the saved runtime",
                  nodes[0].name);
        rv = apply_local(env, f, &cmd, &value);
        nodes = cluster_fsm_nodes(f, &n);
    }
    if (rv == 0) {
        struct cluster_node *nd = &cmd.u.node_add.node;
        memset(&cmd, 0, sizeof cmd);
        cmd.type = CLUSTER_CMD_NODE_ADD;
        (void)shir_str_copy(nd->name, sizeof nd->name, env->node_name);
        (void)shir_str_copy(nd->address, sizeof nd->address, env->advertise);
        rv = transport_pki_cert_pin(env->id.cert_pem, env->id.cert_pem_len, nd->pin);
        nd->role = CLUSTER_ROLE_VOTER;
        (void)shir_str_copy(nd->version, sizeof nd->version, env->version);
        nd->registered_ms = shir_wall_ms();
        cmd.u.node_add.key_slot = 0; /* the only node: as the first one of an init */
        if (rv == 0)
            rv = apply_local(env, f, &cmd, &value);
        if (rv == 0 && value != env->id.node_id)
            rv = SHIR_E_INVAL;
    }
    if (rv == 0) {
        memset(&cmd, 0, sizeof cmd);
        cmd.type = CLUSTER_CMD_NODE_SET_ROLE;
        cmd.u.node_role.node_id = env->id.node_id;
        cmd.u.node_role.role = CLUSTER_ROLE_VOTER;
        rv = apply_local(env, f, &cmd, &value);
    }
    if (rv != 0)
        (void)shir_str_fmt(errbuf, errcap, "making this node the runtime's only member failed: %s",
                           shir_strerror(rv));
    return rv;
}

/* Done once raft runs on the restored state and this node leads it. */
static void restore_tick(void *self)
{
    struct cluster_restore *rs = self;
    if (rs->stage == STAGE_RUNNING && cluster__rnode_ready(rs->rn))
        restore_finish(rs, 0, NULL);
}

static void seeded(void *arg, int status)
{
    struct cluster_restore *rs = arg;
    struct cluster_env *env = rs->env;
    if (rs->closing) {
        forget(env);
        restore_finish(rs, SHIR_E_SHUTDOWN, "the agent is shutting down");
        if (rs->closed)
            rs->closed(rs->closed_arg);
        return;
    }
    char err[256] = "";
    int rv = status;
    if (rv != 0)
        (void)shir_str_fmt(err, sizeof err, "writing the restored state into raft failed: %s",
                           shir_strerror(rv));
    if (rv == 0)
        rv = cluster__port_start(rs->port, err, sizeof err);
    if (rv == 0)
        rv = cluster__rnode_start(rs->rn, CLUSTER__RAFT_NORMAL, err, sizeof err);
    if (rv != 0) {
        SHIR_ERROR(&env->log, "restore failed: %s", err);
        forget(env);
        restore_finish(rs, rv, err);
        return;
    }
    rs->stage = STAGE_RUNNING;
    SHIR_INFO(&env->log, "restore: raft started from the saved state");
}

/* The node's identity in the restored runtime: the runtime's CA from the backup, a new key and a
 * certificate for node id `id`, the data secret. Saved to disk. */
static int restore_identity(struct cluster_env *env, const struct cluster_backup *b,
                            const struct shir_secret *ca_key, const uint8_t *secret, uint64_t id,
                            char *errbuf, size_t errcap)
{
    struct cluster_identity *ident = &env->id;
    char *csr = NULL;
    size_t csr_len = 0;
    int rv = 0;
    memset(ident, 0, sizeof *ident);
    ident->node_id = id;
    ident->ca_pem_len = strlen(b->ca_pem);
    ident->ca_pem = strdup(b->ca_pem);
    if (!ident->ca_pem || shir_secret_set(&ident->ca_key_pem, ca_key->bytes, ca_key->len) != 0) {
        rv = SHIR_E_NOMEM;
        goto out;
    }
    memcpy(ident->data_secret, secret, CLUSTER_DATA_SECRET_LEN);
    if ((rv = transport_pki_key_create(&ident->key_pem)) != 0 ||
        (rv = transport_pki_csr_create(&ident->key_pem, env->node_name, &csr, &csr_len)) != 0 ||
        (rv = transport_pki_csr_sign(ident->ca_pem, ident->ca_pem_len, &ident->ca_key_pem, csr,
                                     csr_len, id, env->node_name, CLUSTER__CERT_DAYS,
                                     &ident->cert_pem, &ident->cert_pem_len)) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "issuing this node's certificate failed: %s",
                           shir_strerror(rv));
        goto out;
    }
    if ((rv = cluster_identity_save(env->data_dir, ident)) != 0)
        (void)shir_str_fmt(errbuf, errcap, "cannot save the identity in %s: %s", env->data_dir,
                           shir_strerror(rv));
out:
    free(csr);
    return rv;
}

static const char *decode_error(int rv)
{
    switch (rv) {
    case SHIR_E_AUTH:
        return "this data secret does not open the backup (it belongs to another runtime, or the "
               "file was modified)";
    case SHIR_E_UNSUPPORTED:
        return "the backup was written by a newer shir";
    case SHIR_E_TRUNC:
        return "the backup file is truncated";
    default:
        return "not a shir backup file, or a damaged one";
    }
}

int cluster__restore_start(struct cluster_restore *rs, const void *file, size_t n,
                           const void *secret, size_t secret_len, cluster_done_cb cb, void *data,
                           char *errbuf, size_t errcap)
{
    struct cluster_env *env = rs->env;
    if (env->registered) {
        (void)shir_str_copy(errbuf, errcap,
                            "this node is registered: restore onto a fresh data directory");
        return SHIR_E_EXISTS;
    }
    if (rs->stage != STAGE_IDLE || cluster__rnode_started(rs->rn)) {
        (void)shir_str_copy(errbuf, errcap, "a registration is already under way on this node");
        return SHIR_E_BUSY;
    }
    if (secret_len != CLUSTER_DATA_SECRET_LEN) {
        (void)shir_str_fmt(errbuf, errcap, "a data secret is %d bytes (identity/data.secret)",
                           CLUSTER_DATA_SECRET_LEN);
        return SHIR_E_INVAL;
    }
    struct cluster_backup *b = malloc(sizeof *b);
    struct cluster_fsm *tmp = cluster_fsm_new();
    struct shir_secret ca_key = {0};
    int rv = b && tmp ? 0 : SHIR_E_NOMEM;
    if (rv == 0 && (rv = cluster_backup_decode(file, n, secret, b)) != 0)
        (void)shir_str_copy(errbuf, errcap, decode_error(rv));
    if (rv == 0 && (rv = cluster_fsm_restore(tmp, b->state, b->state_len)) != 0)
        (void)shir_str_fmt(errbuf, errcap, "the state in the backup does not decode: %s",
                           shir_strerror(rv));
    if (rv == 0 && !cluster_fsm_runtime(tmp)->initialized) {
        rv = SHIR_E_MALFORMED;
        (void)shir_str_copy(errbuf, errcap, "the backup holds no runtime");
    }
    if (rv == 0 && (rv = cluster_unseal(secret, CLUSTER_FIELD_BACKUP_CA_KEY, b->ca_key_sealed,
                                        b->ca_key_sealed_len, &ca_key)) != 0)
        (void)shir_str_copy(errbuf, errcap, "the CA key in the backup does not open");
    if (rv == 0)
        rv = restore_identity(env, b, &ca_key, secret, cluster_fsm_next_node_id(tmp), errbuf,
                              errcap);
    if (rv == 0)
        rv = restore_membership(env, tmp, errbuf, errcap);
    struct shir_buf state;
    shir_buf_init(&state, tmp ? cluster_fsm_snapshot_max(tmp) : 0);
    if (rv == 0)
        rv = cluster_fsm_snapshot(tmp, &state);
    if (rv == 0)
        rv = cluster__rnode_seed(rs->rn, state.data, state.len, b->index, seeded, rs, errbuf,
                                 errcap);
    shir_buf_free(&state);
    if (rv != 0 && env->id.node_id != 0)
        forget(env);
    if (rv == 0) {
        SHIR_WARN(&env->log, "restoring runtime '%s' (saved at raft index %llu) as node %llu",
                  b->runtime_name, (unsigned long long)b->index,
                  (unsigned long long)env->id.node_id);
        rs->stage = STAGE_SEEDING;
        rs->cb = cb;
        rs->data = data;
    }
    shir_secret_free(&ca_key);
    cluster_fsm_free(tmp);
    if (b) {
        shir_wipe(b, sizeof *b);
        free(b);
    }
    return rv;
}

static unsigned restore_close(void *self, void (*done)(void *arg), void *arg)
{
    struct cluster_restore *rs = self;
    rs->closing = true;
    if (rs->stage == STAGE_SEEDING) {
        /* raft's storage finishes on its own; `seeded` reports the shutdown and calls done. */
        rs->closed = done;
        rs->closed_arg = arg;
        return 1;
    }
    restore_finish(rs, SHIR_E_SHUTDOWN, "the agent is shutting down");
    return 0;
}

static void restore_free(void *self)
{
    free(self);
}

const struct cluster_part_ops cluster__restore_part = {
    .name = "restore", .tick = restore_tick, .close = restore_close, .free = restore_free};
