/* The runs table: every run (active, and each scan's history of finished ones) and the run id
 * counter. Commands RUN_CREATE, RUN_ASSIGN, RUN_START, RUN_REPORT, RUN_FINISH, RUN_CANCEL,
 * RUN_REQUEUE; the life of a run is drawn in cluster/scans.h, the command semantics are in
 * cluster/fsm.h, and docs/fsm.md ("Runs") explains history, fencing and capacity. This file
 * holds the table, RUN_CREATE and RUN_ASSIGN; the commands on an attempt (RUN_START, RUN_REPORT,
 * RUN_FINISH, RUN_CANCEL, RUN_REQUEUE) are in fsm/attempts.c, and what both use (lookup,
 * history, ending a run, the summary codec) in fsm/runs_store.c, under fsm/runs_int.h: runs.c
 * calls down into both, attempts.c into runs_store.c, and nothing calls back up.
 *
 * Fields (commands after the request id; the section as one array):
 *   RUN_CREATE    scan, trigger, now_ms
 *   RUN_ASSIGN    [ [run, node]... ]              1..CLUSTER_RUN_ASSIGN_BATCH items
 *   RUN_START     run, attempt, now_ms, resumed bool, resumed_files
 *   RUN_REPORT    run, attempt, has_part bool, part, files, assets, bytes, key bin
 *                 (key appended later: an entry without it has no key)
 *   RUN_FINISH    run, attempt, outcome, now_ms, crash_index, has_summary bool, <summary>, error,
 *                 crash_id bin (appended later: an entry without it knows no file's id)
 *   RUN_CANCEL    run, now_ms
 *   RUN_REQUEUE   node_id, now_ms
 *   <summary>     [ files, assets, resource_sets, directories, bytes, classified_columns, errors,
 *                   duration_ms, delivered, queued ]
 *   section 6     [ next_run_id, [ <run>... ] ]    runs in ascending id order
 *   <run>         [ id, scan, state, trigger, node, attempt, failures, part_size, created_ms,
 *                   started_ms, finished_ms, has_checkpoint bool, cp_part, cp_files, files,
 *                   assets, bytes, crash_index, [skip...], has_summary bool, <summary>, error,
 *                   [ [attempt, node, started_ms, finished_ms, outcome, resumed bool,
 *                      resumed_files]... ], cp_assets, cp_bytes, cp_key bin, crash_id bin,
 *                   [skip_id bin...] ]
 *                 (cp_assets, cp_bytes and cp_key appended later: a record without them reads
 *                 them as 0, and no key. crash_id and skip_id, the files' ids (32 bytes each,
 *                 crash_id empty when none), appended after them: crash_index and [skip...],
 *                 walk indices, are written as UINT64_MAX and [] for an older reader (which
 *                 then knows no crash), and read and dropped from an older record, whose
 *                 indices could name another file after a resume by key.)
 *
 * Storage: CLUSTER_FSM_RUNS_CAP slots (~10.6 MiB: 5,408 bytes each, docs/fsm.md) allocated by
 * the table's init, a stack of the free ones (finding one touches no other slot), and the
 * pointers to the used ones in id order, which the query hands out.
 * Ids only grow, so a new run is appended; dropping runs compacts the pointers. Apply never
 * allocates.
 *
 * Loads (runs assigned to or running on a node) are counted from the table when needed rather
 * than kept as counters: nothing derived can then disagree with the runs after a restore, and a
 * count is one pass over at most 2,048 runs (bench_fsm_runs: RUN_ASSIGN batches of 64 apply in
 * well under a millisecond).
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/fsm/runs_int.h"

#define RUN_FIELDS_MIN  23 /* a record written before cp_assets, cp_bytes */
#define RUN_FIELDS_CP   25 /* ... and before cp_key */
#define RUN_FIELDS_KEY  26 /* ... and before crash_id, skip_id */
#define RUN_FIELDS      28
#define ATTEMPT_FIELDS  7
#define SECTION_FIELDS  2

/* Only while n < CAP. */
static struct cluster_run *take_slot(struct runs *t)
{
    return &t->slots[t->free[CLUSTER_FSM_RUNS_CAP - t->n - 1]];
}

