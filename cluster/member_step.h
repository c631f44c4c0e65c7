/* cluster/member_step: what the head of the leader's membership queue (members.c) does next;
 * pure.
 *
 * For: deciding, from the replicated state's record of a node and raft's configuration, whether
 * the head op still has work to do, which of its steps are done already (skipped, never asked of
 * raft again), and whether it has held the head too long. Not for: carrying the steps out
 * (members.c, rnode_members.c), nor choosing a joiner's role (members.c, roles.h).
 *
 * Why (chaos seed 18, under heavy load): a join queued for the first node between the init's
 * NODE_ADD and NODE_SET_ROLE asked raft to make a voter a voter, which raft refuses (BADROLE),
 * for the whole op deadline at the head of the queue; and a join whose raft promotion had
 * completed but whose NODE_SET_ROLE was not yet recorded when its deadline struck was retried
 * from scratch forever, raft refusing the same promotion each time. A step whose effect is
 * already in raft's configuration is skipped; an op whose node no longer needs it is dropped; the
 * deadline counts from when the op reached the head.
 */
#ifndef SHIR_CLUSTER_MEMBER_STEP_H
#define SHIR_CLUSTER_MEMBER_STEP_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster/fsm.h"

/* join:    ADD (spare) -> SET (voter, standby) -> RECORD_ROLE (NODE_SET_ROLE)
 * remove:  SET (spare) -> REMOVE -> RECORD_REMOVE (NODE_REMOVE); abandon likewise
 * planned: SET -> RECORD_ROLE */
enum cluster_member_kind {
    CLUSTER_MEMBER_JOIN,
    CLUSTER_MEMBER_REMOVE,
    CLUSTER_MEMBER_ASSIGN, /* from the roles planner */
    CLUSTER_MEMBER_ABANDON /* removal of a node still PENDING whose join will not complete */
};

enum cluster_member_phase {
    CLUSTER_MEMBER_ADD,
    CLUSTER_MEMBER_SET,
    CLUSTER_MEMBER_RECORD_ROLE,
    CLUSTER_MEMBER_REMOVE_RAFT,
    CLUSTER_MEMBER_RECORD_REMOVE
};

enum cluster_member_action {
    CLUSTER_MEMBER_RUN,   /* carry out the (possibly advanced) phase */
    CLUSTER_MEMBER_DROP,  /* nothing left to do: take it out, status 0 */
    CLUSTER_MEMBER_EXPIRE /* held the head for timeout_ms: take it out, SHIR_E_TIMEOUT */
};

struct cluster_member_facts {
    enum cluster_member_kind kind;
    enum cluster_member_phase phase;
    enum cluster_role role; /* the role wanted (join: decided by the caller; removal: spare) */
    const struct cluster_node *node; /* the replicated state's record (borrowed), NULL: none */
    bool in_raft;                    /* the node is in raft's configuration ... */
    enum cluster_role raft_role;     /* ... with this role (VOTER, STANDBY or SPARE) */
    uint64_t head_ms;                /* monotonic time the op reached the head of the queue */
    uint64_t now_ms;
    uint64_t timeout_ms;
};

/* The action for the head op described by `f` (borrowed); *phase receives the phase to carry out
 * (f->phase, or a later one when raft already has the earlier steps' effect). */
enum cluster_member_action cluster_member_step(const struct cluster_member_facts *f,
                                               enum cluster_member_phase *phase);

/* Whether a node with raft role `raft_role` has cluster role `role` as far as raft is concerned
 * (a witness is a raft voter). */
bool cluster_member_role_held(enum cluster_role role, enum cluster_role raft_role);

#endif /* SHIR_CLUSTER_MEMBER_STEP_H */
