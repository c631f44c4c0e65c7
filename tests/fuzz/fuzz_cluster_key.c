/* Fuzz the registration-key decoder: any bytes an operator (or a script) might paste. Whatever
 * decodes must re-encode to a token that decodes to the same key. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/key.h"
#include "common/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cluster_key k, k2;
    struct cluster_key_diag diag;
    char text[CLUSTER_KEY_TEXT_MAX + 1];

    if (cluster_key_decode((const char *)data, size, &k, &diag) != 0) {
        if (diag.fault == CLUSTER_KEY_OK || diag.msg[0] == '\0')
            abort();
        return 0;
    }
    if (cluster_key_encode(&k, text, sizeof text) != 0)
        abort();
    if (cluster_key_decode(text, strlen(text), &k2, NULL) != 0 || memcmp(&k, &k2, sizeof k) != 0)
        abort();
    cluster_key_wipe(&k);
    cluster_key_wipe(&k2);
    return 0;
}
