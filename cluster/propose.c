/* Proposals and their retries (see propose.h). */
#include "cluster/propose.h"

#include <stdlib.h>
#include <string.h>

/* Two elections and then some: a retry of a lost outcome keeps going this long. */
#define RETRY_WINDOW_MS 10000
/* How long an operator's command (cluster__propose_wait) that reached no leader waits for one:
 * failover takes ~1-2 s, so a write sent just after a leader died succeeds; a runtime without
 * quorum answers "no leader" after this long (the CLI waits 20 s for an answer). */
#define ELECTION_WAIT_MS 10000

struct retry {
    struct cluster_propose *p;
    struct cluster_cmd cmd;
    cluster__proposed_fn done;
    void *arg;
    uint64_t deadline;
    uint64_t wait_until; /* 0, or while no attempt was lost: keep trying to reach a leader until */
    bool lost; /* an attempt's outcome was unknown: later failures to reach a leader keep it so */
    struct retry *next;
};

struct cluster_propose {
    struct cluster_env *env;
    struct cluster_rnode *rn;
    cluster__forward_fn forward;
    void *forward_data;
    struct retry *retries; /* commands whose outcome was lost, to propose again */
    bool closing;
};

int cluster__propose_new(struct cluster_env *env, struct cluster_rnode *rn,
                         struct cluster_propose **out)
{
    struct cluster_propose *p = calloc(1, sizeof *p);
    if (!p)
        return SHIR_E_NOMEM;
    p->env = env;
    p->rn = rn;
    *out = p;
    return 0;
}

void cluster__propose_set_forward(struct cluster_propose *p, cluster__forward_fn fn, void *data)
{
    p->forward = fn;
    p->forward_data = data;
}

static int fill_request_id(struct cluster_propose *p, struct cluster_cmd *cmd)
{
    static const uint8_t zero[CLUSTER_REQUEST_ID_LEN];
    if (memcmp(cmd->request_id, zero, sizeof zero) != 0)
        return 0;
    return shir_random_fill(&p->env->rnd, cmd->request_id, sizeof cmd->request_id);
}

/* One attempt: append on the ready leader, else forward to the leader. `cmd` has its id. */
static int propose_once(struct cluster_propose *p, const struct cluster_cmd *cmd,
                        cluster__proposed_fn done, void *arg)
{
    if (p->env->disk_low)
        return UV_ENOSPC; /* the disk guard: this node takes no writes until space is back */
    if (!cluster__rnode_ready(p->rn)) {
        /* Any node takes mutations: a follower forwards them to the leader over shir-rpc/1. */
        const char *laddr = cluster__rnode_other_leader(p->rn);
        if (!laddr || !p->forward)
            return SHIR_E_NOLEADER;
        return p->forward(p->forward_data, laddr, cmd, done, arg);
    }
    int rv = 0;
    /* A retry of a command that did commit must reach apply, which answers its first result:
     * checking it again against the state it changed would refuse it. */
    if (!cluster_fsm_recent(p->env->fsm, cmd->request_id))
        rv = cluster_fsm_check(p->env->fsm, cmd, NULL);
    struct shir_buf b;
    shir_buf_init(&b, 64u * 1024u);
    if (rv == 0)
        rv = cluster_cmd_encode(cmd, &b);
    if (rv == 0)
        rv = cluster__rnode_apply(p->rn, b.data, b.len, done, arg);
    if (b.data)
        shir_wipe(b.data, b.len);
    shir_buf_free(&b);
    return rv;
}

static void retry_release(struct retry *r, int status, uint64_t value)
{
    r->done(r->arg, status, value);
    shir_wipe(&r->cmd, sizeof r->cmd);
    free(r);
}

/* Answers that say nothing about whether a command committed: no leader could be reached. */
static bool unreached(int status)
{
    return status == SHIR_E_NOLEADER || status == SHIR_E_UNAVAILABLE ||
           status == SHIR_E_TIMEOUT || status == SHIR_E_NOMEM;
}

static void retry_done(void *arg, int status, uint64_t value)
{
    struct retry *r = arg;
    struct cluster_propose *p = r->p;
    /* A retry that reached no ready leader proves nothing about the first attempt. The common
     * case: the old leader learns of the new one from its first append, forwards at once, and the
     * new leader refuses with NOLEADER until its barrier commits (~10 ms later, seen in
     * cluster_lost_outcome.sh). Answering that NOLEADER would tell the caller the command did not
     * happen when it may have, and a caller who sends it again (new id) would apply it twice. */
    bool again = r->lost && unreached(status);
    if (again)
        status = SHIR_E_UNKNOWN_OUTCOME;
    if (!r->lost && unreached(status) && !p->closing && shir_wall_ms() < r->wait_until) {
        r->next = p->retries; /* never reached a leader: wait for one (cluster__propose_wait) */
        p->retries = r;
        return;
    }
    if (status == SHIR_E_UNKNOWN_OUTCOME && !p->closing && shir_wall_ms() < r->deadline) {
        if (again)
            SHIR_DEBUG(&p->env->log, "a retried command reached no ready leader: retrying it again");
        else
            SHIR_INFO(&p->env->log, "outcome of a command unknown (leadership changed): retrying it");
        r->lost = true;
        r->next = p->retries;
        p->retries = r;
        return;
    }
    retry_release(r, status, value);
}

