/* cluster/recover.h (internal): `shir recover` — a node that has lost quorum for good (the lone
 * survivor of a 2-voter group) restarts raft as the only voter (raft_recover) and, once it leads,
 * removes every other member from the replicated state. Only safe when the others are really
 * gone: the CLI asks for confirmation.
 */
#ifndef SHIR_CLUSTER_RECOVER_H
#define SHIR_CLUSTER_RECOVER_H

#include "cluster/env.h"
#include "cluster/part.h"
#include "cluster/propose.h"
#include "cluster/rnode.h"

struct cluster_recover;
extern const struct cluster_part_ops cluster__recover_part;

int cluster__recover_new(struct cluster_env *env, struct cluster_rnode *rn,
                         struct cluster_propose *prop, struct cluster_recover **out);
/* See cluster_recover in cluster.h. */
int cluster__recover_start(struct cluster_recover *rc, cluster_done_cb cb, void *data,
                           char *errbuf, size_t errcap);
bool cluster__recover_busy(const struct cluster_recover *rc);

#endif /* SHIR_CLUSTER_RECOVER_H */
