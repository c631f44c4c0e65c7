/* The commands that report on or end an attempt of a run: RUN_START, RUN_REPORT, RUN_FINISH
 * (fenced by the token (run, attempt): a report for another attempt is STALE), RUN_CANCEL, and
 * RUN_REQUEUE (fenced: replays find nothing left on the node). Their fields, and the table they
 * change, are drawn at the top of fsm/runs.c; what they share with it is fsm/runs_int.h; the
 * semantics are in cluster/fsm.h and docs/fsm.md ("Runs").
 */
#include <stdio.h>
#include <string.h>

#include "cluster/fsm/runs_int.h"

/* The run a report of (run, attempt) is for: on a node, with that attempt. NULL: STALE. */
static struct cluster_run *token_run(const struct cluster_fsm *f, uint64_t run, uint32_t attempt)
{
    struct cluster_run *r = cluster__runs_find(cluster__runs_tab(f), run);
    if (!r || !cluster__run_on_node(r) || r->attempt != attempt || r->n_attempts == 0)
        return NULL;
    return r;
}

/* ---- ending an attempt ----------------------------------------------------------------------- */

struct finish {
    enum cluster_run_outcome outcome;
    uint64_t now_ms;
    const uint8_t *crash_id; /* CLUSTER_RUN_FILE_ID_LEN bytes; NULL: no file known */
    const struct cluster_run_summary *summary; /* NULL: none */
    const char *error;
};

/* A crash in the file whose id is `id` (NULL: not known, nothing remembered). By id, never by
 * walk index: after a resume by key one index can name two files (cluster/scans.h). */
static void remember_crash(struct cluster_run *r, const uint8_t *id)
{
    if (!id)
        return;
    if (!r->has_crash || memcmp(id, r->crash_id, CLUSTER_RUN_FILE_ID_LEN) != 0) {
        r->has_crash = true; /* the first crash on this file */
        memcpy(r->crash_id, id, CLUSTER_RUN_FILE_ID_LEN);
        return;
    }
    /* The second on the same file: later attempts skip it. */
    bool known = false;
    for (uint8_t i = 0; i < r->n_skip; i++)
        known = known || memcmp(r->skip[i], id, CLUSTER_RUN_FILE_ID_LEN) == 0;
    if (!known && r->n_skip < CLUSTER_RUN_SKIP_CAP)
        memcpy(r->skip[r->n_skip++], id, CLUSTER_RUN_FILE_ID_LEN);
    r->has_crash = false;
    memset(r->crash_id, 0, sizeof r->crash_id);
}

/* The current attempt of r (on a node) ends with in->outcome: the run's new state, applied when
 * `commit` (history trimmed when `trim`). Shared by RUN_FINISH and RUN_REQUEUE. */
static enum cluster_run_state end_attempt(struct cluster_fsm *f, struct cluster_run *r,
                                          const struct finish *in, bool commit, bool trim)
{
    const struct cluster_scan_def *def = cluster_fsm_scan(f, r->scan);
    uint32_t max_attempts = def ? def->max_attempts : 1; /* a run's scan always exists */
    bool room = r->n_attempts < CLUSTER_RUN_ATTEMPTS_CAP;
    bool counts = false;
    enum cluster_run_state next = CLUSTER_RUN_FAILED;
    switch (in->outcome) {
    case CLUSTER_OUTCOME_SUCCEEDED:
        next = CLUSTER_RUN_SUCCEEDED;
        break;
    case CLUSTER_OUTCOME_NODE_LOST:
        next = room ? CLUSTER_RUN_QUEUED : CLUSTER_RUN_FAILED;
        break;
    case CLUSTER_OUTCOME_FAILED:
    case CLUSTER_OUTCOME_CRASHED:
    case CLUSTER_OUTCOME_UNREACHABLE:
        counts = true;
        next = r->failures + 1 < max_attempts && room ? CLUSTER_RUN_QUEUED : CLUSTER_RUN_FAILED;
        break;
    case CLUSTER_OUTCOME_CANCELLED:
        next = CLUSTER_RUN_CANCELLED;
        break;
    case CLUSTER_OUTCOME_TIMEOUT:
    case CLUSTER_OUTCOME_NONE:
        next = CLUSTER_RUN_FAILED;
        break;
    }
    if (!commit)
        return next;
    struct cluster_run_attempt *a = &r->attempts[r->n_attempts - 1];
    a->finished_ms = in->now_ms;
    a->outcome = in->outcome;
    if (counts)
        r->failures++;
    if (in->outcome == CLUSTER_OUTCOME_CRASHED)
        remember_crash(r, in->crash_id);
    if (next == CLUSTER_RUN_QUEUED) {
        r->state = CLUSTER_RUN_QUEUED;
        r->node = 0;
        return next;
    }
    if (next == CLUSTER_RUN_SUCCEEDED && in->summary) {
        r->has_summary = true;
        r->summary = *in->summary;
    }
    if (next == CLUSTER_RUN_FAILED) {
        if (in->error && in->error[0])
            snprintf(r->error, sizeof r->error, "%s", in->error);
        else if (in->outcome == CLUSTER_OUTCOME_TIMEOUT)
            snprintf(r->error, sizeof r->error, "the run's timeout passed");
        else
            snprintf(r->error, sizeof r->error, "%u attempts made, the last %s",
                     (unsigned)r->n_attempts, cluster_run_outcome_name(in->outcome));
    }
    cluster__run_end(f, r, next, in->now_ms, trim);
    return next;
}

