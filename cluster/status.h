/* cluster/status.h (internal): what `shir status` shows, from the local replica, raft's view and
 * gossip — never blocking, with or without a leader. */
#ifndef SHIR_CLUSTER_STATUS_H
#define SHIR_CLUSTER_STATUS_H

#include "cluster/env.h"
#include "cluster/gossip_net.h"
#include "cluster/rnode.h"

/* See cluster_status_get in cluster.h. */
void cluster__status_get(struct cluster_env *env, struct cluster_rnode *rn,
                         struct cluster_gossip *gn, struct cluster_status *out);

#endif /* SHIR_CLUSTER_STATUS_H */
