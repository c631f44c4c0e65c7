/* cluster/reads.h (internal): linearizable reads of the replicated state (design §4).
 *
 * On the leader: a barrier, then read the local replica. On a follower (ReadIndex): ask the
 * leader over shir-rpc/1 to run a barrier and return its commit index, wait until the local
 * replica has applied that far, then read it. Either way the read sees every write committed
 * before it started.
 */
#ifndef SHIR_CLUSTER_READS_H
#define SHIR_CLUSTER_READS_H

#include "cluster/env.h"
#include "cluster/part.h"
#include "cluster/rnode.h"
#include "cluster/rpc.h"

struct cluster_reads;
extern const struct cluster_part_ops cluster__reads_part;

int cluster__reads_new(struct cluster_env *env, struct cluster_rnode *rn, struct cluster_rpc *rpc,
                       struct cluster_reads **out);
/* See cluster_read_barrier in cluster.h. */
int cluster__reads_barrier(struct cluster_reads *rs, cluster_done_cb cb, void *data);

#endif /* SHIR_CLUSTER_READS_H */