/* ---- RUN_START ------------------------------------------------------------------------------- */

static int start_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                       uint64_t *value)
{
    (void)value;
    struct cluster_run *r = token_run(f, c->u.run_start.run, c->u.run_start.attempt);
    if (!r)
        return SHIR_E_STALE;
    if (!commit)
        return 0;
    struct cluster_run_attempt *a = &r->attempts[r->n_attempts - 1];
    if (a->started_ms == 0) /* a retried start keeps the first stamp */
        a->started_ms = c->u.run_start.now_ms;
    if (r->started_ms == 0)
        r->started_ms = c->u.run_start.now_ms;
    a->resumed = c->u.run_start.resumed;
    a->resumed_files = c->u.run_start.resumed_files;
    r->state = CLUSTER_RUN_RUNNING;
    return 0;
}

static void start_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    cluster__mpw_uint(w, c->u.run_start.run);
    cluster__mpw_uint(w, c->u.run_start.attempt);
    cluster__mpw_uint(w, c->u.run_start.now_ms);
    cluster__mpw_bool(w, c->u.run_start.resumed);
    cluster__mpw_uint(w, c->u.run_start.resumed_files);
}

static void start_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    c->u.run_start.run = cluster__mpr_uint(r);
    c->u.run_start.attempt = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
    c->u.run_start.now_ms = cluster__mpr_uint(r);
    c->u.run_start.resumed = cluster__mpr_bool(r);
    c->u.run_start.resumed_files = cluster__mpr_uint(r);
}

const struct cluster__cmd_desc cluster__cmd_run_start = {
    .type = CLUSTER_CMD_RUN_START, .name = "run-start", .fields = 5,
    .flags = CLUSTER__CMD_FENCED, .apply = start_apply, .encode = start_encode,
    .decode = start_decode};

/* ---- RUN_REPORT ------------------------------------------------------------------------------ */

static uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

static int report_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                        uint64_t *value)
{
    (void)value;
    struct cluster_run *r = token_run(f, c->u.run_report.run, c->u.run_report.attempt);
    if (!r)
        return SHIR_E_STALE;
    /* A part that does not grow is a replay or a report overtaken by a later one: all of it is
     * older than what the run holds. */
    if (c->u.run_report.has_part && r->has_checkpoint && c->u.run_report.part <= r->cp_part)
        return SHIR_E_STALE;
    if (!commit)
        return 0;
    r->files = max_u64(r->files, c->u.run_report.files);
    r->assets = max_u64(r->assets, c->u.run_report.assets);
    r->bytes = max_u64(r->bytes, c->u.run_report.bytes);
    if (c->u.run_report.has_part) {
        r->has_checkpoint = true;
        r->cp_part = c->u.run_report.part;
        r->cp_files = c->u.run_report.files;
        r->cp_assets = c->u.run_report.assets;
        r->cp_bytes = c->u.run_report.bytes;
        r->cp_key_len = c->u.run_report.key_len;
        memcpy(r->cp_key, c->u.run_report.key, c->u.run_report.key_len);
    }
    r->state = CLUSTER_RUN_RUNNING; /* a report can overtake a lost start */
    return 0;
}

