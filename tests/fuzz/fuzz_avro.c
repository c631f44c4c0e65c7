/* Fuzz the Avro container header decoder, the schema flattening (jansson + our walk), the schema
 * compiler and the value decoder: whatever follows the header is taken as one uncompressed block
 * (a block prefix, then objects). */
#include <stdint.h>

#include "scan/columnar/avro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scan_avro_header h;
    struct scan_avro_prog *p = NULL;
    struct scan_limits lim;
    struct scan_asset a;
    const char *why;
    if (scan_avro_header_decode(data, size, &h, &why) != 0)
        return 0;
    scan_limits_default(&lim);
    lim.max_columns = 256;
    scan_asset_init(&a);
    if (scan_avro_schema_fill(h.schema, h.schema_len, &lim, &a) == 0 &&
        scan_avro_prog_new(h.schema, h.schema_len, &a, &p, &why) == 0) {
        int64_t count, bsize, done;
        size_t used;
        const uint8_t *b = data + h.header_len;
        size_t n = size - h.header_len;
        if (scan_avro_block_prefix(b, n, &count, &bsize, &used) == 0)
            (void)scan_avro_sample_block(p, b + used, n - used, count, &lim, &a, &done, &why);
        scan_avro_prog_free(p);
    }
    scan_asset_free(&a);
    return 0;
}
