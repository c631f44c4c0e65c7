/* The membership queue (see members.h). */
#include "cluster/members.h"

#include <stdlib.h>
#include <string.h>

#include "cluster/abandon.h"

/* How long one membership change may keep the head of the queue while raft refuses it (a new node
 * that does not answer yet): then it goes to the back, so a stuck join does not hold up a removal
 * or a promotion. A node still PENDING in the replicated state is queued again on the next tick
 * (pending_step): a join is retried for as long as it is pending, until the node has been
 * silent for CLUSTER_JOIN_ABANDON_MS or its joiner gave up (abandon.h): then it is removed. */
#define MEMBER_OP_TIMEOUT_MS 20000

enum member_phase { PHASE_ADD, PHASE_ASSIGN, PHASE_RECORD_ROLE, PHASE_REMOVE, PHASE_RECORD_REMOVE };
/* MEMBER_ABANDON is a removal of a node still PENDING (a join that will not complete): it is
 * dropped, not carried out, if the node registered meanwhile. */
enum member_kind {
    MEMBER_JOIN,
    MEMBER_REMOVE,
    MEMBER_ASSIGN /* from the planner */,
    MEMBER_ABANDON
};

struct member_op {
    enum member_kind kind;
    uint64_t node_id;
    char address[CLUSTER_ADDR_MAX + 1];
    bool witness;
    enum member_phase phase;
    enum cluster_role role;
    uint64_t started_ms;
    cluster_done_cb cb; /* removal: the operator's command waits for it */
    void *data;
    struct member_op *next;
};

struct cluster_members {
    struct cluster_env *env;
    struct cluster_rnode *rn;
    struct cluster_propose *prop;
    const struct cluster_liveness *liveness;
    struct member_op *queue;
    bool running; /* a raft change or a proposal of the head op is in flight */
};

int cluster__members_new(struct cluster_env *env, struct cluster_rnode *rn,
                         struct cluster_propose *prop, struct cluster_members **out)
{
    struct cluster_members *m = calloc(1, sizeof *m);
    if (!m)
        return SHIR_E_NOMEM;
    m->env = env;
    m->rn = rn;
    m->prop = prop;
    *out = m;
    return 0;
}

void cluster__members_set_liveness(struct cluster_members *m, const struct cluster_liveness *v)
{
    m->liveness = v;
}

static void enqueue(struct cluster_members *m, struct member_op *op)
{
    struct member_op **pp = &m->queue;
    while (*pp)
        pp = &(*pp)->next;
    *pp = op;
}

void cluster__members_queue_join(struct cluster_members *m, uint64_t id, const char *address,
                                 bool witness)
{
    struct member_op *op = calloc(1, sizeof *op);
    if (!op) {
        SHIR_ERROR(&m->env->log, "out of memory queueing node %llu for raft",
                   (unsigned long long)id);
        return;
    }
    op->kind = MEMBER_JOIN;
    op->node_id = id;
    (void)shir_str_copy(op->address, sizeof op->address, address);
    op->witness = witness;
    op->phase = PHASE_ADD;
    op->started_ms = shir_wall_ms();
    enqueue(m, op);
}

static void op_pop(struct cluster_members *m, int status, const char *msg)
{
    struct member_op *op = m->queue;
    m->queue = op->next;
    m->running = false;
    if (op->cb)
        op->cb(op->data, status, msg);
    free(op);
}

static void recorded(void *arg, int status, uint64_t value)
{
    (void)value;
    struct cluster_members *m = arg;
    struct member_op *op = m->queue;
    m->running = false;
    if (status != 0 || !op)
        return; /* the tick proposes it again (or the queue was dropped on close) */
    if (op->phase == PHASE_RECORD_REMOVE)
        SHIR_INFO(&m->env->log, "node %llu removed from the runtime",
                  (unsigned long long)op->node_id);
    else
        SHIR_INFO(&m->env->log, "node %llu is now a %s", (unsigned long long)op->node_id,
                  cluster_role_name(op->role));
    op_pop(m, 0, NULL);
}

