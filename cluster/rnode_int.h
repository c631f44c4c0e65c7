/* cluster/rnode_int.h (internal to the raft node: rnode.c, rnode_members.c, rnode_seed.c).
 *
 * The node's state and the request that carries a status callback through libraft, shared by
 * rnode.c (start, queries, apply, barrier, recover, close) and the two files layered on it:
 * rnode_members.c (add, assign, remove, transfer) and rnode_seed.c (`shir snapshot restore`).
 * Only these files include libraft's headers, so only they call libraft.
 */
#ifndef SHIR_CLUSTER_RNODE_INT_H
#define SHIR_CLUSTER_RNODE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <raft.h>
#include <raft/uv.h>

#include "cluster/fsm_raft.h"
#include "cluster/rnode.h"

struct cluster_rnode {
    struct cluster_env *env;
    struct cluster_port *port;
    struct cluster_fsm_raft rfsm;
    struct raft raft;
    struct raft_io io;
    struct raft_uv_transport rt;
    bool rt_ready, io_ready, raft_ready, started;
    struct raft_barrier barrier;
    bool barrier_pending;
    raft_term ready_term; /* term in which our barrier completed (0: not ready) */
    /* `shir recover`: raft is closing to restart as the only voter. */
    bool restarting;
    cluster__status_fn recover_cb;
    void *recover_arg;
    bool closing;
    void (*closed)(void *arg);
    void *closed_arg;
    bool shut;   /* the disk guard closed the raft channel */
    bool taking; /* raft is taking a snapshot */
    /* /metrics: how often the leader this node knows changed to another one (seen per tick, so
     * a leadership that lasted less than one 50 ms tick is missed), and the last one seen. */
    uint64_t leader_changes, last_leader;
    uint64_t applied_before; /* entries the adapters of earlier runs (a recover) applied */
    struct apply_req *pending, *pending_tail; /* proposals waiting for their callback */
    char change_errmsg[RAFT_ERRMSG_BUF_SIZE]; /* raft's words on the last refused change, or "" */
};

/* A proposal of this node in flight: linked in the node's pending list (proposal order, so
 * index order) from raft_apply until its callback, so that the apply hook can copy the FSM's
 * answer for its index while that answer is still valid (fsm_raft.h, `result`). */
struct apply_req {
    struct raft_apply req;
    struct cluster_rnode *rn;
    cluster__applied_fn cb;
    void *arg;
    bool answered; /* status and value hold the FSM's answer */
    int status;
    uint64_t value;
    struct apply_req *prev, *next;
};

struct cluster__rnode_req {
    union {
        struct raft_barrier barrier;
        struct raft_change change;
        struct raft_transfer transfer;
    } u;
    cluster__status_fn cb;
    void *arg;
    const struct shir_log *log; /* rn's, to name a raft code that has no translation */
};

/* rnode.c: a request of rn for cb(arg, status), or NULL out of memory; its completion frees
 * it. */
struct cluster__rnode_req *cluster__rnode_req_new(struct cluster_rnode *rn, cluster__status_fn cb,
                                                  void *arg);

#endif /* SHIR_CLUSTER_RNODE_INT_H */
