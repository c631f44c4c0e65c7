/* bench_spawn: how long the agent's loop thread stalls while the worker host (node/supervisor.c)
 * starts workers (docs/status.md, "Worker starts").
 *
 * Usage: bench_spawn [WORKERS [RSS_MB]]   (default 50 workers, 0 MB). RSS_MB touches that much
 * heap first, so the process looks like a big agent: a fork copies its page tables. The workers
 * are this program re-executed (`bench_spawn worker --out-fd 3`, as the supervisor starts `shir
 * worker`): each reads its job and exits 0 without a summary, so each ends as "exited without a
 * summary", which is fine here.
 *
 * A 1 ms repeating timer is the watchdog: the longest gap between two of its callbacks, less the
 * 1 ms period, is the loop's longest stall. Phases: a control second with no spawns (what the
 * machine's load alone costs), a burst (all WORKERS started from one callback, as raft applies
 * a batch of assignments in one), then paced starts (one every 20 ms: the cost of one start).
 * For each: the longest stall, the time spent inside the start calls, the time until every
 * worker ran (its pid back on the loop) and until every one ended.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "node/supervisor.h"
#include "scan/scan.h"

#define PACE_MS 20

struct bench {
    uv_loop_t loop;
    uv_timer_t watchdog, driver;
    uint64_t last_tick;         /* hrtime of the watchdog's last callback */
    uint64_t max_gap;           /* ns, this phase */
    uint64_t call_ns, call_max; /* time inside node_worker_spawn, this phase */
    uint64_t last_started;      /* hrtime of the last started callback, this phase */
    unsigned n, asked, ended, failed;
    int phase; /* 0 control, 1 burst, 2 paced, 3 done */
    uint64_t phase_start;
    struct scan_job job;
    struct node_spawner *sp;
};

static void tick(uv_timer_t *t)
{
    struct bench *b = t->data;
    uint64_t now = uv_hrtime();
    if (b->last_tick && now - b->last_tick > b->max_gap)
        b->max_gap = now - b->last_tick;
    b->last_tick = now;
}

static void started(void *data, pid_t pid)
{
    (void)pid;
    struct bench *b = data;
    b->last_started = uv_hrtime();
}

static void ended(void *data, const struct node_worker_end *end)
{
    struct bench *b = data;
    if (end->not_started) {
        fprintf(stderr, "bench_spawn: %s\n", end->cause);
        b->failed++;
    }
    b->ended++;
}

static void start_one(struct bench *b)
{
    struct node_worker *w;
    char err[320];
    struct node_worker_cbs cbs = {.started = started, .end = ended, .data = b};
    uint64_t t0 = uv_hrtime();
    int rv = node_worker_spawn(b->sp, &b->job, &cbs, &w, err, sizeof err);
    uint64_t dt = uv_hrtime() - t0;
    b->call_ns += dt;
    if (dt > b->call_max)
        b->call_max = dt;
    b->asked++;
    if (rv != 0) {
        fprintf(stderr, "bench_spawn: %s\n", err);
        b->failed++;
        b->ended++;
    }
}

static void report(struct bench *b, const char *name)
{
    double gap = b->max_gap > 1000000 ? (double)(b->max_gap - 1000000) / 1e6 : 0.0;
    double took = (double)(uv_hrtime() - b->phase_start) / 1e6;
    if (b->phase == 0)
        printf("%-8s longest stall %8.2f ms\n", name, gap);
    else
        printf("%-8s longest stall %8.2f ms  in start calls: %8.2f ms total, %7.2f ms max, "
               "%6.3f ms mean  all running after %7.0f ms, ended after %7.0f ms%s\n",
               name, gap, (double)b->call_ns / 1e6, (double)b->call_max / 1e6,
               (double)b->call_ns / 1e6 / b->n, (double)(b->last_started - b->phase_start) / 1e6,
               took, b->failed ? "  (some failed)" : "");
    b->max_gap = b->call_ns = b->call_max = 0;
    b->asked = b->ended = b->failed = 0;
    b->phase_start = b->last_tick = uv_hrtime(); /* the starts made right after count */
}

static void drive(uv_timer_t *t)
{
    struct bench *b = t->data;
    uint64_t elapsed_ms = (uv_hrtime() - b->phase_start) / 1000000;
    switch (b->phase) {
    case 0:
        if (elapsed_ms < 1000)
            return;
        report(b, "control");
        b->phase = 1;
        for (unsigned i = 0; i < b->n; i++)
            start_one(b);
        return;
    case 1:
        if (b->ended < b->n)
            return;
        report(b, "burst");
        b->phase = 2;
        return;
    case 2:
        if (b->asked < b->n) {
            if (elapsed_ms >= (uint64_t)b->asked * PACE_MS)
                start_one(b);
            return;
        }
        if (b->ended < b->n)
            return;
        report(b, "paced");
        b->phase = 3;
        node_spawner_close(b->sp);
        uv_close((uv_handle_t *)&b->watchdog, NULL);
        uv_close((uv_handle_t *)&b->driver, NULL);
        return;
    default:
        return;
    }
}

/* The worker side: read the job, exit 0. */
static int worker_main(void)
{
    char buf[4096];
    (void)!read(0, buf, sizeof buf);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "worker") == 0)
        return worker_main();
    static struct bench b;
    b.n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 50;
    size_t rss_mb = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;
    if (b.n == 0)
        b.n = 1;
    char *ballast = NULL;
    if (rss_mb > 0) {
        ballast = malloc(rss_mb << 20);
        if (!ballast) {
            fprintf(stderr, "bench_spawn: cannot allocate %zu MB\n", rss_mb);
            return 1;
        }
        memset(ballast, 1, rss_mb << 20);
    }
    scan_job_init(&b.job);
    b.job.source = strdup("/nonexistent");
    b.job.parent_pid = (int32_t)getpid();
    printf("bench_spawn: %u workers, %zu MB touched, watchdog 1 ms\n", b.n, rss_mb);
    uv_loop_init(&b.loop);
    if (node_spawner_new(&b.loop, &b.sp) != 0) {
        fprintf(stderr, "bench_spawn: cannot start the spawner thread\n");
        return 1;
    }
    uv_timer_init(&b.loop, &b.watchdog);
    uv_timer_init(&b.loop, &b.driver);
    b.watchdog.data = b.driver.data = &b;
    b.phase_start = uv_hrtime();
    uv_timer_start(&b.watchdog, tick, 1, 1);
    uv_timer_start(&b.driver, drive, 1, 1);
    uv_run(&b.loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(&b.loop);
    scan_job_free(&b.job);
    free(ballast);
    return 0;
}
