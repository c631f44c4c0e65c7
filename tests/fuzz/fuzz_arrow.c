/* Fuzz the Arrow IPC footer and record batch message decoders (scan/columnar/arrow.c): byte 0
 * chooses the decoder (even: footer, odd: message); the rest is its flatbuffer input. */
#include <stdint.h>
#include <stdlib.h>

#include "scan/columnar/arrow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1) {
        int64_t rows;
        const char *why;
        (void)scan_arrow_message_rows(data + 1, size - 1, &rows, &why);
        return 0;
    }
    struct scan_limits lim;
    struct scan_asset a;
    struct scan_arrow_block *bl = NULL;
    size_t nb;
    const char *why;
    scan_limits_default(&lim);
    lim.max_columns = 256;
    scan_asset_init(&a);
    (void)scan_arrow_footer_fill(data + 1, size - 1, &lim, &a, &bl, &nb, &why);
    free(bl);
    scan_asset_free(&a);
    return 0;
}
