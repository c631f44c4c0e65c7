/* Fuzz the FSM's decoders of bytes from peers: log entries (cluster_fsm_apply) and snapshots
 * (cluster_fsm_restore, versions 1 and 2). The first input byte picks: bit 0 restore (else
 * apply), bit 1 the schema with the test-only probe table (a pool of variable-size records and
 * a fenced command, tests/unit/cluster_fsm_probe.h) instead of the production one, bit 2 apply
 * to the dispatcher state of fsm_world.h (runs on nodes, so tokens can match) instead of an
 * empty one; the rest is the payload. Seeds: gen_fsm_seeds.c (corpus/cluster-fsm/README).
 * Invariants: no crash or leak; apply always returns a result; applied twice, an entry gives
 * the same result (a replay), except that a fenced command, whose token and not the ring guards
 * replays, may answer differently the second time but must leave the state as its first apply
 * did (refused, or idempotent as progress maxima are); a restored state re-encodes to bytes that
 * restore again to the same encoding, within cluster_fsm_snapshot_max. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/cluster_fsm_probe.h"
#include "cluster/fsm.h"
#include "common/common.h"
#include "fsm_world.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_restore(struct cluster_fsm *f, const struct cluster__schema *s,
                          const uint8_t *p, size_t n)
{
    struct shir_buf a, b;
    if (cluster_fsm_restore(f, p, n) != 0)
        return;
    shir_buf_init(&a, cluster_fsm_snapshot_max(f));
    shir_buf_init(&b, cluster_fsm_snapshot_max(f));
    struct cluster_fsm *g = cluster__fsm_new_with(s);
    if (!g || cluster_fsm_snapshot(f, &a) != 0 || cluster_fsm_restore(g, a.data, a.len) != 0 ||
        cluster_fsm_snapshot(g, &b) != 0 || a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
        abort();
    cluster_fsm_free(g);
    shir_buf_free(&a);
    shir_buf_free(&b);
}

static void check_apply(struct cluster_fsm *f, const struct cluster__schema *s,
                        const uint8_t *p, size_t n)
{
    struct cluster_cmd cmd;
    const struct cluster__cmd_desc *d = NULL;
    bool fenced = cluster__cmd_decode(s, p, n, &cmd, &d) == 0 && (d->flags & CLUSTER__CMD_FENCED);
    const struct cluster_fsm_result *r1 = cluster_fsm_apply(f, p, n);
    if (!r1)
        abort();
    struct cluster_fsm_result first = *r1;
    struct shir_buf a, b;
    shir_buf_init(&a, cluster_fsm_snapshot_max(f));
    shir_buf_init(&b, cluster_fsm_snapshot_max(f));
    if (fenced && cluster_fsm_snapshot(f, &a) != 0)
        abort();
    const struct cluster_fsm_result *r2 = cluster_fsm_apply(f, p, n);
    if (!r2)
        abort();
    if (fenced && (cluster_fsm_snapshot(f, &b) != 0 || a.len != b.len ||
                   memcmp(a.data, b.data, a.len) != 0))
        abort();
    if (!fenced && (r2->status != first.status || r2->value != first.value))
        abort();
    shir_buf_free(&a);
    shir_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct cluster__schema *s = data[0] & 2 ? &t_probe_schema : &cluster__schema_default;
    struct cluster_fsm *f = cluster__fsm_new_with(s);
    if (!f)
        return 0;
    if (data[0] & 1) {
        check_restore(f, s, data + 1, size - 1);
    } else {
        if ((data[0] & 4) && fsm_world_build(f) != 0)
            abort();
        check_apply(f, s, data + 1, size - 1);
    }
    cluster_fsm_free(f);
    return 0;
}
