/* Back-off of failed attempts per key (the rule is in common.h). The table is scanned linearly:
 * it is consulted once or twice per join attempt, which the transport's caps already bound, and
 * a few hundred entries take microseconds, which is simpler than a hash table that must evict. */
#include <string.h>

#include "common/common.h"

void shir_backoff_policy_default(struct shir_backoff_policy *p)
{
    p->threshold = 5;
    p->window_ms = 60000;
    p->first_ms = 1000;
    p->max_ms = 30000;
}

int shir_backoff_init(struct shir_backoff *b, const struct shir_backoff_policy *policy,
                      const struct shir_clock *clock, struct shir_backoff_entry *slots,
                      size_t n_slots)
{
    struct shir_backoff_policy p;
    if (policy)
        p = *policy;
    else
        shir_backoff_policy_default(&p);
    memset(b, 0, sizeof *b);
    if (!clock || !slots || n_slots == 0 || p.threshold == 0 ||
        p.threshold > SHIR_BACKOFF_THRESHOLD_MAX || p.window_ms == 0 || p.first_ms == 0 ||
        p.max_ms < p.first_ms)
        return SHIR_E_INVAL;
    memset(slots, 0, n_slots * sizeof *slots);
    b->policy = p;
    b->clock = clock;
    b->slots = slots;
    b->n_slots = n_slots;
    return 0;
}

static size_t key_cut(size_t len)
{
    return len > SHIR_BACKOFF_KEY_MAX ? SHIR_BACKOFF_KEY_MAX : len;
}

static struct shir_backoff_entry *find(struct shir_backoff *b, const void *key, size_t len)
{
    len = key_cut(len);
    if (len == 0)
        return NULL;
    for (size_t i = 0; i < b->n_slots; i++) {
        struct shir_backoff_entry *e = &b->slots[i];
        if (e->key_len == len && memcmp(e->key, key, len) == 0)
            return e;
    }
    return NULL;
}

/* A slot for a new key: a free one, else the least recently failed key that is not blocked, else
 * the one whose block ends first (dropping a blocked key lets it start over, so it goes last). */
static struct shir_backoff_entry *take(struct shir_backoff *b, uint64_t now)
{
    struct shir_backoff_entry *idle = NULL, *blocked = NULL;
    for (size_t i = 0; i < b->n_slots; i++) {
        struct shir_backoff_entry *e = &b->slots[i];
        if (e->key_len == 0)
            return e;
        if (e->blocked_until > now) {
            if (!blocked || e->blocked_until < blocked->blocked_until)
                blocked = e;
        } else if (!idle || e->last_ms < idle->last_ms) {
            idle = e;
        }
    }
    return idle ? idle : blocked;
}

uint64_t shir_backoff_wait(struct shir_backoff *b, const void *key, size_t len)
{
    struct shir_backoff_entry *e = find(b, key, len);
    uint64_t now = b->clock->now_ms(b->clock);
    return e && e->blocked_until > now ? e->blocked_until - now : 0;
}

uint64_t shir_backoff_fail(struct shir_backoff *b, const void *key, size_t len)
{
    const struct shir_backoff_policy *p = &b->policy;
    uint64_t now = b->clock->now_ms(b->clock);
    len = key_cut(len);
    if (len == 0)
        return 0;
    struct shir_backoff_entry *e = find(b, key, len);
    if (e && now - e->last_ms >= p->window_ms && e->blocked_until <= now)
        memset(e, 0, sizeof *e); /* quiet for a whole window: start over */
    if (!e || e->key_len == 0) {
        e = e ? e : take(b, now);
        memset(e, 0, sizeof *e);
        memcpy(e->key, key, len);
        e->key_len = (uint8_t)len;
    }
    e->fails[e->next] = now;
    e->next = (uint8_t)((e->next + 1) % p->threshold);
    if (e->n_fails < p->threshold)
        e->n_fails++;
    e->last_ms = now;
    /* Full ring: fails[next] is the oldest of the last `threshold` failures. */
    if (e->n_fails == p->threshold && now - e->fails[e->next] < p->window_ms) {
        e->block_ms = e->block_ms == 0              ? p->first_ms
                      : e->block_ms > p->max_ms / 2 ? p->max_ms
                                                    : e->block_ms * 2;
        e->blocked_until = now + e->block_ms;
        return e->block_ms;
    }
    return 0;
}

void shir_backoff_forget(struct shir_backoff *b, const void *key, size_t len)
{
    struct shir_backoff_entry *e = find(b, key, len);
    if (e)
        memset(e, 0, sizeof *e);
}
