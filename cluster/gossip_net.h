/* cluster/gossip_net.h (internal): the SWIM core (cluster/gossip.h) carried over shir-gossip/1 —
 * every member's view of every member, with or without a leader. Liveness for the membership
 * planner and what `shir status` shows come from here.
 */
#ifndef SHIR_CLUSTER_GOSSIP_NET_H
#define SHIR_CLUSTER_GOSSIP_NET_H

#include "cluster/env.h"
#include "cluster/gossip.h"
#include "cluster/part.h"
#include "cluster/port.h"
#include "cluster/rnode.h"

struct cluster_gossip;
extern const struct cluster_part_ops cluster__gossip_part;

int cluster__gossip_new(struct cluster_env *env, struct cluster_port *port,
                        struct cluster_rnode *rn, struct cluster_gossip **out);
/* Whether member `id` is alive as this node sees it; else since when it is not (monotonic ms).
 * This node is always alive; before gossip runs, every other member is down since now. */
bool cluster__gossip_online(const struct cluster_gossip *gn, uint64_t id, uint64_t *down_since_ms);
/* What status shows for member `id` (cluster/gossip.h). SHIR_E_NOTFOUND: not a member, or gossip
 * has not started. */
int cluster__gossip_view(struct cluster_gossip *gn, uint64_t id, struct gossip_view *out);
/* /metrics: probes started and suspicions raised by this node, and the other members by
 * liveness as it sees them (indexed by enum gossip_liveness; an unheard member is suspect, as
 * status shows it). Zeros before gossip starts. */
void cluster__gossip_stats(const struct cluster_gossip *gn, uint64_t *probes, uint64_t *suspicions,
                           unsigned by_liveness[3]);

#endif /* SHIR_CLUSTER_GOSSIP_NET_H */
