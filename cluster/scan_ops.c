/* The operator's commands on scans, runs and scan nodes (see scan_ops.h). */
#include "cluster/scan_ops.h"

#include <stdlib.h>
#include <string.h>

int cluster__op_ready(const struct cluster_env *env)
{
    if (!env->registered)
        return SHIR_E_NOTFOUND;
    return cluster__env_caught_up(env) ? 0 : SHIR_E_NOLEADER;
}

/* A command with its completion: cluster_done_cb or cluster_value_cb. */
struct op {
    cluster_done_cb done;
    cluster_value_cb value;
    void *data;
};

static const char *message(int status)
{
    return status == UV_ENOSPC ? CLUSTER_DISK_LOW_TEXT : status ? shir_strerror(status) : NULL;
}

static void op_answered(void *arg, int status, uint64_t value)
{
    struct op *op = arg;
    if (op->done)
        op->done(op->data, status, message(status));
    else
        op->value(op->data, status, value, message(status));
    free(op);
}

/* The FSM's answer given by the leader's pre-check (propose.h: no callback) is delivered like
 * apply's answer through a follower's forward: from the loop, with its value (BUSY's active
 * run), so the caller sees one path whichever node it asked. */
struct later {
    uv_timer_t timer;
    struct op *op;
    int status;
    uint64_t value;
};

static void later_free(uv_handle_t *h)
{
    free(h->data);
}

static void later_fire(uv_timer_t *t)
{
    struct later *l = t->data;
    op_answered(l->op, l->status, l->value);
    uv_close((uv_handle_t *)&l->timer, later_free);
}

/* Refusals that are the FSM's word, not a failure to reach it. */
static bool fsm_answer(int rv)
{
    return rv != SHIR_E_NOLEADER && rv != SHIR_E_NOMEM && rv != UV_ENOSPC &&
           rv != SHIR_E_UNAVAILABLE && rv != SHIR_E_TIMEOUT && rv != SHIR_E_SHUTDOWN;
}

/* Propose c (borrowed) with its completion; errors without a callback: failures to reach the
 * FSM only (scan_ops.h). */
int cluster__op_propose(struct cluster_env *env, struct cluster_propose *prop,
                        const struct cluster_cmd *c, cluster_done_cb done, cluster_value_cb value,
                        void *data)
{
    struct op *op = malloc(sizeof *op);
    if (!op)
        return SHIR_E_NOMEM;
    *op = (struct op){done, value, data};
    int rv = cluster__propose_wait(prop, c, op_answered, op);
    if (rv == 0)
        return 0;
    struct later *l = fsm_answer(rv) ? calloc(1, sizeof *l) : NULL;
    if (!l) {
        free(op);
        return rv;
    }
    l->op = op;
    l->status = rv;
    (void)cluster_fsm_check(env->fsm, c, &l->value);
    uv_timer_init(env->loop, &l->timer);
    l->timer.data = l;
    uv_timer_start(&l->timer, later_fire, 0, 0);
    return 0;
}

static struct cluster_cmd *cmd_new(enum cluster_cmd_type type)
{
    struct cluster_cmd *c = calloc(1, sizeof *c);
    if (c)
        c->type = type;
    return c;
}

int cluster__scan_put(struct cluster_env *env, struct cluster_propose *prop,
                      const struct cluster_scan_def *def, bool create, cluster_done_cb cb,
                      void *data)
{
    int rv = cluster__op_ready(env);
    if (rv != 0)
        return rv;
    struct cluster_cmd *c = cmd_new(CLUSTER_CMD_SCAN_PUT);
    if (!c)
        return SHIR_E_NOMEM;
    c->u.scan_put.def = *def;
    c->u.scan_put.create = create;
    uint64_t now = shir_wall_ms();
    c->u.scan_put.def.updated_ms = now;
    /* Apply keeps the first creation time on an update. */
    c->u.scan_put.def.created_ms = now;
    rv = cluster__op_propose(env, prop, c, cb, NULL, data);
    free(c);
    return rv;
}

