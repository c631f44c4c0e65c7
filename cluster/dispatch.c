/* The dispatcher (see dispatch.h). */
#include "cluster/dispatch.h"

#include <stdlib.h>
#include <string.h>

/* Queued runs looked at per tick: placement is O(runs x nodes), and a tick places at most one
 * batch of CLUSTER_RUN_ASSIGN_BATCH anyway; the next tick takes the next ones. */
#define QUEUED_PER_TICK 256
/* Timeouts proposed at once (each is one small entry; more wait for the next tick). */
#define TIMEOUTS_INFLIGHT 16
/* An assignment batch in flight longer than this is given up on (its answer may still come; it
 * is then ignored): the propose part answers every proposal within its 10 s retry window plus a
 * 5 s forward timeout, so this only guards against a lost callback stalling placement for good.
 * Giving up is safe: apply re-checks every item, so a batch that commits late never assigns a
 * run twice nor exceeds a capacity. */
#define ASSIGN_DEADLINE_MS 20000

struct dead_node {
    uint64_t id;
    uint64_t since_ms; /* loop time this leader first saw it dead */
    bool inflight;     /* a RUN_REQUEUE for it is in flight */
};

struct cluster_dispatch {
    struct cluster_env *env;
    struct cluster_rnode *rn;
    struct cluster_propose *prop;
    struct cluster_gossip *gn;
    bool leading; /* ready leader at the last tick: the dead table belongs to this leadership */
    /* One RUN_ASSIGN at a time: placement needs the previous batch applied to see the loads.
     * The flag is cleared by the batch's answer, on leadership loss, or after
     * ASSIGN_DEADLINE_MS; `assign_gen` tells a current answer from one given up on. */
    bool assign_inflight;
    uint64_t assign_gen;
    uint64_t assign_since_ms; /* loop time of the proposal */
    struct dead_node dead[CLUSTER_FSM_NODES_CAP];
    size_t n_dead;
    uint64_t removed_inflight[CLUSTER_FSM_NODES_CAP]; /* requeues of nodes gone from the table */
    size_t n_removed;
    uint64_t timeout_inflight[TIMEOUTS_INFLIGHT];
    size_t n_timeout;
    bool closing;
    struct cluster_cmd cmd;                       /* scratch: commands are large */
    struct cluster_place_node nodes[CLUSTER_FSM_NODES_CAP];
    struct cluster_place_run runs[QUEUED_PER_TICK];
    struct cluster_place_result res[QUEUED_PER_TICK];
};

int cluster__dispatch_new(struct cluster_env *env, struct cluster_rnode *rn,
                          struct cluster_propose *prop, struct cluster_gossip *gn,
                          struct cluster_dispatch **out)
{
    struct cluster_dispatch *d = calloc(1, sizeof *d);
    if (!d)
        return SHIR_E_NOMEM;
    d->env = env;
    d->rn = rn;
    d->prop = prop;
    d->gn = gn;
    *out = d;
    return 0;
}

/* ---- the view -------------------------------------------------------------------------------- */

size_t cluster__dispatch_nodes(const struct cluster_env *env, struct cluster_gossip *gn,
                               struct cluster_place_node *out, size_t cap)
{
    size_t nn, k = 0;
    const struct cluster_node *nodes = cluster_fsm_nodes(env->fsm, &nn);
    for (size_t i = 0; i < nn && k < cap; i++) {
        const struct cluster_node *src = &nodes[i];
        struct cluster_place_node *n = &out[k++];
        memset(n, 0, sizeof *n);
        n->id = src->id;
        n->capacity = cluster_fsm_node_capacity(env->fsm, src->id);
        n->load = cluster_fsm_node_load(env->fsm, src->id);
        n->draining = src->drain;
        n->witness = src->role == CLUSTER_ROLE_WITNESS;
        const char *version = src->version;
        struct gossip_view v;
        if (cluster__gossip_view(gn, src->id, &v) == 0) {
            /* A node whose disk is nearly full takes no raft appends: its reports would not
             * commit, so it gets no new run either. */
            n->alive = v.liveness == GOSSIP_ALIVE && !(v.has_report && v.report.disk_low);
            if (v.has_report) {
                n->cpu = v.report.cpu;
                if (v.report.version[0])
                    version = v.report.version;
            }
        }
        n->compatible = cluster_place_versions_compatible(env->version, version);
    }
    return k;
}

