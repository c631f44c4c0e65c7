/* Fuzz the Avro container header decoder and the schema flattening (jansson + our walk), and the
 * block prefix decoder on whatever follows the header. */
#include <stdint.h>

#include "scan/avro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scan_avro_header h;
    struct scan_limits lim;
    struct scan_asset a;
    const char *why;
    if (scan_avro_header_decode(data, size, &h, &why) != 0)
        return 0;
    scan_limits_default(&lim);
    lim.max_columns = 256;
    scan_asset_init(&a);
    (void)scan_avro_schema_fill(h.schema, h.schema_len, &lim, &a);
    scan_asset_free(&a);
    int64_t count, bsize;
    size_t used;
    (void)scan_avro_block_prefix(data + h.header_len, size - h.header_len, &count, &bsize, &used);
    return 0;
}
