/* Snapshots of the FSM: the whole state as msgpack, deterministic (equal states, equal bytes),
 * restored all or nothing.
 *
 * Version 2 (written since the FSM became a list of tables):
 *
 *     [ "shir-fsm", 2, [ [section-id, body], ... ] ]
 *
 * One section per table of the schema, in ascending id order, written even when the table is
 * empty; each body is drawn at the top of its table's file (fsm/runtime.c: 1, fsm/nodes.c: 2,
 * fsm/proxy.c: 3, fsm/recent.c: 4). A reader
 * - skips a section whose id it does not know (a table a newer version added),
 * - leaves a table whose section is absent as cluster_fsm_new made it (an older version's
 *   snapshot, from before that table existed),
 * - refuses ids that repeat or go backwards (two readers must never disagree on a state),
 * - skips elements appended to the top array, to a section pair, or to a body's arrays.
 * A change that older readers must not half-understand takes a new version number: they refuse
 * it (SHIR_E_UNSUPPORTED) rather than guess.
 *
 * Version 1 (written up to and including commit 22a3421; tests/fixtures/fsm/snapshot-v1.bin):
 *
 *     [ "shir-fsm", 1, runtime, [node...], proxy, next_node_id, [recent...], scans, runs ]
 *
 * where runtime, each node, proxy and each recent result have the layouts of the version-2
 * bodies, and scans and runs are two values always written empty. read_v1 below reads it.
 */
#include <string.h>

#include "cluster/fsm/fsm_int.h"

#define SNAP_MAGIC "shir-fsm"
#define SNAP_V1    1
#define SNAP_V2    2
#define V1_FIELDS  9

size_t cluster_fsm_snapshot_max(const struct cluster_fsm *f)
{
    size_t n = CLUSTER__MP_ARRAY_MAX + CLUSTER__MP_STR_MAX(sizeof SNAP_MAGIC - 1) +
               CLUSTER__MP_UINT_MAX + CLUSTER__MP_ARRAY_MAX;
    for (size_t i = 0; i < f->schema->n; i++)
        n += CLUSTER__MP_ARRAY_MAX + CLUSTER__MP_UINT_MAX + f->schema->tables[i]->snapshot_max;
    return n;
}

int cluster_fsm_snapshot(const struct cluster_fsm *f, struct shir_buf *out)
{
    struct cluster__mpw w;
    size_t start = out->len;
    cluster__mpw_init(&w, out);
    cluster__mpw_array(&w, 3);
    cluster__mpw_str(&w, SNAP_MAGIC, sizeof SNAP_MAGIC);
    cluster__mpw_uint(&w, SNAP_V2);
    cluster__mpw_array(&w, (uint32_t)f->schema->n);
    for (size_t i = 0; i < f->schema->n; i++) {
        const struct cluster__table *t = f->schema->tables[i];
        cluster__mpw_array(&w, 2);
        cluster__mpw_uint(&w, t->section);
        t->encode(f->tab[i], &w);
    }
    return cluster__mpw_finish(&w, out, start);
}

int cluster_fsm_snapshot_view(struct cluster_fsm *f, const void **p, size_t *n)
{
    /* Overwritten in place; only the tail a shorter snapshot leaves is wiped, so no byte of an
     * older one outlives it (cluster_fsm_free wipes the rest). */
    size_t old = f->snap.len;
    shir_buf_reset(&f->snap);
    int rc = cluster_fsm_snapshot(f, &f->snap);
    if (old > f->snap.len)
        shir_wipe(f->snap.data + f->snap.len, old - f->snap.len);
    *p = f->snap.data;
    *n = f->snap.len;
    return rc;
}

static void read_v2(struct cluster_fsm *g, struct cluster__mpr *r)
{
    uint32_t n = cluster__mpr_array(r, 0);
    uint64_t last = 0;
    for (uint32_t k = 0; k < n && r->err == 0; k++) {
        uint32_t pair = cluster__mpr_array(r, 2);
        uint64_t id = cluster__mpr_uint(r);
        if (r->err == 0 && id <= last) {
            r->err = SHIR_E_MALFORMED;
            return;
        }
        last = id;
        size_t i = 0;
        while (i < g->schema->n && g->schema->tables[i]->section != id)
            i++;
        if (i < g->schema->n)
            g->schema->tables[i]->decode(g->tab[i], r);
        else
            cluster__mpr_skip(r); /* a table of a newer version */
        cluster__mpr_skip_n(r, pair - 2);
    }
}

static void read_v1(struct cluster_fsm *g, struct cluster__mpr *r, uint32_t top)
{
    if (top < V1_FIELDS) {
        r->err = SHIR_E_MALFORMED;
        return;
    }
    cluster__tab_runtime.decode(g->tab[CLUSTER__TAB_RUNTIME], r);
    cluster__nodes_decode_list(g->tab[CLUSTER__TAB_NODES], r);
    cluster__tab_proxy.decode(g->tab[CLUSTER__TAB_PROXY], r);
    cluster__nodes_decode_next_id(g->tab[CLUSTER__TAB_NODES], r);
    cluster__tab_recent.decode(g->tab[CLUSTER__TAB_RECENT], r);
    cluster__mpr_skip_n(r, 2); /* scans, runs: always empty in version 1 */
    cluster__mpr_skip_n(r, top - V1_FIELDS);
}

/* Decode p[0..len) into g, fresh from cluster__fsm_new_with; 0 or the first error. */
static int decode_into(struct cluster_fsm *g, const void *p, size_t len)
{
    struct cluster__mpr r;
    char magic[16];
    cluster__mpr_init(&r, p, len);
    uint32_t top = cluster__mpr_array(&r, 3);
    cluster__mpr_str(&r, magic, sizeof magic);
    if (r.err == 0 && strcmp(magic, SNAP_MAGIC) != 0)
        return SHIR_E_MALFORMED;
    uint64_t version = cluster__mpr_uint(&r);
    if (r.err != 0)
        return r.err;
    if (version == SNAP_V1) {
        read_v1(g, &r, top);
    } else if (version == SNAP_V2) {
        read_v2(g, &r);
        cluster__mpr_skip_n(&r, top - 3);
    } else {
        return SHIR_E_UNSUPPORTED;
    }
    if (r.err == 0 && r.left != 0)
        return SHIR_E_MALFORMED; /* trailing bytes after the snapshot */
    if (r.err != 0)
        return r.err;
    for (size_t i = 0; i < g->schema->n; i++) {
        int rc = g->schema->tables[i]->check ? g->schema->tables[i]->check(g) : 0;
        if (rc != 0)
            return rc;
    }
    return 0;
}

int cluster_fsm_restore(struct cluster_fsm *f, const void *p, size_t n)
{
    /* Decoded into a whole new state (pools included) and swapped in only when all of it is
     * valid: a restore that fails leaves f as it was. */
    struct cluster_fsm *g = cluster__fsm_new_with(f->schema);
    if (!g)
        return SHIR_E_NOMEM;
    int rc = decode_into(g, p, n);
    if (rc == 0) {
        for (size_t i = 0; i < f->schema->n; i++) {
            void *old = f->tab[i];
            f->tab[i] = g->tab[i];
            g->tab[i] = old;
        }
        f->applied = 0;
    }
    cluster_fsm_free(g); /* the old state after a swap, the half-decoded one otherwise */
    return rc;
}
