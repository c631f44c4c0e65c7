/* Monotonic clock and random sources: the system ones and deterministic ones for tests. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/common.h"

static uint64_t system_now_ms(const struct shir_clock *c)
{
    (void)c;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const struct shir_clock system_clock = {system_now_ms, NULL};

const struct shir_clock *shir_clock_system(void)
{
    return &system_clock;
}

uint64_t shir_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t fake_now_ms(const struct shir_clock *c)
{
    const struct shir_fake_clock *fc = c->data;
    return fc->now;
}

void shir_fake_clock_init(struct shir_fake_clock *fc, uint64_t start_ms)
{
    fc->clock.now_ms = fake_now_ms;
    fc->clock.data = fc;
    fc->now = start_ms;
}

void shir_fake_clock_advance(struct shir_fake_clock *fc, uint64_t ms)
{
    fc->now += ms;
}

static int system_fill(struct shir_random *r, void *buf, size_t n)
{
    (void)r;
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return SHIR_E_RANDOM;
        }
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

void shir_random_system(struct shir_random *r)
{
    memset(r, 0, sizeof *r);
    r->fill = system_fill;
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna, public domain algorithm). */
static uint64_t xoshiro_next(uint64_t s[4])
{
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static int seeded_fill(struct shir_random *r, void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        uint64_t v = xoshiro_next(r->state);
        size_t k = n < 8 ? n : 8;
        memcpy(p, &v, k);
        p += k;
        n -= k;
    }
    return 0;
}

void shir_random_seeded(struct shir_random *r, uint64_t seed)
{
    memset(r, 0, sizeof *r);
    r->fill = seeded_fill;
    /* splitmix64 expands the seed so that nearby seeds give unrelated streams. */
    for (int i = 0; i < 4; i++) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        r->state[i] = z ^ (z >> 31);
    }
}

int shir_random_fill(struct shir_random *r, void *buf, size_t n)
{
    return r->fill(r, buf, n);
}

int shir_random_below(struct shir_random *r, uint64_t bound, uint64_t *out)
{
    if (bound == 0) {
        *out = 0;
        return 0;
    }
    /* Rejection sampling: drop the top partial range so every value is equally likely. */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
    for (;;) {
        uint64_t v;
        int rv = r->fill(r, &v, sizeof v);
        if (rv != 0)
            return rv;
        if (v < limit) {
            *out = v % bound;
            return 0;
        }
    }
}
