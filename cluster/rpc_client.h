/* cluster/rpc_client.h (internal): the calling end of shir-rpc/1 — requests to other members
 * over kept connections.
 *
 * Why: a follower forwards every mutation it receives (CLI writes, its workers' checkpoints and
 * progress) to the leader. One TLS 1.3 handshake with client certificates per request cost both
 * ends more CPU than the command itself, and a leader busy dispatching hundreds of runs met
 * hundreds of handshakes at once. Requests now reuse connections:
 *   - at most RPC_CLIENT_CONNS connections per destination address; the server answers one
 *     request at a time per connection, so each connection carries one request at a time and
 *     the rest wait in one queue, oldest first;
 *   - every request has a deadline, checked by the tick: unsent → SHIR_E_TIMEOUT; sent →
 *     SHIR_E_UNKNOWN_OUTCOME and its connection is closed (a late answer must not be taken for
 *     the next request's);
 *   - a connection lost under a sent request → SHIR_E_UNKNOWN_OUTCOME; a dial that fails fails
 *     the requests waiting for that address with SHIR_E_UNAVAILABLE (the caller retries,
 *     maybe elsewhere);
 *   - a connection idle for RPC_CLIENT_IDLE_MS is closed (a former leader's, mostly).
 * `done` never runs inside cluster__rpc_client_call: only from the loop's callbacks (a frame, a
 * close, a dial, the tick) and from cluster__rpc_client_close.
 */
#ifndef SHIR_CLUSTER_RPC_CLIENT_H
#define SHIR_CLUSTER_RPC_CLIENT_H

#include <uv.h>

#include "cluster/port.h"
#include "cluster/propose.h"
#include "transport/transport.h"

#define RPC_CLIENT_CONNS   4
#define RPC_CLIENT_IDLE_MS 30000

struct cluster_rpc_client;

int cluster__rpc_client_new(uv_loop_t *loop, struct shir_log *log, struct cluster_port *port,
                            struct cluster_rpc_client **out);
/* Queue one request (method, body from pack) to the member at addr ("host:port"); done gets
 * the answer's {status, value}, or an error as above. 0, or SHIR_E_NOLEADER (addr unusable),
 * SHIR_E_NOMEM, SHIR_E_SHUTDOWN, or the encoder's error: then done is never called. */
int cluster__rpc_client_call(struct cluster_rpc_client *c, const char *addr, const char *method,
                             transport_body_pack_cb pack, void *pack_arg, unsigned timeout_ms,
                             cluster__proposed_fn done, void *arg);
/* Deadlines and idle connections; call every tick. */
void cluster__rpc_client_tick(struct cluster_rpc_client *c);
/* Fail every request with SHIR_E_SHUTDOWN (their done runs now) and close every connection. */
void cluster__rpc_client_close(struct cluster_rpc_client *c);
/* After cluster__rpc_client_close, once the loop ran the close callbacks. NULL: no-op. */
void cluster__rpc_client_free(struct cluster_rpc_client *c);

#endif /* SHIR_CLUSTER_RPC_CLIENT_H */
