/* Fuzz target: the delimited reader (decoding, dialect sniffing, header detection, RFC 4180
 * parsing, type inference, sampling) over arbitrary bytes, at L3 with small limits so that each
 * input exercises the row/byte/column bounds as well. The first byte picks the file-name hint.
 * The head also goes through file-type detection as a `.txt` file (scan/detect.c's table sniff)
 * and a file without an extension. */
#include <stddef.h>
#include <stdint.h>

#include "scan/engine.h"
#include "scan/formats/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {NULL, "f.csv", "f.tsv", "f.psv", "f.ssv", "f.csv.gz"};
    struct scan_limits lim;
    struct scan_asset a;
    const char *name = NULL;
    if (size > 0) {
        name = names[data[0] % 6];
        data++;
        size--;
    }
    struct scan_detected d;
    size_t head = size < SCAN_DETECT_HEAD ? size : SCAN_DETECT_HEAD;
    scan_detect(data, head, "f.txt", &d);
    scan_detect(data, head, "f", &d);
    scan_limits_default(&lim);
    lim.max_rows = 16;
    lim.max_struct_bytes = 64 * 1024;
    lim.max_columns = 64;
    lim.max_sample_len = 32;
    scan_asset_init(&a);
    (void)scan__delimited_bytes(data, size, name, SCAN_L3, &lim, &a);
    scan_asset_free(&a);
    return 0;
}
