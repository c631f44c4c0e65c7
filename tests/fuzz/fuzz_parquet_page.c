/* Fuzz the Parquet page decoder: page headers, codecs, RLE/bit-packed levels, dictionaries and
 * PLAIN values. The first 4 input bytes choose the column being decoded (physical type, logical
 * type, codec, max definition/repetition level); the rest is the column chunk, decoded as a
 * sample and then row by row (scan_parquet_chunk_rows_src). */
#include <stdint.h>
#include <string.h>

#include "scan/columnar/parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_cb(void *ctx, const char *v, size_t n)
{
    (void)v;
    *(size_t *)ctx += n;
    return 0;
}

/* Rows mode has no value cap of its own (its caller stops it): stop after 64 Ki rows, as a page
 * can declare 2^31 nulls in a few bytes. */
static int rows_cb(void *ctx, const char *v, size_t n)
{
    size_t *rows = ctx;
    if (v ? n > SCAN_PQ_MAX_PAGE : n != 0)
        __builtin_trap(); /* a value longer than a page, or a null with a length */
    return ++*rows > (64u << 10) ? -1 : 0;
}

struct mem {
    const uint8_t *p;
    size_t n;
};

static int mem_read(void *ctx, uint64_t off, void *buf, size_t n, size_t *got)
{
    const struct mem *m = ctx;
    size_t k = off >= m->n ? 0 : m->n - (size_t)off;
    k = k < n ? k : n;
    if (k)
        memcpy(buf, m->p + off, k);
    *got = k;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Index: data[1] bits 0-1, and bit 5 for the second half (LZ4, Brotli, and LZO, which is
     * refused), so the older seeds (bit 5 clear) keep their codec. */
    static const int32_t codecs[] = { SCAN_PQ_UNCOMPRESSED, SCAN_PQ_SNAPPY, SCAN_PQ_GZIP,
                                      SCAN_PQ_ZSTD, SCAN_PQ_LZ4_RAW, SCAN_PQ_LZ4, SCAN_PQ_BROTLI,
                                      SCAN_PQ_LZO };
    struct scan_pq_leaf l;
    char note[160];
    size_t total = 0;
    if (size < 4)
        return 0;
    memset(&l, 0, sizeof l);
    l.phys = data[0] & 7;
    l.logical = (enum scan_pq_logical)((data[0] >> 3) % (SCAN_PQ_L_OTHER + 1));
    l.codec = codecs[(data[1] & 3) | ((data[1] >> 3) & 4)];
    l.max_def = (int16_t)((data[1] >> 2) & 3);
    l.max_rep = (int16_t)((data[1] >> 4) & 1);
    l.unit = (enum scan_pq_unit)(data[2] % 3);
    l.utc = data[2] & 4;
    l.is_signed = data[2] & 8;
    l.type_length = data[3] & 31;
    l.scale = (data[3] >> 5) * 3;
    l.precision = 38;
    (void)scan_parquet_chunk_sample(&l, data + 4, size - 4, 128, count_cb, &total, note,
                                    sizeof note);
    /* The same chunk row by row (nulls too, text values whole), as the Delta checkpoint reader
     * reads it. */
    struct mem m = {data + 4, size - 4};
    struct scan_pq_source src = {mem_read, &m, size - 4};
    size_t rows = 0;
    (void)scan_parquet_chunk_rows_src(&l, &src, size - 4, rows_cb, &rows, note, sizeof note, NULL);
    return 0;
}