const char *cluster_run_state_name(enum cluster_run_state s)
{
    static const char *const names[CLUSTER_RUN_STATE_COUNT] = {
        "queued", "assigned", "running", "succeeded", "failed", "cancelled"};
    return (unsigned)s < CLUSTER_RUN_STATE_COUNT ? names[s] : "?";
}

const char *cluster_run_outcome_name(enum cluster_run_outcome o)
{
    static const char *const names[CLUSTER_OUTCOME_COUNT] = {
        "", "succeeded", "failed", "crashed", "unreachable", "node-lost", "cancelled", "timeout"};
    return (unsigned)o < CLUSTER_OUTCOME_COUNT ? names[o] : "?";
}

const char *cluster_run_trigger_name(enum cluster_run_trigger t)
{
    switch (t) {
    case CLUSTER_TRIGGER_MANUAL:
        return "manual";
    case CLUSTER_TRIGGER_SCHEDULE:
        return "schedule";
    }
    return "?";
}

/* ---- RUN_CREATE ------------------------------------------------------------------------------ */

static int create_shape(const struct cluster_cmd *c)
{
    return cluster__runs_terminated(c->u.run_create.scan, sizeof c->u.run_create.scan) &&
                   (unsigned)c->u.run_create.trigger <= CLUSTER_TRIGGER_SCHEDULE
               ? 0
               : SHIR_E_INVAL;
}

static int create_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                        uint64_t *value)
{
    struct runs *t = cluster__runs_tab(f);
    const char *scan = c->u.run_create.scan;
    const struct cluster_scan_def *def = cluster_fsm_scan(f, scan);
    if (!def)
        return SHIR_E_NOTFOUND;
    uint64_t active = cluster__runs_active(f, scan);
    if (active != 0) {
        *value = active;
        return SHIR_E_BUSY;
    }
    /* Room: this scan's surplus history goes in any case; every scan's when that is not
     * enough. Decided before anything is dropped, so a refusal changes nothing. */
    bool all = t->n - cluster__runs_trim_scan(f, scan, false) >= CLUSTER_FSM_RUNS_CAP;
    if (all && t->n - cluster__runs_trim_all(f, false) >= CLUSTER_FSM_RUNS_CAP)
        return SHIR_E_FULL;
    if (t->next_id == UINT64_MAX)
        return SHIR_E_TOOBIG; /* 2^64 runs: not in this universe, but never wrap an id */
    *value = t->next_id; /* check tells the id the run would get */
    if (!commit)
        return 0;
    if (all)
        cluster__runs_trim_all(f, true); /* this scan's surplus included */
    else
        cluster__runs_trim_scan(f, scan, true);
    struct cluster_run *r = take_slot(t);
    memset(r, 0, sizeof *r);
    r->id = t->next_id++;
    memcpy(r->scan, def->name, sizeof r->scan);
    r->state = CLUSTER_RUN_QUEUED;
    r->trigger = c->u.run_create.trigger;
    /* Fixed here for every attempt of the run: a later change of the definition's level or part
     * size must not move the parts' boundaries under a run that resumes. */
    r->part_size = def->part_size ? def->part_size
                   : def->level == 1 ? CLUSTER_RUN_PART_SIZE_L1 : CLUSTER_RUN_PART_SIZE_L23;
    r->created_ms = c->u.run_create.now_ms;
    t->by_id[t->n++] = r; /* the highest id so far: the order holds */
    *value = r->id;
    return 0;
}

static void create_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    cluster__mpw_str(w, c->u.run_create.scan, sizeof c->u.run_create.scan);
    cluster__mpw_uint(w, (uint64_t)c->u.run_create.trigger);
    cluster__mpw_uint(w, c->u.run_create.now_ms);
}

static void create_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    cluster__mpr_str(r, c->u.run_create.scan, sizeof c->u.run_create.scan);
    c->u.run_create.trigger =
        (enum cluster_run_trigger)cluster__mpr_range(r, 0, CLUSTER_TRIGGER_SCHEDULE);
    c->u.run_create.now_ms = cluster__mpr_uint(r);
}

