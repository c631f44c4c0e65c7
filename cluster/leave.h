/* cluster/leave.h (internal): `shir leave` — hand leadership over if this node has it, then ask
 * the leader (over shir-rpc/1) to remove this node, as `nodes remove` would. The agent then stops
 * and forgets its identity (cluster_forget).
 */
#ifndef SHIR_CLUSTER_LEAVE_H
#define SHIR_CLUSTER_LEAVE_H

#include "cluster/env.h"
#include "cluster/part.h"
#include "cluster/rnode.h"
#include "cluster/rpc.h"

struct cluster_leave;
extern const struct cluster_part_ops cluster__leave_part;

int cluster__leave_new(struct cluster_env *env, struct cluster_rnode *rn, struct cluster_rpc *rpc,
                       struct cluster_leave **out);
/* See cluster_leave in cluster.h. `recovering`: a recover is under way (refused as busy). */
int cluster__leave_start(struct cluster_leave *lv, bool recovering, cluster_done_cb cb, void *data,
                         char *errbuf, size_t errcap);

#endif /* SHIR_CLUSTER_LEAVE_H */
