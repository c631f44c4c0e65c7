/* cluster/members.h (internal): the leader's membership queue — one raft membership change at a
 * time (design §1).
 *
 *   join:    ADD (spare) -> ASSIGN (voter or standby, decided then) -> record NODE_SET_ROLE
 *   remove:  ASSIGN (spare) -> REMOVE -> record NODE_REMOVE
 *   abandon: the same, for a node still PENDING whose join will not complete (abandon.h)
 *   planned: ASSIGN -> record NODE_SET_ROLE, from the roles planner (cluster/roles.h) when
 *            nothing else is queued: promote the standby when a voter has been offline past the
 *            configured delay, then demote the dead voter.
 * The head op's next step is read off the replicated record and raft's configuration on each tick
 * (member_step.h): a step raft already has is skipped, an op its node no longer needs is dropped.
 * A change that raft refuses (the new node does not answer yet) is retried on the tick until
 * MEMBER_OP_TIMEOUT_MS after the op reached the head. Liveness comes from gossip through the callback the runtime sets.
 */
#ifndef SHIR_CLUSTER_MEMBERS_H
#define SHIR_CLUSTER_MEMBERS_H

#include "cluster/env.h"
#include "cluster/part.h"
#include "cluster/propose.h"
#include "cluster/rnode.h"
#include "cluster/roles.h"

struct cluster_members;
extern const struct cluster_part_ops cluster__members_part;

int cluster__members_new(struct cluster_env *env, struct cluster_rnode *rn,
                         struct cluster_propose *prop, struct cluster_members **out);
/* Who is online, for the planner (borrowed; set once by the runtime). */
void cluster__members_set_liveness(struct cluster_members *m, const struct cluster_liveness *v);
/* A node whose NODE_ADD committed: add it to raft and give it its role. */
void cluster__members_queue_join(struct cluster_members *m, uint64_t id, const char *address,
                                 bool witness);
/* Give up the join of node `id` if it is still PENDING (its joiner reported a failure, or it has
 * been silent for CLUSTER_JOIN_ABANDON_MS, abandon.h): its queued join is dropped and it is removed
 * from raft and then from the replicated state (NODE_REMOVE), so every member agrees and its name
 * can register again. `why` (borrowed) goes to the log. Does nothing on a node that is not the
 * leader's to change: the op waits in the queue like any other and is dropped when the node has
 * registered meanwhile. */
void cluster__members_abandon(struct cluster_members *m, uint64_t id, const char *why);
/* `shir nodes remove NAME` on the leader (see cluster_node_remove in cluster.h). */
int cluster__members_remove(struct cluster_members *m, const char *name, cluster_done_cb cb,
                            void *data, char *errbuf, size_t errcap);

#endif /* SHIR_CLUSTER_MEMBERS_H */
