/* Classifying "HOST:PORT" addresses: wildcard, loopback, other numeric, or a name. */
#include <arpa/inet.h>
#include <string.h>

#include "common/common.h"

enum shir_addr_kind shir_addr_classify(const char *hostport)
{
    char host[256];
    uint16_t port;
    if (!hostport || shir_split_hostport(hostport, host, sizeof host, &port) != 0)
        return SHIR_ADDR_INVALID;
    unsigned char a[16];
    if (inet_pton(AF_INET, host, a) == 1) {
        if (a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0)
            return SHIR_ADDR_WILDCARD;
        return a[0] == 127 ? SHIR_ADDR_LOOPBACK : SHIR_ADDR_ROUTABLE;
    }
    if (inet_pton(AF_INET6, host, a) == 1) {
        static const unsigned char zero[16], loop[16] = {[15] = 1};
        static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
        if (memcmp(a, zero, 16) == 0)
            return SHIR_ADDR_WILDCARD;
        if (memcmp(a, loop, 16) == 0)
            return SHIR_ADDR_LOOPBACK;
        if (memcmp(a, mapped, 12) == 0) { /* ::ffff:a.b.c.d */
            if (a[12] == 0 && a[13] == 0 && a[14] == 0 && a[15] == 0)
                return SHIR_ADDR_WILDCARD;
            if (a[12] == 127)
                return SHIR_ADDR_LOOPBACK;
        }
        return SHIR_ADDR_ROUTABLE;
    }
    return SHIR_ADDR_NAME;
}
