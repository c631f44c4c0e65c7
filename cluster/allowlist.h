/* cluster/allowlist.h (internal): acting on changes of the replicated member allowlist.
 *
 * The port refuses a removed member's certificate from the moment this node applies the removal;
 * this part, on every tick, closes the connections such a member already had and saves the member
 * list to DATA_DIR/identity/members whenever it changes (a restarted node must let the members in
 * before its replica has caught up: see struct cluster_boot_member).
 */
#ifndef SHIR_CLUSTER_ALLOWLIST_H
#define SHIR_CLUSTER_ALLOWLIST_H

#include "cluster/env.h"
#include "cluster/part.h"
#include "cluster/port.h"

struct cluster_allowlist;
extern const struct cluster_part_ops cluster__allowlist_part;

int cluster__allowlist_new(struct cluster_env *env, struct cluster_port *port,
                           struct cluster_allowlist **out);

#endif /* SHIR_CLUSTER_ALLOWLIST_H */
