/* Fuzz the Office Open XML readers (scan/formats/office.c over office_zip.c): byte 0 chooses the
 * kind (XLSX, DOCX, PPTX); the rest is the file. Limits are lowered so inputs stay cheap. */
#include <stdint.h>

#include "scan/formats/office.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"f.xlsx", "f.docx", "f.pptx", "f.xlsx"};
    struct scan_limits lim;
    struct scan_asset a;
    if (size < 1)
        return 0;
    scan_limits_default(&lim);
    lim.max_columns = 256;
    lim.max_doc_bytes = 1u << 20;
    scan_asset_init(&a);
    (void)scan__office_bytes(data + 1, size - 1, names[data[0] & 3], SCAN_L3, &lim, &a);
    scan_asset_free(&a);
    return 0;
}
