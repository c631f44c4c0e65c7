/* `shir init` (see init.h). */
#include "cluster/init.h"

#include <stdlib.h>
#include <string.h>

#include "cluster/keys.h"

enum init_step { STEP_INIT, STEP_NODE_ADD, STEP_NODE_ROLE, STEP_DONE };

struct cluster_init {
    struct cluster_env *env;
    struct cluster_port *port;
    struct cluster_rnode *rn;
    struct cluster_propose *prop;
    bool active;
    bool in_flight; /* a proposal of this init is waiting for its commit */
    enum init_step step;
    char name[CLUSTER_NAME_MAX + 1];
    uint8_t runtime_id[CLUSTER_RUNTIME_ID_LEN];
    uint8_t secrets[2][CLUSTER_KEY_SECRET_LEN];
    cluster_done_cb cb;
    void *data;
#ifdef SHIR_TEST_FAULTS
    uint64_t role_not_before_ms; /* the init_role_delay fault's hold on NODE_SET_ROLE; 0: none */
#endif
};

int cluster__init_new(struct cluster_env *env, struct cluster_port *port, struct cluster_rnode *rn,
                      struct cluster_propose *prop, struct cluster_init **out)
{
    struct cluster_init *in = calloc(1, sizeof *in);
    if (!in)
        return SHIR_E_NOMEM;
    in->env = env;
    in->port = port;
    in->rn = rn;
    in->prop = prop;
    *out = in;
    return 0;
}

bool cluster__init_busy(const struct cluster_init *in)
{
    return in->active;
}

static void init_finish(struct cluster_init *in, int status, const char *msg)
{
    cluster_done_cb cb = in->cb;
    void *data = in->data;
    shir_wipe(in->secrets, sizeof in->secrets);
    in->active = false;
    if (status == 0)
        in->env->registered = true;
    if (cb)
        cb(data, status, msg);
}

static void init_step(struct cluster_init *in);

static void init_committed(void *arg, int status, uint64_t value)
{
    (void)value;
    struct cluster_init *in = arg;
    in->in_flight = false;
    if (!in->active)
        return; /* cancelled by close */
    if (status != 0) {
        char msg[160];
        (void)shir_str_fmt(msg, sizeof msg, "committing the runtime failed (step %d): %s",
                           (int)in->step, shir_strerror(status));
        init_finish(in, status, msg);
        return;
    }
    in->step++;
    if (in->step == STEP_DONE) {
        SHIR_INFO(&in->env->log, "runtime '%s' created; this node is its first voter", in->name);
        init_finish(in, 0, NULL);
        return;
    }
    init_step(in);
}

/* The command of the current step. */
static int step_cmd(struct cluster_init *in, struct cluster_cmd *cmd)
{
    struct cluster_env *env = in->env;
    int rv = 0;
    memset(cmd, 0, sizeof *cmd);
    switch (in->step) {
    case STEP_INIT:
        cmd->type = CLUSTER_CMD_INIT;
        memcpy(cmd->u.init.runtime_id, in->runtime_id, CLUSTER_RUNTIME_ID_LEN);
        (void)shir_str_copy(cmd->u.init.name, sizeof cmd->u.init.name, in->name);
        cmd->u.init.settings.max_nodes = CLUSTER_MAX_NODES_DEFAULT;
        cmd->u.init.settings.standby_promotion_delay_ms = CLUSTER_STANDBY_DELAY_DEFAULT_MS;
        for (unsigned s = 0; s < 2 && rv == 0; s++) {
            rv = cluster_verifier_derive(in->secrets[s], &cmd->u.init.verifiers[s]);
            if (rv == 0)
                rv = cluster__keys_seal(env, s + 1, in->secrets[s], cmd->u.init.sealed[s],
                                        &cmd->u.init.sealed_len[s]);
        }
        break;
    case STEP_NODE_ADD: {
        struct cluster_node *n = &cmd->u.node_add.node;
        cmd->type = CLUSTER_CMD_NODE_ADD;
        (void)shir_str_copy(n->name, sizeof n->name, env->node_name);
        (void)shir_str_copy(n->address, sizeof n->address, env->advertise);
        rv = transport_pki_cert_pin(env->id.cert_pem, env->id.cert_pem_len, n->pin);
        n->role = CLUSTER_ROLE_VOTER;
        (void)shir_str_copy(n->version, sizeof n->version, env->version);
        n->registered_ms = shir_wall_ms();
        cmd->u.node_add.key_slot = 0;
        break;
    }
    default:
        cmd->type = CLUSTER_CMD_NODE_SET_ROLE;
        cmd->u.node_role.node_id = env->id.node_id;
        cmd->u.node_role.role = CLUSTER_ROLE_VOTER;
        break;
    }
    return rv;
}

#ifdef SHIR_TEST_FAULTS
/* Test builds only: SHIR_TEST_FAULT_INIT_ROLE_DELAY_MS holds this node's NODE_SET_ROLE back for
 * that long after its NODE_ADD committed, so the membership queue's tick sees the first node
 * PENDING (the window chaos seed 18 hit under load; cluster_form_slow_role.sh). */
static bool role_held_back(struct cluster_init *in)
{
    if (in->step != STEP_NODE_ROLE)
        return false;
    const char *v = getenv("SHIR_TEST_FAULT_INIT_ROLE_DELAY_MS");
    uint64_t now = shir_clock_system()->now_ms(shir_clock_system());
    if (!v || !*v)
        return false;
    if (in->role_not_before_ms == 0)
        in->role_not_before_ms = now + strtoull(v, NULL, 10);
    return now < in->role_not_before_ms;
}
#endif