static const struct cluster__cmd_desc cmd_create = {
    .type = CLUSTER_CMD_RUN_CREATE, .name = "run-create", .fields = 3, .shape = create_shape,
    .apply = create_apply, .encode = create_encode, .decode = create_decode};

/* ---- RUN_ASSIGN ------------------------------------------------------------------------------ */

static int assign_shape(const struct cluster_cmd *c)
{
    return c->u.run_assign.n >= 1 && c->u.run_assign.n <= CLUSTER_RUN_ASSIGN_BATCH
               ? 0
               : SHIR_E_INVAL;
}

/* Each item is re-checked here, against the state as the earlier items of the batch left it:
 * concurrent proposals decided on views that may be stale, and log order settles them, so a
 * node's capacity is never exceeded and a run is never assigned twice. With commit false the
 * state does not move, so the batch's own earlier assignments are counted on the side. */
static int assign_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                        uint64_t *value)
{
    struct runs *t = cluster__runs_tab(f);
    uint64_t took_run[CLUSTER_RUN_ASSIGN_BATCH], took_node[CLUSTER_RUN_ASSIGN_BATCH];
    uint32_t took = 0;
    for (uint32_t i = 0; i < c->u.run_assign.n; i++) {
        uint64_t run = c->u.run_assign.items[i].run, node_id = c->u.run_assign.items[i].node;
        struct cluster_run *r = cluster__runs_find(t, run);
        if (!r || r->state != CLUSTER_RUN_QUEUED || r->n_attempts >= CLUSTER_RUN_ATTEMPTS_CAP)
            continue; /* the ATTEMPTS_CAP guard: RUN_FINISH never re-queues a run that is full */
        const struct cluster_node *node = cluster_fsm_node(f, node_id);
        if (!node || node->state != CLUSTER_NODE_REGISTERED ||
            node->role == CLUSTER_ROLE_WITNESS || node->drain)
            continue;
        uint32_t load = cluster_fsm_node_load(f, node_id);
        bool again = false;
        for (uint32_t k = 0; k < took && !commit; k++) {
            again = again || took_run[k] == run;
            load += took_node[k] == node_id;
        }
        if (again || load >= cluster_fsm_node_capacity(f, node_id))
            continue;
        took_run[took] = run;
        took_node[took] = node_id;
        took++;
        if (!commit)
            continue;
        r->attempt++;
        r->node = node_id;
        r->state = CLUSTER_RUN_ASSIGNED;
        struct cluster_run_attempt *a = &r->attempts[r->n_attempts++];
        memset(a, 0, sizeof *a);
        a->attempt = r->attempt;
        a->node = node_id;
    }
    *value = took;
    return 0;
}

static void assign_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    cluster__mpw_array(w, c->u.run_assign.n);
    for (uint32_t i = 0; i < c->u.run_assign.n; i++) {
        cluster__mpw_array(w, 2);
        cluster__mpw_uint(w, c->u.run_assign.items[i].run);
        cluster__mpw_uint(w, c->u.run_assign.items[i].node);
    }
}

static void assign_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    uint32_t n = cluster__mpr_array_max(r, CLUSTER_RUN_ASSIGN_BATCH);
    for (uint32_t i = 0; i < n && r->err == 0; i++) {
        uint32_t fields = cluster__mpr_array(r, 2);
        c->u.run_assign.items[i].run = cluster__mpr_uint(r);
        c->u.run_assign.items[i].node = cluster__mpr_uint(r);
        cluster__mpr_skip_n(r, fields - 2);
    }
    c->u.run_assign.n = n;
}

static const struct cluster__cmd_desc cmd_assign = {
    .type = CLUSTER_CMD_RUN_ASSIGN, .name = "run-assign", .fields = 1,
    .flags = CLUSTER__CMD_FENCED, .shape = assign_shape, .apply = assign_apply,
    .encode = assign_encode, .decode = assign_decode};

/* ---- the table ------------------------------------------------------------------------------- */