static bool counts_as_failure(enum cluster_run_outcome o)
{
    return o == CLUSTER_OUTCOME_FAILED || o == CLUSTER_OUTCOME_CRASHED ||
           o == CLUSTER_OUTCOME_UNREACHABLE;
}

void cluster__dispatch_run(const struct cluster_run *r, struct cluster_place_run *out)
{
    memset(out, 0, sizeof *out);
    out->id = r->id;
    for (uint8_t i = 0; i < r->n_attempts && out->n_avoid < CLUSTER_PLACE_AVOID_MAX; i++) {
        const struct cluster_run_attempt *a = &r->attempts[i];
        if (!counts_as_failure(a->outcome))
            continue;
        bool seen = false;
        for (uint8_t j = 0; j < out->n_avoid; j++)
            seen = seen || out->avoid[j] == a->node;
        if (!seen)
            out->avoid[out->n_avoid++] = a->node;
    }
}

const char *cluster__dispatch_waiting(struct cluster_dispatch *d, const struct cluster_run *r)
{
    if (r->state != CLUSTER_RUN_QUEUED)
        return NULL;
    size_t nn = cluster__dispatch_nodes(d->env, d->gn, d->nodes, CLUSTER_FSM_NODES_CAP);
    /* Runs ahead of r take their places first (oldest first), as the dispatcher would. */
    size_t n, k = 0;
    const struct cluster_run *const *runs = cluster_fsm_runs(d->env->fsm, &n);
    for (size_t i = 0; i < n && k < QUEUED_PER_TICK; i++) {
        if (runs[i]->state != CLUSTER_RUN_QUEUED)
            continue;
        cluster__dispatch_run(runs[i], &d->runs[k++]);
        if (runs[i]->id == r->id)
            break;
    }
    if (k == 0 || d->runs[k - 1].id != r->id)
        return cluster_place_wait_text(CLUSTER_PLACE_AT_CAPACITY); /* far down the queue */
    cluster_place(d->nodes, nn, d->runs, k, SIZE_MAX, d->res);
    enum cluster_place_wait w = d->res[k - 1].wait;
    return w == CLUSTER_PLACE_PLACED ? NULL : cluster_place_wait_text(w);
}

/* ---- node loss ------------------------------------------------------------------------------- */

static struct dead_node *dead_find(struct cluster_dispatch *d, uint64_t id)
{
    for (size_t i = 0; i < d->n_dead; i++)
        if (d->dead[i].id == id)
            return &d->dead[i];
    return NULL;
}

static void dead_drop(struct cluster_dispatch *d, uint64_t id)
{
    for (size_t i = 0; i < d->n_dead; i++)
        if (d->dead[i].id == id) {
            d->dead[i] = d->dead[--d->n_dead];
            return;
        }
}

struct requeue_op {
    struct cluster_dispatch *d;
    uint64_t node;
    bool removed;
};

static void drop_id(uint64_t *ids, size_t *n, uint64_t id)
{
    for (size_t i = 0; i < *n; i++)
        if (ids[i] == id) {
            ids[i] = ids[--*n];
            return;
        }
}