static void changed(void *arg, int status)
{
    struct cluster_members *m = arg;
    struct member_op *op = m->queue;
    m->running = false;
    if (!op)
        return; /* dropped on close */
    if (status == 0) {
        if (op->phase == PHASE_ADD)
            op->phase = PHASE_ASSIGN;
        else if (op->phase == PHASE_ASSIGN)
            op->phase = op->kind == MEMBER_REMOVE || op->kind == MEMBER_ABANDON ? PHASE_REMOVE
                                                                                : PHASE_RECORD_ROLE;
        else if (op->phase == PHASE_REMOVE)
            op->phase = PHASE_RECORD_REMOVE;
        return;
    }
    /* UNAVAILABLE: the new node is still starting; the tick retries until the deadline. */
    SHIR_DEBUG(&m->env->log, "membership change for node %llu: %s",
               (unsigned long long)op->node_id, shir_strerror(status));
}

/* Voter or standby for a node that joins now (design §1: 3 voters + 1 standby at 4). */
static enum cluster_role join_role(const struct cluster_members *m, const struct member_op *op)
{
    if (op->witness)
        return CLUSTER_ROLE_WITNESS;
    size_t n, voters = 0, members = 0;
    const struct cluster_node *nodes = cluster_fsm_nodes(m->env->fsm, &n);
    for (size_t i = 0; i < n; i++) {
        if (nodes[i].state != CLUSTER_NODE_REGISTERED)
            continue;
        members++;
        if (nodes[i].role == CLUSTER_ROLE_VOTER || nodes[i].role == CLUSTER_ROLE_WITNESS)
            voters++;
    }
    return voters < cluster_roles_target_voters((unsigned)members + 1) ? CLUSTER_ROLE_VOTER
                                                                       : CLUSTER_ROLE_STANDBY;
}

static bool queued(const struct cluster_members *m, uint64_t id)
{
    for (const struct member_op *op = m->queue; op; op = op->next)
        if (op->node_id == id)
            return true;
    return false;
}

/* Take node `id`'s queued join out of the queue (not the head while it runs: its raft change is in
 * flight and its callback expects it there). */
static void drop_join(struct cluster_members *m, uint64_t id)
{
    for (struct member_op **pp = &m->queue; *pp;) {
        struct member_op *op = *pp;
        if (op->kind == MEMBER_JOIN && op->node_id == id && !(op == m->queue && m->running)) {
            *pp = op->next;
            free(op);
        } else {
            pp = &op->next;
        }
    }
}

static bool abandoning(const struct cluster_members *m, uint64_t id)
{
    for (const struct member_op *op = m->queue; op; op = op->next)
        if (op->kind == MEMBER_ABANDON && op->node_id == id)
            return true;
    return false;
}

void cluster__members_abandon(struct cluster_members *m, uint64_t id, const char *why)
{
    const struct cluster_node *n = cluster_fsm_node(m->env->fsm, id);
    if (!n || n->state != CLUSTER_NODE_PENDING || abandoning(m, id))
        return;
    struct member_op *op = calloc(1, sizeof *op);
    if (!op) {
        SHIR_ERROR(&m->env->log, "out of memory abandoning the join of node %llu",
                   (unsigned long long)id);
        return;
    }
    SHIR_WARN(&m->env->log, "the join of node '%s' (id %llu, %s) is abandoned: %s; removing it",
              n->name, (unsigned long long)id, n->address, why);
    drop_join(m, id);
    op->kind = MEMBER_ABANDON;
    op->node_id = id;
    op->phase = PHASE_ASSIGN;
    op->started_ms = shir_wall_ms();
    /* First in line after whatever runs now: a removal frees the slot a retry needs. */
    struct member_op **pp = &m->queue;
    if (*pp && m->running)
        pp = &(*pp)->next;
    op->next = *pp;
    *pp = op;
}

/* Level-triggered: every node the replicated state still has PENDING (recorded and certified,
 * not yet a raft member with its role) has a join queued. This retries a join whose raft step
 * failed or timed out, and finishes one a previous leader started. */
