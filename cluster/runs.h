/* cluster/runs.h (internal): this node's side of runs — what the replica says this node must
 * run, compared every tick with what its executor (node/) has live (cluster.h's
 * struct cluster_run_exec), and the fenced reports of the attempts it runs.
 *
 * Each tick, once the replica is caught up with what this node knows is committed:
 *   - the first such tick after start: every run the replica shows assigned to or running on
 *     this node that the executor does not have is reported lost (RUN_FINISH NODE_LOST): it was
 *     the previous life's, and the leader re-queues it at once;
 *   - a run assigned to this node whose attempt this process has not started: start it;
 *   - a run running on this node that this process never started: report it lost;
 *   - a live worker whose run ended, was deleted or cancelled, or moved to a newer attempt:
 *     stop it (the executor sends SIGTERM, then SIGKILL).
 * Also proposes this node's auto capacity when the replica holds another value, and publishes
 * the number of live workers for gossip (env->running).
 *
 * Reports are FENCED commands (fsm.h): a stale token is ignored by every replica. A start and a
 * finish are retried on the tick until the FSM answers them (a lost outcome, no leader: try
 * again, with the same request id), so neither an attempt's start (its time and resume point)
 * nor its end is lost while this node lives.
 */
#ifndef SHIR_CLUSTER_RUNS_H
#define SHIR_CLUSTER_RUNS_H

#include "cluster/env.h"
#include "cluster/part.h"
#include "cluster/propose.h"
#include "cluster/rnode.h"

struct cluster_runs;
extern const struct cluster_part_ops cluster__runs_part;

int cluster__runs_new(struct cluster_env *env, struct cluster_rnode *rn,
                      struct cluster_propose *prop, struct cluster_runs **out);
/* Copied; NULL clears it. */
void cluster__runs_set_executor(struct cluster_runs *rs, const struct cluster_run_exec *exec);

int cluster__runs_started(struct cluster_runs *rs, uint64_t run, uint32_t attempt, bool resumed,
                          uint64_t resumed_files);
int cluster__runs_report(struct cluster_runs *rs, uint64_t run, uint32_t attempt, bool has_part,
                         uint32_t part, uint64_t files, uint64_t assets, uint64_t bytes,
                         const void *key, size_t key_len, cluster_done_cb cb, void *data);
int cluster__runs_finish(struct cluster_runs *rs, uint64_t run, uint32_t attempt,
                         enum cluster_run_outcome outcome, const struct cluster_run_summary *sum,
                         uint64_t crash_index, const uint8_t *crash_id, const char *error);

#endif /* SHIR_CLUSTER_RUNS_H */
