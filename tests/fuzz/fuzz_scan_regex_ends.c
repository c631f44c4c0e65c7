/* Fuzz target: the cells prefilter's regex reader (scan__regex_ends, scan/classify/regexends.c)
 * against Vectorscan itself. The input is a regex, a line feed, then a cell. When Vectorscan
 * compiles the regex anchored as the cells path anchors it and the cell matches it whole, the
 * cell's first and last bytes must be in the reader's sets (abort otherwise): a set that
 * misses a byte would drop that cell's matches. */
#include <hs/hs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/classify/classify_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *ctx)
{
    (void)id;
    (void)from;
    (void)flags;
    size_t *whole = ctx;
    if (to == whole[0])
        whole[1] = 1;
    return 0;
}

static bool has(const struct scan__bytes *b, uint8_t c)
{
    return (b->w[c / 64] >> (c % 64)) & 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    if (!nl || nl - data > 512)
        return 0;
    size_t rl = (size_t)(nl - data), n = size - rl - 1;
    const char *cell = (const char *)nl + 1;
    /* A cell as the cells path sees it: trimmed, non-empty, no line breaks (they become
     * spaces when joined, and trimming removes them from both ends). */
    if (n == 0 || n > 4096 || memchr(cell, '\n', n) || memchr(cell, '\r', n) ||
        (uint8_t)cell[0] <= ' ' || (uint8_t)cell[n - 1] <= ' ' || memchr(data, 0, rl))
        return 0;
    char *re = malloc(rl + 1), *anchored = malloc(rl + 16);
    hs_database_t *db = NULL;
    hs_scratch_t *scratch = NULL;
    hs_compile_error_t *cerr = NULL;
    if (!re || !anchored)
        goto out;
    memcpy(re, data, rl);
    re[rl] = 0;
    snprintf(anchored, rl + 16, "^(?:%s)$", re);
    struct scan__bytes first, last;
    scan__regex_ends(re, &first, &last);
    if (hs_compile(anchored, HS_FLAG_MULTILINE, HS_MODE_BLOCK, NULL, &db, &cerr) != HS_SUCCESS ||
        hs_alloc_scratch(db, &scratch) != HS_SUCCESS)
        goto out;
    size_t whole[2] = {n, 0};
    hs_scan(db, cell, (unsigned)n, 0, scratch, on_match, whole);
    if (whole[1] && (!has(&first, (uint8_t)cell[0]) || !has(&last, (uint8_t)cell[n - 1]))) {
        fprintf(stderr, "regex '%s' matches '%.*s' but its ends are not in the sets\n", re,
                (int)n, cell);
        abort();
    }
out:
    if (cerr)
        hs_free_compile_error(cerr);
    hs_free_scratch(scratch);
    hs_free_database(db);
    free(re);
    free(anchored);
    return 0;
}