static void pending_step(struct cluster_members *m)
{
    size_t n;
    const struct cluster_node *nodes = cluster_fsm_nodes(m->env->fsm, &n);
    uint64_t silent = cluster_join_abandoned(nodes, n, m->liveness,
                                             shir_clock_system()->now_ms(shir_clock_system()),
                                             cluster__join_bound_ms());
    if (silent != 0) {
        char why[96];
        (void)shir_str_fmt(why, sizeof why, "not heard from for %d s",
                           (int)(cluster__join_bound_ms() / 1000));
        cluster__members_abandon(m, silent, why);
    }
    for (size_t i = 0; i < n; i++)
        if (nodes[i].state == CLUSTER_NODE_PENDING && !queued(m, nodes[i].id))
            cluster__members_queue_join(m, nodes[i].id, nodes[i].address,
                                        nodes[i].role == CLUSTER_ROLE_WITNESS);
}

/* With nothing else queued, ask the planner (cluster/roles.h) for the next role change. */
static void plan_step(struct cluster_members *m)
{
    if (!m->liveness)
        return;
    size_t n;
    const struct cluster_node *nodes = cluster_fsm_nodes(m->env->fsm, &n);
    struct cluster_plan plan;
    if (cluster_roles_plan(nodes, n, m->env->id.node_id, &cluster_fsm_runtime(m->env->fsm)->settings,
                           m->liveness, shir_clock_system(), &plan) != 0 ||
        plan.kind != CLUSTER_PLAN_ASSIGN)
        return;
    struct member_op *op = calloc(1, sizeof *op);
    if (!op)
        return;
    op->kind = MEMBER_ASSIGN;
    op->node_id = plan.node_id;
    op->phase = PHASE_ASSIGN;
    op->role = plan.to;
    op->started_ms = shir_wall_ms();
    m->queue = op;
    SHIR_WARN(&m->env->log, "node %llu: %s -> %s (%s)", (unsigned long long)plan.node_id,
              cluster_role_name(plan.from), cluster_role_name(plan.to), plan.reason);
}

/* A removal's demotion: nothing to do when the node is a spare already or not in raft at all. */
static bool removal_skips_assign(struct cluster_members *m, struct member_op *op)
{
    enum cluster_role role;
    if (!cluster__rnode_member(m->rn, op->node_id, &role)) {
        op->phase = PHASE_RECORD_REMOVE;
        return true;
    }
    if (role == CLUSTER_ROLE_SPARE) {
        op->phase = PHASE_REMOVE;
        return true;
    }
    return false;
}

static int record(struct cluster_members *m, const struct member_op *op)
{
    struct cluster_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    if (op->phase == PHASE_RECORD_REMOVE) {
        cmd.type = CLUSTER_CMD_NODE_REMOVE;
        cmd.u.node_remove.node_id = op->node_id;
    } else {
        cmd.type = CLUSTER_CMD_NODE_SET_ROLE;
        cmd.u.node_role.node_id = op->node_id;
        cmd.u.node_role.role = op->role;
    }
    return cluster__propose(m->prop, &cmd, recorded, m);
}

