/* cluster/rpc.h (internal): shir-rpc/1 between members, both ends.
 *
 *   fsm.propose {cmd bin}   a mutation (the encoded command, request id inside)
 *                           -> {status int, value uint} (the FSM's answer), or an error
 *                           (NOLEADER: the leader changed; retry)
 *   read.index {}           -> {index uint} after a barrier (linearizable follower reads)
 *   node.remove {id uint}   `shir leave` asks the leader to remove the caller
 * Both ends are members: the TLS layer has checked the peer's certificate against the replicated
 * allowlist before a single frame arrives. Liveness is gossip's business, not this channel's.
 * Bodies are maps: a key a newer version adds is ignored.
 */
#ifndef SHIR_CLUSTER_RPC_H
#define SHIR_CLUSTER_RPC_H

#include "cluster/env.h"
#include "cluster/members.h"
#include "cluster/part.h"
#include "cluster/port.h"
#include "cluster/propose.h"
#include "cluster/rnode.h"

struct cluster_rpc;
extern const struct cluster_part_ops cluster__rpc_part;

/* Serves shir-rpc/1 on the port and forwards the proposals of this node to the leader. */
int cluster__rpc_new(struct cluster_env *env, struct cluster_port *port, struct cluster_rnode *rn,
                     struct cluster_propose *prop, struct cluster_members *members,
                     struct cluster_rpc **out);
/* Ask the leader for a barrier and its commit index (ReadIndex); done gets the index as value,
 * or SHIR_E_UNAVAILABLE / SHIR_E_TIMEOUT / SHIR_E_UNKNOWN_OUTCOME / the leader's error. */
int cluster__rpc_read_index(struct cluster_rpc *r, const char *leader_addr,
                            cluster__proposed_fn done, void *arg);
/* Ask the leader to remove this node (`shir leave`); done gets the leader's answer. */
int cluster__rpc_ask_removal(struct cluster_rpc *r, const char *leader_addr,
                             cluster__proposed_fn done, void *arg);

#endif /* SHIR_CLUSTER_RPC_H */
