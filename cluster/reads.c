/* Linearizable reads (see reads.h). */
#include "cluster/reads.h"

#include <stdlib.h>

/* A barrier is one round of heartbeats (50 ms) on a healthy runtime; 5 s covers an election. */
#define READ_TIMEOUT_MS 5000

struct read {
    struct cluster_reads *rs;
    cluster_done_cb cb;
    void *data;
    uint64_t index;    /* follower: wait until applied >= index */
    uint64_t deadline; /* wall ms */
    bool waiting;      /* follower: index known, waiting for the replica */
    struct read *next;
};

struct cluster_reads {
    struct cluster_env *env;
    struct cluster_rnode *rn;
    struct cluster_rpc *rpc;
    struct read *reads; /* in progress */
};

int cluster__reads_new(struct cluster_env *env, struct cluster_rnode *rn, struct cluster_rpc *rpc,
                       struct cluster_reads **out)
{
    struct cluster_reads *rs = calloc(1, sizeof *rs);
    if (!rs)
        return SHIR_E_NOMEM;
    rs->env = env;
    rs->rn = rn;
    rs->rpc = rpc;
    *out = rs;
    return 0;
}

static void read_finish(struct read *r, int status, const char *msg)
{
    for (struct read **pp = &r->rs->reads; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    }
    r->cb(r->data, status, msg);
    free(r);
}

static void leader_barrier_done(void *arg, int status)
{
    read_finish(arg, status, status ? "leadership changed during the read" : NULL);
}

static void reads_tick(void *self);

static void index_known(void *arg, int status, uint64_t value)
{
    struct read *r = arg;
    if (status != 0) {
        read_finish(r, status, "the leader could not confirm the current state");
        return;
    }
    r->index = value;
    r->waiting = true;
    reads_tick(r->rs);
}

int cluster__reads_barrier(struct cluster_reads *rs, cluster_done_cb cb, void *data)
{
    if (!rs->env->registered || !cluster__rnode_started(rs->rn))
        return SHIR_E_NOTFOUND;
#ifdef SHIR_TEST_FAULTS
    /* Test builds only: SHIR_TEST_FAULT_READS_FAIL makes every linearizable read fail as one
     * under a leadership change does (admin_readback.sh: a committed write still answers). */
    const char *fault = getenv("SHIR_TEST_FAULT_READS_FAIL");
    if (fault && *fault)
        return SHIR_E_TIMEOUT;
#endif
    struct read *r = calloc(1, sizeof *r);
    if (!r)
        return SHIR_E_NOMEM;
    r->rs = rs;
    r->cb = cb;
    r->data = data;
    r->deadline = shir_wall_ms() + READ_TIMEOUT_MS;
    int rv;
    if (cluster__rnode_ready(rs->rn)) {
        rv = cluster__rnode_barrier(rs->rn, leader_barrier_done, r);
    } else {
        const char *laddr = cluster__rnode_other_leader(rs->rn);
        rv = laddr ? cluster__rpc_read_index(rs->rpc, laddr, index_known, r) : SHIR_E_NOLEADER;
    }
    if (rv != 0) {
        free(r);
        return rv;
    }
    r->next = rs->reads;
    rs->reads = r;
    return 0;
}

/* Complete follower reads whose index has been applied. */
static void reads_tick(void *self)
{
    struct cluster_reads *rs = self;
    uint64_t applied = cluster__rnode_last_applied(rs->rn);
    for (struct read *r = rs->reads, *next; r; r = next) {
        next = r->next;
        if (r->waiting && applied >= r->index)
            read_finish(r, 0, NULL);
        else if (r->waiting && shir_wall_ms() > r->deadline)
            read_finish(r, SHIR_E_TIMEOUT, "this node did not catch up with the leader in time");
    }
}

static unsigned reads_close(void *self, void (*done)(void *arg), void *arg)
{
    (void)done;
    (void)arg;
    struct cluster_reads *rs = self;
    /* Leader barriers are failed by raft's close; follower reads are failed here. */
    for (struct read *r = rs->reads, *next; r; r = next) {
        next = r->next;
        if (r->waiting)
            read_finish(r, SHIR_E_SHUTDOWN, "the agent is shutting down");
    }
    return 0;
}

static void reads_free(void *self)
{
    free(self);
}

const struct cluster_part_ops cluster__reads_part = {
    .name = "reads", .tick = reads_tick, .close = reads_close, .free = reads_free};
