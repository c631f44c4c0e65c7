/* cluster/join_server.h (internal): registration of other nodes, the member's side of
 * shir-join/1.
 *
 * Wire (transport_msg requests on shir-join/1; the joiner has no certificate and has pinned the
 * runtime CA from its key before sending anything):
 *   joiner -> member  join.hello {runtime_id bin16, slot, generation, client_nonce bin32}
 *   member -> joiner  {server_nonce bin32}            or {leader "host:port"} (try the leader)
 *   joiner -> member  join.prove {proof bin32, csr, name, address, witness, version}
 *   member -> joiner  {sig bin32, node_id, cert, ca, ca_key bin, data_secret bin,
 *                      members [{id, address, pin bin32}...]}
 *   joiner -> member  join.abandon {}   (optional, later, on the same session: the joiner gave up;
 *                                         no answer, the member closes the session)
 * The proof and the signature are computed over both nonces and the TLS exporter of this very
 * session (cluster/proof.h), so the key's secret never crosses the wire and a proof cannot be
 * relayed into another session. Errors are error responses with our codes: AUTH (wrong key),
 * STALE (regenerated key), FULL, EXISTS (name taken), NOLEADER, BACKOFF (this address failed
 * too often: the message says in how many seconds to retry). Bodies are maps: a key a newer
 * version adds is ignored. A session carries one join.hello and one join.prove; an error answer
 * ends it, and so does the port 10 s after accept without a valid proof (docs/wire.md, "Join").
 *
 * After join.prove the leader has committed NODE_ADD; the membership queue (members.h) then adds
 * the node to raft and assigns its role. The joiner keeps the session open while it waits for
 * that; if it gives up it says so with join.abandon, and the node is removed at once. A joiner
 * that goes silent instead is removed after CLUSTER_JOIN_ABANDON_MS (abandon.h).
 */
#ifndef SHIR_CLUSTER_JOIN_SERVER_H
#define SHIR_CLUSTER_JOIN_SERVER_H

#include "cluster/env.h"
#include "cluster/members.h"
#include "cluster/part.h"
#include "cluster/port.h"
#include "cluster/propose.h"
#include "cluster/rnode.h"

struct cluster_join_server;
extern const struct cluster_part_ops cluster__join_server_part;

/* Serves shir-join/1 on the port (a node that is not registered refuses every session). */
int cluster__join_server_new(struct cluster_env *env, struct cluster_port *port,
                             struct cluster_rnode *rn, struct cluster_propose *prop,
                             struct cluster_members *members, struct cluster_join_server **out);

#endif /* SHIR_CLUSTER_JOIN_SERVER_H */
