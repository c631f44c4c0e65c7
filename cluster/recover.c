/* `shir recover` (see recover.h). */
#include "cluster/recover.h"

#include <stdlib.h>
#include <string.h>

struct cluster_recover {
    struct cluster_env *env;
    struct cluster_rnode *rn;
    struct cluster_propose *prop;
    bool active, restarted, in_flight;
    cluster_done_cb cb;
    void *data;
};

int cluster__recover_new(struct cluster_env *env, struct cluster_rnode *rn,
                         struct cluster_propose *prop, struct cluster_recover **out)
{
    struct cluster_recover *rc = calloc(1, sizeof *rc);
    if (!rc)
        return SHIR_E_NOMEM;
    rc->env = env;
    rc->rn = rn;
    rc->prop = prop;
    *out = rc;
    return 0;
}

bool cluster__recover_busy(const struct cluster_recover *rc)
{
    return rc->active;
}

static void recover_finish(struct cluster_recover *rc, int status, const char *msg)
{
    if (!rc->active)
        return;
    rc->active = false;
    if (status == 0)
        SHIR_WARN(&rc->env->log, "recovered: this node is now the runtime's only voter");
    if (rc->cb)
        rc->cb(rc->data, status, msg);
}

static void recover_removed(void *arg, int status, uint64_t value)
{
    (void)value;
    struct cluster_recover *rc = arg;
    rc->in_flight = false;
    if (status != 0 && status != SHIR_E_NOTFOUND)
        recover_finish(rc, status, "removing a lost member failed");
}

/* Once leading the one-voter group: remove every other member from the replicated state. */
static void recover_tick(void *self)
{
    struct cluster_recover *rc = self;
    if (!rc->active || !rc->restarted || rc->in_flight || !cluster__rnode_ready(rc->rn))
        return;
    size_t n;
    const struct cluster_node *nodes = cluster_fsm_nodes(rc->env->fsm, &n);
    for (size_t i = 0; i < n; i++) {
        if (nodes[i].id == rc->env->id.node_id)
            continue;
        struct cluster_cmd cmd;
        memset(&cmd, 0, sizeof cmd);
        cmd.type = CLUSTER_CMD_NODE_REMOVE;
        cmd.u.node_remove.node_id = nodes[i].id;
        SHIR_WARN(&rc->env->log, "recover: removing lost member '%s'", nodes[i].name);
        int rv = cluster__propose(rc->prop, &cmd, recover_removed, rc);
        if (rv == 0)
            rc->in_flight = true;
        else if (rv != SHIR_E_NOLEADER)
            recover_finish(rc, rv, "cannot propose the removal of a lost member");
        return;
    }
    recover_finish(rc, 0, NULL);
}

static void restarted(void *arg, int status)
{
    struct cluster_recover *rc = arg;
    if (status != 0) {
        recover_finish(rc, status, status == SHIR_E_SHUTDOWN ? "the agent is shutting down"
                                                             : "recover failed");
        return;
    }
    rc->restarted = true;
}

int cluster__recover_start(struct cluster_recover *rc, cluster_done_cb cb, void *data,
                           char *errbuf, size_t errcap)
{
    if (!rc->env->registered || !cluster__rnode_started(rc->rn)) {
        (void)shir_str_copy(errbuf, errcap, "this node is not registered");
        return SHIR_E_NOTFOUND;
    }
    if (rc->active) {
        (void)shir_str_copy(errbuf, errcap, "a recover is already under way");
        return SHIR_E_BUSY;
    }
    uint64_t lid = cluster__rnode_leader(rc->rn, NULL);
    if (lid != 0) {
        const struct cluster_node *l = cluster_fsm_node(rc->env->fsm, lid);
        (void)shir_str_fmt(errbuf, errcap, "the runtime has a leader (%s): nothing to recover",
                           l ? l->name : "?");
        return SHIR_E_EXISTS;
    }
    int rv = cluster__rnode_recover(rc->rn, restarted, rc);
    if (rv != 0) {
        (void)shir_str_copy(errbuf, errcap, "raft is not running");
        return rv;
    }
    rc->active = true;
    rc->restarted = rc->in_flight = false;
    rc->cb = cb;
    rc->data = data;
    SHIR_WARN(&rc->env->log, "recover: restarting raft with this node as its only voter");
    return 0;
}

static unsigned recover_close(void *self, void (*done)(void *arg), void *arg)
{
    (void)done;
    (void)arg;
    recover_finish(self, SHIR_E_SHUTDOWN, "the agent is shutting down");
    return 0;
}

static void recover_free(void *self)
{
    free(self);
}

const struct cluster_part_ops cluster__recover_part = {
    .name = "recover", .tick = recover_tick, .close = recover_close, .free = recover_free};
