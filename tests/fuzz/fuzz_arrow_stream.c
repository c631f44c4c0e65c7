/* Fuzz the Arrow IPC stream reader (scan/columnar/arrow_stream.c, with arrow.c's framing,
 * Message and schema decoders) and stream detection: the input is a whole file, served from
 * memory (scan_file's head), read as scan_read_arrow reads a file without the ARROW1 magic. */
#include <stdint.h>
#include <stdlib.h>

#include "scan/columnar/arrow.h"
#include "scan/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A read past the input is a reader bug (it bounds every read by the file's size): abort, so
 * the fuzzer reports it. */
static int no_read(void *ctx, uint64_t off, void *buf, size_t n, size_t *got)
{
    (void)ctx, (void)off, (void)buf, (void)n;
    *got = 0;
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scan_detected d;
    scan_detect(data, size < SCAN_DETECT_HEAD ? size : SCAN_DETECT_HEAD, "fuzz", &d);
    struct scan_file f = {
        .fd = -1, .path = "fuzz", .size = size, .head = data, .head_len = size, .read = no_read};
    struct scan_limits lim;
    struct scan_asset a;
    scan_limits_default(&lim);
    lim.max_columns = 256;
    scan_asset_init(&a);
    (void)scan_arrow_read_stream(&f, &lim, &a);
    scan_asset_free(&a);
    return 0;
}
