/* cluster: the runtime's brain on each node.
 *
 * For: the raft wrapper, the replicated state machine, registration (join, keys, certificates),
 * roles and quorum, gossip, the dispatcher and the run lifecycle.
 * Not for: parsing text (node/ does), sockets and TLS (transport/ does), scanning (scan/ does).
 */
#ifndef SHIR_CLUSTER_H
#define SHIR_CLUSTER_H

#include "common/common.h"

/* The libraries this module runs with (raft), as run-time versions. Returns how many. */
size_t cluster_versions(struct shir_libversion *out, size_t cap);

#endif /* SHIR_CLUSTER_H */
