/* A thousand queued runs through the real cluster shell in process (issue 11's dispatch-rate
 * case): one node with a real raft log on disk, capacity 1,000, drained while 1,000 scans each
 * queue a run, then undrained. An executor that stands in for worker processes answers every
 * start at once with a fenced progress report; once that is acknowledged it records the end and
 * sends one more report, which races the end and must be answered STALE (the FSM applies the end
 * first), as node/runs.c does with a worker's frames.
 *
 * The test waits (deadline, no timing threshold) until every run has succeeded, and checks that
 * every proposal heard its own answer: libraft 0.22 fires apply callbacks only after applying
 * the whole batch of committed entries, so an answer read through raft's result pointer could be
 * a later entry's (the fenced commands' answers share one scratch slot in the FSM). That crossed
 * answers: a good report answered STALE stopped a healthy worker and left its run `running` for
 * ever, and the dispatcher's "assigned N run(s)" counted another entry's value (the rate
 * benchmark's "stall after ~200 assignments"). Nothing sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <uv.h>

#include "cluster/cluster.h"
#include "inproc.h"

#define RUNS 1000u
#define DEADLINE_MS 80000u

struct world {
    struct inproc h; /* the loop, the log, the root directory (inproc.h) */
    char dir[128];
    char listen[64];
    struct cluster *c;
    bool closed;
    /* the executor's side */
    bool live[RUNS + 1]; /* by run id (ids start at 1 and are dense here) */
    unsigned started, finished;
    unsigned crossed; /* answers that were not the FSM's answer to that proposal */
    unsigned answers;
    /* queueing */
    unsigned put_ok, run_ok, run_answers;
    bool run_ids[RUNS + 1];
};

static bool run_until(struct world *w, bool (*pred)(struct world *, void *), void *arg)
{
    return inproc_run_until(&w->h, pred, w, arg);
}

/* ---- the executor: fenced reports answered one by one ---------------------------------------- */

struct report {
    struct world *w;
    uint64_t run;
    uint32_t attempt;
    int want; /* the FSM's answer to this report */
};

static void report(struct world *w, uint64_t run, uint32_t attempt, int want);

static void reported(void *data, int status, const char *msg)
{
    (void)msg;
    struct report *rp = data;
    struct world *w = rp->w;
    w->answers++;
    if (status != rp->want) {
        if (w->crossed++ < 5)
            print_message("run %llu attempt %u: a report expecting %d was answered %d\n",
                          (unsigned long long)rp->run, (unsigned)rp->attempt, rp->want, status);
    } else if (rp->want == 0) {
        /* The report is acknowledged: the "worker" ends, successfully, and a last progress
         * report of it races its end (the FSM applies the end first: STALE). */
        struct cluster_run_summary sum;
        memset(&sum, 0, sizeof sum);
        assert_int_equal(cluster_run_finish(w->c, rp->run, rp->attempt, CLUSTER_OUTCOME_SUCCEEDED,
                                            &sum, UINT64_MAX, NULL, NULL),
                         0);
        report(w, rp->run, rp->attempt, SHIR_E_STALE);
    } else {
        w->live[rp->run] = false;
        w->finished++;
    }
    free(rp);
}

static void report(struct world *w, uint64_t run, uint32_t attempt, int want)
{
    struct report *rp = malloc(sizeof *rp);
    assert_non_null(rp);
    *rp = (struct report){w, run, attempt, want};
    /* The leader's pre-check passes both (the end is not applied yet when the late one is
     * proposed), so both answers come from apply, through raft's callback. */
    assert_int_equal(
        cluster_run_report(w->c, run, attempt, false, 0, 1, 1, 1, NULL, 0, reported, rp), 0);
}

static void exec_start(void *data, const struct cluster_run *run,
                       const struct cluster_scan_def *def)
{
    (void)def;
    struct world *w = data;
    assert_true(run->id >= 1 && run->id <= RUNS);
    w->live[run->id] = true;
    w->started++;
    assert_int_equal(cluster_run_started(w->c, run->id, run->attempt, false, 0), 0);
    report(w, run->id, run->attempt, 0);
}

static void exec_stop(void *data, uint64_t run, uint32_t attempt)
{
    (void)attempt;
    struct world *w = data;
    if (run >= 1 && run <= RUNS)
        w->live[run] = false;
}

static bool exec_live(void *data, uint64_t run, uint32_t attempt)
{
    (void)attempt;
    struct world *w = data;
    return run >= 1 && run <= RUNS && w->live[run];
}

/* ---- queueing ------------------------------------------------------------------------------- */

static void put_done(void *data, int status, const char *msg)
{
    (void)msg;
    struct world *w = data;
    w->put_ok += status == 0;
}

static void run_done(void *data, int status, uint64_t value, const char *msg)
{
    (void)msg;
    struct world *w = data;
    w->run_answers++;
    /* Each RUN_CREATE answers a run id of its own. */
    if (status == 0 && value >= 1 && value <= RUNS && !w->run_ids[value]) {
        w->run_ids[value] = true;
        w->run_ok++;
    }
}

