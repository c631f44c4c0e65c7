/* cluster/disk.h (internal): the disk guard — never let libraft meet a full disk.
 *
 * libraft 0.22.1 does not survive running out of space (docs/raft-workarounds.md), so, like
 * etcd's NOSPACE alarm, this part watches the free space of the data directory's file system
 * once a second. Below `min_free` it closes the node's raft channel (no appends, no snapshots
 * arrive, nothing is sent) and sets env->disk_low: proposals through this node are refused with
 * UV_ENOSPC, and gossip shows the node Limited, "disk nearly full", on every node. When space is
 * back above min_free plus a margin (a quarter more, at least 16 MiB, so it does not flap) and raft
 * is not in the middle of taking a snapshot, the channel opens again and the node catches up by
 * itself. Each change is logged once.
 */
#ifndef SHIR_CLUSTER_DISK_H
#define SHIR_CLUSTER_DISK_H

#include "cluster/env.h"
#include "cluster/part.h"
#include "cluster/rnode.h"

struct cluster_disk;
extern const struct cluster_part_ops cluster__disk_part;

/* min_free_bytes 0: CLUSTER_MIN_FREE_DEFAULT. */
int cluster__disk_new(struct cluster_env *env, struct cluster_rnode *rn, uint64_t min_free_bytes,
                      struct cluster_disk **out);

#endif /* SHIR_CLUSTER_DISK_H */