static void report_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    cluster__mpw_uint(w, c->u.run_report.run);
    cluster__mpw_uint(w, c->u.run_report.attempt);
    cluster__mpw_bool(w, c->u.run_report.has_part);
    cluster__mpw_uint(w, c->u.run_report.part);
    cluster__mpw_uint(w, c->u.run_report.files);
    cluster__mpw_uint(w, c->u.run_report.assets);
    cluster__mpw_uint(w, c->u.run_report.bytes);
    cluster__mpw_bin(w, c->u.run_report.key, c->u.run_report.key_len);
}

static void report_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    c->u.run_report.run = cluster__mpr_uint(r);
    c->u.run_report.attempt = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
    c->u.run_report.has_part = cluster__mpr_bool(r);
    c->u.run_report.part = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
    c->u.run_report.files = cluster__mpr_uint(r);
    c->u.run_report.assets = cluster__mpr_uint(r);
    c->u.run_report.bytes = cluster__mpr_uint(r);
    /* The key came later: an entry written before it has 7 fields (no key, resume by index). */
    if (cluster__cmd_more(r))
        c->u.run_report.key_len =
            (uint16_t)cluster__mpr_bin(r, c->u.run_report.key, sizeof c->u.run_report.key);
}

static int report_shape(const struct cluster_cmd *c)
{
    return c->u.run_report.key_len <= CLUSTER_RUN_KEY_MAX ? 0 : SHIR_E_INVAL;
}

const struct cluster__cmd_desc cluster__cmd_run_report = {
    .type = CLUSTER_CMD_RUN_REPORT, .name = "run-report", .fields = 8, .min_fields = 7,
    .flags = CLUSTER__CMD_FENCED, .shape = report_shape, .apply = report_apply,
    .encode = report_encode, .decode = report_decode};

/* ---- RUN_FINISH ------------------------------------------------------------------------------ */

static int finish_shape(const struct cluster_cmd *c)
{
    unsigned o = (unsigned)c->u.run_finish.outcome;
    unsigned id_len = c->u.run_finish.crash_id_len;
    return o >= CLUSTER_OUTCOME_SUCCEEDED && o < CLUSTER_OUTCOME_COUNT &&
                   (id_len == 0 || id_len == CLUSTER_RUN_FILE_ID_LEN) &&
                   cluster__runs_terminated(c->u.run_finish.error, sizeof c->u.run_finish.error) &&
                   cluster__text_ok(c->u.run_finish.error, true)
               ? 0
               : SHIR_E_INVAL;
}

static int finish_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                        uint64_t *value)
{
    struct cluster_run *r = token_run(f, c->u.run_finish.run, c->u.run_finish.attempt);
    if (!r)
        return SHIR_E_STALE;
    struct finish in = {
        .outcome = c->u.run_finish.outcome,
        .now_ms = c->u.run_finish.now_ms,
        .crash_id = c->u.run_finish.crash_id_len ? c->u.run_finish.crash_id : NULL,
        .summary = c->u.run_finish.has_summary ? &c->u.run_finish.summary : NULL,
        .error = c->u.run_finish.error,
    };
    *value = (uint64_t)end_attempt(f, r, &in, commit, true);
    return 0;
}

static void finish_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    cluster__mpw_uint(w, c->u.run_finish.run);
    cluster__mpw_uint(w, c->u.run_finish.attempt);
    cluster__mpw_uint(w, (uint64_t)c->u.run_finish.outcome);
    cluster__mpw_uint(w, c->u.run_finish.now_ms);
    cluster__mpw_uint(w, c->u.run_finish.crash_index);
    cluster__mpw_bool(w, c->u.run_finish.has_summary);
    cluster__run_summary_write(w, &c->u.run_finish.summary);
    cluster__mpw_str(w, c->u.run_finish.error, sizeof c->u.run_finish.error);
    cluster__mpw_bin(w, c->u.run_finish.crash_id, c->u.run_finish.crash_id_len);
}

