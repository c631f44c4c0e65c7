/* Sources: the unit that the listener's per-source limits count (an IPv4 address or an IPv6
 * /64), and the small table of how many connections each source holds right now. */
#include <stdlib.h>
#include <string.h>

#include "transport/tls.h"

int transport_source_from_sockaddr(const struct sockaddr *sa, struct transport_source *out)
{
    memset(out, 0, sizeof *out);
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        out->key[0] = 4;
        memcpy(out->key + 1, &s4->sin_addr, 4);
        uv_inet_ntop(AF_INET, &s4->sin_addr, out->text, sizeof out->text);
        return 0;
    }
    if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
        const unsigned char *a = s6->sin6_addr.s6_addr;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, sizeof mapped) == 0) {
            out->key[0] = 4;
            memcpy(out->key + 1, a + 12, 4);
            uv_inet_ntop(AF_INET, a + 12, out->text, sizeof out->text);
            return 0;
        }
        unsigned char prefix[16] = {0};
        memcpy(prefix, a, 8);
        out->key[0] = 6;
        memcpy(out->key + 1, prefix, 8);
        char ip[INET6_ADDRSTRLEN] = "?";
        uv_inet_ntop(AF_INET6, prefix, ip, sizeof ip);
        (void)shir_str_fmt(out->text, sizeof out->text, "%s/64", ip);
        return 0;
    }
    (void)shir_str_copy(out->text, sizeof out->text, "?");
    return SHIR_E_UNSUPPORTED;
}

/* ------------------------------------------------------------------------------------------- */
/* The table: open addressing with linear probing and backward-shift deletion, at most half full.
 * It holds only sources that hold something, so the listener's caps bound it (a few hundred
 * entries); the hash is not keyed, and the worst an attacker choosing addresses can do is make a
 * lookup walk those few hundred entries. */

#define SRCTAB_MIN_CAP 64u

static size_t src_hash(const unsigned char *key)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < TRANSPORT_SOURCE_KEY_LEN; i++) {
        h ^= key[i];
        h *= 1099511628211ull;
    }
    return (size_t)(h ^ (h >> 29));
}

static bool ent_empty(const struct transport__srcent *e)
{
    if (e->hs != 0)
        return false;
    for (int i = 0; i < TRANSPORT_CH_COUNT; i++)
        if (e->unauth[i] != 0)
            return false;
    return true;
}

static struct transport__srcent *slot_of(const struct transport__srctab *t,
                                         const unsigned char *key, bool *found)
{
    size_t mask = t->cap - 1;
    for (size_t i = src_hash(key) & mask;; i = (i + 1) & mask) {
        struct transport__srcent *e = &t->e[i];
        if (!e->used) {
            *found = false;
            return e;
        }
        if (memcmp(e->key, key, TRANSPORT_SOURCE_KEY_LEN) == 0) {
            *found = true;
            return e;
        }
    }
}

static int srctab_grow(struct transport__srctab *t)
{
    size_t ncap = t->cap ? t->cap * 2 : SRCTAB_MIN_CAP;
    struct transport__srcent *ne = calloc(ncap, sizeof *ne);
    if (!ne)
        return SHIR_E_NOMEM;
    struct transport__srctab nt = {.e = ne, .cap = ncap, .n = 0};
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->e[i].used)
            continue;
        bool found;
        *slot_of(&nt, t->e[i].key, &found) = t->e[i];
        nt.n++;
    }
    free(t->e);
    *t = nt;
    return 0;
}

struct transport__srcent *transport__srctab_find(const struct transport__srctab *t,
                                                 const unsigned char *key)
{
    if (t->cap == 0)
        return NULL;
    bool found;
    struct transport__srcent *e = slot_of(t, key, &found);
    return found ? e : NULL;
}

struct transport__srcent *transport__srctab_get(struct transport__srctab *t,
                                                const unsigned char *key)
{
    struct transport__srcent *e = transport__srctab_find(t, key);
    if (e)
        return e;
    if ((t->n + 1) * 2 > t->cap && srctab_grow(t) != 0)
        return NULL;
    bool found;
    e = slot_of(t, key, &found);
    memset(e, 0, sizeof *e);
    e->used = true;
    memcpy(e->key, key, TRANSPORT_SOURCE_KEY_LEN);
    t->n++;
    return e;
}

void transport__srctab_release(struct transport__srctab *t, struct transport__srcent *e)
{
    if (!e || !ent_empty(e))
        return;
    /* Backward-shift deletion: move later members of the probe run into the hole so that every
     * lookup still finds its key before an empty slot. */
    size_t mask = t->cap - 1;
    size_t hole = (size_t)(e - t->e);
    t->e[hole].used = false;
    t->n--;
    for (size_t i = (hole + 1) & mask; t->e[i].used; i = (i + 1) & mask) {
        size_t home = src_hash(t->e[i].key) & mask;
        /* Entry i may move to the hole when its home is not in (hole, i] (cyclically). */
        bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (stays)
            continue;
        t->e[hole] = t->e[i];
        t->e[i].used = false;
        hole = i;
    }
}

void transport__srctab_free(struct transport__srctab *t)
{
    free(t->e);
    memset(t, 0, sizeof *t);
}
