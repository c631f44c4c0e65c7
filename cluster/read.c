/* Linearizable reads (design §4: reads through raft_barrier on the leader). On the leader: a
 * barrier, then read the local replica. On a follower (ReadIndex): ask the leader over shir-rpc/1
 * to run a barrier and return its commit index, wait until the local replica has applied that
 * far, then read it. Either way the read sees every write committed before it started. */
#include <stdlib.h>

#include "cluster/runtime_int.h"

/* A barrier is one round of heartbeats (50 ms) on a healthy runtime; 5 s covers an election. */
#define READ_TIMEOUT_MS 5000

struct cluster_read {
    struct cluster *c;
    struct raft_barrier barrier;
    cluster_done_cb cb;
    void *data;
    uint64_t index;    /* follower: wait until applied >= index */
    uint64_t deadline; /* wall ms */
    bool waiting;      /* follower: index known, waiting for the replica */
    struct cluster_read *next;
};

static void read_finish(struct cluster_read *r, int status, const char *msg)
{
    struct cluster *c = r->c;
    for (struct cluster_read **pp = &c->reads; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    }
    r->cb(r->data, status, msg);
    free(r);
}

static void leader_barrier_done(struct raft_barrier *req, int status)
{
    struct cluster_read *r = req->data;
    read_finish(r, cluster_raft_err(status), status ? "leadership changed during the read" : NULL);
}

static void index_known(struct cluster *c, int status, uint64_t value, void *arg)
{
    (void)c;
    struct cluster_read *r = arg;
    if (status != 0) {
        read_finish(r, status, "the leader could not confirm the current state");
        return;
    }
    r->index = value;
    r->waiting = true;
    cluster__read_tick(r->c);
}

int cluster_read_barrier(struct cluster *c, cluster_done_cb cb, void *data)
{
    if (!c->registered || !c->raft_started)
        return SHIR_E_NOTFOUND;
    struct cluster_read *r = calloc(1, sizeof *r);
    if (!r)
        return SHIR_E_NOMEM;
    r->c = c;
    r->cb = cb;
    r->data = data;
    r->deadline = cluster__wall_ms() + READ_TIMEOUT_MS;
    int rv;
    if (cluster__leader_ready(c)) {
        r->barrier.data = r;
        rv = cluster_raft_err(raft_barrier(&c->raft, &r->barrier, leader_barrier_done));
    } else {
        raft_id lid = 0;
        const char *laddr = NULL;
        raft_leader(&c->raft, &lid, &laddr);
        rv = lid == 0 || lid == c->id.node_id || !laddr
                 ? SHIR_E_NOLEADER
                 : cluster__ask_read_index(c, laddr, index_known, r);
    }
    if (rv != 0) {
        free(r);
        return rv;
    }
    r->next = c->reads;
    c->reads = r;
    return 0;
}

void cluster__read_tick(struct cluster *c)
{
    uint64_t applied = c->raft_started ? raft_last_applied(&c->raft) : 0;
    for (struct cluster_read *r = c->reads, *next; r; r = next) {
        next = r->next;
        if (r->waiting && applied >= r->index)
            read_finish(r, 0, NULL);
        else if (r->waiting && cluster__wall_ms() > r->deadline)
            read_finish(r, SHIR_E_TIMEOUT, "this node did not catch up with the leader in time");
    }
}

void cluster__read_close(struct cluster *c)
{
    /* Leader barriers are failed by raft_close; follower reads are failed here. */
    for (struct cluster_read *r = c->reads, *next; r; r = next) {
        next = r->next;
        if (r->waiting)
            read_finish(r, SHIR_E_SHUTDOWN, "the agent is shutting down");
    }
}
