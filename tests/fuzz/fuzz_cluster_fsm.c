/* Fuzz the FSM's decoders of bytes from peers: log entries (cluster_fsm_apply) and snapshots
 * (cluster_fsm_restore). The first input byte picks which; the rest is the payload.
 * Invariants: no crash or leak; apply always returns a result; a restored state re-encodes to
 * bytes that restore again to the same encoding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fsm.h"
#include "common/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cluster_fsm *f, *g;
    struct shir_buf a, b;
    if (size < 1)
        return 0;
    f = cluster_fsm_new();
    if (!f)
        return 0;
    if (data[0] & 1) {
        if (cluster_fsm_restore(f, data + 1, size - 1) == 0) {
            shir_buf_init(&a, 1 << 20);
            shir_buf_init(&b, 1 << 20);
            g = cluster_fsm_new();
            if (!g || cluster_fsm_snapshot(f, &a) != 0 ||
                cluster_fsm_restore(g, a.data, a.len) != 0 || cluster_fsm_snapshot(g, &b) != 0 ||
                a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
                abort();
            cluster_fsm_free(g);
            shir_buf_free(&a);
            shir_buf_free(&b);
        }
    } else {
        /* Apply the payload twice: the second must be a replay (same result) or a refusal. */
        const struct cluster_fsm_result *r1 = cluster_fsm_apply(f, data + 1, size - 1);
        if (!r1)
            abort();
        struct cluster_fsm_result first = *r1;
        const struct cluster_fsm_result *r2 = cluster_fsm_apply(f, data + 1, size - 1);
        if (!r2 || r2->status != first.status || r2->value != first.value)
            abort();
    }
    cluster_fsm_free(f);
    return 0;
}