static int runs_init(void *st)
{
    struct runs *t = st;
    t->next_id = 1;
    t->slots = calloc(CLUSTER_FSM_RUNS_CAP, sizeof t->slots[0]);
    for (size_t i = 0; i < CLUSTER_FSM_RUNS_CAP; i++)
        t->free[i] = (uint16_t)(CLUSTER_FSM_RUNS_CAP - 1 - i);
    return t->slots ? 0 : SHIR_E_NOMEM;
}

static void runs_fini(void *st)
{
    struct runs *t = st;
    free(t->slots);
    t->slots = NULL;
}

static void write_run(struct cluster__mpw *w, const struct cluster_run *r)
{
    cluster__mpw_array(w, RUN_FIELDS);
    cluster__mpw_uint(w, r->id);
    cluster__mpw_str(w, r->scan, sizeof r->scan);
    cluster__mpw_uint(w, (uint64_t)r->state);
    cluster__mpw_uint(w, (uint64_t)r->trigger);
    cluster__mpw_uint(w, r->node);
    cluster__mpw_uint(w, r->attempt);
    cluster__mpw_uint(w, r->failures);
    cluster__mpw_uint(w, r->part_size);
    cluster__mpw_uint(w, r->created_ms);
    cluster__mpw_uint(w, r->started_ms);
    cluster__mpw_uint(w, r->finished_ms);
    cluster__mpw_bool(w, r->has_checkpoint);
    cluster__mpw_uint(w, r->cp_part);
    cluster__mpw_uint(w, r->cp_files);
    cluster__mpw_uint(w, r->files);
    cluster__mpw_uint(w, r->assets);
    cluster__mpw_uint(w, r->bytes);
    cluster__mpw_uint(w, UINT64_MAX); /* crash_index, for an older reader: none */
    cluster__mpw_array(w, 0);         /* its skip list of indices: empty */
    cluster__mpw_bool(w, r->has_summary);
    cluster__run_summary_write(w, &r->summary);
    cluster__mpw_str(w, r->error, sizeof r->error);
    cluster__mpw_array(w, r->n_attempts);
    for (uint8_t i = 0; i < r->n_attempts; i++) {
        const struct cluster_run_attempt *a = &r->attempts[i];
        cluster__mpw_array(w, ATTEMPT_FIELDS);
        cluster__mpw_uint(w, a->attempt);
        cluster__mpw_uint(w, a->node);
        cluster__mpw_uint(w, a->started_ms);
        cluster__mpw_uint(w, a->finished_ms);
        cluster__mpw_uint(w, (uint64_t)a->outcome);
        cluster__mpw_bool(w, a->resumed);
        cluster__mpw_uint(w, a->resumed_files);
    }
    cluster__mpw_uint(w, r->cp_assets);
    cluster__mpw_uint(w, r->cp_bytes);
    cluster__mpw_bin(w, r->cp_key, r->cp_key_len);
    cluster__mpw_bin(w, r->crash_id, r->has_crash ? sizeof r->crash_id : 0);
    cluster__mpw_array(w, r->n_skip);
    for (uint8_t i = 0; i < r->n_skip; i++)
        cluster__mpw_bin(w, r->skip[i], sizeof r->skip[i]);
}