/* Once leader and caught up: commit INIT, then NODE_ADD (this node), then its role. */
static void init_step(struct cluster_init *in)
{
    if (in->in_flight)
        return;
#ifdef SHIR_TEST_FAULTS
    if (role_held_back(in))
        return; /* init_tick tries again */
#endif
    struct cluster_cmd cmd;
    int rv = step_cmd(in, &cmd);
    if (rv == 0)
        rv = cluster__propose(in->prop, &cmd, init_committed, in);
    shir_wipe(&cmd, sizeof cmd);
    if (rv == SHIR_E_NOLEADER)
        return; /* the tick retries once we lead again */
    if (rv != 0) {
        char msg[160];
        (void)shir_str_fmt(msg, sizeof msg, "cannot propose step %d: %s", (int)in->step,
                           shir_strerror(rv));
        init_finish(in, rv, msg);
        return;
    }
    in->in_flight = true;
}

static void init_tick(void *self)
{
    struct cluster_init *in = self;
    if (in->active && cluster__rnode_ready(in->rn))
        init_step(in);
}

/* Create the CA, this node's key and certificate, and the data secret, then save them. */
static int init_identity(struct cluster_init *in, char *errbuf, size_t errcap)
{
    struct cluster_env *env = in->env;
    struct cluster_identity *id = &env->id;
    char *csr = NULL;
    size_t csr_len = 0;
    int rv;
    memset(id, 0, sizeof *id);
    id->node_id = 1; /* the first node; the FSM counter continues from here */
    if ((rv = transport_pki_ca_create(in->name, CLUSTER__CERT_DAYS, &id->ca_pem, &id->ca_pem_len,
                                      &id->ca_key_pem)) != 0 ||
        (rv = transport_pki_key_create(&id->key_pem)) != 0 ||
        (rv = transport_pki_csr_create(&id->key_pem, env->node_name, &csr, &csr_len)) != 0 ||
        (rv = transport_pki_csr_sign(id->ca_pem, id->ca_pem_len, &id->ca_key_pem, csr, csr_len,
                                     id->node_id, env->node_name, CLUSTER__CERT_DAYS,
                                     &id->cert_pem, &id->cert_pem_len)) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "creating certificates failed: %s", shir_strerror(rv));
        goto out;
    }
    if ((rv = shir_random_fill(&env->rnd, id->data_secret, sizeof id->data_secret)) != 0 ||
        (rv = shir_random_fill(&env->rnd, in->runtime_id, sizeof in->runtime_id)) != 0 ||
        (rv = shir_random_fill(&env->rnd, in->secrets, sizeof in->secrets)) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "random source failed");
        goto out;
    }
    if ((rv = cluster_identity_save(env->data_dir, id)) != 0)
        (void)shir_str_fmt(errbuf, errcap, "cannot save the identity in %s: %s", env->data_dir,
                           shir_strerror(rv));
out:
    free(csr);
    return rv;
}

int cluster__init_start(struct cluster_init *in, const char *runtime_name, const char *node_name,
                        cluster_done_cb cb, void *data)
{
    struct cluster_env *env = in->env;
    if (env->registered)
        return SHIR_E_EXISTS;
    if (in->active || cluster__rnode_started(in->rn))
        return SHIR_E_BUSY;
    size_t n = strlen(runtime_name);
    if (n == 0 || n > CLUSTER_NAME_MAX)
        return SHIR_E_INVAL;
    if (node_name) {
        n = strlen(node_name);
        if (n == 0 || n > CLUSTER_NAME_MAX)
            return SHIR_E_INVAL;
        if (cluster__env_rename(env, node_name) != 0)
            return SHIR_E_NOMEM;
    }
    in->in_flight = false;
    in->step = STEP_INIT;
#ifdef SHIR_TEST_FAULTS
    in->role_not_before_ms = 0;
#endif
    (void)shir_str_copy(in->name, sizeof in->name, runtime_name);
    in->cb = cb;
    in->data = data;
    char err[256];
    int rv = init_identity(in, err, sizeof err);
    if (rv == 0)
        rv = cluster__port_start(in->port, err, sizeof err);
    if (rv == 0)
        rv = cluster__rnode_start(in->rn, CLUSTER__RAFT_BOOTSTRAP, err, sizeof err);
    if (rv != 0) {
        SHIR_ERROR(&env->log, "init failed: %s", err);
        shir_wipe(in->secrets, sizeof in->secrets);
        /* Leave the node cleanly unregistered — no identity file, no raft data — so that the
         * operator can fix the cause and run init again. */
        int frv = cluster_forget(env->data_dir);
        if (frv != 0)
            SHIR_WARN(&env->log, "could not remove every file of the failed init: %s",
                      shir_strerror(frv));
        cluster_identity_free(&env->id);
        memset(&env->id, 0, sizeof env->id);
        return rv;
    }
    in->active = true;
    SHIR_INFO(&env->log, "creating runtime '%s'", runtime_name);
    return 0;
}

static unsigned init_close(void *self, void (*done)(void *arg), void *arg)
{
    (void)done;
    (void)arg;
    struct cluster_init *in = self;
    if (in->active)
        init_finish(in, SHIR_E_SHUTDOWN, "the agent is shutting down");
    return 0;
}

static void init_free(void *self)
{
    struct cluster_init *in = self;
    shir_wipe(in->secrets, sizeof in->secrets);
    free(in);
}

const struct cluster_part_ops cluster__init_part = {
    .name = "init", .tick = init_tick, .close = init_close, .free = init_free};
