/* cluster/abandon: which recorded join the leader gives up on; pure.
 *
 * For: the leader's decision that a node recorded by `shir join` (NODE_ADD committed, state
 * PENDING) will never complete its join, so that it is taken out again through a raft entry
 * (NODE_REMOVE) and its name can register afresh. Not for: carrying the removal out (members.c
 * does, one membership change at a time), nor the joiner's own bound (join_client.c).
 *
 * A pending node is abandoned when the leader has not heard it (gossip, struct cluster_liveness)
 * for CLUSTER_JOIN_ABANDON_MS. A joiner that is up — even one whose raft channel is closed, as
 * after a full disk (issue 10, F5) — answers gossip and stays pending: its raft steps are retried
 * for as long as it is up. One that died, never came up, or cannot be dialled at the address it
 * advertised is silent. 60 s: the joiner's own wait (join_client.c) is 60 s too, so a joiner that
 * gives up is gone from both sides within about a minute of each other; and it is 120 times the
 * election timeout, so a leader change or a restart of the joiner within it loses nothing. The
 * liveness view counts silence from when this leader started watching a node, so a new leader
 * gives every pending node the full bound again.
 */
#ifndef SHIR_CLUSTER_ABANDON_H
#define SHIR_CLUSTER_ABANDON_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/fsm.h"
#include "cluster/roles.h"

#define CLUSTER_JOIN_ABANDON_MS 60000

/* The id of the first node of `nodes` (n of them; borrowed) that is PENDING and has not been
 * heard for at least bound_ms at monotonic time now_ms, or 0. `view` is asked about pending nodes
 * only. */
uint64_t cluster_join_abandoned(const struct cluster_node *nodes, size_t n,
                                const struct cluster_liveness *view, uint64_t now_ms,
                                uint64_t bound_ms);

#endif /* SHIR_CLUSTER_ABANDON_H */
