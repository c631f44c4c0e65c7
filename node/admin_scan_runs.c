/* Admin methods of scan runs through the runtime (issue 11): scan.run (queue a run), scan.runs
 * (a page of runs, newest first) and scan.cancel. The leader's dispatcher places and times runs
 * (cluster/dispatch.c); these only propose and read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/admin.h"
#include "node/admin_scan.h"

/* Runs in one scan.runs page. Each run is at most ~220 msgpack objects and ~1.5 KiB (10
 * attempts), so 256 of them stay far below the codec's 256 Ki objects and the 1 MiB reply; the
 * CLI asks for the next page with `before` (CLUSTER_FSM_RUNS_CAP = 2048 is 8 pages). */
#define SCAN_RUNS_PAGE 256

static int pack_run_created(msgpack_packer *pk, void *arg)
{
    const struct scan_call *k = arg;
    const struct cluster_run *r = cluster_run_get(k->cluster, k->run);
    /* A follower may not have applied the entry yet: a run it does not hold is still queued. */
    const char *state = r ? cluster_run_state_name(r->state) : "queued";
    int rv = msgpack_pack_map(pk, 3);
    rv |= node__scan_pack_u64(pk, "run", k->run);
    rv |= node_admin_pack_kv_str(pk, "scan", k->name);
    rv |= node_admin_pack_kv_str(pk, "state", state);
    return rv ? SHIR_E_NOMEM : 0;
}

static void run_created_ok(const struct node_admin_ctx *ctx, struct node_admin_conn *c,
                           uint64_t id, void *arg)
{
    (void)ctx;
    node_admin_reply(c, id, pack_run_created, arg);
}

static void run_done(void *data, int status, uint64_t value, const char *msg)
{
    struct scan_call *k = data;
    char text[256];
    if (status == 0) {
        k->run = value;
    } else if (status == SHIR_E_BUSY) {
        node__scan_busy_text(k, value, false, text, sizeof text);
        msg = text;
    } else if (status == SHIR_E_NOTFOUND) {
        node__scan_no_scan_text(text, sizeof text, k->name);
        msg = text;
    } else if (status == SHIR_E_FULL) {
        (void)shir_str_fmt(text, sizeof text,
                           "the runtime holds %d runs, its most: wait for queued runs to finish "
                           "or lower the history ('shir settings set --run-history N')",
                           CLUSTER_FSM_RUNS_CAP);
        msg = text;
    }
    node__scan_call_done(k, status, msg);
}

void node_admin_scan_run(struct node_admin_conn *c, const struct transport_msg *m)
{
    struct scan_call *k = node__scan_named_call(c, m, "name");
    if (!k)
        return;
    k->op = node_admin_op_new(c, m->id, run_created_ok, k);
    int rv = k->op ? cluster_scan_run(k->cluster, k->name, run_done, k) : SHIR_E_NOMEM;
    if (rv != 0)
        node__scan_call_fail(c, m->id, k, rv, "bad scan name");
}

static bool run_selected(const struct scan_call *k, const struct cluster_run *r)
{
    return (k->run == 0 || r->id == k->run) && (k->before == 0 || r->id < k->before) &&
           (!k->name[0] || strcmp(r->scan, k->name) == 0) &&
           (!k->active || cluster_run_active(r->state));
}

/* {"runs": [RUN...] newest first, "more": the page was cut short (ask again with before = the
 * last id)}. */
static int pack_runs(msgpack_packer *pk, void *arg)
{
    const struct scan_call *k = arg;
    size_t n = 0, want = 0, limit = k->limit && k->limit < SCAN_RUNS_PAGE ? k->limit : SCAN_RUNS_PAGE;
    const struct cluster_run *const *runs = cluster_runs(k->cluster, &n);
    bool more = false;
    for (size_t i = n; i-- > 0;) {
        if (!run_selected(k, runs[i]))
            continue;
        if (want == limit) {
            more = true;
            break;
        }
        want++;
    }
    int rv = msgpack_pack_map(pk, 2);
    rv |= transport_pack_cstr(pk, "runs");
    rv |= msgpack_pack_array(pk, want);
    for (size_t i = n, done = 0; i-- > 0 && done < want;) {
        if (!run_selected(k, runs[i]))
            continue;
        rv |= node__scan_pack_run(pk, k->cluster, runs[i]);
        done++;
    }
    rv |= node__scan_pack_bool(pk, "more", more);
    return rv ? SHIR_E_NOMEM : 0;
}

