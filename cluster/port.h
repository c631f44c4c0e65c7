/* cluster/port.h (internal): the node's one TLS port (design §2) as a part of the shell.
 *
 * Owns the node's TLS context and listener. A peer is let in when its certificate's pin is
 * allowed by the environment (replicated allowlist, or boot members before catch-up); each
 * accepted connection goes to the handler registered for its ALPN channel by the part above that
 * serves it, or is closed. Dialing parts borrow the TLS context.
 */
#ifndef SHIR_CLUSTER_PORT_H
#define SHIR_CLUSTER_PORT_H

#include "cluster/env.h"
#include "cluster/part.h"
#include "transport/transport.h"

struct cluster_port;
extern const struct cluster_part_ops cluster__port_part;

/* A connection accepted on a channel; ownership of conn passes to the handler. */
typedef void (*cluster__accept_fn)(void *data, struct transport_conn *conn);

int cluster__port_new(struct cluster_env *env, struct cluster_port **out);
/* Load the identity's credentials and listen on env->listen. Errors (errbuf says which): TLS
 * credentials, a bad listen address (SHIR_E_INVAL), listen errors (UV_EADDRINUSE...). */
int cluster__port_start(struct cluster_port *p, char *errbuf, size_t errcap);
/* The TLS context for dialing (NULL until started). */
struct transport_tls *cluster__port_tls(struct cluster_port *p);
/* Route accepted connections of `ch` to fn(data, conn). */
void cluster__port_on(struct cluster_port *p, enum transport_channel ch, cluster__accept_fn fn,
                      void *data);
/* /metrics: the counters of the listener (accepted connections) and of the dialing context;
 * zeros for one that does not exist (not started). */
void cluster__port_stats(const struct cluster_port *p, struct transport_stats *in,
                         struct transport_stats *out);
/* Close every live connection of the peer with this pin (a removed member). How many. */
unsigned cluster__port_close_peer(struct cluster_port *p, const uint8_t pin[CLUSTER_PIN_LEN]);

#endif /* SHIR_CLUSTER_PORT_H */
