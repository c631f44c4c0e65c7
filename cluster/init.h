/* cluster/init.h (internal): `shir init` — create a runtime on this unregistered node.
 *
 *   unregistered --init--> CA, certificate, data secret and both keys created and saved;
 *                          raft bootstrapped as a single voter; once leader and caught up,
 *                          INIT, NODE_ADD (this node) and NODE_SET_ROLE committed in turn
 *                          --> registered
 */
#ifndef SHIR_CLUSTER_INIT_H
#define SHIR_CLUSTER_INIT_H

#include "cluster/env.h"
#include "cluster/part.h"
#include "cluster/port.h"
#include "cluster/propose.h"
#include "cluster/rnode.h"

struct cluster_init;
extern const struct cluster_part_ops cluster__init_part;

int cluster__init_new(struct cluster_env *env, struct cluster_port *port, struct cluster_rnode *rn,
                      struct cluster_propose *prop, struct cluster_init **out);
/* See cluster_init_runtime in cluster.h (the runtime checks that no join is under way). */
int cluster__init_start(struct cluster_init *in, const char *runtime_name, const char *node_name,
                        cluster_done_cb cb, void *data);
bool cluster__init_busy(const struct cluster_init *in);

#endif /* SHIR_CLUSTER_INIT_H */
