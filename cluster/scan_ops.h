/* cluster/scan_ops.h (internal): the operator's commands on scans, runs and scan nodes
 * (cluster.h, "Scans through the runtime"): each is one raft entry through the propose part.
 * Every answer of the FSM reaches the caller through its callback, the leader's pre-check
 * refusals too (deferred to the loop, with BUSY's active run as the value), so a refusal reads
 * the same whichever node was asked.
 */
#ifndef SHIR_CLUSTER_SCAN_OPS_H
#define SHIR_CLUSTER_SCAN_OPS_H

#include "cluster/env.h"
#include "cluster/propose.h"

/* Registered and caught up: 0, SHIR_E_NOTFOUND, SHIR_E_NOLEADER. */
int cluster__op_ready(const struct cluster_env *env);
/* Propose c (borrowed) with its completion (done or value, the other NULL): every answer of the
 * FSM comes through it, the leader's pre-check too. Errors without a callback: failures to reach
 * the FSM only. Shared with credentials.c. */
int cluster__op_propose(struct cluster_env *env, struct cluster_propose *prop,
                        const struct cluster_cmd *c, cluster_done_cb done, cluster_value_cb value,
                        void *data);
int cluster__scan_put(struct cluster_env *env, struct cluster_propose *prop,
                      const struct cluster_scan_def *def, bool create, cluster_done_cb cb,
                      void *data);
int cluster__scan_delete(struct cluster_env *env, struct cluster_propose *prop, const char *name,
                         bool force, cluster_value_cb cb, void *data);
int cluster__scan_run(struct cluster_env *env, struct cluster_propose *prop, const char *name,
                      cluster_value_cb cb, void *data);
int cluster__run_cancel(struct cluster_env *env, struct cluster_propose *prop, uint64_t run,
                        cluster_done_cb cb, void *data);
int cluster__node_set_drain(struct cluster_env *env, struct cluster_propose *prop,
                            const char *name, bool drain, cluster_done_cb cb, void *data);
int cluster__node_set_capacity(struct cluster_env *env, struct cluster_propose *prop,
                               const char *name, uint32_t capacity, cluster_done_cb cb,
                               void *data);

#endif /* SHIR_CLUSTER_SCAN_OPS_H */
