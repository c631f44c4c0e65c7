/* cluster/restore.h (internal): `shir snapshot save` and `shir snapshot restore`.
 *
 * save: on a registered node with the CA key, after the caller's read barrier: the replica's
 * snapshot, the CA certificate and its key sealed under the data secret, in the backup file
 * (backup.h).
 *
 * restore, on an unregistered node:
 *   file + data secret --check--> HMAC good, state decodes, runtime initialised
 *   --identity--> node id = the state's next id; the runtime's CA (from the file); a new key and
 *                 certificate; the data secret; saved
 *   --membership--> on the state itself (cluster_fsm_apply, as raft would): NODE_REMOVE of every
 *                   saved member, NODE_ADD of this node, NODE_SET_ROLE voter
 *   --seed--> that state written as raft's snapshot at the saved index, with this node as the
 *             only voter
 *   --start--> port and raft started: raft restores the replica and elects this node
 *   once leader --> registered: the only member of the restored runtime.
 * Nothing is proposed: the snapshot already holds the final membership, so a restart (or a crash
 * right after the seed) loads a state whose members are the ones that may connect.
 * A failure before raft starts leaves the node cleanly unregistered (as a failed init does).
 */
#ifndef SHIR_CLUSTER_RESTORE_H
#define SHIR_CLUSTER_RESTORE_H

#include "cluster/env.h"
#include "cluster/part.h"
#include "cluster/port.h"
#include "cluster/rnode.h"

struct cluster_restore;
extern const struct cluster_part_ops cluster__restore_part;

int cluster__restore_new(struct cluster_env *env, struct cluster_port *port,
                         struct cluster_rnode *rn, struct cluster_restore **out);
/* See cluster_backup_restore in cluster.h. */
int cluster__restore_start(struct cluster_restore *rs, const void *file, size_t n,
                           const void *secret, size_t secret_len, cluster_done_cb cb, void *data,
                           char *errbuf, size_t errcap);
bool cluster__restore_busy(const struct cluster_restore *rs);
/* See cluster_backup_save in cluster.h. */
int cluster__backup_save(struct cluster_env *env, struct cluster_rnode *rn, struct shir_buf *out,
                         char *errbuf, size_t errcap);

#endif /* SHIR_CLUSTER_RESTORE_H */