static void read_run(struct cluster__mpr *r, struct cluster_run *x)
{
    uint32_t fields = cluster__mpr_array(r, RUN_FIELDS_MIN);
    x->id = cluster__mpr_uint(r);
    cluster__mpr_str(r, x->scan, sizeof x->scan);
    x->state = (enum cluster_run_state)cluster__mpr_range(r, 0, CLUSTER_RUN_STATE_COUNT - 1);
    x->trigger = (enum cluster_run_trigger)cluster__mpr_range(r, 0, CLUSTER_TRIGGER_SCHEDULE);
    x->node = cluster__mpr_uint(r);
    x->attempt = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
    x->failures = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
    x->part_size = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
    x->created_ms = cluster__mpr_uint(r);
    x->started_ms = cluster__mpr_uint(r);
    x->finished_ms = cluster__mpr_uint(r);
    x->has_checkpoint = cluster__mpr_bool(r);
    x->cp_part = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
    x->cp_files = cluster__mpr_uint(r);
    x->files = cluster__mpr_uint(r);
    x->assets = cluster__mpr_uint(r);
    x->bytes = cluster__mpr_uint(r);
    (void)cluster__mpr_uint(r); /* crash_index and the skip list by index: dropped (top) */
    uint32_t legacy_skip = cluster__mpr_array_max(r, CLUSTER_RUN_SKIP_CAP);
    for (uint32_t i = 0; i < legacy_skip; i++)
        (void)cluster__mpr_uint(r);
    x->has_summary = cluster__mpr_bool(r);
    cluster__run_summary_read(r, &x->summary);
    cluster__mpr_str(r, x->error, sizeof x->error);
    x->n_attempts = (uint8_t)cluster__mpr_array_max(r, CLUSTER_RUN_ATTEMPTS_CAP);
    for (uint8_t i = 0; i < x->n_attempts && r->err == 0; i++) {
        struct cluster_run_attempt *a = &x->attempts[i];
        uint32_t af = cluster__mpr_array(r, ATTEMPT_FIELDS);
        a->attempt = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
        a->node = cluster__mpr_uint(r);
        a->started_ms = cluster__mpr_uint(r);
        a->finished_ms = cluster__mpr_uint(r);
        a->outcome =
            (enum cluster_run_outcome)cluster__mpr_range(r, 0, CLUSTER_OUTCOME_COUNT - 1);
        a->resumed = cluster__mpr_bool(r);
        a->resumed_files = cluster__mpr_uint(r);
        cluster__mpr_skip_n(r, af - ATTEMPT_FIELDS);
    }
    x->cp_assets = x->cp_bytes = 0;
    x->cp_key_len = 0;
    x->has_crash = false;
    x->n_skip = 0;
    uint32_t known = RUN_FIELDS_MIN;
    if (fields >= RUN_FIELDS_CP) {
        x->cp_assets = cluster__mpr_uint(r);
        x->cp_bytes = cluster__mpr_uint(r);
        known = RUN_FIELDS_CP;
    }
    if (fields >= RUN_FIELDS_KEY) {
        x->cp_key_len = (uint16_t)cluster__mpr_bin(r, x->cp_key, sizeof x->cp_key);
        known = RUN_FIELDS_KEY;
    }
    if (fields >= RUN_FIELDS) {
        /* Apply only ever writes none or a whole id: a shorter one is read as none. */
        x->has_crash = cluster__mpr_bin(r, x->crash_id, sizeof x->crash_id) == sizeof x->crash_id;
        x->n_skip = (uint8_t)cluster__mpr_array_max(r, CLUSTER_RUN_SKIP_CAP);
        for (uint8_t i = 0; i < x->n_skip; i++)
            cluster__mpr_bin_exact(r, x->skip[i], sizeof x->skip[i]);
        known = RUN_FIELDS;
    }
    cluster__mpr_skip_n(r, fields - known); /* a newer version's fields */
}

static void runs_encode(const void *st, struct cluster__mpw *w)
{
    const struct runs *t = st;
    cluster__mpw_array(w, SECTION_FIELDS);
    cluster__mpw_uint(w, t->next_id);
    cluster__mpw_array(w, (uint32_t)t->n);
    for (size_t i = 0; i < t->n; i++)
        write_run(w, t->by_id[i]);
}

static void runs_decode(void *st, struct cluster__mpr *r)
{
    struct runs *t = st;
    uint32_t fields = cluster__mpr_array(r, SECTION_FIELDS);
    t->next_id = cluster__mpr_range(r, 1, UINT64_MAX);
    uint32_t n = cluster__mpr_array_max(r, CLUSTER_FSM_RUNS_CAP);
    for (uint32_t i = 0; i < n && r->err == 0; i++) {
        struct cluster_run *x = take_slot(t); /* slot i */
        read_run(r, x);
        t->by_id[i] = x;
        t->n = i + 1;
    }
    cluster__mpr_skip_n(r, fields - SECTION_FIELDS);
}

/* What apply could never have made (a corrupt or hostile snapshot): ids 0, not below the
 * counter or out of order; a run of an undefined scan; two active runs of one scan; a run on a
 * node without an attempt. */
