/* cluster/roles: the membership planner and the quorum description; both pure.
 *
 * For: deciding the next single raft membership change from the node table, who is online and
 * the time; describing what the current roles survive, in words for `shir status`.
 * Not for: carrying the change out (the leader calls raft_assign, then records the role with a
 * NODE_SET_ROLE command, and asks again only after both completed: one change at a time), nor
 * adding/removing nodes (the join and leave flows do that).
 *
 * Roles in the FSM mirror raft's: VOTER/STANDBY/SPARE as assigned; a REGISTERED WITNESS is a raft
 * voter (the join flow assigns it as a voter directly: a witness exists only to vote). PENDING
 * nodes are not in the raft configuration and are ignored here.
 *
 * Target number of voters for m registered members (design §1):
 *     m:       1  2  3  4  5  6+
 *     voters:  1  2  3  3  5  5      the rest are standbys
 * 4 is 3 voters + 1 standby rather than 4 voters because 4 voters need 3 for a majority and so
 * tolerate 1 failure, like 3 voters, while the standby lets the group survive a second failure
 * in sequence: when a voter has been offline for settings.standby_promotion_delay_ms, the
 * standby is promoted first (4 voters, 3 online: still a majority) and the dead voter demoted
 * next. 5+ voters tolerate 2 failures at once; more than 5 only slows commits.
 */
#ifndef SHIR_CLUSTER_ROLES_H
#define SHIR_CLUSTER_ROLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/fsm.h"
#include "common/common.h"

/* Who is reachable, as the leader sees it (gossip + raft). */
struct cluster_liveness {
    /* True when node `id` is online. When false, *down_since_ms is the monotonic time (same
     * clock as the planner's) at which it was last seen; a node never seen reports the time
     * the leader started watching. */
    bool (*online)(const struct cluster_liveness *v, uint64_t id, uint64_t *down_since_ms);
    void *data;
};

enum cluster_plan_kind {
    CLUSTER_PLAN_NONE = 0,
    CLUSTER_PLAN_ASSIGN = 1, /* raft_assign(node_id, to), then NODE_SET_ROLE */
};

struct cluster_plan {
    enum cluster_plan_kind kind;
    uint64_t node_id;
    enum cluster_role from, to;
    const char *reason; /* static text for logs and status; never NULL */
};

/* Target voters for `members` registered members (table above). */
unsigned cluster_roles_target_voters(unsigned members);

/* The next membership change. `self_id` is the leader (never demoted here: it transfers
 * leadership first). All pointers are borrowed for the call. Errors: SHIR_E_INVAL (NULL). */
int cluster_roles_plan(const struct cluster_node *nodes, size_t n, uint64_t self_id,
                       const struct cluster_settings *settings, const struct cluster_liveness *view,
                       const struct shir_clock *clock, struct cluster_plan *out);

struct cluster_quorum {
    unsigned voters; /* raft voters, witness included */
    unsigned witnesses;
    unsigned standbys;
    unsigned needed;        /* majority of voters */
    unsigned tolerates;     /* voters that may fail at once */
    unsigned voters_online; /* == voters when no view was given */
    bool has_quorum;
    bool can_failover; /* automatic failover of the leader is possible */
    /* e.g. "3 voters, tolerates 1 failure"; with a view, voters it reports offline are
     * counted: "3 voters, 1 offline: a further failure stops the runtime". */
    char text[160];
};

/* Describe the registered nodes' roles (and, when `view` is not NULL, who is online). */
void cluster_quorum_describe(const struct cluster_node *nodes, size_t n,
                             const struct cluster_liveness *view, struct cluster_quorum *out);

#endif /* SHIR_CLUSTER_ROLES_H */
