/* Run-time versions of the libraries under scan/. */
#include <hs/hs.h>
#include <zlib.h>

#include "scan/scan.h"

size_t scan_versions(struct shir_libversion *out, size_t cap)
{
    size_t n = 0;
    if (n < cap) {
        out[n].name = "vectorscan";
        /* hs_version() reads "5.4.9 2023-..."; keep the version word. */
        const char *v = hs_version();
        size_t i = 0;
        while (v[i] && v[i] != ' ' && i + 1 < sizeof out[n].version) {
            out[n].version[i] = v[i];
            i++;
        }
        out[n].version[i] = '\0';
        n++;
    }
    if (n < cap) {
        out[n].name = "zlib";
        (void)shir_str_copy(out[n].version, sizeof out[n].version, zlibVersion());
        n++;
    }
    return n;
}