static int propose(struct cluster_propose *p, const struct cluster_cmd *cmd, unsigned wait_ms,
                   cluster__proposed_fn done, void *arg)
{
    struct retry *r = calloc(1, sizeof *r);
    if (!r)
        return SHIR_E_NOMEM;
    r->p = p;
    r->cmd = *cmd;
    r->done = done;
    r->arg = arg;
    r->deadline = shir_wall_ms() + RETRY_WINDOW_MS;
    r->wait_until = wait_ms ? shir_wall_ms() + wait_ms : 0;
    int rv = fill_request_id(p, &r->cmd);
    if (rv == 0)
        rv = propose_once(p, &r->cmd, retry_done, r);
    if (rv != 0 && wait_ms && unreached(rv) && !p->closing) {
        r->next = p->retries; /* no leader known yet: the tick tries again */
        p->retries = r;
        return 0;
    }
    if (rv != 0) {
        shir_wipe(&r->cmd, sizeof r->cmd);
        free(r);
    }
    return rv;
}

int cluster__propose(struct cluster_propose *p, const struct cluster_cmd *cmd,
                     cluster__proposed_fn done, void *arg)
{
    return propose(p, cmd, 0, done, arg);
}

int cluster__propose_wait(struct cluster_propose *p, const struct cluster_cmd *cmd,
                          cluster__proposed_fn done, void *arg)
{
    return propose(p, cmd, ELECTION_WAIT_MS, done, arg);
}

/* Re-propose what lost its outcome, once there is a leader to take it. */
static void propose_tick(void *self)
{
    struct cluster_propose *p = self;
    struct retry *list = p->retries;
    p->retries = NULL;
    while (list) {
        struct retry *r = list;
        list = r->next;
        int rv = propose_once(p, &r->cmd, retry_done, r);
        if (rv == 0)
            continue;
        uint64_t until = r->lost ? r->deadline : r->wait_until;
        if (unreached(rv) && shir_wall_ms() < until && !p->closing) {
            r->next = p->retries; /* no leader to take it yet: next tick */
            p->retries = r;
            continue;
        }
        /* Anything else is the FSM's pre-check refusing it: definitive, because a leader checks
         * only after its barrier, when an original that committed is applied and recognised. */
        retry_release(r, unreached(rv) && r->lost ? SHIR_E_UNKNOWN_OUTCOME : rv, 0);
    }
}

struct done_op {
    cluster_done_cb cb;
    void *data;
};

static void done_committed(void *arg, int status, uint64_t value)
{
    (void)value;
    struct done_op *op = arg;
    op->cb(op->data, status,
           status == UV_ENOSPC ? CLUSTER_DISK_LOW_TEXT : status ? shir_strerror(status) : NULL);
    free(op);
}

static int propose_done(struct cluster_propose *p, const struct cluster_cmd *cmd, unsigned wait_ms,
                        cluster_done_cb cb, void *data)
{
    struct done_op *op = malloc(sizeof *op);
    if (!op)
        return SHIR_E_NOMEM;
    op->cb = cb;
    op->data = data;
    int rv = propose(p, cmd, wait_ms, done_committed, op);
    if (rv != 0)
        free(op);
    return rv;
}

int cluster__propose_done(struct cluster_propose *p, const struct cluster_cmd *cmd,
                          cluster_done_cb cb, void *data)
{
    return propose_done(p, cmd, 0, cb, data);
}

int cluster__propose_done_wait(struct cluster_propose *p, const struct cluster_cmd *cmd,
                               cluster_done_cb cb, void *data)
{
    return propose_done(p, cmd, ELECTION_WAIT_MS, cb, data);
}

int cluster__propose_to(struct cluster_propose *p, const char *member_addr,
                        const struct cluster_cmd *cmd, cluster__proposed_fn done, void *arg)
{
    if (p->closing)
        return SHIR_E_SHUTDOWN;
    if (!p->forward)
        return SHIR_E_NOLEADER;
    struct cluster_cmd c = *cmd;
    int rv = fill_request_id(p, &c);
    if (rv == 0)
        rv = p->forward(p->forward_data, member_addr, &c, done, arg);
    shir_wipe(&c, sizeof c);
    return rv;
}

static unsigned propose_close(void *self, void (*done)(void *arg), void *arg)
{
    (void)done;
    (void)arg;
    struct cluster_propose *p = self;
    p->closing = true;
    while (p->retries) {
        struct retry *r = p->retries;
        p->retries = r->next;
        retry_release(r, SHIR_E_SHUTDOWN, 0);
    }
    return 0;
}

static void propose_free(void *self)
{
    free(self);
}

const struct cluster_part_ops cluster__propose_part = {
    .name = "propose", .tick = propose_tick, .close = propose_close, .free = propose_free};
