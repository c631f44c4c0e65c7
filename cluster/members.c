/* The membership queue (see members.h). */
#include "cluster/members.h"

#include <stdlib.h>
#include <string.h>

#include "cluster/abandon.h"
#include "cluster/member_step.h"

/* How long one membership change may keep the head of the queue, counted from when it got there
 * (not while it waited behind others): then it is taken out, so a stuck join does not hold up a
 * removal or a promotion. A node still PENDING in the replicated state is queued again on the next
 * tick (pending_step) and resumes from what raft's configuration already has (member_step.h): a
 * join is retried for as long as it is pending, until the node has been silent for
 * CLUSTER_JOIN_ABANDON_MS or its joiner gave up (abandon.h): then it is removed. */
#define MEMBER_OP_TIMEOUT_MS 20000

struct member_op {
    enum cluster_member_kind kind;
    uint64_t node_id;
    char address[CLUSTER_ADDR_MAX + 1];
    bool witness;
    enum cluster_member_phase phase;
    enum cluster_role role;
    uint64_t head_ms;   /* monotonic time it reached the head of the queue; 0: not yet */
    int refused;        /* the last synchronous refusal logged, so each is logged once */
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
    op->kind = CLUSTER_MEMBER_JOIN;
    op->node_id = id;
    (void)shir_str_copy(op->address, sizeof op->address, address);
    op->witness = witness;
    op->phase = CLUSTER_MEMBER_ADD;
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
    if (op->phase == CLUSTER_MEMBER_RECORD_REMOVE)
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
    if (status == 0)
        return; /* the next tick reads the next step off raft's configuration (member_step.h) */
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
        if (op->kind == CLUSTER_MEMBER_JOIN && op->node_id == id &&
            !(op == m->queue && m->running)) {
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
        if (op->kind == CLUSTER_MEMBER_ABANDON && op->node_id == id)
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
    op->kind = CLUSTER_MEMBER_ABANDON;
    op->node_id = id;
    op->phase = CLUSTER_MEMBER_SET;
    /* First in line after whatever runs now: a removal frees the slot a retry needs. */
    struct member_op **pp = &m->queue;
    if (*pp && m->running)
        pp = &(*pp)->next;
    else if (*pp)
        (*pp)->head_ms = 0; /* it gets the whole deadline again when it is back at the head */
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
    op->kind = CLUSTER_MEMBER_ASSIGN;
    op->node_id = plan.node_id;
    op->phase = CLUSTER_MEMBER_SET;
    op->role = plan.to;
    m->queue = op;
    SHIR_WARN(&m->env->log, "node %llu: %s -> %s (%s)", (unsigned long long)plan.node_id,
              cluster_role_name(plan.from), cluster_role_name(plan.to), plan.reason);
}

static int record(struct cluster_members *m, const struct member_op *op)
{
    struct cluster_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    if (op->phase == CLUSTER_MEMBER_RECORD_REMOVE) {
        cmd.type = CLUSTER_CMD_NODE_REMOVE;
        cmd.u.node_remove.node_id = op->node_id;
    } else {
        cmd.type = CLUSTER_CMD_NODE_SET_ROLE;
        cmd.u.node_role.node_id = op->node_id;
        cmd.u.node_role.role = op->role;
    }
    return cluster__propose(m->prop, &cmd, recorded, m);
}

static const char *phase_name(enum cluster_member_phase phase)
{
    switch (phase) {
    case CLUSTER_MEMBER_ADD:
        return "add";
    case CLUSTER_MEMBER_SET:
        return "role";
    case CLUSTER_MEMBER_RECORD_ROLE:
        return "recording its role";
    case CLUSTER_MEMBER_REMOVE_RAFT:
        return "remove";
    case CLUSTER_MEMBER_RECORD_REMOVE:
        return "recording its removal";
    }
    return "?";
}

/* Carry out the head op's step; returns 0 once it is in flight. */
static int run_step(struct cluster_members *m, struct member_op *op)
{
    switch (op->phase) {
    case CLUSTER_MEMBER_ADD:
        return cluster__rnode_add(m->rn, op->node_id, op->address, changed, m);
    case CLUSTER_MEMBER_SET:
        return cluster__rnode_assign(m->rn, op->node_id, op->role, changed, m);
    case CLUSTER_MEMBER_REMOVE_RAFT:
        return cluster__rnode_remove(m->rn, op->node_id, changed, m);
    case CLUSTER_MEMBER_RECORD_ROLE:
    case CLUSTER_MEMBER_RECORD_REMOVE:
        return record(m, op);
    }
    return SHIR_E_INVAL;
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
    uint64_t now = shir_clock_system()->now_ms(shir_clock_system());
    if (op->head_ms == 0)
        op->head_ms = now; /* its deadline starts now, not while it waited behind others */
    if (op->kind == CLUSTER_MEMBER_JOIN &&
        (op->phase == CLUSTER_MEMBER_ADD || op->phase == CLUSTER_MEMBER_SET))
        op->role = join_role(m, op);
    else if (op->kind == CLUSTER_MEMBER_REMOVE || op->kind == CLUSTER_MEMBER_ABANDON)
        op->role = CLUSTER_ROLE_SPARE;
    struct cluster_member_facts f = {.kind = op->kind,
                                     .phase = op->phase,
                                     .role = op->role,
                                     .node = cluster_fsm_node(m->env->fsm, op->node_id),
                                     .head_ms = op->head_ms,
                                     .now_ms = now,
                                     .timeout_ms = MEMBER_OP_TIMEOUT_MS};
    f.in_raft = cluster__rnode_member(m->rn, op->node_id, &f.raft_role);
    enum cluster_member_phase phase;
    switch (cluster_member_step(&f, &phase)) {
    case CLUSTER_MEMBER_DROP:
        SHIR_INFO(&m->env->log, "node %llu no longer needs its %s: dropped",
                  (unsigned long long)op->node_id,
                  op->kind == CLUSTER_MEMBER_JOIN      ? "join (registered or removed meanwhile)"
                  : op->kind == CLUSTER_MEMBER_ABANDON ? "abandonment (it is no longer pending)"
                  : op->kind == CLUSTER_MEMBER_REMOVE  ? "removal (gone from the record and raft)"
                                                       : "planned role change");
        op_pop(m, 0, NULL);
        return;
    case CLUSTER_MEMBER_EXPIRE:
        SHIR_WARN(&m->env->log,
                  "the membership change of node %llu has not completed in %d s (step: %s)%s",
                  (unsigned long long)op->node_id, MEMBER_OP_TIMEOUT_MS / 1000, phase_name(phase),
                  op->kind == CLUSTER_MEMBER_JOIN ? "; it is retried while the node is pending"
                                                  : "");
        op_pop(m, SHIR_E_TIMEOUT, "the membership change did not complete in time");
        return;
    case CLUSTER_MEMBER_RUN:
        break;
    }
    op->phase = phase;
    int rv = run_step(m, op);
    if (rv == 0) {
        m->running = true;
        return;
    }
    /* BUSY: another change is in flight. Anything else is logged once per op and code, with
     * raft's own words; the op keeps the head until its deadline. */
    if (rv == SHIR_E_BUSY || rv == op->refused)
        return;
    op->refused = rv;
    const char *why = cluster__rnode_change_errmsg(m->rn);
    SHIR_WARN(&m->env->log, "membership change of node %llu (%s) refused: %s%s%s%s",
              (unsigned long long)op->node_id, phase_name(phase), shir_strerror(rv),
              why[0] ? " (raft: " : "", why, why[0] ? ")" : "");
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
    op->kind = CLUSTER_MEMBER_REMOVE;
    op->node_id = n->id;
    op->phase = CLUSTER_MEMBER_SET;
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
