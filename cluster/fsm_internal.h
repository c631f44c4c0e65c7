/* cluster/fsm_internal: the FSM's state block, shared by fsm.c (apply, queries) and
 * fsm_codec.c (encodings). Nothing outside those two files includes this. */
#ifndef SHIR_CLUSTER_FSM_INTERNAL_H
#define SHIR_CLUSTER_FSM_INTERNAL_H

#include "cluster/fsm.h"

struct cluster__fsm_state {
    struct cluster_runtime runtime;
    struct cluster_node nodes[CLUSTER_FSM_NODES_CAP];
    size_t n_nodes;
    struct cluster_proxy proxy;
    uint64_t next_node_id;
    /* Ring of the last CLUSTER_FSM_RECENT results, oldest at (head - n) mod RECENT. */
    struct cluster_fsm_result recent[CLUSTER_FSM_RECENT];
    size_t recent_head; /* next slot to write */
    size_t recent_n;
};

struct cluster_fsm {
    struct cluster__fsm_state st;
    struct cluster_cmd scratch_cmd;           /* decode target: no allocation in apply */
    struct cluster_fsm_result scratch_result; /* for undecodable entries */
    uint64_t applied;
};

void cluster__fsm_state_reset(struct cluster__fsm_state *st);
int cluster__fsm_state_encode(const struct cluster__fsm_state *st, struct shir_buf *out);
int cluster__fsm_state_decode(const void *p, size_t n, struct cluster__fsm_state *st);

#endif /* SHIR_CLUSTER_FSM_INTERNAL_H */
