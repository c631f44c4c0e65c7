/* transport: everything that crosses the network.
 *
 * For: the one mutually-authenticated TLS port (listener, dialer, ALPN channels), frames and the
 * msgpack codec with limits, the typed message layer, the raft transport bridge, outbound HTTP.
 * Not for: deciding who is a member (the cluster supplies an allowlist callback) or any state.
 */
#ifndef SHIR_TRANSPORT_H
#define SHIR_TRANSPORT_H

#include "common/common.h"

/* Fill out[0..cap) with the libraries this module runs with (libuv, OpenSSL, libcurl, msgpack):
 * the versions loaded at run time, not the headers'. Returns how many were written. */
size_t transport_versions(struct shir_libversion *out, size_t cap);

#endif /* SHIR_TRANSPORT_H */