static void runs_ok(const struct node_admin_ctx *ctx, struct node_admin_conn *c, uint64_t id,
                    void *arg)
{
    const struct scan_call *k = arg;
    if (k->name[0] && !cluster_scan_get(ctx->cluster, k->name)) {
        /* a typo must not read as "no runs" */
        node__scan_reply_no_scan(c, id, k->name);
        return;
    }
    node_admin_reply(c, id, pack_runs, arg);
}

void node_admin_scan_runs(struct node_admin_conn *c, const struct transport_msg *m)
{
    struct scan_call *k = node__scan_call_new(c, m->id);
    if (!k)
        return;
    int rv = transport_body_copy_str(&m->body, "scan", k->name, sizeof k->name);
    if (rv != 0 && rv != SHIR_E_NOTFOUND) {
        node__scan_call_free(k);
        node__scan_bad_field(c, m->id, rv, "scan");
        return;
    }
    (void)transport_body_get_u64(&m->body, "run", &k->run);
    (void)transport_body_get_u64(&m->body, "before", &k->before);
    (void)transport_body_get_u64(&m->body, "limit", &k->limit);
    (void)transport_body_get_bool(&m->body, "active", &k->active);
    node__scan_call_read(c, m->id, k, runs_ok);
}

static void cancel_done(void *data, int status, const char *msg)
{
    struct scan_call *k = data;
    char text[200];
    if (status == SHIR_E_NOTFOUND) {
        (void)shir_str_fmt(text, sizeof text, "no run %llu ('shir scan runs' lists them)",
                           (unsigned long long)k->run);
        msg = text;
    } else if (status == SHIR_E_STALE) {
        /* The leader's FSM said it ended; this replica may not have applied that end yet: its
         * state is named only when it is an end. */
        const struct cluster_run *r = cluster_run_get(k->cluster, k->run);
        if (r && cluster_run_active(r->state))
            r = NULL;
        (void)shir_str_fmt(text, sizeof text, "run %llu already ended%s%s%s: nothing to cancel",
                           (unsigned long long)k->run, r ? " (" : "",
                           r ? cluster_run_state_name(r->state) : "", r ? ")" : "");
        msg = text;
    }
    node__scan_call_done(k, status, msg);
}

static int pack_cancelled(msgpack_packer *pk, void *arg)
{
    const struct scan_call *k = arg;
    int rv = msgpack_pack_map(pk, 2);
    rv |= node__scan_pack_u64(pk, "run", k->run);
    rv |= node_admin_pack_kv_str(pk, "state", "cancelled");
    return rv ? SHIR_E_NOMEM : 0;
}

static void cancelled_ok(const struct node_admin_ctx *ctx, struct node_admin_conn *c,
                         uint64_t id, void *arg)
{
    (void)ctx;
    node_admin_reply(c, id, pack_cancelled, arg);
}

void node_admin_scan_cancel(struct node_admin_conn *c, const struct transport_msg *m)
{
    struct scan_call *k = node__scan_call_new(c, m->id);
    if (!k)
        return;
    if (transport_body_get_u64(&m->body, "run", &k->run) != 0 || k->run == 0) {
        node__scan_call_free(k);
        node_admin_reply_error(c, m->id, SHIR_E_INVAL, "scan cancel needs a run id");
        return;
    }
    k->op = node_admin_op_new(c, m->id, cancelled_ok, k);
    int rv = k->op ? cluster_run_cancel(k->cluster, k->run, cancel_done, k) : SHIR_E_NOMEM;
    if (rv != 0)
        node__scan_call_fail(c, m->id, k, rv, NULL);
}
