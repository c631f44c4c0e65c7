/* Fuzz the Delta log replay (scan/columnar/delta.c): the input is one commit's JSON lines,
 * applied twice (a second commit over the first one's state), then the schema is filled. */
#include <stdint.h>

#include "scan/columnar/delta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scan_delta_state *s;
    struct scan_limits lim;
    struct scan_asset a;
    size_t bad = 0;
    if (scan_delta_state_new(&s) != 0)
        return 0;
    scan_limits_default(&lim);
    lim.max_columns = 256;
    scan_asset_init(&a);
    if (scan_delta_apply_json(s, (const char *)data, size, &bad) == 0 &&
        scan_delta_apply_json(s, (const char *)data, size, &bad) == 0)
        (void)scan_delta_fill(s, &lim, &a);
    scan_asset_free(&a);
    scan_delta_state_free(s);
    return 0;
}
