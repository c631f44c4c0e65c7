/* Fuzz the Parquet footer decoder: FileMetaData (Thrift compact) -> schema, statistics, and the
 * rendering of every statistic as the reader would fill an asset. Input: a footer without its
 * length and magic (seeds are the footers of tests/fixtures/columnar). */
#include <stdint.h>
#include <stdlib.h>

#include "scan/columnar/parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scan_pq_meta m;
    struct scan_limits lim;
    struct scan_asset a;
    const char *why;
    scan_limits_default(&lim);
    lim.max_columns = 256;
    if (scan_parquet_meta_decode(data, size, &m, &why) != 0)
        return 0;
    scan_asset_init(&a);
    (void)scan_parquet_fill(&m, &lim, &a);
    scan_asset_free(&a);
    scan_parquet_meta_free(&m);
    return 0;
}
