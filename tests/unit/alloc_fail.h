/* Allocation-failure injection for no-memory sweeps: malloc, calloc and realloc are wrapped at
 * link time (-Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc, see tests/unit/scan.cmake)
 * and, once armed, the k-th allocation from then on (counted from 0, on any thread) returns
 * NULL. A sweep arms k = 0, 1, 2, ... around one call each until a call makes fewer than k + 1
 * allocations (nothing was injected). Libraries that allocate through their own allocators
 * (jansson's) are not affected. */
#ifndef SHIR_TEST_ALLOC_FAIL_H
#define SHIR_TEST_ALLOC_FAIL_H

#include <stdbool.h>

/* Fail the k-th allocation from now (k >= 0). */
void alloc_fail_arm(long k);
/* Disarm; true when the armed allocation was reached (and failed). */
bool alloc_fail_disarm(void);

#endif
