/* cluster/join_client.h (internal): registration of this node, the joiner's side of shir-join/1.
 *
 * Dial a member on shir-join/1 with the CA pinned from the key (trying --peer first, then the
 * addresses in the key, following a redirect to the leader), prove the key over the session,
 * check the member's proof in return, accept the certificate and the runtime's secrets, save
 * them, start the port and raft, and wait until the leader has made this node a member.
 */
#ifndef SHIR_CLUSTER_JOIN_CLIENT_H
#define SHIR_CLUSTER_JOIN_CLIENT_H

#include "cluster/env.h"
#include "cluster/part.h"
#include "cluster/port.h"
#include "cluster/rnode.h"

struct cluster_join_client;
extern const struct cluster_part_ops cluster__join_client_part;

int cluster__join_client_new(struct cluster_env *env, struct cluster_port *port,
                             struct cluster_rnode *rn, struct cluster_join_client **out);
/* See cluster_join in cluster.h (the runtime checks that no init is under way). */
int cluster__join_client_start(struct cluster_join_client *jc, const char *key_text,
                               const char *peer, const char *node_name, cluster_done_cb cb,
                               void *data, char *errbuf, size_t errcap);
/* A join is under way. */
bool cluster__join_client_busy(const struct cluster_join_client *jc);

#endif /* SHIR_CLUSTER_JOIN_CLIENT_H */
