/* Allocation counting for tests: a binary that links alloc_count.c with
 * -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc counts every allocation in t_allocs,
 * so a test can show that a call allocates nothing (compare the count before and after). */
#ifndef SHIR_TEST_ALLOC_COUNT_H
#define SHIR_TEST_ALLOC_COUNT_H

extern unsigned long t_allocs;

#endif
