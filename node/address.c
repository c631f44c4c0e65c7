/* Refusing advertise addresses no peer can dial, with the address to use instead. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include "common/common.h"
#include "node/address.h"

int node_address_check(const char *what, const char *listen, const char *advertise,
                       const char *detected_host, char *err, size_t cap)
{
    if (shir_addr_classify(listen) != SHIR_ADDR_WILDCARD)
        return 0;
    enum shir_addr_kind k = shir_addr_classify(advertise);
    if (k != SHIR_ADDR_WILDCARD && k != SHIR_ADDR_LOOPBACK)
        return 0;
    char host[256];
    uint16_t port = 8060;
    if (shir_split_hostport(listen, host, sizeof host, &port) != 0)
        port = 8060;
    char suggest[300];
    if (detected_host)
        (void)shir_str_fmt(suggest, sizeof suggest, "%s:%u", detected_host, (unsigned)port);
    else
        (void)shir_str_fmt(suggest, sizeof suggest, "HOST:%u", (unsigned)port);
    (void)shir_str_fmt(
        err, cap,
        "refusing to %s with address %s: other nodes cannot reach this node there (it listens "
        "on every interface, %s, and its advertise address is %s). Set the address the other "
        "nodes should dial%s: 'advertise = %s' in the agent's config file (/etc/shir/shir.conf), "
        "or SHIR_ADVERTISE=%s, or 'shir agent --advertise %s'; restart the agent and run %s again",
        what, advertise, listen, k == SHIR_ADDR_WILDCARD ? "a wildcard" : "loopback",
        detected_host ? " (this host has it on an interface)"
                      : " (this host has no routable address)",
        suggest, suggest, suggest, what);
    return SHIR_E_CONFIG;
}

/* One pass over the interfaces that are up: the first routable IPv4 address into v4, the first
 * global IPv6 one into v6, looking at loopback interfaces or at the others. */
static void scan(const struct ifaddrs *list, bool loopback, char *v4, char *v6, size_t cap)
{
    for (const struct ifaddrs *i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || !(i->ifa_flags & IFF_LOOPBACK) != !loopback)
            continue;
        char text[INET6_ADDRSTRLEN], probe[INET6_ADDRSTRLEN + 8];
        if (i->ifa_addr->sa_family == AF_INET && v4[0] == '\0') {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)i->ifa_addr;
            if (inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text) &&
                shir_str_fmt(probe, sizeof probe, "%s:1", text) == 0 &&
                shir_addr_classify(probe) == SHIR_ADDR_ROUTABLE)
                (void)shir_str_copy(v4, cap, text);
        } else if (i->ifa_addr->sa_family == AF_INET6 && v6[0] == '\0') {
            const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)i->ifa_addr;
            /* Link-local (fe80::/10) needs a zone to dial: skip it. */
            if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr) || IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
                IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
                continue;
            if (inet_ntop(AF_INET6, &s6->sin6_addr, text, sizeof text))
                (void)shir_str_fmt(v6, cap, "[%s]", text);
        }
    }
}

int node_address_detect(char *out, size_t cap)
{
    struct ifaddrs *list;
    if (getifaddrs(&list) != 0)
        return -errno;
    /* Prefer a real interface; then a routable address put on loopback (a service address, or
     * a network namespace's host address as the tests set up). IPv4 before IPv6 on each. */
    char v4[INET6_ADDRSTRLEN + 2] = "", v6[INET6_ADDRSTRLEN + 2] = "";
    scan(list, false, v4, v6, sizeof v4);
    if (v4[0] == '\0' && v6[0] == '\0')
        scan(list, true, v4, v6, sizeof v4);
    freeifaddrs(list);
    if (v4[0] != '\0')
        return shir_str_copy(out, cap, v4);
    return v6[0] != '\0' ? shir_str_copy(out, cap, v6) : SHIR_E_NOTFOUND;
}