int cluster__scan_delete(struct cluster_env *env, struct cluster_propose *prop, const char *name,
                         bool force, cluster_value_cb cb, void *data)
{
    int rv = cluster__op_ready(env);
    if (rv != 0)
        return rv;
    struct cluster_cmd *c = cmd_new(CLUSTER_CMD_SCAN_DELETE);
    if (!c)
        return SHIR_E_NOMEM;
    if (shir_str_copy(c->u.scan_delete.name, sizeof c->u.scan_delete.name, name) != 0)
        rv = SHIR_E_NOTFOUND; /* longer than any name: there is no such scan */
    c->u.scan_delete.force = force;
    if (rv == 0)
        rv = cluster__op_propose(env, prop, c, NULL, cb, data);
    free(c);
    return rv;
}

int cluster__scan_run(struct cluster_env *env, struct cluster_propose *prop, const char *name,
                      cluster_value_cb cb, void *data)
{
    int rv = cluster__op_ready(env);
    if (rv != 0)
        return rv;
    struct cluster_cmd *c = cmd_new(CLUSTER_CMD_RUN_CREATE);
    if (!c)
        return SHIR_E_NOMEM;
    if (shir_str_copy(c->u.run_create.scan, sizeof c->u.run_create.scan, name) != 0)
        rv = SHIR_E_NOTFOUND;
    c->u.run_create.trigger = CLUSTER_TRIGGER_MANUAL;
    c->u.run_create.now_ms = shir_wall_ms();
    if (rv == 0)
        rv = cluster__op_propose(env, prop, c, NULL, cb, data);
    free(c);
    return rv;
}

int cluster__run_cancel(struct cluster_env *env, struct cluster_propose *prop, uint64_t run,
                        cluster_done_cb cb, void *data)
{
    int rv = cluster__op_ready(env);
    if (rv != 0)
        return rv;
    struct cluster_cmd *c = cmd_new(CLUSTER_CMD_RUN_CANCEL);
    if (!c)
        return SHIR_E_NOMEM;
    c->u.run_cancel.run = run;
    c->u.run_cancel.now_ms = shir_wall_ms();
    rv = cluster__op_propose(env, prop, c, cb, NULL, data);
    free(c);
    return rv;
}

static int node_id(const struct cluster_env *env, const char *name, uint64_t *id)
{
    int rv = cluster__op_ready(env);
    if (rv != 0)
        return rv;
    const struct cluster_node *n = cluster_fsm_node_by_name(env->fsm, name);
    if (!n)
        return SHIR_E_NOTFOUND;
    *id = n->id;
    return 0;
}

int cluster__node_set_drain(struct cluster_env *env, struct cluster_propose *prop,
                            const char *name, bool drain, cluster_done_cb cb, void *data)
{
    uint64_t id;
    int rv = node_id(env, name, &id);
    if (rv != 0)
        return rv;
    struct cluster_cmd *c = cmd_new(CLUSTER_CMD_NODE_SET_DRAIN);
    if (!c)
        return SHIR_E_NOMEM;
    c->u.node_drain.node_id = id;
    c->u.node_drain.drain = drain;
    rv = cluster__op_propose(env, prop, c, cb, NULL, data);
    free(c);
    return rv;
}

int cluster__node_set_capacity(struct cluster_env *env, struct cluster_propose *prop,
                               const char *name, uint32_t capacity, cluster_done_cb cb,
                               void *data)
{
    uint64_t id;
    int rv = node_id(env, name, &id);
    if (rv != 0)
        return rv;
    if (capacity > CLUSTER_NODE_CAPACITY_MAX)
        return SHIR_E_INVAL;
    /* A witness runs nothing whatever its setting: refused rather than answered with a
     * capacity that placement never uses. */
    const struct cluster_node *n = cluster_fsm_node(env->fsm, id);
    if (n && n->role == CLUSTER_ROLE_WITNESS)
        return SHIR_E_UNSUPPORTED;
    struct cluster_cmd *c = cmd_new(CLUSTER_CMD_NODE_SET_CAPACITY);
    if (!c)
        return SHIR_E_NOMEM;
    c->u.node_capacity.node_id = id;
    c->u.node_capacity.capacity = capacity;
    rv = cluster__op_propose(env, prop, c, cb, NULL, data);
    free(c);
    return rv;
}