static int runs_check(const struct cluster_fsm *f)
{
    const struct runs *t = cluster__runs_tab(f);
    for (size_t i = 0; i < t->n; i++) {
        const struct cluster_run *r = t->by_id[i];
        if (r->id == 0 || r->id >= t->next_id || (i > 0 && t->by_id[i - 1]->id >= r->id))
            return SHIR_E_MALFORMED;
        if (!cluster_fsm_scan(f, r->scan))
            return SHIR_E_MALFORMED;
        if (cluster__run_on_node(r) && r->n_attempts == 0)
            return SHIR_E_MALFORMED;
        if (cluster_run_active(r->state) && cluster__runs_active(f, r->scan) != r->id)
            return SHIR_E_MALFORMED; /* the first active run of its scan is another */
    }
    return 0;
}

#define ATTEMPT_MAX                                                                                \
    (CLUSTER__MP_ARRAY_MAX + (ATTEMPT_FIELDS - 1) * CLUSTER__MP_UINT_MAX + CLUSTER__MP_BOOL_MAX)
#define RUN_MAX                                                                                    \
    (CLUSTER__MP_ARRAY_MAX + CLUSTER__MP_STR_MAX(CLUSTER_SCAN_NAME_MAX) +                          \
     18 * CLUSTER__MP_UINT_MAX + 2 * CLUSTER__MP_BOOL_MAX + CLUSTER__MP_ARRAY_MAX +                \
     CLUSTER__RUN_SUMMARY_MAX + CLUSTER__MP_STR_MAX(CLUSTER_RUN_ERROR_MAX) +                       \
     CLUSTER__MP_ARRAY_MAX + CLUSTER_RUN_ATTEMPTS_CAP * ATTEMPT_MAX +                              \
     CLUSTER__MP_BIN_MAX(CLUSTER_RUN_KEY_MAX) + CLUSTER__MP_BIN_MAX(CLUSTER_RUN_FILE_ID_LEN) +     \
     CLUSTER__MP_ARRAY_MAX + CLUSTER_RUN_SKIP_CAP * CLUSTER__MP_BIN_MAX(CLUSTER_RUN_FILE_ID_LEN))
#define SECTION_MAX                                                                                \
    (2 * CLUSTER__MP_ARRAY_MAX + CLUSTER__MP_UINT_MAX + CLUSTER_FSM_RUNS_CAP * (size_t)RUN_MAX)

/* Narrow fields: n_skip and n_attempts are uint8_t, a batch's count fits the decoder's array. */
_Static_assert(CLUSTER_RUN_SKIP_CAP <= UINT8_MAX && CLUSTER_RUN_ATTEMPTS_CAP <= UINT8_MAX,
               "skip and attempt counts fit uint8_t");

static const struct cluster__cmd_desc *const runs_cmds[] = {
    &cmd_create, &cmd_assign, &cluster__cmd_run_start, &cluster__cmd_run_report,
    &cluster__cmd_run_finish, &cluster__cmd_run_cancel, &cluster__cmd_run_requeue};

const struct cluster__table cluster__tab_runs = {
    .name = "runs", .section = 6, .size = sizeof(struct runs), .snapshot_max = SECTION_MAX,
    .init = runs_init, .fini = runs_fini, .encode = runs_encode, .decode = runs_decode,
    .check = runs_check, .cmds = runs_cmds, .n_cmds = CLUSTER__COUNT(runs_cmds)};

/* ---- queries --------------------------------------------------------------------------------- */

const struct cluster_run *const *cluster_fsm_runs(const struct cluster_fsm *f, size_t *n)
{
    *n = cluster__runs_tab(f)->n;
    return (const struct cluster_run *const *)cluster__runs_tab(f)->by_id;
}

const struct cluster_run *cluster_fsm_run(const struct cluster_fsm *f, uint64_t id)
{
    return cluster__runs_find(cluster__runs_tab(f), id);
}

uint32_t cluster_fsm_node_load(const struct cluster_fsm *f, uint64_t node_id)
{
    const struct runs *t = cluster__runs_tab(f);
    uint32_t load = 0;
    for (size_t i = 0; i < t->n; i++)
        load += cluster__run_on_node(t->by_id[i]) && t->by_id[i]->node == node_id;
    return load;
}
