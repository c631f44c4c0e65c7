/* cluster/address.h (internal): the address the runtime records for each node (NODE_SET_ADDRESS).
 *
 * Two ways it changes: `shir nodes set NAME --address HOST:PORT` from any member, and on its own
 * when this agent runs with an advertise address other than the recorded one (the operator fixed
 * --advertise / `advertise =` and restarted it): once the replica is caught up, the part
 * proposes the new address, retrying every 5 s until it is recorded. It does so once per start,
 * so a later `nodes set` for this node stands until the agent restarts. An advertise address no
 * peer can dial (a wildcard, or loopback while listening on every interface) is never proposed: the
 * part logs once why it keeps the recorded one.
 */
#ifndef SHIR_CLUSTER_ADDRESS_H
#define SHIR_CLUSTER_ADDRESS_H

#include "cluster/env.h"
#include "cluster/part.h"
#include "cluster/propose.h"

struct cluster_address;
extern const struct cluster_part_ops cluster__address_part;

int cluster__address_new(struct cluster_env *env, struct cluster_propose *prop,
                         struct cluster_address **out);
/* See cluster_node_set_address in cluster.h. */
int cluster__address_set(struct cluster_address *a, const char *name, const char *address,
                         cluster_done_cb cb, void *data, char *errbuf, size_t errcap);

#endif /* SHIR_CLUSTER_ADDRESS_H */