static bool has_id(const uint64_t *ids, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static void requeue_done(void *arg, int status, uint64_t value)
{
    struct requeue_op *op = arg;
    struct cluster_dispatch *d = op->d;
    if (op->removed) {
        drop_id(d->removed_inflight, &d->n_removed, op->node);
    } else {
        struct dead_node *dn = dead_find(d, op->node);
        if (dn)
            dn->inflight = false;
    }
    if (status == 0 && value > 0)
        SHIR_INFO(&d->env->log, "node %llu %s: %llu run(s) queued again from their checkpoints",
                  (unsigned long long)op->node, op->removed ? "was removed" : "is dead",
                  (unsigned long long)value);
    else if (status != 0 && status != SHIR_E_SHUTDOWN)
        SHIR_DEBUG(&d->env->log, "requeue of node %llu's runs: %s", (unsigned long long)op->node,
                   shir_strerror(status));
    free(op);
}

static void propose_requeue(struct cluster_dispatch *d, uint64_t node, bool removed)
{
    struct requeue_op *op = malloc(sizeof *op);
    if (!op)
        return;
    *op = (struct requeue_op){d, node, removed};
    memset(&d->cmd, 0, sizeof d->cmd);
    d->cmd.type = CLUSTER_CMD_RUN_REQUEUE;
    d->cmd.u.run_requeue.node_id = node;
    d->cmd.u.run_requeue.now_ms = shir_wall_ms();
    if (cluster__propose(d->prop, &d->cmd, requeue_done, op) != 0) {
        free(op);
        return;
    }
    if (removed) {
        d->removed_inflight[d->n_removed++] = node;
    } else {
        struct dead_node *dn = dead_find(d, node);
        if (dn)
            dn->inflight = true;
    }
}

static void check_lost(struct cluster_dispatch *d, uint64_t now)
{
    const struct cluster_fsm *f = d->env->fsm;
    uint64_t grace = cluster_fsm_runtime(f)->settings.node_loss_grace_ms;
    /* Nodes this leader sees dead: since when (its own observation). */
    size_t nn;
    const struct cluster_node *nodes = cluster_fsm_nodes(f, &nn);
    for (size_t i = 0; i < nn; i++) {
        struct gossip_view v;
        bool dead = cluster__gossip_view(d->gn, nodes[i].id, &v) == 0 &&
                    v.liveness == GOSSIP_DEAD && nodes[i].id != d->env->id.node_id;
        struct dead_node *dn = dead_find(d, nodes[i].id);
        if (!dead) {
            if (dn && !dn->inflight)
                dead_drop(d, nodes[i].id);
            continue;
        }
        if (!dn && d->n_dead < CLUSTER_FSM_NODES_CAP) {
            dn = &d->dead[d->n_dead++];
            *dn = (struct dead_node){.id = nodes[i].id, .since_ms = now};
        }
        if (dn && !dn->inflight && now - dn->since_ms >= grace &&
            cluster_fsm_node_load(f, nodes[i].id) > 0)
            propose_requeue(d, nodes[i].id, false);
    }
    /* Runs on nodes that left the table (removed): at once. */
    size_t n;
    const struct cluster_run *const *runs = cluster_fsm_runs(f, &n);
    for (size_t i = 0; i < n; i++) {
        const struct cluster_run *r = runs[i];
        if ((r->state != CLUSTER_RUN_ASSIGNED && r->state != CLUSTER_RUN_RUNNING) ||
            cluster_fsm_node(f, r->node) || has_id(d->removed_inflight, d->n_removed, r->node) ||
            d->n_removed == CLUSTER_FSM_NODES_CAP)
            continue;
        propose_requeue(d, r->node, true);
    }
}

/* ---- timeouts -------------------------------------------------------------------------------- */

struct timeout_op {
    struct cluster_dispatch *d;
    uint64_t run;
};

static void timeout_done(void *arg, int status, uint64_t value)
{
    (void)value;
    struct timeout_op *op = arg;
    drop_id(op->d->timeout_inflight, &op->d->n_timeout, op->run);
    if (status == 0)
        SHIR_INFO(&op->d->env->log, "run %llu timed out", (unsigned long long)op->run);
    free(op);
}

static void check_timeouts(struct cluster_dispatch *d)
{
    const struct cluster_fsm *f = d->env->fsm;
    uint64_t wall = shir_wall_ms();
    size_t n;
    const struct cluster_run *const *runs = cluster_fsm_runs(f, &n);
    for (size_t i = 0; i < n && d->n_timeout < TIMEOUTS_INFLIGHT; i++) {
        const struct cluster_run *r = runs[i];
        if (!cluster_run_active(r->state) || r->started_ms == 0 ||
            has_id(d->timeout_inflight, d->n_timeout, r->id))
            continue;
        const struct cluster_scan_def *def = cluster_fsm_scan(f, r->scan);
        uint64_t limit = def ? def->timeout_ms : CLUSTER_SCAN_TIMEOUT_DEFAULT_MS;
        if (wall < r->started_ms || wall - r->started_ms < limit)
            continue;
        struct timeout_op *op = malloc(sizeof *op);
        if (!op)
            return;
        *op = (struct timeout_op){d, r->id};
        memset(&d->cmd, 0, sizeof d->cmd);
        d->cmd.type = CLUSTER_CMD_RUN_FINISH;
        d->cmd.u.run_finish.run = r->id;
        d->cmd.u.run_finish.attempt = r->attempt;
        d->cmd.u.run_finish.outcome = CLUSTER_OUTCOME_TIMEOUT;
        d->cmd.u.run_finish.now_ms = wall;
        d->cmd.u.run_finish.crash_index = UINT64_MAX;
        (void)shir_str_fmt(d->cmd.u.run_finish.error, sizeof d->cmd.u.run_finish.error,
                           "timed out: still not finished %llu s after its first start (the "
                           "scan's --timeout)",
                           (unsigned long long)(limit / 1000));
        if (cluster__propose(d->prop, &d->cmd, timeout_done, op) != 0) {
            free(op);
            return;
        }
        d->timeout_inflight[d->n_timeout++] = r->id;
    }
}

/* ---- placement ------------------------------------------------------------------------------- */

struct assign_op {
    struct cluster_dispatch *d;
    uint64_t gen;
};

static void assign_done(void *arg, int status, uint64_t value)
{
    struct assign_op *op = arg;
    struct cluster_dispatch *d = op->d;
    if (op->gen == d->assign_gen)
        d->assign_inflight = false;
    free(op);
    if (status != 0 && status != SHIR_E_SHUTDOWN)
        SHIR_DEBUG(&d->env->log, "assignment batch: %s", shir_strerror(status));
    else if (status == 0)
        SHIR_DEBUG(&d->env->log, "assigned %llu run(s)", (unsigned long long)value);
}

/* Forget the batch in flight: its answer, if it still comes, changes nothing here. */
static void assign_forget(struct cluster_dispatch *d)
{
    d->assign_inflight = false;
    d->assign_gen++;
}

static void place_queued(struct cluster_dispatch *d)
{
    const struct cluster_fsm *f = d->env->fsm;
    size_t n, k = 0;
    const struct cluster_run *const *runs = cluster_fsm_runs(f, &n);
    for (size_t i = 0; i < n && k < QUEUED_PER_TICK; i++)
        if (runs[i]->state == CLUSTER_RUN_QUEUED)
            cluster__dispatch_run(runs[i], &d->runs[k++]);
    if (k == 0)
        return;
    size_t nn = cluster__dispatch_nodes(d->env, d->gn, d->nodes, CLUSTER_FSM_NODES_CAP);
    size_t placed = cluster_place(d->nodes, nn, d->runs, k, CLUSTER_RUN_ASSIGN_BATCH, d->res);
    if (placed == 0)
        return;
    memset(&d->cmd, 0, sizeof d->cmd);
    d->cmd.type = CLUSTER_CMD_RUN_ASSIGN;
    for (size_t i = 0; i < k && d->cmd.u.run_assign.n < CLUSTER_RUN_ASSIGN_BATCH; i++) {
        if (!d->res[i].node)
            continue;
        uint32_t j = d->cmd.u.run_assign.n++;
        d->cmd.u.run_assign.items[j].run = d->res[i].run;
        d->cmd.u.run_assign.items[j].node = d->res[i].node;
    }
    struct assign_op *op = malloc(sizeof *op);
    if (!op)
        return;
    *op = (struct assign_op){d, ++d->assign_gen};
    if (cluster__propose(d->prop, &d->cmd, assign_done, op) != 0) {
        free(op);
        return;
    }
    d->assign_inflight = true;
    d->assign_since_ms = uv_now(d->env->loop);
}

/* ---- the part -------------------------------------------------------------------------------- */

static void dispatch_tick(void *self)
{
    struct cluster_dispatch *d = self;
    struct cluster_env *e = d->env;
    bool leading = !d->closing && e->registered && cluster__env_caught_up(e) &&
                   cluster__rnode_ready(d->rn) && !e->disk_low;
    if (!leading) {
        /* A later leadership starts its grace periods from its own observations. */
        if (d->leading) {
            d->n_dead = 0;
            /* A batch of the lost leadership is retried by the propose part or fails; a later
             * leadership places from what is applied then. */
            assign_forget(d);
        }
        d->leading = false;
        return;
    }
    d->leading = true;
    uint64_t now = uv_now(e->loop);
    check_lost(d, now);
    check_timeouts(d);
    if (d->assign_inflight && now - d->assign_since_ms >= ASSIGN_DEADLINE_MS) {
        SHIR_WARN(&e->log, "an assignment batch proposed %llu ms ago has no answer: placing "
                  "again (apply re-checks every item)",
                  (unsigned long long)(now - d->assign_since_ms));
        assign_forget(d);
    }
    if (!d->assign_inflight)
        place_queued(d);
}

static unsigned dispatch_close(void *self, void (*done)(void *arg), void *arg)
{
    (void)done;
    (void)arg;
    struct cluster_dispatch *d = self;
    d->closing = true; /* proposals in flight are failed by the propose part's close */
    return 0;
}

static void dispatch_free(void *self)
{
    free(self);
}

const struct cluster_part_ops cluster__dispatch_part = {
    .name = "dispatch", .tick = dispatch_tick, .close = dispatch_close, .free = dispatch_free};
