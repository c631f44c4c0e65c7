/* cluster/propose.h (internal): proposing commands to the replicated state, from any node.
 *
 * On the ready leader a command is checked against the replica (fail fast with the FSM's own
 * answer), encoded and appended; anywhere else it goes to the forwarder the rpc part registers
 * (shir-rpc/1 to the leader, request id kept). Every command carries a request id (a fresh random
 * one unless the caller set it), so a replay is harmless: the FSM answers a replayed id with its
 * first result. A lost outcome (RAFT_LEADERSHIPLOST, or a forward that lost its answer) is retried
 * with the same id, on the tick, for up to 10 s; while an outcome is lost, "no leader could be
 * reached" is never reported as a failure (see retry_done). Only the FSM's own refusal is final.
 * An operator's command (cluster__propose_wait, cluster__propose_done_wait) that reaches no leader
 * (none known, or the known one does not answer) waits up to 10 s for an election instead of
 * failing at once, so a write sent during a failover succeeds.
 */
#ifndef SHIR_CLUSTER_PROPOSE_H
#define SHIR_CLUSTER_PROPOSE_H

#include "cluster/env.h"
#include "cluster/part.h"
#include "cluster/rnode.h"

struct cluster_propose;
extern const struct cluster_part_ops cluster__propose_part;

/* `done` fires exactly once, later: the FSM's status and value, or a failure to reach it. */
typedef void (*cluster__proposed_fn)(void *arg, int status, uint64_t value);
/* Send an encoded-ready command to the leader at `leader_addr` (the rpc part): same contract as
 * a proposal, SHIR_E_UNKNOWN_OUTCOME when the request left but no answer came back. */
typedef int (*cluster__forward_fn)(void *data, const char *leader_addr,
                                   const struct cluster_cmd *cmd, cluster__proposed_fn done,
                                   void *arg);

int cluster__propose_new(struct cluster_env *env, struct cluster_rnode *rn,
                         struct cluster_propose **out);
void cluster__propose_set_forward(struct cluster_propose *p, cluster__forward_fn fn, void *data);
/* Propose `cmd` (copied). Errors (no callback): SHIR_E_NOLEADER (none known), the FSM's
 * refusal when this node leads, SHIR_E_NOMEM. */
int cluster__propose(struct cluster_propose *p, const struct cluster_cmd *cmd,
                     cluster__proposed_fn done, void *arg);
/* The same, but a command that reaches no leader waits up to 10 s for one (then
 * SHIR_E_NOLEADER, SHIR_E_UNAVAILABLE or SHIR_E_TIMEOUT in `done`): for operators' commands. */
int cluster__propose_wait(struct cluster_propose *p, const struct cluster_cmd *cmd,
                          cluster__proposed_fn done, void *arg);
/* cluster__propose and cluster__propose_wait with cluster_done_cb's shape:
 * cb(data, status, message). */
int cluster__propose_done(struct cluster_propose *p, const struct cluster_cmd *cmd,
                          cluster_done_cb cb, void *data);
int cluster__propose_done_wait(struct cluster_propose *p, const struct cluster_cmd *cmd,
                               cluster_done_cb cb, void *data);

/* Send `cmd` (copied; a fresh request id when unset) to the member at member_addr as if it
 * were the leader, once, without retries: for a node that knows no leader because the others
 * cannot dial it (its recorded address is wrong, cluster/address.c). A member that is not the
 * leader answers SHIR_E_NOLEADER in `done`. Errors (no callback): SHIR_E_NOLEADER (no forwarder),
 * SHIR_E_SHUTDOWN, the forwarder's. */
int cluster__propose_to(struct cluster_propose *p, const char *member_addr,
                        const struct cluster_cmd *cmd, cluster__proposed_fn done, void *arg);

#endif /* SHIR_CLUSTER_PROPOSE_H */