static void finish_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    c->u.run_finish.run = cluster__mpr_uint(r);
    c->u.run_finish.attempt = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
    c->u.run_finish.outcome =
        (enum cluster_run_outcome)cluster__mpr_range(r, 0, CLUSTER_OUTCOME_COUNT - 1);
    c->u.run_finish.now_ms = cluster__mpr_uint(r);
    c->u.run_finish.crash_index = cluster__mpr_uint(r);
    c->u.run_finish.has_summary = cluster__mpr_bool(r);
    cluster__run_summary_read(r, &c->u.run_finish.summary);
    cluster__mpr_str(r, c->u.run_finish.error, sizeof c->u.run_finish.error);
    /* The file's id came later: an entry written before it has 8 fields (no id: the crash is
     * not remembered, its index cannot be trusted after a resume by key). */
    if (cluster__cmd_more(r))
        c->u.run_finish.crash_id_len =
            (uint8_t)cluster__mpr_bin(r, c->u.run_finish.crash_id, sizeof c->u.run_finish.crash_id);
}

const struct cluster__cmd_desc cluster__cmd_run_finish = {
    .type = CLUSTER_CMD_RUN_FINISH, .name = "run-finish", .fields = 9, .min_fields = 8,
    .flags = CLUSTER__CMD_FENCED, .shape = finish_shape, .apply = finish_apply,
    .encode = finish_encode, .decode = finish_decode};

/* ---- RUN_CANCEL ------------------------------------------------------------------------------ */

static int cancel_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                        uint64_t *value)
{
    (void)value;
    struct cluster_run *r = cluster__runs_find(cluster__runs_tab(f), c->u.run_cancel.run);
    if (!r)
        return SHIR_E_NOTFOUND;
    if (!cluster_run_active(r->state))
        return SHIR_E_STALE;
    if (!commit)
        return 0;
    if (cluster__run_on_node(r) && r->n_attempts > 0) {
        struct cluster_run_attempt *a = &r->attempts[r->n_attempts - 1];
        a->outcome = CLUSTER_OUTCOME_CANCELLED;
        a->finished_ms = c->u.run_cancel.now_ms;
    }
    cluster__run_end(f, r, CLUSTER_RUN_CANCELLED, c->u.run_cancel.now_ms, true);
    return 0;
}

static void cancel_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    cluster__mpw_uint(w, c->u.run_cancel.run);
    cluster__mpw_uint(w, c->u.run_cancel.now_ms);
}

static void cancel_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    c->u.run_cancel.run = cluster__mpr_uint(r);
    c->u.run_cancel.now_ms = cluster__mpr_uint(r);
}

const struct cluster__cmd_desc cluster__cmd_run_cancel = {
    .type = CLUSTER_CMD_RUN_CANCEL, .name = "run-cancel", .fields = 2, .apply = cancel_apply,
    .encode = cancel_encode, .decode = cancel_decode};

/* ---- RUN_REQUEUE ----------------------------------------------------------------------------- */

/* Walks by id rather than by position: a run that ends failed (its attempts used up) trims its
 * scan's history, which moves the positions after it. */
static int requeue_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                         uint64_t *value)
{
    struct runs *t = cluster__runs_tab(f);
    uint64_t node_id = c->u.run_requeue.node_id, next = 1;
    struct finish in = {.outcome = CLUSTER_OUTCOME_NODE_LOST, .now_ms = c->u.run_requeue.now_ms};
    for (size_t pos = cluster__runs_lower_bound(t, next); pos < t->n;
         pos = cluster__runs_lower_bound(t, next)) {
        while (pos < t->n &&
               !(cluster__run_on_node(t->by_id[pos]) && t->by_id[pos]->node == node_id))
            pos++;
        if (pos == t->n)
            break;
        struct cluster_run *r = t->by_id[pos];
        next = r->id + 1;
        if (end_attempt(f, r, &in, commit, true) == CLUSTER_RUN_QUEUED)
            (*value)++;
    }
    return 0;
}

static void requeue_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    cluster__mpw_uint(w, c->u.run_requeue.node_id);
    cluster__mpw_uint(w, c->u.run_requeue.now_ms);
}

static void requeue_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    c->u.run_requeue.node_id = cluster__mpr_uint(r);
    c->u.run_requeue.now_ms = cluster__mpr_uint(r);
}

const struct cluster__cmd_desc cluster__cmd_run_requeue = {
    .type = CLUSTER_CMD_RUN_REQUEUE, .name = "run-requeue", .fields = 2,
    .flags = CLUSTER__CMD_FENCED, .apply = requeue_apply, .encode = requeue_encode,
    .decode = requeue_decode};
