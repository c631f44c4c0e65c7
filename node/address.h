/* node/address.h: is this node's advertise address one that other nodes can dial? Checked by
 * `init` and `join` before they record it (issue 12, defect 1): with a wildcard listen address
 * (0.0.0.0:8060, the package's default) and no advertise address, the node would record
 * 0.0.0.0:8060 and no peer could ever reach it.
 *
 * Not for: the agent's own start, which goes on with any address (it serves `status` and can be
 * fixed); the replicated record, which cluster/address.c keeps in step.
 */
#ifndef SHIR_NODE_ADDRESS_H
#define SHIR_NODE_ADDRESS_H

#include <stddef.h>

/* 0 when advertise can be recorded; SHIR_E_CONFIG when listen is a wildcard and advertise is a
 * wildcard or loopback address, with the fix in err[cap]: the address to set (detected_host, a
 * routable address of this host, with listen's port; NULL when none was found), the config key,
 * the variable and the flag. `what` names the command ("init", "join"). Pure. */
int node_address_check(const char *what, const char *listen, const char *advertise,
                       const char *detected_host, char *err, size_t cap);

/* The first routable address of an interface that is up (IPv4 first, then a global IPv6 one),
 * from getifaddrs(3), into out[cap] (IPv6 in brackets, ready for ":PORT"). 0, SHIR_E_NOTFOUND
 * when the host has none, or -errno. */
int node_address_detect(char *out, size_t cap);

#endif /* SHIR_NODE_ADDRESS_H */
