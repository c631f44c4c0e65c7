/* The lower layer of the runs table (fsm/runs.c draws the table and its section): finding a
 * run, a scan's active run, dropping a scan's runs, trimming history to settings.run_history,
 * ending a run, and the <summary> codec. fsm/runs.c and fsm/attempts.c call these through
 * fsm/runs_int.h; nothing here calls either of them.
 */
#include <stdint.h>
#include <string.h>

#include "cluster/fsm/runs_int.h"

/* ---- lookup ---------------------------------------------------------------------------------- */

/* The first position whose id is >= id. */
size_t cluster__runs_lower_bound(const struct runs *t, uint64_t id)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->by_id[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct cluster_run *cluster__runs_find(const struct runs *t, uint64_t id)
{
    size_t pos = cluster__runs_lower_bound(t, id);
    return pos < t->n && t->by_id[pos]->id == id ? t->by_id[pos] : NULL;
}

uint64_t cluster__runs_active(const struct cluster_fsm *f, const char *scan)
{
    const struct runs *t = cluster__runs_tab(f);
    for (size_t i = 0; i < t->n; i++)
        if (cluster_run_active(t->by_id[i]->state) && strcmp(t->by_id[i]->scan, scan) == 0)
            return t->by_id[i]->id;
    return 0;
}

/* Drop the runs `keep` refuses, keeping the others in order. */
static void compact(struct runs *t, bool (*keep)(const struct cluster_run *r, void *arg),
                    void *arg)
{
    size_t w = 0, freed = CLUSTER_FSM_RUNS_CAP - t->n;
    for (size_t i = 0; i < t->n; i++) {
        struct cluster_run *r = t->by_id[i];
        if (keep(r, arg)) {
            t->by_id[w++] = r;
        } else {
            memset(r, 0, sizeof *r);
            t->free[freed++] = (uint16_t)(r - t->slots);
        }
    }
    for (size_t i = w; i < t->n; i++)
        t->by_id[i] = NULL;
    t->n = w;
}

static bool keep_other_scan(const struct cluster_run *r, void *arg)
{
    return strcmp(r->scan, arg) != 0;
}

void cluster__runs_drop_scan(struct cluster_fsm *f, const char *scan)
{
    compact(cluster__runs_tab(f), keep_other_scan, (void *)(uintptr_t)scan);
}

/* ---- history --------------------------------------------------------------------------------- */

struct trim {
    const char *scan;
    size_t drop; /* the oldest `drop` finished runs of the scan go */
};

static bool keep_trim(const struct cluster_run *r, void *arg)
{
    struct trim *tr = arg;
    if (tr->drop == 0 || cluster_run_active(r->state) || strcmp(r->scan, tr->scan) != 0)
        return true;
    tr->drop--;
    return false;
}

/* The finished runs of `scan` beyond settings.run_history, oldest (lowest id) first: how many
 * there are, and with `commit` dropped. */
size_t cluster__runs_trim_scan(struct cluster_fsm *f, const char *scan, bool commit)
{
    struct runs *t = cluster__runs_tab(f);
    size_t finished = 0, keep = cluster_fsm_runtime(f)->settings.run_history;
    for (size_t i = 0; i < t->n; i++)
        if (!cluster_run_active(t->by_id[i]->state) && strcmp(t->by_id[i]->scan, scan) == 0)
            finished++;
    if (finished <= keep)
        return 0;
    struct trim tr = {scan, finished - keep};
    if (commit)
        compact(t, keep_trim, &tr);
    return finished - keep;
}

/* Every scan's surplus (only after run_history was lowered is there any beyond the created
 * scan's): 256 scans x 2,048 runs at worst, and only when the table is full. */
size_t cluster__runs_trim_all(struct cluster_fsm *f, bool commit)
{
    size_t n, dropped = 0;
    const struct cluster_scan_def *const *defs = cluster_fsm_scans(f, &n);
    for (size_t i = 0; i < n; i++)
        dropped += cluster__runs_trim_scan(f, defs[i]->name, commit);
    return dropped;
}

/* ---- ending a run ---------------------------------------------------------------------------- */

/* A terminal state: stamped, and the scan's history trimmed (which never drops r itself: it is
 * the scan's newest finished run and run_history is at least 1). */
void cluster__run_end(struct cluster_fsm *f, struct cluster_run *r, enum cluster_run_state s,
                      uint64_t now_ms, bool trim)
{
    r->state = s;
    r->finished_ms = now_ms;
    r->cp_key_len = 0; /* nothing resumes from it now: snapshots need not carry it */
    if (trim)
        cluster__runs_trim_scan(f, r->scan, true);
}

/* ---- the summary --------------------------------------------------------------------------- */

void cluster__run_summary_write(struct cluster__mpw *w, const struct cluster_run_summary *s)
{
    cluster__mpw_array(w, CLUSTER__RUN_SUMMARY_FIELDS);
    cluster__mpw_uint(w, s->files);
    cluster__mpw_uint(w, s->assets);
    cluster__mpw_uint(w, s->resource_sets);
    cluster__mpw_uint(w, s->directories);
    cluster__mpw_uint(w, s->bytes);
    cluster__mpw_uint(w, s->classified_columns);
    cluster__mpw_uint(w, s->errors);
    cluster__mpw_uint(w, s->duration_ms);
    cluster__mpw_uint(w, s->delivered);
    cluster__mpw_uint(w, s->queued);
}

void cluster__run_summary_read(struct cluster__mpr *r, struct cluster_run_summary *s)
{
    uint32_t n = cluster__mpr_array(r, CLUSTER__RUN_SUMMARY_FIELDS);
    s->files = cluster__mpr_uint(r);
    s->assets = cluster__mpr_uint(r);
    s->resource_sets = cluster__mpr_uint(r);
    s->directories = cluster__mpr_uint(r);
    s->bytes = cluster__mpr_uint(r);
    s->classified_columns = cluster__mpr_uint(r);
    s->errors = cluster__mpr_uint(r);
    s->duration_ms = cluster__mpr_uint(r);
    s->delivered = cluster__mpr_uint(r);
    s->queued = cluster__mpr_uint(r);
    cluster__mpr_skip_n(r, n - CLUSTER__RUN_SUMMARY_FIELDS);
}
