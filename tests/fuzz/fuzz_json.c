/* Fuzz target: the JSON / JSON lines reader (decoding, document-or-lines detection, per-element
 * parsing of top-level arrays, flattening) over arbitrary bytes at L3 with small limits. */
#include <stddef.h>
#include <stdint.h>

#include "scan/formats/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scan_limits lim;
    struct scan_asset a;
    scan_limits_default(&lim);
    lim.max_rows = 16;
    lim.max_struct_bytes = 64 * 1024;
    lim.max_columns = 64;
    lim.max_sample_len = 32;
    scan_asset_init(&a);
    (void)scan__json_bytes(data, size, SCAN_L3, &lim, &a);
    scan_asset_free(&a);
    return 0;
}
