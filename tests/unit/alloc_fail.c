/* See alloc_fail.h. The countdown is atomic: a walk's read-ahead thread allocates too. */
#include "alloc_fail.h"

#include <stdatomic.h>
#include <stddef.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);

/* -1: disarmed; k >= 0: allocations to let through before the one that fails. */
static atomic_long countdown = -1;

static bool should_fail(void)
{
    long c = atomic_load(&countdown);
    while (c >= 0 && !atomic_compare_exchange_weak(&countdown, &c, c - 1))
        ;
    return c == 0;
}

void alloc_fail_arm(long k)
{
    atomic_store(&countdown, k);
}

bool alloc_fail_disarm(void)
{
    return atomic_exchange(&countdown, -1) < 0;
}

void *__wrap_malloc(size_t n)
{
    return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
    return should_fail() ? NULL : __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : __real_realloc(p, n);
}