static bool all_put(struct world *w, void *arg)
{
    (void)arg;
    return w->put_ok == RUNS;
}

static bool all_run_answered(struct world *w, void *arg)
{
    (void)arg;
    return w->run_answers == RUNS;
}

static unsigned count_state(struct world *w, enum cluster_run_state s)
{
    size_t n;
    const struct cluster_run *const *runs = cluster_runs(w->c, &n);
    unsigned k = 0;
    for (size_t i = 0; i < n; i++)
        k += runs[i]->state == s;
    return k;
}

static bool all_succeeded(struct world *w, void *arg)
{
    (void)arg;
    return count_state(w, CLUSTER_RUN_SUCCEEDED) == RUNS;
}

static bool leading(struct world *w, void *arg)
{
    (void)arg;
    struct cluster_status *st = malloc(sizeof *st);
    cluster_status_get(w->c, st);
    bool ok = st->has_leader && st->n_nodes == 1;
    free(st);
    return ok;
}

static void test_thousand_runs(void **state)
{
    (void)state;
    struct world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    inproc_open(&w->h, "dispatch-many", DEADLINE_MS);
    (void)shir_str_fmt(w->dir, sizeof w->dir, "%s/n1", w->h.root);
    (void)shir_str_fmt(w->listen, sizeof w->listen, "127.0.0.1:%u", (unsigned)inproc_free_port());
    assert_int_equal(mkdir(w->dir, 0700), 0);
    w->c = inproc_cluster_open(&w->h, w->dir, "n1", w->listen);
    struct cluster_run_exec ex = {
        .start = exec_start, .stop = exec_stop, .live = exec_live, .data = w};
    cluster_set_executor(w->c, &ex);

    struct inproc_op init = {0};
    assert_int_equal(cluster_init_runtime(w->c, "many", NULL, inproc_op_done, &init), 0);
    assert_true(run_until(w, inproc_op_finished, &init));
    assert_int_equal(init.status, 0);
    assert_true(run_until(w, leading, NULL));

    /* Drained while the runs queue, so that the dispatcher meets all 1,000 at once. */
    struct inproc_op cap = {0}, drain = {0}, undrain = {0};
    assert_int_equal(cluster_node_set_capacity(w->c, "n1", RUNS, inproc_op_done, &cap), 0);
    assert_true(run_until(w, inproc_op_finished, &cap));
    assert_int_equal(cap.status, 0);
    assert_int_equal(cluster_node_set_drain(w->c, "n1", true, inproc_op_done, &drain), 0);
    assert_true(run_until(w, inproc_op_finished, &drain));
    assert_int_equal(drain.status, 0);

    static struct cluster_scan_def def;
    for (unsigned i = 0; i < RUNS; i++) {
        memset(&def, 0, sizeof def);
        (void)shir_str_fmt(def.name, sizeof def.name, "e%u", i);
        (void)shir_str_fmt(def.source, sizeof def.source, "%s/empty", w->h.root);
        def.level = 1;
        (void)shir_str_fmt(def.sink, sizeof def.sink, "jsonl:%s/out", w->h.root);
        def.timeout_ms = 3600000;
        def.max_attempts = 3;
        assert_int_equal(cluster_scan_put(w->c, &def, true, put_done, w), 0);
    }
    assert_true(run_until(w, all_put, NULL));
    for (unsigned i = 0; i < RUNS; i++) {
        char name[16];
        (void)shir_str_fmt(name, sizeof name, "e%u", i);
        assert_int_equal(cluster_scan_run(w->c, name, run_done, w), 0);
    }
    assert_true(run_until(w, all_run_answered, NULL));
    assert_int_equal(w->run_ok, RUNS); /* every run got an id of its own */
    assert_int_equal(count_state(w, CLUSTER_RUN_QUEUED), RUNS);

    assert_int_equal(cluster_node_set_drain(w->c, "n1", false, inproc_op_done, &undrain), 0);
    assert_true(run_until(w, inproc_op_finished, &undrain));
    assert_int_equal(undrain.status, 0);
    if (!run_until(w, all_succeeded, NULL))
        fail_msg("not every run succeeded: %u succeeded, %u queued, %u assigned, %u running; "
                 "%u started, %u ended, %u answers crossed",
                 count_state(w, CLUSTER_RUN_SUCCEEDED), count_state(w, CLUSTER_RUN_QUEUED),
                 count_state(w, CLUSTER_RUN_ASSIGNED), count_state(w, CLUSTER_RUN_RUNNING),
                 w->started, w->finished, w->crossed);
    assert_int_equal(w->started, RUNS); /* one attempt each */
    assert_int_equal(w->crossed, 0);
    assert_int_equal(w->answers, 2 * RUNS);

    cluster_close(w->c, inproc_closed, &w->closed);
    inproc_cluster_free(&w->h, w->c, &w->closed);
    inproc_close(&w->h);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_thousand_runs)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
