/* cluster/fsm/runs_int.h (internal to the runs table: fsm/runs.c and fsm/attempts.c).
 *
 * Three layers, no cycle: runs.c at the top (the table's descriptor, init, section and check,
 * RUN_CREATE, RUN_ASSIGN, the queries) lists attempts.c's descriptors; attempts.c (RUN_START,
 * RUN_REPORT, RUN_FINISH, RUN_CANCEL, RUN_REQUEUE) calls runs_store.c; runs_store.c (lookup,
 * history, ending a run, the summary codec) calls neither. Nothing outside them includes it.
 */
#ifndef SHIR_CLUSTER_FSM_RUNS_INT_H
#define SHIR_CLUSTER_FSM_RUNS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cluster/fsm/fsm_int.h"

struct runs {
    struct cluster_run *slots; /* [CLUSTER_FSM_RUNS_CAP], from init */
    struct cluster_run *by_id[CLUSTER_FSM_RUNS_CAP];
    size_t n;
    uint64_t next_id;
    uint16_t free[CLUSTER_FSM_RUNS_CAP]; /* slot indices; free[0..CAP-n) are free */
};

_Static_assert(CLUSTER_FSM_RUNS_CAP <= UINT16_MAX + 1, "slot indices fit uint16_t");

static inline struct runs *cluster__runs_tab(const struct cluster_fsm *f)
{
    return cluster__fsm_tab(f, CLUSTER__TAB_RUNS);
}

static inline bool cluster__run_on_node(const struct cluster_run *r)
{
    return r->state == CLUSTER_RUN_ASSIGNED || r->state == CLUSTER_RUN_RUNNING;
}

static inline bool cluster__runs_terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

/* runs_store.c: the first position whose id is >= id; the run with that id or NULL. */
size_t cluster__runs_lower_bound(const struct runs *t, uint64_t id);
struct cluster_run *cluster__runs_find(const struct runs *t, uint64_t id);
/* runs_store.c: a terminal state s, stamped now_ms, and the scan's history trimmed when `trim`
 * (which never drops r itself: it is the scan's newest finished run and run_history is at
 * least 1). */
void cluster__run_end(struct cluster_fsm *f, struct cluster_run *r, enum cluster_run_state s,
                      uint64_t now_ms, bool trim);
/* runs_store.c: the finished runs of `scan` beyond settings.run_history (oldest first) and, with
 * `commit`, dropped; the same over every scan. For RUN_CREATE's room. */
size_t cluster__runs_trim_scan(struct cluster_fsm *f, const char *scan, bool commit);
size_t cluster__runs_trim_all(struct cluster_fsm *f, bool commit);
/* runs_store.c: the <summary> array, in RUN_FINISH and in the section's runs. */
#define CLUSTER__RUN_SUMMARY_FIELDS 10
#define CLUSTER__RUN_SUMMARY_MAX                                                                   \
    (CLUSTER__MP_ARRAY_MAX + CLUSTER__RUN_SUMMARY_FIELDS * CLUSTER__MP_UINT_MAX)
void cluster__run_summary_write(struct cluster__mpw *w, const struct cluster_run_summary *s);
void cluster__run_summary_read(struct cluster__mpr *r, struct cluster_run_summary *s);

/* attempts.c: the descriptors runs.c lists in its table. */
extern const struct cluster__cmd_desc cluster__cmd_run_start, cluster__cmd_run_report,
    cluster__cmd_run_finish, cluster__cmd_run_cancel, cluster__cmd_run_requeue;

#endif /* SHIR_CLUSTER_FSM_RUNS_INT_H */