static void members_tick(void *self)
{
    struct cluster_members *m = self;
    if (m->running || !cluster__rnode_ready(m->rn))
        return;
    pending_step(m);
    if (!m->queue)
        plan_step(m);
    struct member_op *op = m->queue;
    if (!op)
        return;
    if (shir_wall_ms() - op->started_ms > MEMBER_OP_TIMEOUT_MS) {
        SHIR_WARN(&m->env->log,
                  "the membership change of node %llu has not completed in %d s%s",
                  (unsigned long long)op->node_id, MEMBER_OP_TIMEOUT_MS / 1000,
                  op->kind == MEMBER_JOIN ? "; it is retried while the node is pending" : "");
        op_pop(m, SHIR_E_TIMEOUT, "the membership change did not complete in time");
        return;
    }
    int rv = 0;
    switch (op->phase) {
    case PHASE_ADD:
        rv = cluster__rnode_add(m->rn, op->node_id, op->address, changed, m);
        if (rv == SHIR_E_EXISTS) { /* a previous leader got this far */
            op->phase = PHASE_ASSIGN;
            return;
        }
        break;
    case PHASE_ASSIGN:
        if (op->kind == MEMBER_JOIN) {
            op->role = join_role(m, op);
        } else if (op->kind == MEMBER_ABANDON) {
            const struct cluster_node *n = cluster_fsm_node(m->env->fsm, op->node_id);
            if (!n || n->state != CLUSTER_NODE_PENDING) {
                SHIR_INFO(&m->env->log,
                          "node %llu is no longer pending: its abandonment is dropped",
                          (unsigned long long)op->node_id);
                op_pop(m, 0, NULL);
                return;
            }
            if (removal_skips_assign(m, op))
                return;
            op->role = CLUSTER_ROLE_SPARE;
        } else if (op->kind == MEMBER_REMOVE) {
            if (removal_skips_assign(m, op))
                return;
            op->role = CLUSTER_ROLE_SPARE;
        } /* MEMBER_ASSIGN: planned, role set */
        rv = cluster__rnode_assign(m->rn, op->node_id, op->role, changed, m);
        break;
    case PHASE_REMOVE:
        rv = cluster__rnode_remove(m->rn, op->node_id, changed, m);
        if (rv == SHIR_E_NOTFOUND) {
            op->phase = PHASE_RECORD_REMOVE;
            return;
        }
        break;
    case PHASE_RECORD_ROLE:
    case PHASE_RECORD_REMOVE:
        rv = record(m, op);
        break;
    }
    if (rv == 0)
        m->running = true;
    else if (rv != SHIR_E_BUSY)
        SHIR_DEBUG(&m->env->log, "membership change for node %llu refused: %s",
                   (unsigned long long)op->node_id, shir_strerror(rv));
}

int cluster__members_remove(struct cluster_members *m, const char *name, cluster_done_cb cb,
                            void *data, char *errbuf, size_t errcap)
{
    if (!m->env->registered) {
        (void)shir_str_copy(errbuf, errcap, "this node is not registered");
        return SHIR_E_NOTFOUND;
    }
    const struct cluster_node *n = cluster_fsm_node_by_name(m->env->fsm, name);
    if (!n) {
        (void)shir_str_fmt(errbuf, errcap, "no node named '%s' in this runtime", name);
        return SHIR_E_NOTFOUND;
    }
    if (!cluster__rnode_ready(m->rn)) {
        uint64_t lid = cluster__rnode_leader(m->rn, NULL);
        const struct cluster_node *l = lid ? cluster_fsm_node(m->env->fsm, lid) : NULL;
        (void)shir_str_fmt(errbuf, errcap, "run this on the leader%s%s%s",
                           l ? " (" : " (there is none right now)", l ? l->name : "", l ? ")" : "");
        return SHIR_E_NOLEADER;
    }
    if (n->id == m->env->id.node_id) {
        (void)shir_str_copy(errbuf, errcap,
                            "this node is the leader; remove it from another node after stopping "
                            "it, or stop it and let the others elect a new leader first");
        return SHIR_E_BUSY;
    }
    struct member_op *op = calloc(1, sizeof *op);
    if (!op)
        return SHIR_E_NOMEM;
    op->kind = MEMBER_REMOVE;
    op->node_id = n->id;
    op->phase = PHASE_ASSIGN;
    op->started_ms = shir_wall_ms();
    op->cb = cb;
    op->data = data;
    enqueue(m, op);
    SHIR_INFO(&m->env->log, "removing node '%s' (id %llu)", n->name, (unsigned long long)n->id);
    return 0;
}

static unsigned members_close(void *self, void (*done)(void *arg), void *arg)
{
    (void)done;
    (void)arg;
    struct cluster_members *m = self;
    while (m->queue) {
        struct member_op *op = m->queue;
        m->queue = op->next;
        if (op->cb)
            op->cb(op->data, SHIR_E_SHUTDOWN, "the agent is shutting down");
        free(op);
    }
    return 0;
}

static void members_free(void *self)
{
    free(self);
}

const struct cluster_part_ops cluster__members_part = {
    .name = "members", .tick = members_tick, .close = members_close, .free = members_free};
