/* cluster/dispatch.h (internal): the dispatcher — the raft leader's loop over runs (design §5,
 * docs/dispatch.md).
 *
 * Level-triggered: every tick the ready leader compares the replica's runs with its live view
 * (gossip) and proposes what closes the difference, so nothing depends on having seen an edge
 * (a new leader simply carries on):
 *   - a node that is gone from the table, or DEAD in this leader's gossip view for the node-loss
 *     grace (counted from this leader's own first sight of it dead: never heard is not dead),
 *     and holds assigned or running runs -> RUN_REQUEUE;
 *   - an active run past its scan's timeout (from its first start) -> RUN_FINISH TIMEOUT;
 *   - queued runs, oldest first -> cluster_place (place.h) -> RUN_ASSIGN batches (the FSM
 *     re-checks capacity when it applies them).
 * One proposal of each kind per target is in flight at a time. Not for: starting workers (the
 * node that applies an assignment does: runs.h), placing (place.h: pure).
 */
#ifndef SHIR_CLUSTER_DISPATCH_H
#define SHIR_CLUSTER_DISPATCH_H

#include "cluster/env.h"
#include "cluster/gossip_net.h"
#include "cluster/part.h"
#include "cluster/place.h"
#include "cluster/propose.h"
#include "cluster/rnode.h"

struct cluster_dispatch;
extern const struct cluster_part_ops cluster__dispatch_part;

int cluster__dispatch_new(struct cluster_env *env, struct cluster_rnode *rn,
                          struct cluster_propose *prop, struct cluster_gossip *gn,
                          struct cluster_dispatch **out);

/* The placement view of this node: every node of the replica with its capacity and load (replica)
 * and liveness, CPU and version (gossip, compared with this node's version). Fills out[0..cap),
 * returns how many. */
size_t cluster__dispatch_nodes(const struct cluster_env *env, struct cluster_gossip *gn,
                               struct cluster_place_node *out, size_t cap);
/* The placement input of a run: its id and the nodes it failed on (anti-affinity). */
void cluster__dispatch_run(const struct cluster_run *r, struct cluster_place_run *out);
/* Why queued run r waits as this node sees it (cluster_run_waiting): NULL when it would be
 * placed now. */
const char *cluster__dispatch_waiting(struct cluster_dispatch *d, const struct cluster_run *r);

#endif /* SHIR_CLUSTER_DISPATCH_H */
